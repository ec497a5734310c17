export { AppError, isAppError, toPublicMessage, type AppErrorCode } from "./app-error.ts";
export { listen, type ListenOptions } from "./listen.ts";
export { runMain, type Stop } from "./main.ts";
