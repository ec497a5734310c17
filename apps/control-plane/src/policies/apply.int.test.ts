// The policy store through the control plane's REST API, against a real Postgres: the seed applies unchanged, a
// re-apply and an export round-trip change nothing, bad files are refused with path-precise messages and leave
// nothing behind, revisions conflict as they should (also under concurrency), and history and rollback work.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startControlPlane, type ControlPlane } from "../control-plane.ts";
import type { ApplyResult } from "./types.ts";

const seedYaml = readFileSync(resolve(import.meta.dirname, "../../../demo/policies/seed-policies.yaml"), "utf8");

let testDb: TestDatabase;
let controlPlane: ControlPlane;

beforeAll(async () => {
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: { info: () => {}, warn: () => {}, error: console.error } });
});

afterAll(async () => {
  await controlPlane?.stop();
  await testDb?.drop();
});

type Reply<T> = { status: number; body: T };
type ErrorBody = { error: string; errors?: string[] };
type PolicyList = { revision: number; policies: Array<{ kind: string; namespace: string; name: string; version: number; revision: number; author: string; spec: unknown }> };
type History = { currentVersion: number; versions: Array<{ version: number; revision: number; action: string; author: string; diff: string; spec: unknown }> };

async function call<T>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
  const response = await fetch(`http://127.0.0.1:${controlPlane.port}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = (response.headers.get("content-type") ?? "").startsWith("application/json");
  return { status: response.status, body: (json ? JSON.parse(text) : text) as T };
}

const apply = <T = ApplyResult>(body: Record<string, unknown>) => call<T>("POST", "/v1/policies/apply", body);
const list = () => call<PolicyList>("GET", "/v1/policies").then((r) => r.body);
const revisionCount = () => testDb.db.prisma.policyRevision.count();

function orderCanary(v1: number, v2: number, extra = ""): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts:
  - order-service
  http:
  - route:
    - destination:
        host: order-service
        subset: v1
      weight: ${v1}
    - destination:
        host: order-service
        subset: ${extra === "v3" ? "v3" : "v2"}
      weight: ${v2}
${extra.startsWith("    ") ? extra : ""}`;
}

