// Turns the topology and three base ports into every port the demo binds, so the launcher, its readiness lines and
// the tests agree on one deterministic layout: apps on base+1.., sidecar inbound on base+101.., outbound on base+201...
import { AppError } from "@trellis/runtime";
import {
  demoServices,
  gatewayRoute,
  gatewayService,
  upstreamUrlEnv,
  workloadName,
  type AppRuntime,
  type ServiceName,
  type ServiceSpec,
} from "./topology.ts";

export type PlannedUpstream = {
  service: ServiceName;
  /** The sidecar's outbound listener on 127.0.0.1 for this upstream. */
  port: number;
  /** The app's env var that points at that listener. */
  urlEnv: string;
};

export type PlannedInstance = {
  service: ServiceName;
  version: string;
  workload: string;
  runtime: AppRuntime;
  appPort: number;
  inboundPort: number;
  adminPort: number;
  upstreams: PlannedUpstream[];
};

export type PlannedGateway = {
  service: string;
  version: string;
  workload: string;
  port: number;
  adminPort: number;
  route: ServiceName;
};

export type DemoPlan = { gateway: PlannedGateway; instances: PlannedInstance[] };

export type PortBases = { portBase: number; adminBase: number; gatewayPort: number };

const rangeSize = 100;
const inboundOffset = 100;
const outboundOffset = 200;

export function planDemo(bases: PortBases, services: readonly ServiceSpec[] = demoServices): DemoPlan {
  const { portBase, adminBase, gatewayPort } = bases;
  const specs = services.flatMap((spec) => spec.versions.map((version) => ({ spec, version })));
  if (specs.length >= rangeSize) {
    throw new AppError("CONFIG", `the demo has ${specs.length} instances but each port range holds ${rangeSize - 1}`);
  }

  const instances = specs.map(({ spec, version }, i): PlannedInstance => ({
    service: spec.name,
    version,
    workload: workloadName(spec.name, version),
    runtime: spec.runtime,
    appPort: portBase + 1 + i,
    inboundPort: portBase + inboundOffset + 1 + i,
    adminPort: adminBase + 1 + i,
    upstreams: [],
  }));

  // Outbound listeners are numbered from the edge inwards (frontend's first), the order a request travels.
  let nextOutbound = portBase + outboundOffset + 1;
  for (const spec of [...services].reverse()) {
    for (const instance of instances.filter((i) => i.service === spec.name)) {
      instance.upstreams = spec.upstreams.map((service) => ({ service, port: nextOutbound++, urlEnv: upstreamUrlEnv(service) }));
    }
  }

  const gateway: PlannedGateway = {
    service: gatewayService,
    version: "v1",
    workload: workloadName(gatewayService, "v1"),
    port: gatewayPort,
    adminPort: adminBase,
    route: gatewayRoute,
  };
  const plan = { gateway, instances };
  assertPortsUsable(plan, nextOutbound - 1);
  return plan;
}

/** Every port the plan binds, with what binds it; used for collision checks and error messages. */
export function listPlannedPorts(plan: DemoPlan): { port: number; what: string }[] {
  const ports = [
    { port: plan.gateway.port, what: "gateway (TRELLIS_GATEWAY_PORT)" },
    { port: plan.gateway.adminPort, what: "gateway admin (TRELLIS_SIDECAR_ADMIN_BASE)" },
  ];
  for (const i of plan.instances) {
    const name = `${i.service} ${i.version}`;
    ports.push({ port: i.appPort, what: `${name} app (TRELLIS_DEMO_PORT_BASE)` });
    ports.push({ port: i.inboundPort, what: `${name} sidecar inbound (TRELLIS_DEMO_PORT_BASE)` });
    ports.push({ port: i.adminPort, what: `${name} sidecar admin (TRELLIS_SIDECAR_ADMIN_BASE)` });
    for (const u of i.upstreams) ports.push({ port: u.port, what: `${name} outbound to ${u.service} (TRELLIS_DEMO_PORT_BASE)` });
  }
  return ports;
}

function assertPortsUsable(plan: DemoPlan, highestPort: number): void {
  const all = listPlannedPorts(plan);
  const highest = Math.max(highestPort, ...all.map((p) => p.port));
  if (highest > 65535) {
    throw new AppError("CONFIG", `the demo's ports would reach ${highest}, above 65535; lower TRELLIS_DEMO_PORT_BASE or TRELLIS_SIDECAR_ADMIN_BASE`);
  }
  const seen = new Map<number, string>();
  for (const { port, what } of all) {
    const other = seen.get(port);
    if (other !== undefined) {
      throw new AppError("CONFIG", `port ${port} is planned twice: for ${other} and for ${what}; move one of those env vars so the ranges do not overlap`);
    }
    seen.set(port, what);
  }
}

/** `catalog-service=9301,order-service=9302`: the sidecar's TRELLIS_UPSTREAMS. */
export function formatUpstreams(upstreams: readonly PlannedUpstream[]): string {
  return upstreams.map((u) => `${u.service}=${u.port}`).join(",");
}
