// The sidecar's config in force. A push is validated in full (schema, consistency, then compiled for routing)
// before it replaces the current one with a single reference swap, so a request sees either the old config or
// the new one, never a mix; a rejected push leaves the last good config serving (fail static).
import { checkSnapshot, parseConfigMessage, readVersionAndNonce, type Snapshot } from "@trellis/mesh-config";
import { compileRoutingTable } from "./outbound/routing-table.ts";

export type AppliedConfig = { version: number; nonce: string; snapshot: Snapshot; appliedAt: Date };

export type ApplyResult = { ok: true; version: number; nonce: string } | { ok: false; version: number; nonce: string; error: string };

export type ConfigStore = {
  current: () => AppliedConfig | null;
  /** Validates and applies one config-stream line; the result is what to ACK or NACK. */
  apply: (line: string) => ApplyResult;
};

export function createConfigStore({ service }: { service: string }): ConfigStore {
  let current: AppliedConfig | null = null;
  return {
    current: () => current,
    apply(line) {
      const parsed = parseConfigMessage(line);
      if (!parsed.ok) return { ok: false, ...readVersionAndNonce(line), error: parsed.error };
      const { version, nonce, snapshot } = parsed.value;
      if (snapshot.service !== service) {
        return { ok: false, version, nonce, error: `config is for service "${snapshot.service}" but this sidecar serves "${service}"` };
      }
      const check = checkSnapshot(snapshot);
      if (!check.ok) return { ok: false, version, nonce, error: `inconsistent config: ${check.errors.join("; ")}` };
      // Compiling here (cached per snapshot) means no request ever pays for it, and a route this sidecar cannot
      // serve is NACKed now rather than failing traffic later.
      const compiled = compileRoutingTable(snapshot);
      if (!compiled.ok) return { ok: false, version, nonce, error: `config this sidecar cannot serve: ${compiled.errors.join("; ")}` };
      current = { version, nonce, snapshot, appliedAt: new Date() };
      return { ok: true, version, nonce };
    },
  };
}
