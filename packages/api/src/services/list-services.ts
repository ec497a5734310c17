// services.list: the services table — what each service (and each of its versions) received over the range.
import { findServiceStats } from "@trellis/db";
import { publicProcedure } from "../trpc.ts";
import { listServicesInput, listServicesOutput } from "./list-services.types.ts";

export const listServicesRoute = publicProcedure
  .input(listServicesInput)
  .output(listServicesOutput)
  .query(({ ctx, input }) => findServiceStats({ pool: ctx.db.pool, ...input }));
