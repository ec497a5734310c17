// Parses TRELLIS_UPSTREAMS ("catalog-service=9301,order-service=9302"): the services this sidecar's app calls
// and the loopback port of the outbound listener for each. Errors say which entry is wrong and what was expected.

export type Upstream = { service: string; port: number };

const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const EXAMPLE = "e.g. TRELLIS_UPSTREAMS=catalog-service=9301,order-service=9302";

export type ParseUpstreamsResult = { ok: true; upstreams: Upstream[] } | { ok: false; error: string };

export function parseUpstreams(value: string): ParseUpstreamsResult {
  const upstreams: Upstream[] = [];
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    const match = /^([^=\s]+)\s*=\s*(\d+)$/.exec(entry);
    if (!match) return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}" must look like <service>=<port>; ${EXAMPLE}` };
    const service = match[1] ?? "";
    const port = Number(match[2]);
    if (!SERVICE_NAME.test(service)) {
      return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}": "${service}" is not a service name (lowercase letters, digits and '-'); ${EXAMPLE}` };
    }
    if (port < 1 || port > 65535) return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}": port ${port} is outside 1-65535` };
    if (upstreams.some((u) => u.service === service)) return { ok: false, error: `TRELLIS_UPSTREAMS lists "${service}" twice; give each upstream one port` };
    const clash = upstreams.find((u) => u.port === port);
    if (clash) return { ok: false, error: `TRELLIS_UPSTREAMS gives port ${port} to both "${clash.service}" and "${service}"; each upstream needs its own port` };
    upstreams.push({ service, port });
  }
  return { ok: true, upstreams };
}
