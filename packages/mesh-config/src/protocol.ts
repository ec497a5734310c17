// The sidecar ⇄ control-plane config stream: NDJSON messages on one long-lived HTTP/2 stream, with xDS semantics
// (hello, versioned config pushes, ACK/NACK by version and nonce). Both ends validate with these schemas.
import { z } from "zod";
import { formatIssues } from "./format-issues.ts";
import { snapshotSchema } from "./snapshot.ts";

/** A Kubernetes-style name: lowercase letters, digits and dashes, starting with a letter or digit. */
const dnsName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and '-' (like a Kubernetes name), e.g. order-service");

export const nodeSchema = z.object({
  /** Stable workload (instance) id chosen by the sidecar, e.g. order-service-v2-0. */
  id: z.string().min(1).max(253),
  service: dnsName,
  namespace: dnsName,
  version: z.string().min(1).max(63),
  mode: z.enum(["sidecar", "gateway"]),
  labels: z.record(z.string(), z.string()),
  /** host:port other sidecars call (the inbound listener; for a gateway, its public listener). */
  address: z.string().regex(/^[^\s:]+:\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:15001"),
  inboundUrl: z.url(),
  adminUrl: z.url(),
  /** Services this sidecar calls; the gateway's single upstream is its route target. */
  upstreams: z.array(dnsName),
});

export const helloMessageSchema = z.object({ type: z.literal("hello"), node: nodeSchema });

export const configMessageSchema = z.object({
  type: z.literal("config"),
  version: z.number().int().nonnegative(),
  nonce: z.string().min(1),
  snapshot: snapshotSchema,
});

export const ackMessageSchema = z.object({
  type: z.literal("ack"),
  version: z.number().int().nonnegative(),
  nonce: z.string(),
});

export const nackMessageSchema = z.object({
  type: z.literal("nack"),
  version: z.number().int().nonnegative(),
  nonce: z.string(),
  error: z.string(),
});

/** What a sidecar may send after its hello. */
export const sidecarReplySchema = z.discriminatedUnion("type", [ackMessageSchema, nackMessageSchema]);

export type NodeInfo = z.infer<typeof nodeSchema>;
export type HelloMessage = z.infer<typeof helloMessageSchema>;
export type ConfigMessage = z.infer<typeof configMessageSchema>;
export type AckMessage = z.infer<typeof ackMessageSchema>;
export type NackMessage = z.infer<typeof nackMessageSchema>;
export type SidecarReply = z.infer<typeof sidecarReplySchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses one NDJSON line with the given schema; the error says what was wrong and where. */
export function parseMessage<T>(schema: z.ZodType<T>, line: string, what: string): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, error: `${what} is not valid JSON: ${(error as Error).message}` };
  }
  const result = schema.safeParse(value);
  if (!result.success) return { ok: false, error: `invalid ${what}: ${formatIssues(result.error)}` };
  return { ok: true, value: result.data };
}

export function parseHello(line: string): ParseResult<HelloMessage> {
  return parseMessage(helloMessageSchema, line, "hello message");
}

export function parseSidecarReply(line: string): ParseResult<SidecarReply> {
  return parseMessage(sidecarReplySchema, line, "sidecar reply (ack/nack)");
}

export function parseConfigMessage(line: string): ParseResult<ConfigMessage> {
  return parseMessage(configMessageSchema, line, "config message");
}

/**
 * The version and nonce of a config message that failed validation, so the sidecar can still NACK the right push
 * (xDS NACKs name the rejected version); zeros when even those are unreadable.
 */
export function readVersionAndNonce(line: string): { version: number; nonce: string } {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null) return { version: 0, nonce: "" };
    const { version, nonce } = value as { version?: unknown; nonce?: unknown };
    return {
      version: typeof version === "number" && Number.isInteger(version) && version >= 0 ? version : 0,
      nonce: typeof nonce === "string" ? nonce : "",
    };
  } catch {
    return { version: 0, nonce: "" };
  }
}
