// The format-independent half of logs decoding: ids and times checked per record (a bad record is rejected and
// counted, the rest kept, as OTLP partial success allows), the resource's service fields attached.
import type { AttributeValue, Attributes } from "../span-record.ts";
import { readService } from "../trace/to-span-records.ts";
import type { DecodedLogs } from "./log-record.ts";

export type LogInput = {
  path: string;
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AttributeValue;
  attributes: Attributes;
  /** Lowercase hex as received ("" when unset). */
  traceId: string;
  spanId: string;
  eventName: string;
};

export type ResourceLogsInput = { resourceAttributes: Attributes; scopes: { scopeName: string; logs: LogInput[] }[] };

const MAX_ERRORS = 10;
const MAX_TIME_UNIX_NANO = 2n ** 63n - 1n;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

export function toLogEntries(resources: readonly ResourceLogsInput[]): DecodedLogs {
  const result: DecodedLogs = { logs: [], rejectedLogRecords: 0, errors: [] };
  for (const resource of resources) {
    const service = readService(resource.resourceAttributes);
    for (const scope of resource.scopes) {
      for (const log of scope.logs) {
        const problem = findProblem(log);
        if (problem) {
          result.rejectedLogRecords += 1;
          if (result.errors.length < MAX_ERRORS) result.errors.push(`${log.path}: ${problem}`);
          continue;
        }
        result.logs.push({
          serviceName: service.serviceName,
          serviceNamespace: service.serviceNamespace,
          serviceVersion: service.serviceVersion,
          resourceAttributes: resource.resourceAttributes,
          scopeName: scope.scopeName,
          timeUnixNano: log.timeUnixNano === 0n ? log.observedTimeUnixNano : log.timeUnixNano,
          observedTimeUnixNano: log.observedTimeUnixNano,
          severityNumber: log.severityNumber >= 0 && log.severityNumber <= 24 ? log.severityNumber : 0,
          severityText: log.severityText === "" ? null : log.severityText,
          body: log.body,
          attributes: log.attributes,
          // An all-zero or empty id means "not part of a trace".
          traceId: log.traceId === "" || ALL_ZERO.test(log.traceId) ? null : log.traceId,
          spanId: log.spanId === "" || ALL_ZERO.test(log.spanId) ? null : log.spanId,
          eventName: log.eventName === "" ? null : log.eventName,
        });
      }
    }
  }
  if (result.rejectedLogRecords > result.errors.length) result.errors.push(`…and ${result.rejectedLogRecords - result.errors.length} more rejected log records`);
  return result;
}

function findProblem(log: LogInput): string | undefined {
  if (log.timeUnixNano === 0n && log.observedTimeUnixNano === 0n) return "timeUnixNano and observedTimeUnixNano are both missing (one is required)";
  if (log.timeUnixNano > MAX_TIME_UNIX_NANO || log.observedTimeUnixNano > MAX_TIME_UNIX_NANO) return "times after the year 2262 are not valid";
  if (log.traceId !== "" && !TRACE_ID.test(log.traceId)) return `traceId ${JSON.stringify(log.traceId.slice(0, 48))} is invalid (expected empty or 16 bytes, 32 hex characters)`;
  if (log.spanId !== "" && !SPAN_ID.test(log.spanId)) return `spanId ${JSON.stringify(log.spanId.slice(0, 48))} is invalid (expected empty or 8 bytes, 16 hex characters)`;
  return undefined;
}
