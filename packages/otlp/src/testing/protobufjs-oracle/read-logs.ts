// Test oracle (protobufjs): reads an OTLP/protobuf ExportLogsServiceRequest into format-independent log inputs.
import { AppError } from "@trellis/runtime";
import { cleanString } from "../../common/clean-string.ts";
import { bytesToHex, longToUnsigned, toAttributeValue, toAttributes } from "./protobuf-values.ts";
import { decodeExportLogsServiceRequest } from "./schema.ts";
import type { WireExportLogsServiceRequest } from "./wire-metrics-logs.ts";
import type { ResourceLogsInput } from "../../logs/to-log-entries.ts";

export function readProtobufLogs(body: Uint8Array): ResourceLogsInput[] {
  let request: WireExportLogsServiceRequest;
  try {
    request = decodeExportLogsServiceRequest(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = body.find((byte) => byte > 0x20) === 0x7b ? " (the body looks like JSON; send it with Content-Type: application/json)" : "";
    throw new AppError("BAD_REQUEST", `protobuf body is not an ExportLogsServiceRequest: ${reason}${hint}`, { cause: error });
  }
  return request.resourceLogs.map((resourceLogs, r) => ({
    resourceAttributes: toAttributes(resourceLogs.resource?.attributes ?? []),
    scopes: resourceLogs.scopeLogs.map((scopeLogs, s) => ({
      scopeName: cleanString(scopeLogs.scope?.name ?? ""),
      logs: scopeLogs.logRecords.map((log, i) => ({
        path: `resourceLogs[${r}].scopeLogs[${s}].logRecords[${i}]`,
        timeUnixNano: longToUnsigned(log.timeUnixNano),
        observedTimeUnixNano: longToUnsigned(log.observedTimeUnixNano),
        severityNumber: log.severityNumber,
        severityText: cleanString(log.severityText),
        body: toAttributeValue(log.body),
        attributes: toAttributes(log.attributes),
        traceId: bytesToHex(log.traceId),
        spanId: bytesToHex(log.spanId),
        eventName: cleanString(log.eventName),
      })),
    })),
  }));
}
