// Reserves stock for an order's items in a warehouse. Always in stock: the demo is about the mesh, not shortages.
import { AppError, type Stop } from "@trellis/runtime";
import type { ServiceEnv } from "../env.ts";
import { createId, jitter, sleep, startJsonService } from "./http-app.ts";

const warehouses = ["AMS-1", "FRA-2", "DUB-1"];

export function startInventoryService(env: ServiceEnv): Promise<Stop> {
  return startJsonService({ service: "inventory-service", version: env.version }, env.port, {
    "POST /reservations": async ({ body }) => {
      const { orderId, items } = readReservation(body);
      await sleep(jitter(2, 8));
      const warehouse = warehouses[Math.floor(Math.random() * warehouses.length)] ?? "AMS-1";
      return {
        body: {
          reservationId: createId("res"),
          orderId,
          warehouse,
          items: items.map((item) => ({ ...item, reserved: true })),
        },
      };
    },
  });
}

function readReservation(body: unknown): { orderId: string; items: { sku: string; quantity: number }[] } {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const items = Array.isArray(b.items) ? (b.items as unknown[]) : undefined;
  const valid = items?.every((i) => typeof i === "object" && i !== null && typeof (i as Record<string, unknown>).sku === "string");
  if (typeof b.orderId !== "string" || !items || !valid) {
    throw new AppError("BAD_REQUEST", 'a reservation needs {"orderId": string, "items": [{"sku": string, "quantity": number}]}');
  }
  return {
    orderId: b.orderId,
    items: items.map((i) => {
      const item = i as Record<string, unknown>;
      return { sku: String(item.sku), quantity: typeof item.quantity === "number" ? item.quantity : 1 };
    }),
  };
}
