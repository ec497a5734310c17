// The Istio kinds Trellis accepts, the apiVersions each may be written in, and the spec schema of each.
import type { z } from "zod";
import type { Policy, PolicyKind } from "../policy/types.ts";
import { authorizationPolicySpec, toIstioAuthorizationPolicySpec } from "./schemas/authorization-policy.ts";
import { destinationRuleSpec, toIstioDestinationRuleSpec } from "./schemas/destination-rule.ts";
import { peerAuthenticationSpec, toIstioPeerAuthenticationSpec } from "./schemas/peer-authentication.ts";
import { toIstioVirtualServiceSpec, virtualServiceSpec } from "./schemas/virtual-service.ts";

type KindDefinition = {
  /** Newest first: the first is the one error messages recommend. */
  apiVersions: readonly string[];
  spec: z.ZodType<Policy["spec"]>;
};

const NETWORKING = ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"] as const;
const SECURITY = ["security.istio.io/v1", "security.istio.io/v1beta1"] as const;

export const KINDS: Record<PolicyKind, KindDefinition> = {
  VirtualService: { apiVersions: NETWORKING, spec: virtualServiceSpec },
  DestinationRule: { apiVersions: NETWORKING, spec: destinationRuleSpec },
  PeerAuthentication: { apiVersions: SECURITY, spec: peerAuthenticationSpec },
  AuthorizationPolicy: { apiVersions: SECURITY, spec: authorizationPolicySpec },
};

export function isPolicyKind(kind: unknown): kind is PolicyKind {
  return typeof kind === "string" && Object.hasOwn(KINDS, kind);
}

/** Istio YAML for one policy's spec. */
export function toIstioSpec(policy: Policy): Record<string, unknown> {
  switch (policy.kind) {
    case "VirtualService":
      return toIstioVirtualServiceSpec(policy.spec);
    case "DestinationRule":
      return toIstioDestinationRuleSpec(policy.spec);
    case "PeerAuthentication":
      return toIstioPeerAuthenticationSpec(policy.spec);
    case "AuthorizationPolicy":
      return toIstioAuthorizationPolicySpec(policy.spec);
  }
}
