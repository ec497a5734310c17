// Reads an OTLP/protobuf ExportLogsServiceRequest straight off the wire into format-independent log inputs
// (opentelemetry/proto/logs/v1/logs.proto field numbers). Fields not kept are still read with their type, so a
// malformed body is refused exactly as a schema decoder refuses it.
import { readAnyValue, readKeyValue, readResource, readScopeName } from "../wire/read-common.ts";
import { readBody } from "../wire/read-body.ts";
import { FIXED64, LENGTH, VARINT, type WireReader } from "../wire/wire-reader.ts";
import type { LogInput, ResourceLogsInput } from "./to-log-entries.ts";

const tag = (field: number, wireType: number) => (field << 3) | wireType;

// ExportLogsServiceRequest, ResourceLogs, ScopeLogs.
const RESOURCE_LOGS = tag(1, LENGTH);
const RESOURCE = tag(1, LENGTH);
const SCOPE_LOGS = tag(2, LENGTH);
const SCOPE = tag(1, LENGTH);
const SCHEMA_URL = tag(3, LENGTH);
const LOG_RECORDS = tag(2, LENGTH);

// LogRecord.
const TIME = tag(1, FIXED64);
const SEVERITY_NUMBER = tag(2, VARINT);
const SEVERITY_TEXT = tag(3, LENGTH);
const BODY = tag(5, LENGTH);
const ATTRIBUTES = tag(6, LENGTH);
const DROPPED_ATTRIBUTES = tag(7, VARINT);
const TRACE_ID = tag(9, LENGTH);
const SPAN_ID = tag(10, LENGTH);
const OBSERVED_TIME = tag(11, FIXED64);
const EVENT_NAME = tag(12, LENGTH);

export function readProtobufLogs(body: Uint8Array): ResourceLogsInput[] {
  return readBody(body, "ExportLogsServiceRequest", (r) => {
    const resources: ResourceLogsInput[] = [];
    while (r.pos < r.limit) {
      const t = r.tag();
      if (t === RESOURCE_LOGS) resources.push(readResourceLogs(r, resources.length));
      else r.skip(t & 7, 0, t >>> 3);
    }
    return resources;
  });
}

function readResourceLogs(r: WireReader, index: number): ResourceLogsInput {
  const outer = r.enter(1);
  const resource: ResourceLogsInput = { resourceAttributes: {}, scopes: [] };
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === RESOURCE) readResource(r, resource.resourceAttributes, 2);
    else if (t === SCOPE_LOGS) resource.scopes.push(readScopeLogs(r, `resourceLogs[${index}].scopeLogs[${resource.scopes.length}]`));
    else if (t === SCHEMA_URL) r.skipString();
    else r.skip(t & 7, 1, t >>> 3);
  }
  r.leave(outer);
  return resource;
}

function readScopeLogs(r: WireReader, path: string): ResourceLogsInput["scopes"][number] {
  const outer = r.enter(2);
  const scope: ResourceLogsInput["scopes"][number] = { scopeName: "", logs: [] };
  while (r.pos < r.limit) {
    const t = r.tag();
    if (t === LOG_RECORDS) scope.logs.push(readLogRecord(r, `${path}.logRecords[${scope.logs.length}]`));
    else if (t === SCOPE) scope.scopeName = readScopeName(r, scope.scopeName, 3);
    else if (t === SCHEMA_URL) r.skipString();
    else r.skip(t & 7, 2, t >>> 3);
  }
  r.leave(outer);
  return scope;
}

function readLogRecord(r: WireReader, path: string): LogInput {
  const depth = 3;
  const outer = r.enter(depth);
  const log: LogInput = {
    path,
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: "",
    body: null,
    attributes: {},
    traceId: "",
    spanId: "",
    eventName: "",
  };
  while (r.pos < r.limit) {
    const t = r.tag();
    switch (t) {
      case TIME:
        log.timeUnixNano = r.fixed64();
        break;
      case OBSERVED_TIME:
        log.observedTimeUnixNano = r.fixed64();
        break;
      case SEVERITY_NUMBER:
        log.severityNumber = r.int32();
        break;
      case SEVERITY_TEXT:
        log.severityText = r.string();
        break;
      case BODY:
        log.body = readAnyValue(r, log.body, depth + 1);
        break;
      case ATTRIBUTES:
        readKeyValue(r, log.attributes, depth + 1);
        break;
      case TRACE_ID:
        log.traceId = r.hex();
        break;
      case SPAN_ID:
        log.spanId = r.hex();
        break;
      case EVENT_NAME:
        log.eventName = r.string();
        break;
      case DROPPED_ATTRIBUTES:
        r.uint32();
        break;
      default: // flags (8) is not kept
        r.skip(t & 7, depth, t >>> 3);
    }
  }
  r.leave(outer);
  return log;
}
