// The shop's storefront: renders the home page's data by asking the catalog for products and placing an order for
// a small cart, both at once. It knows its upstreams only as CATALOG_URL and ORDER_URL.
import type { Stop } from "@trellis/runtime";
import type { ServiceEnv } from "../env.ts";
import { callUpstream, requireUpstream, startJsonService } from "./http-app.ts";

// What shoppers keep putting in their carts; prices as the storefront last showed them.
const carts = [
  [{ sku: "TRL-MUG-01", quantity: 1, unitPriceCents: 1200 }],
  [{ sku: "TRL-TEE-02", quantity: 2, unitPriceCents: 2400 }],
  [
    { sku: "TRL-CAP-03", quantity: 1, unitPriceCents: 1800 },
    { sku: "TRL-STK-04", quantity: 3, unitPriceCents: 300 },
  ],
];

export function startFrontend(env: ServiceEnv): Promise<Stop> {
  const catalog = requireUpstream("frontend", env.upstreamUrls, "CATALOG_URL", "catalog-service");
  const orders = requireUpstream("frontend", env.upstreamUrls, "ORDER_URL", "order-service");
  return startJsonService({ service: "frontend", version: env.version }, env.port, {
    "GET /": async ({ trace }) => {
      const items = carts[Math.floor(Math.random() * carts.length)] ?? [];
      const [products, order] = await Promise.all([
        callUpstream(catalog, "/products", { trace }),
        callUpstream(orders, "/orders", { trace, method: "POST", body: { items } }),
      ]);
      return { body: { page: "home", catalog: products, order } };
    },
  });
}
