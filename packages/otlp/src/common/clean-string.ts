// Postgres text and jsonb refuse NUL characters and unpaired UTF-16 surrogates; one such string in a batch
// would fail the whole insert (and an exporter would retry it forever), so every decoded string passes here.

// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanString(value: string): string {
  UNSTORABLE.lastIndex = 0;
  if (!UNSTORABLE.test(value)) return value;
  return value.replace(UNSTORABLE, "\uFFFD");
}
