// PeerAuthentication (security.istio.io): the mTLS mode for a mesh (root namespace), a namespace, or the
// workloads a selector picks. UNSET and a missing `mtls` both mean "inherit", so the domain leaves mtlsMode out.
import { z } from "zod";
import type { PeerAuthenticationSpec } from "../../policy/types.ts";
import { compact } from "../../records.ts";
import { workloadSelector } from "./common.ts";

export const peerAuthenticationSpec = z
  .strictObject({
    selector: workloadSelector.optional(),
    mtls: z.strictObject({ mode: z.enum(["UNSET", "STRICT", "PERMISSIVE", "DISABLE"]).optional() }).optional(),
  })
  .transform(({ selector, mtls }): PeerAuthenticationSpec => {
    const mode = mtls?.mode;
    return compact({ selector, mtlsMode: mode === "UNSET" ? undefined : mode });
  });

export function toIstioPeerAuthenticationSpec(spec: PeerAuthenticationSpec): Record<string, unknown> {
  return compact({ selector: spec.selector, mtls: spec.mtlsMode === undefined ? undefined : { mode: spec.mtlsMode } });
}
