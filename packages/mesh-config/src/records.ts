// Small helpers for plain records, shared by the Istio schemas and the snapshot builder so that equal inputs give
// key-for-key equal (and canonically hashable) outputs.

/** Drops undefined-valued keys so that parsed and re-parsed objects compare equal key for key. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function sortRecord<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as T;
  return sorted;
}
