// mesh.sidecars: the sidecars registered with the control plane and whether they run the latest config.
import { findSidecars } from "@trellis/db";
import { z } from "zod";
import { publicProcedure } from "../trpc.ts";
import { listSidecarsOutput } from "./list-sidecars.types.ts";

export const listSidecarsRoute = publicProcedure
  .input(z.void())
  .output(listSidecarsOutput)
  .query(({ ctx }) => findSidecars({ prisma: ctx.db.prisma }));
