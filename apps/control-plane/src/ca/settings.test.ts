// The mesh CA's settings as the control plane reads them from its environment (env.ts).
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readCaSettings, readEnv } from "../env.ts";

const base = { DATABASE_URL: "postgres://localhost/trellis" };

describe("mesh CA settings", () => {
  it("default to <TRELLIS_HOME>/ca, cluster.local and one-hour leaves, without a join secret", () => {
    expect(readCaSettings(readEnv({ ...base, TRELLIS_HOME: "/srv/trellis" }))).toEqual({
      root: { kind: "dir", dir: "/srv/trellis/ca" },
      trustDomain: "cluster.local",
      certTtlMs: 3_600_000,
      joinSecret: undefined,
    });
  });

  it("take the CA directory, trust domain, TTL in Istio syntax and the join secret", () => {
    const secret = "x".repeat(32);
    const env = readEnv({ ...base, TRELLIS_CA_DIR: "ca-here", TRELLIS_TRUST_DOMAIN: "prod.example", TRELLIS_CERT_TTL: "90m", TRELLIS_JOIN_SECRET: secret });
    expect(readCaSettings(env)).toEqual({ root: { kind: "dir", dir: resolve("ca-here") }, trustDomain: "prod.example", certTtlMs: 5_400_000, joinSecret: secret });
  });

  it("use the operator's root files when both are given, and refuse one without the other", () => {
    const env = readEnv({ ...base, TRELLIS_CA_CERT_FILE: "/pki/root.pem", TRELLIS_CA_KEY_FILE: "/pki/root-key.pem" });
    expect(readCaSettings(env).root).toEqual({ kind: "files", certFile: "/pki/root.pem", keyFile: "/pki/root-key.pem" });
    expect(() => readCaSettings(readEnv({ ...base, TRELLIS_CA_CERT_FILE: "/pki/root.pem" }))).toThrow("set both TRELLIS_CA_CERT_FILE and TRELLIS_CA_KEY_FILE");
  });

  it("refuse a TTL that is not a duration, a short join secret and a bad trust domain, naming the variable", () => {
    expect(() => readEnv({ ...base, TRELLIS_CERT_TTL: "1 hour" })).toThrow(/TRELLIS_CERT_TTL: "1 hour" is not a duration/);
    expect(() => readEnv({ ...base, TRELLIS_JOIN_SECRET: "short" })).toThrow(/TRELLIS_JOIN_SECRET: must be at least 32 characters/);
    expect(() => readEnv({ ...base, TRELLIS_TRUST_DOMAIN: "Cluster.Local" })).toThrow(/TRELLIS_TRUST_DOMAIN: must be lowercase/);
  });
});
