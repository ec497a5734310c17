"use client";
// How a panel says its data could not be loaded: a visible, specific message in place of the data, or a quiet note
// above stale data when only the latest refresh failed.

export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/failed to fetch|networkerror|load failed/i.test(message)) return "the dashboard server did not answer — is `trellis up` still running?";
  return message;
}

export function LoadError({ what, error }: { what: string; error: unknown }) {
  return (
    <div className="load-error" role="alert" data-testid="load-error">
      <strong>Could not load {what}.</strong> {describeError(error)}
    </div>
  );
}

export function StaleNotice({ error, updatedAt }: { error: unknown; updatedAt: number }) {
  return (
    <div className="stale-notice" role="status">
      Refresh failed ({describeError(error)}); showing data from <time suppressHydrationWarning>{new Date(updatedAt).toLocaleTimeString()}</time>.
    </div>
  );
}
