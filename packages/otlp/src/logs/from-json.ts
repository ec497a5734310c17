// Reads an OTLP/JSON ExportLogsServiceRequest into format-independent log inputs; every type error names its
// path in the request.
import { badJson, field, readAnyValue, readArray, readAttributes, readEnum, readObject, readString, readUint64 } from "../common/json-values.ts";
import { parseJsonBody } from "../common/parse-json.ts";
import type { LogInput, ResourceLogsInput } from "./to-log-entries.ts";

const SEVERITY_NAMES: Readonly<Record<string, number>> = Object.fromEntries(
  ["UNSPECIFIED", "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4", "INFO", "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4"].map(
    (name, i) => [`SEVERITY_NUMBER_${name}`, i],
  ),
);

export function readJsonLogs(body: Uint8Array): ResourceLogsInput[] {
  const request = parseJsonBody(body, "ExportLogsServiceRequest", "resourceLogs");
  return readArray(field(request, "resourceLogs"), "resourceLogs").map((item, r) => {
    const path = `resourceLogs[${r}]`;
    const resourceLogs = readObject(item, path) ?? {};
    const resource = readObject(field(resourceLogs, "resource"), `${path}.resource`) ?? {};
    return {
      resourceAttributes: readAttributes(field(resource, "attributes"), `${path}.resource.attributes`),
      scopes: readArray(field(resourceLogs, "scopeLogs"), `${path}.scopeLogs`).map((scopeItem, s) => {
        const scopePath = `${path}.scopeLogs[${s}]`;
        const scopeLogs = readObject(scopeItem, scopePath) ?? {};
        const scope = readObject(field(scopeLogs, "scope"), `${scopePath}.scope`) ?? {};
        return {
          scopeName: readString(field(scope, "name"), `${scopePath}.scope.name`),
          logs: readArray(field(scopeLogs, "logRecords"), `${scopePath}.logRecords`).map((log, i) => toLogInput(log, `${scopePath}.logRecords[${i}]`)),
        };
      }),
    };
  });
}

function toLogInput(value: unknown, path: string): LogInput {
  const log = readObject(value, path) ?? {};
  return {
    path,
    timeUnixNano: readUint64(field(log, "timeUnixNano"), `${path}.timeUnixNano`),
    observedTimeUnixNano: readUint64(field(log, "observedTimeUnixNano"), `${path}.observedTimeUnixNano`),
    severityNumber: readEnum(field(log, "severityNumber"), `${path}.severityNumber`, SEVERITY_NAMES),
    severityText: readString(field(log, "severityText"), `${path}.severityText`),
    body: readAnyValue(field(log, "body"), `${path}.body`, 0),
    attributes: readAttributes(field(log, "attributes"), `${path}.attributes`),
    traceId: readHex(field(log, "traceId"), `${path}.traceId`),
    spanId: readHex(field(log, "spanId"), `${path}.spanId`),
    eventName: readString(field(log, "eventName"), `${path}.eventName`),
  };
}

/** Ids are hex in OTLP/JSON; their length is checked per record later. */
function readHex(value: unknown, path: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw badJson(path, `must be a hex string, got ${typeof value}`);
  return value.toLowerCase();
}
