export { appRouter, createCaller, type AppRouter } from "./root.ts";
export { type Context } from "./trpc.ts";
export { toTRPCError, type ErrorLogger } from "./errors.ts";
export { type RouterInputs, type RouterOutputs } from "./types.ts";
