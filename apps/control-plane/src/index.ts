// In-process entry for tests and the CLI: start a control plane on a given database and port.
export { startControlPlane, type ControlPlane, type ControlPlaneOptions, type Logger } from "./control-plane.ts";
export type { ServiceView, SidecarView } from "./rest.ts";
export type { CaDescription, CaSettings } from "./ca/mesh-ca.ts";
export type { AffectedSidecar, ApplyResult, PolicyOutcome, PolicyOutcomeAction, SidecarStatus } from "./policies/types.ts";
