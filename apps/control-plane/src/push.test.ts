// The config line a push writes, assembled around a snapshot serialised once, must be byte for byte what the
// protocol's encoder writes, and parse back with the sidecar's schema.
import { describe, expect, it } from "vitest";
import { encodeLine, parseConfigMessage, type Snapshot } from "@trellis/mesh-config";
import { encodeConfigLine } from "./push.ts";

const snapshot: Snapshot = {
  service: "web",
  namespace: "default",
  clusters: { api: { service: "api", subset: null, endpoints: [{ address: "127.0.0.1:1", workloadId: "api-0", version: "v1", labels: { app: "api" } }], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } } },
  virtualHosts: [{ upstream: "api", routes: [{ match: [], destinations: [{ cluster: "api", weight: 100 }] }] }],
  inbound: { mtlsMode: "STRICT", authorization: [] },
  outboundMtls: { api: true },
};

describe("encodeConfigLine", () => {
  it("writes exactly what encodeLine writes for the config message", () => {
    const line = encodeConfigLine(42, 'a1b2-"7"', Buffer.from(JSON.stringify(snapshot))).toString("utf8");
    expect(line).toBe(encodeLine({ type: "config", version: 42, nonce: 'a1b2-"7"', snapshot }));
    expect(parseConfigMessage(line.trimEnd())).toEqual({ ok: true, value: { type: "config", version: 42, nonce: 'a1b2-"7"', snapshot } });
  });

  it("keeps multi-byte characters intact", () => {
    const named = { ...snapshot, virtualHosts: [{ upstream: "api", routes: [{ name: "café → ☕", match: [], destinations: [{ cluster: "api", weight: 100 }] }] }] };
    const line = encodeConfigLine(1, "n", Buffer.from(JSON.stringify(named))).toString("utf8");
    expect(line).toBe(encodeLine({ type: "config", version: 1, nonce: "n", snapshot: named }));
  });
});
