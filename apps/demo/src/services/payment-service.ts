// Authorizes card payments for orders. Fails now and then (PAYMENT_FAILURE_RATE, ~1% by default) with a 503, the
// way a flaky processor does, so the mesh's retries and the dashboard's error rates have something to show.
import { AppError, type Stop } from "@trellis/runtime";
import type { ServiceEnv } from "../env.ts";
import { createId, jitter, sleep, startJsonService } from "./http-app.ts";

export function startPaymentService(env: ServiceEnv): Promise<Stop> {
  return startJsonService({ service: "payment-service", version: env.version }, env.port, {
    "POST /payments": async ({ body }) => {
      const { orderId, amountCents, currency } = readPayment(body);
      await sleep(jitter(5, 25));
      if (Math.random() < env.paymentFailureRate) {
        return { status: 503, body: { error: "payment processor unavailable, try again" } };
      }
      return {
        body: { paymentId: createId("pay"), orderId, status: "authorized", amountCents, currency },
      };
    },
  });
}

function readPayment(body: unknown): { orderId: string; amountCents: number; currency: string } {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const { orderId, amountCents, currency } = b;
  if (typeof orderId !== "string" || typeof amountCents !== "number" || amountCents < 0) {
    throw new AppError("BAD_REQUEST", 'a payment needs {"orderId": string, "amountCents": number >= 0, "currency"?: string}');
  }
  return { orderId, amountCents, currency: typeof currency === "string" ? currency : "EUR" };
}
