// The policy API's wire types (control-plane REST; the CLI and the tRPC API mirror them): what an apply or
// rollback did, per policy and per sidecar.
import type { PolicyRef } from "@trellis/db";
import type { ReplyStatus } from "./reply-tracker.ts";

export type PolicyOutcomeAction = "created" | "updated" | "unchanged" | "rolled-back";

export type PolicyOutcome = PolicyRef & {
  action: PolicyOutcomeAction;
  /** The policy's version after the call (for a dry run: the version it would get). */
  version: number;
  /** Unified diff from the stored version; empty when unchanged. */
  diff: string;
};

/** A connected sidecar whose snapshot the change alters. */
export type AffectedSidecar = { id: string; service: string; namespace: string; version: string };

export type SidecarStatus = AffectedSidecar & {
  /** The config version pushed to it; null when no push went out within the wait (e.g. after a restart). */
  configVersion: number | null;
  status: ReplyStatus;
  error: string | null;
};

export type ApplyResult = {
  /** The mesh revision after the call; for a dry run, or when nothing changed, the current one. */
  revision: number;
  previousRevision: number;
  dryRun: boolean;
  /** Whether a revision was cut (for a dry run: would be). */
  changed: boolean;
  policies: PolicyOutcome[];
  affectedSidecars: AffectedSidecar[];
  /** With `wait`: how each sidecar answered the push that followed; null without `wait` or for a dry run. */
  sidecars: SidecarStatus[] | null;
};
