// Reads an OTLP/JSON ExportTraceServiceRequest into format-independent span inputs; every type error names
// its path in the request.
import { badJson, field, readArray, readAttributes, readEnum, readObject, readString, readUint64, type JsonObject } from "../common/json-values.ts";
import { parseJsonBody } from "../common/parse-json.ts";
import type { ResourceSpansInput, SpanInput } from "./to-span-records.ts";
import { formatPosition } from "./to-span-records.ts";

const SPAN_KIND_NAMES = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
} as const;

const STATUS_CODE_NAMES = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } as const;

export function readJsonTraces(body: Uint8Array): ResourceSpansInput[] {
  const request = parseJsonBody(body, "ExportTraceServiceRequest", "resourceSpans");
  return readArray(field(request, "resourceSpans"), "resourceSpans").map((item, r) => {
    const path = `resourceSpans[${r}]`;
    const resourceSpans = readObject(item, path) ?? {};
    const resource = readObject(field(resourceSpans, "resource"), `${path}.resource`) ?? {};
    const scopes = readArray(field(resourceSpans, "scopeSpans"), `${path}.scopeSpans`);
    return {
      resourceAttributes: readAttributes(field(resource, "attributes"), `${path}.resource.attributes`),
      spans: scopes.flatMap((scopeItem, s) => {
        const scopeSpans = readObject(scopeItem, `${path}.scopeSpans[${s}]`) ?? {};
        const scope = readObject(field(scopeSpans, "scope"), `${path}.scopeSpans[${s}].scope`) ?? {};
        const scopeName = readString(field(scope, "name"), `${path}.scopeSpans[${s}].scope.name`);
        const spans = readArray(field(scopeSpans, "spans"), `${path}.scopeSpans[${s}].spans`);
        return spans.map((span, i) => toSpanInput(span, scopeName, [r, s, i]));
      }),
    };
  });
}

function toSpanInput(value: unknown, scopeName: string, position: SpanInput["position"]): SpanInput {
  const path = formatPosition(position);
  const span = readObject(value, path) ?? {};
  const status: JsonObject = readObject(field(span, "status"), `${path}.status`) ?? {};
  return {
    position,
    traceId: readId(field(span, "traceId"), `${path}.traceId`),
    spanId: readId(field(span, "spanId"), `${path}.spanId`),
    parentSpanId: readId(field(span, "parentSpanId"), `${path}.parentSpanId`),
    name: readString(field(span, "name"), `${path}.name`),
    kind: readEnum(field(span, "kind"), `${path}.kind`, SPAN_KIND_NAMES),
    startTimeUnixNano: readUint64(field(span, "startTimeUnixNano"), `${path}.startTimeUnixNano`),
    endTimeUnixNano: readUint64(field(span, "endTimeUnixNano"), `${path}.endTimeUnixNano`),
    attributes: readAttributes(field(span, "attributes"), `${path}.attributes`),
    events: readArray(field(span, "events"), `${path}.events`).map((item, e) => {
      const eventPath = `${path}.events[${e}]`;
      const event = readObject(item, eventPath) ?? {};
      return {
        name: readString(field(event, "name"), `${eventPath}.name`),
        timeUnixNano: readUint64(field(event, "timeUnixNano"), `${eventPath}.timeUnixNano`),
        attributes: readAttributes(field(event, "attributes"), `${eventPath}.attributes`),
      };
    }),
    links: readArray(field(span, "links"), `${path}.links`).map((item, l) => {
      const linkPath = `${path}.links[${l}]`;
      const link = readObject(item, linkPath) ?? {};
      return {
        traceId: readId(field(link, "traceId"), `${linkPath}.traceId`),
        spanId: readId(field(link, "spanId"), `${linkPath}.spanId`),
        traceState: readString(field(link, "traceState"), `${linkPath}.traceState`),
        attributes: readAttributes(field(link, "attributes"), `${linkPath}.attributes`),
      };
    }),
    statusCode: readEnum(field(status, "code"), `${path}.status.code`, STATUS_CODE_NAMES),
    statusMessage: readString(field(status, "message"), `${path}.status.message`),
    scopeName,
  };
}

/** Ids are hex in OTLP/JSON (not base64 as in plain proto3 JSON); their length is checked per span later. */
function readId(value: unknown, path: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw badJson(path, `must be a hex string, got ${typeof value}`);
  return value.toLowerCase();
}
