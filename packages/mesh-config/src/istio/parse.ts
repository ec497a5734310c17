// Multi-document Istio YAML → domain policies, or every error found, each naming its document, Istio path and line.
// Only syntax and per-document schema live here; rules across documents are in policy/validate.ts.
import { isScalar, LineCounter, parseAllDocuments, type Document } from "yaml";
import { z } from "zod";
import type { PolicyError } from "../policy/errors.ts";
import { formatPath } from "../policy/errors.ts";
import { DEFAULT_NAMESPACE, POLICY_KINDS, type Policy } from "../policy/types.ts";
import { describeIssues } from "./issues.ts";
import { KINDS, isPolicyKind } from "./kinds.ts";
import { locatePath } from "./locate.ts";
import { compact } from "../records.ts";
import { metadata } from "./schemas/common.ts";

export type PolicyParseResult = { ok: true; policies: Policy[] } | { ok: false; errors: PolicyError[] };

type Subject = Pick<PolicyError, "document" | "kind" | "namespace" | "name">;

/** Every non-empty YAML document must be one policy; documents are numbered from 1, empty ones are skipped. */
export function parsePolicies(yamlText: string): PolicyParseResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(yamlText, { lineCounter, prettyErrors: false });
  const policies: Policy[] = [];
  const errors: PolicyError[] = [];
  let document = 0;
  for (const doc of docs) {
    if (isEmpty(doc)) continue;
    document += 1;
    const result = parseDocument(doc, lineCounter, document);
    if (result.ok) policies.push(result.policy);
    else errors.push(...result.errors);
  }
  return errors.length === 0 ? { ok: true, policies } : { ok: false, errors };
}

type DocumentResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyError[] };

function parseDocument(doc: Document, lineCounter: LineCounter, document: number): DocumentResult {
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { document, path: "", message: `invalid YAML: ${firstLine(error.message)}`, line, column: col };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    return { ok: false, errors: [{ document, path: "", message: `invalid YAML: ${(error as Error).message}` }] };
  }
  const at = (path: readonly PropertyKey[]) => positionOf(doc, lineCounter, path);
  if (!isRecord(value)) {
    return { ok: false, errors: [{ document, path: "", message: "expected a mapping with apiVersion, kind, metadata and spec", ...at([]) }] };
  }
  const subject = readSubject(value, document);
  const kind = value.kind;
  if (!isPolicyKind(kind)) {
    const message =
      kind === undefined
        ? `required field "kind" is missing; use one of ${POLICY_KINDS.join(", ")}`
        : `${JSON.stringify(kind)} is not a kind Trellis accepts; use one of ${POLICY_KINDS.join(", ")}`;
    return { ok: false, errors: [{ ...subject, kind: undefined, path: "kind", message, ...at(["kind"]) }] };
  }
  const definition = KINDS[kind];
  if (typeof value.apiVersion !== "string" || !definition.apiVersions.includes(value.apiVersion)) {
    const shown = value.apiVersion === undefined ? "a missing apiVersion" : JSON.stringify(value.apiVersion);
    const message = `${shown} is not an apiVersion for ${kind}; use ${definition.apiVersions.join(" or ")}`;
    return { ok: false, errors: [{ ...subject, path: "apiVersion", message, ...at(["apiVersion"]) }] };
  }
  const schema = z.strictObject({ apiVersion: z.string(), kind: z.string(), metadata, spec: definition.spec });
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const errors = describeIssues(parsed.error.issues).map(({ path, message }) => ({ ...subject, path: formatPath(path), message, ...at(path) }));
    return { ok: false, errors };
  }
  const { metadata: meta, spec } = parsed.data;
  const policy = compact({
    kind,
    apiVersion: value.apiVersion,
    name: meta.name,
    namespace: meta.namespace ?? DEFAULT_NAMESPACE,
    labels: meta.labels,
    annotations: meta.annotations,
    spec,
  }) as Policy; // the spec came from KINDS[kind], so it matches kind
  return { ok: true, policy };
}

function readSubject(value: Record<string, unknown>, document: number): Subject {
  const meta = isRecord(value.metadata) ? value.metadata : {};
  return compact({
    document,
    kind: typeof value.kind === "string" ? value.kind : undefined,
    name: typeof meta.name === "string" ? meta.name : undefined,
    namespace: typeof meta.namespace === "string" ? meta.namespace : undefined,
  });
}

function positionOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): { line?: number; column?: number } {
  const position = locatePath(doc, lineCounter, path);
  return position === undefined ? {} : { line: position.line };
}

/** The yaml package appends " at line N, column M:" and a code frame; the position is reported separately. */
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

/** A document holding only comments, or nothing between two `---`. */
function isEmpty(doc: Document): boolean {
  if (doc.errors.length > 0) return false;
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
