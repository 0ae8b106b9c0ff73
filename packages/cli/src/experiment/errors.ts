import { BnlabError, formatValue, valueAtPath } from '@bnlab/core';
import type { z } from 'zod';

/** Unwraps optional/default wrappers to reach an object schema's keys, if any. */
function objectKeys(schema: unknown): string[] | null {
  let s = schema as { def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown> } } | undefined;
  for (let i = 0; i < 5 && s?.def; i++) {
    if (s.def.type === 'object' && s.def.shape) return Object.keys(s.def.shape);
    s = s.def.innerType as typeof s;
  }
  return null;
}

/** The schema of the field at `path`, walking object shapes. */
export function schemaAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): unknown {
  let s: unknown = schema;
  for (const k of path) {
    let cur = s as { def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown> } } | undefined;
    for (let i = 0; i < 5 && cur?.def && cur.def.type !== 'object'; i++) cur = cur.def.innerType as typeof cur;
    if (!cur?.def?.shape) return undefined;
    s = cur.def.shape[String(k)];
  }
  return s;
}

/**
 * Turns zod issues into one error that says, for each problem, where (the dotted path),
 * what was wrong and what is allowed.
 */
export function configError(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: z.ZodType,
  prefix: ReadonlyArray<PropertyKey> = [],
): BnlabError {
  const lines = issues.slice(0, 12).map((issue) => {
    const path = [...prefix, ...issue.path];
    const where = path.length ? path.join('.') : '(top level)';
    const got = valueAtPath(input, issue.path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = objectKeys(schemaAt(schema, issue.path));
        return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` +
          (allowed ? ` (allowed: ${allowed.join(', ')})` : '');
      }
      case 'invalid_value':
        return `${where}: must be one of ${issue.values.map(formatValue).join(', ')}; got ${formatValue(got)}`;
      case 'invalid_type':
        return got === undefined
          ? `${where}: required (${issue.expected})`
          : `${where}: expected ${issue.expected}, got ${formatValue(got)}`;
      case 'too_small':
      case 'too_big':
      case 'invalid_format':
      case 'not_multiple_of':
        return `${where}: ${issue.message.replace(/^Invalid input: /, '').replace(/^Too (small|big): /, '')}; got ${formatValue(got)}`;
      default:
        return `${where}: ${issue.message}`;
    }
  });
  const more = issues.length > 12 ? `\n  … and ${issues.length - 12} more` : '';
  return new BnlabError('INVALID_CONFIG', `${file}: invalid experiment:\n  ${lines.join('\n  ')}${more}`, { where: file });
}
