// services.list: the services table — what each service received over the last windowSeconds.
import { findServiceStats } from "@trellis/db";
import { windowInput } from "../common/window-input.ts";
import { publicProcedure } from "../trpc.ts";
import { listServicesOutput } from "./list-services.types.ts";

export const listServicesRoute = publicProcedure
  .input(windowInput)
  .output(listServicesOutput)
  .query(({ ctx, input }) => findServiceStats({ pool: ctx.db.pool, windowSeconds: input.windowSeconds }));
