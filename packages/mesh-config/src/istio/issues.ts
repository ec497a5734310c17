// Zod issues rewritten as messages an SRE can act on ("unknown field", "required field ... is missing",
// "expected a list, got ..."), each with the Istio path it concerns.
import type { z } from "zod";

export type IssueMessage = { path: PropertyKey[]; message: string };

/** Istio fields a real mesh's YAML may carry but Trellis does not implement: say so instead of "unknown". */
const UNSUPPORTED_ISTIO_FIELDS = new Set([
  "tcp",
  "tls",
  "gateways",
  "exportTo",
  "delegate",
  "rewrite",
  "redirect",
  "directResponse",
  "corsPolicy",
  "headers",
  "mirrors",
  "queryParams",
  "sourceLabels",
  "ignoreUriCase",
  "withoutHeaders",
  "minHealthPercent",
  "consistentHash",
  "localityLbSetting",
  "portLevelSettings",
  "portLevelMtls",
  "workloadSelector",
  "targetRef",
  "targetRefs",
  "when",
  "ipBlocks",
  "remoteIpBlocks",
  "requestPrincipals",
  "hosts",
  "ports",
  "provider",
  "retryRemoteLocalities",
  "tcpKeepalive",
  "useClientProtocol",
  "maxConcurrentStreams",
  "splitExternalLocalOriginErrors",
  "consecutiveLocalOriginFailures",
]);

export function describeIssues(issues: readonly z.core.$ZodIssue[]): IssueMessage[] {
  return issues.flatMap(describeIssue);
}

function describeIssue(issue: z.core.$ZodIssue): IssueMessage[] {
  const path = [...issue.path];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: UNSUPPORTED_ISTIO_FIELDS.has(key) ? `Istio field "${key}" is not supported by Trellis here; remove it` : `unknown field "${key}"`,
      }));
    case "invalid_type": {
      const field = path.at(-1);
      if (!("input" in issue) || issue.input === undefined) {
        return [{ path, message: typeof field === "string" ? `required field "${field}" is missing` : "a value is required here" }];
      }
      const got = describeValue(issue.input);
      const hint = issue.expected === "string" && (typeof issue.input === "number" || typeof issue.input === "boolean") ? `; quote it ("${String(issue.input)}")` : "";
      return [{ path, message: `expected ${describeType(issue.expected)}, got ${got}${hint}` }];
    }
    case "invalid_value":
      return [{ path, message: `${describeValue(issue.input)} is not allowed; use one of ${issue.values.map(String).join(", ")}` }];
    case "too_small":
      return [{ path, message: describeBound(issue.origin, "at least", issue.minimum, issue.input) }];
    case "too_big":
      return [{ path, message: describeBound(issue.origin, "at most", issue.maximum, issue.input) }];
    case "invalid_key":
      return [{ path, message: `invalid key: ${issue.issues.map((i) => i.message).join("; ")}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

function describeBound(origin: string, relation: string, bound: number | bigint, input: unknown): string {
  if (origin === "array") return Number(bound) === 1 && relation === "at least" ? "must not be empty" : `must have ${relation} ${bound} items`;
  if (origin === "string") return Number(bound) === 1 && relation === "at least" ? "must not be empty" : `must be ${relation} ${bound} characters long`;
  return `must be ${relation} ${bound}, got ${describeValue(input)}`;
}

function describeType(expected: string): string {
  const names: Record<string, string> = {
    array: "a list",
    object: "a mapping (key: value)",
    record: "a mapping (key: value)",
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
  };
  return names[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
