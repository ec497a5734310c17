// Starts one TypeScript demo service by name: what `node dist/main.js service <name>` runs in each app process.
// catalog-service is not here on purpose: it is the Python app (services/catalog-service/server.py).
import { AppError, type Stop } from "@trellis/runtime";
import type { ServiceEnv } from "../env.ts";
import { startFrontend } from "./frontend.ts";
import { startInventoryService } from "./inventory-service.ts";
import { startOrderService } from "./order-service.ts";
import { startPaymentService } from "./payment-service.ts";

const starters: Record<string, (env: ServiceEnv) => Promise<Stop>> = {
  frontend: startFrontend,
  "order-service": startOrderService,
  "payment-service": startPaymentService,
  "inventory-service": startInventoryService,
};

export const nodeServiceNames = Object.keys(starters);

export function startService(name: string, env: ServiceEnv): Promise<Stop> {
  const start = starters[name];
  if (!start) {
    throw new AppError("BAD_REQUEST", `unknown demo service "${name}"; the TypeScript services are ${nodeServiceNames.join(", ")}`);
  }
  return start(env);
}
