"use client";
// How a panel says its data could not be loaded: a visible, specific message in place of the data, or a quiet note
// above stale data when only the latest refresh failed.
import type { UseQueryResult } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

/**
 * The query's error, kept while the next poll is in flight: React Query resets a query that never had data to
 * "pending" on every refetch, which would make the error flicker back to "Loading…" every few seconds.
 */
export function useStickyError(error: unknown, hasData: boolean): unknown {
  const [sticky, setSticky] = useState<unknown>(null);
  if (error && error !== sticky) setSticky(error);
  if (hasData && sticky !== null && !error) setSticky(null);
  return error ?? sticky;
}

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

/** A panel's body for one query: its data (with a note when the latest refresh failed), its error, or "Loading…". */
export function QueryBody<T>({ query, what, children }: { query: UseQueryResult<T, unknown>; what: string; children: (data: T) => ReactNode }) {
  const error = useStickyError(query.error, query.data !== undefined);
  if (query.data !== undefined) {
    return (
      <>
        {query.isError && <StaleNotice error={query.error} updatedAt={query.dataUpdatedAt} />}
        {children(query.data)}
      </>
    );
  }
  if (error) return <LoadError what={what} error={error} />;
  return <p className="empty-note">Loading…</p>;
}
