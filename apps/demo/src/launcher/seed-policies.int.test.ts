// The demo's first start applies the seed policies through the real control plane; later starts keep what is stored.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { applySeedPoliciesOnce } from "./seed-policies.ts";

const file = fileURLToPath(new URL("../../policies/seed-policies.yaml", import.meta.url));

describe("applySeedPoliciesOnce", () => {
  let test: TestDatabase;
  let controlPlane: ControlPlane;
  let controlPlaneUrl: string;

  beforeAll(async () => {
    test = await createTestDatabase();
    controlPlane = await startControlPlane({ db: test.db, port: 0, log: { info: () => {}, warn: () => {}, error: console.error } });
    controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
  });
  afterAll(async () => {
    await controlPlane?.stop();
    await test?.drop();
  });

  it("applies the seed's five documents to an empty store, once", async () => {
    expect(await applySeedPoliciesOnce({ controlPlaneUrl, file })).toEqual({ applied: true, revision: 1, policies: 5 });
    expect(await applySeedPoliciesOnce({ controlPlaneUrl, file })).toEqual({ applied: false, revision: 1, policies: 5 });
  });

  it("keeps an SRE's later change on the next start", async () => {
    const canary = readFileSync(file, "utf8").split("---").find((d) => d.includes("kind: VirtualService") && d.includes("name: order-service")) ?? "";
    const response = await fetch(`${controlPlaneUrl}/v1/policies/apply`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ yaml: canary.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"), author: "sre" }),
    });
    expect(response.status).toBe(200);
    expect(await applySeedPoliciesOnce({ controlPlaneUrl, file })).toEqual({ applied: false, revision: 2, policies: 5 });
    const stored = (await (await fetch(`${controlPlaneUrl}/v1/policies/VirtualService/default/order-service`)).json()) as { yaml: string };
    expect(stored.yaml).toContain("weight: 50");
  });
});
