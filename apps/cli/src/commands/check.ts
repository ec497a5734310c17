// `trellis check`: is the mesh in the state the control plane wants? Every connected sidecar must run (have ACKed)
// the last config pushed to it and not be NACKing; where the control plane runs a mesh CA, every sidecar's
// certificate (its admin /certs) must be unexpired, for its own identity, and issued by that CA's root.
// Prints one line per sidecar and each problem; exits 1 when anything is out of sync.
import { requestJson, requestResponse } from "../control-plane-client.ts";
import { printTable } from "../format.ts";
import type { PolicyList, SidecarRow } from "./get.ts";

/** GET /v1/ca on the control plane. */
type CaDescription = { trustDomain: string; rootFingerprint: string; rootNotAfter: string };
/** GET /certs on a sidecar's admin port. */
type CertSummary = { spiffeId: string; notAfter: string; rootFingerprint: string };

const ADMIN_TIMEOUT_MS = 3_000;

type Verdict = { sidecar: SidecarRow; config: string; cert: string; problems: string[] };

export async function runCheck({ now = new Date() }: { now?: Date } = {}): Promise<void> {
  const [sidecars, policies, ca] = await Promise.all([requestJson<SidecarRow[]>("/v1/sidecars"), requestJson<PolicyList>("/v1/policies"), readCa()]);
  const connected = sidecars.filter((s) => s.connected);
  const verdicts = await Promise.all(connected.map(async (sidecar) => checkSidecar(sidecar, ca, now)));
  const problems = verdicts.flatMap((v) => v.problems.map((p) => `${v.sidecar.id}: ${p}`));
  if ("error" in ca) problems.unshift(...(ca.problem ? [ca.error] : []));
  else if (Date.parse(ca.rootNotAfter) <= now.getTime()) problems.unshift(`the mesh CA's root certificate expired at ${ca.rootNotAfter}`);

  console.log(`policy revision ${policies.revision} · ${connected.length} connected sidecar(s)${"error" in ca ? "" : ` · trust domain ${ca.trustDomain}`}`);
  if (connected.length > 0) {
    printTable(
      ["SIDECAR", "SERVICE", "CONFIG", "CERTIFICATE"],
      verdicts.map((v) => [v.sidecar.id, v.sidecar.service, v.config, v.cert]),
    );
  }
  if ("error" in ca && !ca.problem) console.log(`certificates not checked: ${ca.error}`);
  if (problems.length === 0) {
    console.log("in sync: every connected sidecar runs its latest config" + ("error" in ca ? "" : " and holds a valid certificate"));
    return;
  }
  console.log(`\n${problems.length} problem(s):`);
  for (const problem of problems) console.log(`  ${problem}`);
  process.exitCode = 1;
}

function checkSidecar(sidecar: SidecarRow, ca: CaDescription | CaUnavailable, now: Date): Promise<Verdict> {
  const problems: string[] = [];
  let config: string;
  if (sidecar.lastError !== null) {
    config = `NACK of ${sidecar.pushedVersion ?? "?"}`;
    problems.push(`refused config ${sidecar.pushedVersion ?? "?"} (keeps running ${sidecar.configVersion ?? "nothing"}): ${sidecar.lastError}`);
  } else if (!sidecar.acked) {
    config = `${sidecar.configVersion ?? "-"}, pushed ${sidecar.pushedVersion ?? "-"}`;
    problems.push(`has not acknowledged config ${sidecar.pushedVersion ?? "?"} (runs ${sidecar.configVersion ?? "nothing"})`);
  } else {
    config = `${sidecar.configVersion ?? "-"} ACKed`;
  }
  if ("error" in ca) return Promise.resolve({ sidecar, config, cert: "not checked", problems });
  return checkCertificate(sidecar, ca, now).then((certProblem) => {
    if (certProblem.problem) problems.push(certProblem.problem);
    return { sidecar, config, cert: certProblem.summary, problems };
  });
}

/** The sidecar's current certificate against the CA: expiry, SPIFFE identity, issuing root. */
async function checkCertificate(sidecar: SidecarRow, ca: CaDescription, now: Date): Promise<{ summary: string; problem?: string }> {
  let response: Response;
  try {
    response = await fetch(`${sidecar.adminUrl}/certs`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
  } catch {
    return { summary: "unknown", problem: `its admin endpoint ${sidecar.adminUrl} does not answer, so its certificate cannot be checked` };
  }
  const body = (await response.json().catch(() => ({}))) as Partial<CertSummary> & { error?: string };
  if (response.status === 404) return { summary: "none", problem: body.error ?? "has no mesh identity (started without a join token)" };
  if (!response.ok || body.notAfter === undefined) return { summary: "none", problem: body.error ?? `GET ${sidecar.adminUrl}/certs answered ${response.status}` };
  const expected = `spiffe://${ca.trustDomain}/ns/${sidecar.namespace}/sa/${sidecar.service}`;
  if (Date.parse(body.notAfter) <= now.getTime()) return { summary: `expired ${body.notAfter}`, problem: `its certificate expired at ${body.notAfter}` };
  if (body.spiffeId !== expected) return { summary: String(body.spiffeId), problem: `its certificate is for ${String(body.spiffeId)}, expected ${expected}` };
  if (body.rootFingerprint !== ca.rootFingerprint) {
    return { summary: "foreign root", problem: `its certificate chains to root ${String(body.rootFingerprint)}, not the mesh CA's ${ca.rootFingerprint}` };
  }
  return { summary: `valid until ${body.notAfter}` };
}

/** Why certificates cannot be checked; `problem` when that itself is a fault (not merely a mesh without a CA). */
type CaUnavailable = { error: string; problem: boolean };

async function readCa(): Promise<CaDescription | CaUnavailable> {
  const response = await requestResponse("/v1/ca");
  if (response.ok) return (await response.json()) as CaDescription;
  // A control plane started without a CA (a plaintext development mesh) answers 503: nothing to check.
  if (response.status === 503 || response.status === 404) return { error: "the control plane runs no mesh CA", problem: false };
  return { error: `GET /v1/ca answered ${response.status}: ${await response.text()}`, problem: true };
}
