// The simulated mesh: 200 sidecars over the seed's services plus one more, each calling order-service (so the
// seed canary's weights reach every one of them), and the extra order-service v2 instance whose re-registrations at
// alternating addresses stand in for an apply where the policy API is not there.
import type { NodeInfo } from "@trellis/mesh-config";
import { simNode } from "./sim-sidecar.ts";

const SERVICES: Array<{ service: string; version: string; count: number; upstreams: string[] }> = [
  { service: "frontend", version: "v1", count: 40, upstreams: ["catalog-service", "order-service"] },
  { service: "order-service", version: "v1", count: 30, upstreams: ["order-service", "payment-service", "inventory-service"] },
  { service: "order-service", version: "v2", count: 10, upstreams: ["order-service", "payment-service", "inventory-service"] },
  { service: "payment-service", version: "v1", count: 30, upstreams: ["order-service"] },
  { service: "inventory-service", version: "v1", count: 30, upstreams: ["order-service"] },
  { service: "catalog-service", version: "v1", count: 30, upstreams: ["order-service"] },
  { service: "shipping-service", version: "v1", count: 30, upstreams: ["order-service", "inventory-service"] },
];

export const FLEET_SIZE = SERVICES.reduce((sum, s) => sum + s.count, 0);

export function buildFleet(): NodeInfo[] {
  const nodes: NodeInfo[] = [];
  let port = 40_000;
  for (const { service, version, count, upstreams } of SERVICES) {
    for (let i = 0; i < count; i += 1) nodes.push(simNode(`${service}-${version}-${i}`, service, version, (port += 1), upstreams));
  }
  return nodes;
}

export const probeNode = (port: number): NodeInfo => simNode("order-service-v2-probe", "order-service", "v2", port, ["payment-service"]);
