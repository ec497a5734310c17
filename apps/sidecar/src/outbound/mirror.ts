// Istio traffic mirroring: a fire-and-forget copy of a share of a route's requests to another cluster, its
// authority suffixed "-shadow" so the shadow app can tell copies apart. The copy never delays or changes the main
// request, and its response is thrown away.
import type http from "node:http";
import type { Http1Request } from "../http1/types.ts";
import type { LoadBalancer } from "./concrete.ts";
import type { BodyReplay } from "./body-replay.ts";
import type { Resilience } from "./cluster-state.ts";
import type { CompiledRoute } from "./routing-table.ts";

/** Mirrors are abandoned after this long so a hung shadow cannot pile up connections. */
const MIRROR_TIMEOUT_MS = 30_000;

/** Starts the mirror copy of one request when the route mirrors it (by percentage); call before the body flows. */
export function startMirror(
  mirror: NonNullable<CompiledRoute["mirror"]>,
  req: Http1Request,
  headers: http.OutgoingHttpHeaders,
  body: BodyReplay,
  { balancer, resilience }: { balancer: LoadBalancer; resilience: Resilience },
  random: () => number = Math.random,
): void {
  if (mirror.percentage < 100 && random() * 100 >= mirror.percentage) return;
  const state = resilience.clusterFor(mirror.cluster);
  const endpoint = balancer.pick(mirror.cluster);
  if (endpoint === null) return;
  state.event("mirror");
  const copy = { ...headers, host: shadowHost(typeof headers.host === "string" ? headers.host : mirror.cluster.service) };
  const { target } = endpoint;
  const request = state.pool.request({ host: target.host, port: target.port, method: req.method ?? "GET", path: req.url ?? "/", headers: copy, timeout: MIRROR_TIMEOUT_MS });
  request.on("response", (response) => response.resume());
  request.on("timeout", () => request.destroy());
  request.on("close", () => balancer.release(endpoint));
  body.mirrorTo(request);
}

/** Istio/Envoy: the mirrored request's authority gets "-shadow" after the host name, before any port. */
export function shadowHost(host: string): string {
  const colon = host.lastIndexOf(":");
  if (colon === -1 || host.endsWith("]")) return `${host}-shadow`;
  return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
}
