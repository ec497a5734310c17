// The error a procedure call failed with, as the client sees it (a TRPCError), for asserting its code and message.
import { TRPCError } from "@trpc/server";

export async function expectTRPCError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}
