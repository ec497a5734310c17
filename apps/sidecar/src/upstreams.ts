// Parses TRELLIS_UPSTREAMS ("catalog-service=9301,redis:6379/tcp"): the services this sidecar's app calls, the
// loopback port of the outbound listener for each, and whether that listener speaks HTTP (HTTP/1.1, h2c, gRPC,
// WebSocket) or passes plain TCP through. Errors say which entry is wrong and what was expected.

export type UpstreamProtocol = "http" | "tcp";

/** `protocol` defaults to "http" where an Upstream is written by hand (tests, the CLI). */
export type Upstream = { service: string; port: number; protocol?: UpstreamProtocol };

const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const EXAMPLE = "e.g. TRELLIS_UPSTREAMS=catalog-service=9301,redis=6379/tcp";
const ENTRY = /^([^=:\s/]+)\s*[=:]\s*(\d+)(?:\s*\/\s*([A-Za-z0-9]*))?$/;

export type ParseUpstreamsResult = { ok: true; upstreams: Upstream[] } | { ok: false; error: string };

export function parseUpstreams(value: string): ParseUpstreamsResult {
  const upstreams: Upstream[] = [];
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    const match = ENTRY.exec(entry);
    if (!match) return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}" must look like <service>=<port> or <service>=<port>/tcp; ${EXAMPLE}` };
    const service = match[1] ?? "";
    const port = Number(match[2]);
    const suffix = match[3];
    if (!SERVICE_NAME.test(service)) {
      return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}": "${service}" is not a service name (lowercase letters, digits and '-'); ${EXAMPLE}` };
    }
    if (port < 1 || port > 65535) return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}": port ${port} is outside 1-65535` };
    const protocol = readProtocol(suffix);
    if (protocol === null) {
      return { ok: false, error: `TRELLIS_UPSTREAMS entry "${entry}": protocol "${suffix ?? ""}" is unknown; use /tcp for plain TCP pass-through or /http (the default) for HTTP, gRPC and WebSocket` };
    }
    if (upstreams.some((u) => u.service === service)) return { ok: false, error: `TRELLIS_UPSTREAMS lists "${service}" twice; give each upstream one port` };
    const clash = upstreams.find((u) => u.port === port);
    if (clash) return { ok: false, error: `TRELLIS_UPSTREAMS gives port ${port} to both "${clash.service}" and "${service}"; each upstream needs its own port` };
    upstreams.push({ service, port, protocol });
  }
  return { ok: true, upstreams };
}

function readProtocol(suffix: string | undefined): UpstreamProtocol | null {
  if (suffix === undefined) return "http";
  const lower = suffix.toLowerCase();
  return lower === "http" || lower === "tcp" ? lower : null;
}
