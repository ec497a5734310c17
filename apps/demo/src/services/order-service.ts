// Places orders: reserves the items with inventory-service, then charges payment-service. v2 is the canary: it runs
// an extra fraud check (a bit slower) and promises a delivery date and loyalty points, so its share is visible.
import { AppError, type Stop } from "@trellis/runtime";
import type { ServiceEnv } from "../env.ts";
import { callUpstream, createId, jitter, requireUpstream, sleep, startJsonService } from "./http-app.ts";

type OrderItem = { sku: string; quantity: number; unitPriceCents: number };

export function startOrderService(env: ServiceEnv): Promise<Stop> {
  const payment = requireUpstream("order-service", env.upstreamUrls, "PAYMENT_URL", "payment-service");
  const inventory = requireUpstream("order-service", env.upstreamUrls, "INVENTORY_URL", "inventory-service");
  const isCanary = env.version === "v2";
  return startJsonService({ service: "order-service", version: env.version }, env.port, {
    "POST /orders": async ({ body, trace }) => {
      const items = readItems(body);
      const orderId = createId("ord");
      const totalCents = items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
      await sleep(isCanary ? jitter(20, 40) : jitter(1, 5));
      const reservation = await callUpstream(inventory, "/reservations", {
        trace,
        method: "POST",
        body: { orderId, items: items.map(({ sku, quantity }) => ({ sku, quantity })) },
      });
      const charge = await callUpstream(payment, "/payments", {
        trace,
        method: "POST",
        body: { orderId, amountCents: totalCents, currency: "EUR" },
      });
      const order = { orderId, status: "confirmed", totalCents, currency: "EUR", inventory: reservation, payment: charge };
      if (!isCanary) return { status: 201, body: order };
      return { status: 201, body: { ...order, fraudCheck: "passed", estimatedDeliveryDays: 2, loyaltyPoints: Math.floor(totalCents / 100) } };
    },
  });
}

function readItems(body: unknown): OrderItem[] {
  const items = typeof body === "object" && body !== null ? (body as Record<string, unknown>).items : undefined;
  const problem = 'an order needs {"items": [{"sku": string, "quantity": number > 0, "unitPriceCents": number >= 0}, ...]}';
  if (!Array.isArray(items) || items.length === 0) throw new AppError("BAD_REQUEST", problem);
  return items.map((raw: unknown) => {
    const i = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    if (typeof i.sku !== "string" || typeof i.quantity !== "number" || i.quantity <= 0 || typeof i.unitPriceCents !== "number") {
      throw new AppError("BAD_REQUEST", problem);
    }
    return { sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents };
  });
}
