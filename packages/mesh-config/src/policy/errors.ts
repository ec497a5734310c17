// The one error shape for policy input, from YAML syntax to cross-document semantics, and its one-line form: these
// lines reach an SRE through the CLI, the dashboard and 4xx bodies, so each names the document, the path and the fix.

export type PolicyError = {
  /** 1-based position among the input's non-empty YAML documents; 0 for a stored policy the input breaks. */
  document: number;
  kind?: string;
  namespace?: string;
  name?: string;
  /** Istio field path, e.g. spec.http[0].route; empty when the error concerns the whole document. */
  path: string;
  message: string;
  /** 1-based source position, when the error comes from parsing text. */
  line?: number;
  column?: number;
};

/** e.g. `document 2 (VirtualService order-service) spec.http[0].route: weights sum to 110, expected 100`. */
export function formatPolicyError(error: PolicyError): string {
  const where = error.document > 0 ? `document ${error.document}` : "stored";
  const what = formatSubject(error);
  const head = what === "" ? where : error.document > 0 ? `${where} (${what})` : `${where} ${what}`;
  const path = error.path === "" ? "" : ` ${error.path}`;
  const position = error.line === undefined ? "" : error.column === undefined ? ` (line ${error.line})` : ` (line ${error.line}, column ${error.column})`;
  return `${head}${path}: ${error.message}${position}`;
}

/** Path segments as Istio writes them: `spec.http[0].route`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else path += path === "" ? String(segment) : `.${String(segment)}`;
  }
  return path;
}

function formatSubject({ kind, namespace, name }: PolicyError): string {
  if (kind === undefined && name === undefined) return "";
  const qualified = name === undefined ? undefined : namespace === undefined || namespace === "default" ? name : `${namespace}/${name}`;
  return [kind, qualified].filter((part) => part !== undefined).join(" ");
}