describe("apply", () => {
  it("applies the seed unchanged: revision 1, five policies created", async () => {
    const { status, body } = await apply({ yaml: seedYaml, author: "alice" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ revision: 1, previousRevision: 0, dryRun: false, changed: true, sidecars: null });
    expect(body.policies.map((p) => `${p.action} ${p.kind}/${p.namespace}/${p.name} v${p.version}`)).toEqual([
      "created PeerAuthentication/istio-system/default v1",
      "created VirtualService/default/order-service v1",
      "created VirtualService/default/payment-service v1",
      "created DestinationRule/default/payment-service v1",
      "created DestinationRule/default/order-service v1",
    ]);
    expect(body.policies[1]?.diff).toContain("+++ b/VirtualService/default/order-service");

    const current = await list();
    expect(current.revision).toBe(1);
    expect(current.policies).toHaveLength(5);
    expect(current.policies.every((p) => p.version === 1 && p.revision === 1 && p.author === "alice")).toBe(true);
  });

  it("treats a re-apply of the same file as a no-op: all unchanged, no new revision", async () => {
    const { status, body } = await apply({ yaml: seedYaml, author: "alice" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ revision: 1, previousRevision: 1, changed: false, affectedSidecars: [] });
    expect(body.policies.map((p) => p.action)).toEqual(Array(5).fill("unchanged"));
    expect(await revisionCount()).toBe(1);
  });

  const badFiles: Array<[string, string, string[]]> = [
    ["weights that do not sum to 100", orderCanary(100, 10), ["document 1 (VirtualService order-service) spec.http[0].route: weights sum to 110, expected 100"]],
    [
      "an undefined subset",
      orderCanary(90, 10, "v3"),
      ['document 1 (VirtualService order-service) spec.http[0].route[1].destination: subset "v3" is not defined by any DestinationRule for order-service'],
    ],
    ["an unknown field", orderCanary(90, 10, "    retriez: 3\n"), ['document 1 (VirtualService order-service) spec.http[0].retriez: unknown field "retriez" (line 18)']],
    [
      "a bad duration",
      orderCanary(90, 10, "    timeout: 2 seconds\n"),
      ['document 1 (VirtualService order-service) spec.http[0].timeout: "2 seconds" is not a duration; use Istio syntax like 2s or 250ms (line 18)'],
    ],
    [
      "YAML syntax",
      `${orderCanary(90, 10)}---\nkind: [\n`,
      ["document 2: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 20, column 1)"],
    ],
  ];

  it.each(badFiles)("refuses %s with a path-precise 400 and stores nothing", async (_what, yaml, messages) => {
    const { status, body } = await apply<ErrorBody>({ yaml, author: "mallory" });
    expect(status).toBe(400);
    expect(body.errors).toEqual(messages);
    expect(body.error).toBe(`the policies were not applied (1 problem; nothing was stored or pushed):\n${messages.join("\n")}`);
    expect((await list()).revision).toBe(1);
    expect(await revisionCount()).toBe(1);
  });

  it("refuses a stale --expect-version with a 409 that says how to recover", async () => {
    const { status, body } = await apply<ErrorBody>({ yaml: orderCanary(80, 20), expectVersion: 0 });
    expect(status).toBe(409);
    expect(body.error).toBe("conflict: the mesh is at revision 1, you expected 0; re-read with trellis get policies and retry");
    expect(await revisionCount()).toBe(1);
  });

  it("lets exactly one of two concurrent applies expecting the same revision win", async () => {
    const [a, b] = await Promise.all([
      apply<ApplyResult | ErrorBody>({ yaml: orderCanary(80, 20), expectVersion: 1, author: "bob" }),
      apply<ApplyResult | ErrorBody>({ yaml: orderCanary(70, 30), expectVersion: 1, author: "carol" }),
    ]);
    expect([a?.status, b?.status].sort()).toEqual([200, 409]);
    const winner = (a?.status === 200 ? a : b)?.body as ApplyResult;
    expect(winner).toMatchObject({ revision: 2, changed: true });
    expect(winner.policies).toEqual([expect.objectContaining({ kind: "VirtualService", name: "order-service", action: "updated", version: 2 })]);
    expect((await list()).revision).toBe(2);
  });

  it("lists a policy's versions with their diffs", async () => {
    const { status, body } = await call<History>("GET", "/v1/policies/VirtualService/default/order-service/history");
    expect(status).toBe(200);
    expect(body.currentVersion).toBe(2);
    expect(body.versions.map((v) => [v.version, v.revision, v.action])).toEqual([
      [2, 2, "updated"],
      [1, 1, "created"],
    ]);
    expect(body.versions[0]?.diff).toMatch(/^--- a\/VirtualService\/default\/order-service\n\+\+\+ b\/VirtualService\/default\/order-service\n@@/);
    expect(body.versions[0]?.diff).toMatch(/^-\s+weight: 90$/m);
    expect(body.versions[0]?.diff).toMatch(/^\+\s+weight: (80|70)$/m);
    expect(body.versions[1]?.diff).toMatch(/^--- \/dev\/null\n/);
  });

  it("rolls back to version 1 as a new version, validated and recorded like an apply", async () => {
    const { status, body } = await call<ApplyResult>("POST", "/v1/policies/vs/default/order-service/rollback", { to: 1, author: "dave" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ revision: 3, changed: true });
    expect(body.policies).toEqual([expect.objectContaining({ action: "rolled-back", version: 3 })]);
    expect(body.policies[0]?.diff).toMatch(/^\+\s+weight: 90$/m);

    const history = (await call<History>("GET", "/v1/policies/VirtualService/default/order-service/history")).body;
    expect(history.versions[0]).toMatchObject({ version: 3, revision: 3, action: "rolled-back", author: "dave" });
    expect(history.versions[0]?.spec).toEqual(history.versions.at(-1)?.spec);

    const again = await call<ApplyResult>("POST", "/v1/policies/VirtualService/default/order-service/rollback", { to: 1 });
    expect(again.body).toMatchObject({ revision: 3, changed: false, policies: [expect.objectContaining({ action: "unchanged" })] });
  });

  it("refuses a rollback to a version that does not exist, and answers unknown policies with 404", async () => {
    const missing = await call<ErrorBody>("POST", "/v1/policies/VirtualService/default/order-service/rollback", { to: 9 });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain("has no version 9; it has versions 1 to 3");
    const unknown = await call<ErrorBody>("GET", "/v1/policies/VirtualService/default/nope");
    expect(unknown).toEqual({ status: 404, body: { error: "no VirtualService named nope in namespace default; list the policies with trellis get policies" } });
    const badKind = await call<ErrorBody>("GET", "/v1/policies/Gateway/default/nope/history");
    expect(badKind.status).toBe(400);
    expect(badKind.body.error).toContain('unknown policy kind "Gateway"');
  });

  it("returns one policy with its spec and its YAML", async () => {
    const { status, body } = await call<{ version: number; spec: { http: unknown[] }; yaml: string }>("GET", "/v1/policies/DestinationRule/default/payment-service");
    expect(status).toBe(200);
    expect(body.version).toBe(1);
    expect(body.yaml).toContain("kind: DestinationRule");
    expect(body.yaml).toContain("maxConnections: 100");
  });

  it("exports Istio YAML that re-applies without changes", async () => {
    const exported = await call<string>("GET", "/v1/export?format=istio");
    expect(exported.status).toBe(200);
    expect(exported.body).toContain("kind: PeerAuthentication");
    const { body } = await apply({ yaml: exported.body });
    expect(body).toMatchObject({ revision: 3, changed: false });
    expect(body.policies).toHaveLength(5);
    expect(body.policies.every((p) => p.action === "unchanged")).toBe(true);
    const unknownFormat = await call<ErrorBody>("GET", "/v1/export?format=helm");
    expect(unknownFormat.status).toBe(400);
  });

  it("names what is wrong with a bad request body", async () => {
    const missing = await apply<ErrorBody>({ author: "x" });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("invalid request body: yaml: is required: the Istio YAML to apply, as a string");
    const empty = await apply<ErrorBody>({ yaml: "# nothing here\n" });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toContain("holds no policy documents");
  });
});
