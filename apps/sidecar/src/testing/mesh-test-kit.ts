// What the sidecar's integration tests share: a silent logger, a bounded poll, and policy applies through the real
// control plane's REST API that wait for the sidecars' ACKs.

export const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** Polls `read` until `done` holds; throws with the last value after `timeoutMs`. */
export async function waitFor<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 800)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export type ApplyReply = { revision?: number; sidecars: Array<{ id: string; status: string }> | null };

/**
 * Applies Istio YAML with `wait: true` and fails unless the sidecars that `mustAck` names (every affected one by
 * default) ACKed it.
 */
export async function applyPolicies(controlPlaneUrl: string, yaml: string, { author, mustAck = () => true }: { author: string; mustAck?: (id: string) => boolean }): Promise<ApplyReply> {
  const response = await fetch(`${controlPlaneUrl}/v1/policies/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ yaml, author, wait: true }),
  });
  const body = (await response.json()) as ApplyReply & { error?: string };
  if (response.status !== 200) throw new Error(`apply failed (${response.status}): ${body.error ?? JSON.stringify(body)}`);
  const notAcked = (body.sidecars ?? []).filter((s) => s.status !== "acked" && mustAck(s.id));
  if (notAcked.length > 0) throw new Error(`apply was not ACKed by ${JSON.stringify(notAcked)}`);
  return body;
}
