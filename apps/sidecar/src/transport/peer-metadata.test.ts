import { describe, expect, it } from "vitest";
import { createPeerMetadataDecoder, encodePeerMetadata, parsePeerMetadata } from "./peer-metadata.ts";

const labels = { workload: "frontend-v1-0", app: "frontend", version: "v1", namespace: "default" };

describe("peer metadata", () => {
  it("encodes in the documented order and decodes back", () => {
    const encoded = encodePeerMetadata(labels);
    expect(encoded).toBe("workload=frontend-v1-0;app=frontend;version=v1;namespace=default");
    expect(parsePeerMetadata(encoded)).toEqual(labels);
  });

  it("escapes separators inside values", () => {
    const odd = { ...labels, workload: "a;b=c%d", version: "ünï" };
    const encoded = encodePeerMetadata(odd);
    expect(encoded.split(";")).toHaveLength(4);
    expect(parsePeerMetadata(encoded)).toEqual(odd);
  });

  it("fills missing labels with unknown, ignores unknown keys, and needs a workload", () => {
    expect(parsePeerMetadata("workload=w; app=a ;extra=x")).toEqual({ workload: "w", app: "a", version: "unknown", namespace: "unknown" });
    expect(parsePeerMetadata("app=a;version=v1")).toBeNull();
    expect(parsePeerMetadata("")).toBeNull();
    expect(parsePeerMetadata("workload=")).toBeNull();
    expect(parsePeerMetadata("workload=w;app=%E0%A4%A")).toEqual({ workload: "w", app: "unknown", version: "unknown", namespace: "unknown" });
  });

  it("decodes through a cache: the same value gives the same object, absent gives null", () => {
    const decode = createPeerMetadataDecoder();
    const value = encodePeerMetadata(labels);
    const first = decode(value);
    expect(first).toEqual(labels);
    expect(decode(value)).toBe(first);
    expect(decode([value, "workload=other"])).toBe(first);
    expect(decode(undefined)).toBeNull();
    expect(decode("nonsense")).toBeNull();
  });
});
