// The two small messages ingest answers with, read by hand so the tests do not share code with what they check:
// google.rpc.Status{code=1, message=2} and Export*ServiceResponse{partial_success=1{rejected=1, error_message=2}}.

/** Reads varints and length-delimited fields in order, failing on anything unexpected. */
function reader(bytes: Uint8Array) {
  let offset = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (offset >= bytes.length) throw new Error(`truncated varint at offset ${offset}`);
      const byte = bytes[offset++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const expectTag = (field: number, wireType: number) => {
    const tag = varint();
    if (tag !== field * 8 + wireType) throw new Error(`expected field ${field} wire type ${wireType}, got tag ${tag}`);
  };
  const bytesField = (field: number) => {
    expectTag(field, 2);
    const length = varint();
    offset += length;
    return bytes.subarray(offset - length, offset);
  };
  const varintField = (field: number) => {
    expectTag(field, 0);
    return varint();
  };
  return { varintField, bytesField, done: () => offset === bytes.length };
}

export function readRpcStatus(bytes: Uint8Array): { code: number; message: string } {
  const r = reader(bytes);
  const status = { code: r.varintField(1), message: new TextDecoder().decode(r.bytesField(2)) };
  if (!r.done()) throw new Error("unexpected bytes after google.rpc.Status");
  return status;
}

export function readPartialSuccess(bytes: Uint8Array): { rejected: number; errorMessage: string } {
  const outer = reader(bytes);
  const inner = reader(outer.bytesField(1));
  const partial = { rejected: inner.varintField(1), errorMessage: new TextDecoder().decode(inner.bytesField(2)) };
  if (!outer.done() || !inner.done()) throw new Error("unexpected bytes in the export response");
  return partial;
}
