/**
 * Formats a value for an error message: short and JSON-like, strings in single quotes, so
 * every bnlab package names bad values the same way.
 *
 * @example
 * ```ts
 * formatValue('imagenet');       // "'imagenet'"
 * formatValue({ type: 'group' }); // '{"type":"group"}'
 * ```
 */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return `'${value}'`;
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

/** The value at `path` inside `root` (object keys and array indices), or undefined. */
export function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
