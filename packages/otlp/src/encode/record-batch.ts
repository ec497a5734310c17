// One OTLP export request (ExportTraceServiceRequest or ExportLogsServiceRequest) built record by record: a
// sender encodes each span or log record into the batch the moment it is finished, and nothing is kept per record.
// The one ResourceSpans/ResourceLogs → ScopeSpans/ScopeLogs framing around the records is written when the batch
// is sealed, into room left free in front of them, so sealing is constant time and copies nothing.
import { writeNumberAttribute, writeStringAttribute, type AttributeKey, type AttributeSink, type EncodedResource, type EncodedScope } from "./encode-common.ts";
import { LENGTH, ProtobufWriter, varintSize } from "./protobuf-writer.ts";

/** The resource and scope every record of a batch shares (one sender, one scope), encoded once. */
export type BatchFraming = { readonly resource: EncodedResource; readonly scope: EncodedScope };

// Tag, and a length of at most 5 bytes, for each of the two framing messages.
const FRAME_BYTES = 1 + 5;

export class RecordBatch implements AttributeSink {
  /** Where records are appended: each one as field 2 of ScopeSpans / ScopeLogs (Span, LogRecord). */
  readonly w: ProtobufWriter;
  /** Records appended so far (finishSpan and finishLogRecord count theirs). */
  count = 0;
  private readonly headroom: number;

  /**
   * `attributesField` is the record's attributes field, where `string` and `number` write (Span 9, LogRecord 6);
   * `expectedBytes` sizes the buffer (it grows by doubling when records need more); `reuse` is an exported batch's
   * buffer to write into instead of a new one (ProtobufWriter takes it when it is big enough).
   */
  constructor(
    private readonly framing: BatchFraming,
    private readonly attributesField: number,
    expectedBytes: number,
    reuse?: Buffer,
  ) {
    this.headroom = 2 * FRAME_BYTES + framing.resource.field.length + framing.scope.field.length;
    this.w = new ProtobufWriter(this.headroom + expectedBytes, reuse);
    this.w.pos = this.headroom;
  }

  /** Bytes of the records appended so far. */
  recordBytes(): number {
    return this.w.pos - this.headroom;
  }

  string(key: AttributeKey, value: string): void {
    writeStringAttribute(this.w, this.attributesField, key, value);
  }

  number(key: AttributeKey, value: number): void {
    writeNumberAttribute(this.w, this.attributesField, key, value);
  }

  /** The whole export request (a view of the batch's buffer: nothing may be appended afterwards). */
  seal(): Uint8Array {
    const { resource, scope } = this.framing;
    const w = this.w;
    const end = w.pos;
    const scopeBody = scope.field.length + (end - this.headroom);
    const resourceBody = resource.field.length + 1 + varintSize(scopeBody) + scopeBody;
    const start = this.headroom - (1 + varintSize(resourceBody) + resource.field.length + 1 + varintSize(scopeBody) + scope.field.length);
    w.pos = start;
    w.tag(1, LENGTH);
    w.uint32(resourceBody);
    w.raw(resource.field);
    w.tag(2, LENGTH);
    w.uint32(scopeBody);
    w.raw(scope.field);
    w.pos = end;
    return w.buf.subarray(start, end);
  }
}
