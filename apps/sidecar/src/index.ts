// In-process entry for tests and the CLI: start a sidecar or gateway from options.
export { startSidecar, type Sidecar, type SidecarPorts } from "./sidecar.ts";
export type { SidecarOptions, SidecarModeOptions, GatewayModeOptions, Logger } from "./options.ts";
export { parseUpstreams, type Upstream } from "./upstreams.ts";
export { RESPONSE_FLAGS_HEADER, type ResponseFlag } from "./response-flags.ts";
