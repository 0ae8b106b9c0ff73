import { BnlabError, formatValue, valueAtPath } from '@bnlab/core';
import type { z } from 'zod';

interface SchemaNode {
  def?: {
    type?: string;
    innerType?: unknown;
    shape?: Record<string, unknown>;
    options?: unknown[];
    discriminator?: string;
    values?: unknown[];
  };
}

/**
 * The object schema under optional/default wrappers, if any. In a discriminated union, the
 * option `value`'s discriminator selects, or without one the first option with field `key`.
 */
function objectSchema(schema: unknown, value?: unknown, key?: string): SchemaNode | undefined {
  let s = schema as SchemaNode | undefined;
  for (let i = 0; i < 5 && s?.def; i++) {
    if (s.def.type === 'object' && s.def.shape) return s;
    if (s.def.type === 'union' && s.def.options) {
      const options = s.def.options.map((o) => objectSchema(o)).filter((o): o is SchemaNode => o !== undefined);
      const d = s.def.discriminator;
      const tag = d !== undefined && value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[d] : undefined;
      if (tag !== undefined)
        return options.find((o) => ((o.def?.shape?.[d as string] as SchemaNode | undefined)?.def?.values ?? []).includes(tag));
      return key === undefined ? undefined : options.find((o) => Object.hasOwn(o.def?.shape ?? {}, key));
    }
    s = s.def.innerType as SchemaNode | undefined;
  }
  return undefined;
}

/** The keys of the object schema of `value` (see {@link objectSchema}), if any. */
function objectKeys(schema: unknown, value: unknown): string[] | null {
  const shape = objectSchema(schema, value)?.def?.shape;
  return shape ? Object.keys(shape) : null;
}

/**
 * The schema of the field at `path`, walking object shapes (and the options of discriminated
 * unions, chosen by `input`'s values when given).
 */
export function schemaAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, input?: unknown): unknown {
  let s: unknown = schema;
  for (let i = 0; i < path.length; i++) {
    const k = String(path[i]);
    const shape = objectSchema(s, input === undefined ? undefined : valueAtPath(input, path.slice(0, i)), k)?.def?.shape;
    if (!shape) return undefined;
    s = shape[k];
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
        const allowed = objectKeys(schemaAt(schema, issue.path, input), got);
        return (
          `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` +
          (allowed ? ` (allowed: ${allowed.join(', ')})` : '')
        );
      }
      case 'invalid_value':
        return `${where}: must be one of ${issue.values.map(formatValue).join(', ')}; got ${formatValue(got)}`;
      case 'invalid_union': {
        // A discriminated union's tag (`schedule.type`) names its choices; other unions do not.
        const options = (issue as { options?: unknown[] }).options;
        if (!options) return `${where}: ${issue.message}`;
        return got === undefined
          ? `${where}: required (one of ${options.map(formatValue).join(', ')})`
          : `${where}: must be one of ${options.map(formatValue).join(', ')}; got ${formatValue(got)}`;
      }
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
