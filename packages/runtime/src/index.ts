export { AppError, isAppError, toPublicMessage, type AppErrorCode } from "./app-error.ts";
export { listen, type ListenOptions } from "./listen.ts";
export { SIDECAR_NODE_FLAGS } from "./node-flags.ts";
export { runMain, type Stop } from "./main.ts";
