// In-process entry for tests and the CLI: start a control plane on a given database and port.
export { startControlPlane, type ControlPlane, type ControlPlaneOptions, type Logger } from "./control-plane.ts";
export type { ServiceView, SidecarView } from "./rest.ts";
