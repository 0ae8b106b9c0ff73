import type { z } from 'zod';
import { BnlabError, formatValue, isBnlabError, valueAtPath } from '@bnlab/core';
import type { NormalizationSpec } from '@bnlab/core';
import { validateNormalizationSpec } from '@bnlab/layers';

/** `['options', 'blocks', 2, 'filters']` → `options.blocks[2].filters`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Parses `input` with `schema`; on failure throws `BnlabError('INVALID_CONFIG')` whose message
 * names the field (its full path from `prefix`), its value and the rule, after `context`.
 */
export function parseOrThrow<T>(schema: z.ZodType, input: unknown, context: string, prefix: readonly PropertyKey[] = []): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const where = formatPath([...prefix, ...issue.path]);
    const keys = issue.keys.map((k) => `\`${k}\``).join(', ');
    const known = knownKeys(schema, issue.path);
    const list = known.length > 0 ? `; the known fields are ${known.map((k) => `\`${k}\``).join(', ')}` : '';
    throw new BnlabError('INVALID_CONFIG', `${context}: unknown field ${keys}${where === '' ? '' : ` in \`${where}\``}${list}`, {
      where: formatPath([...prefix, ...issue.path, issue.keys[0]!]),
    });
  }
  // Union members report their own paths; the whole field's value is the useful one to show.
  const path = issue.path;
  const where = formatPath([...prefix, ...path]);
  const label = where === '' ? 'the spec' : `\`${where}\``;
  throw new BnlabError('INVALID_CONFIG', `${context}: ${label} (${formatValue(valueAtPath(input, path))}) ${issue.message}`, {
    where,
  });
}

// The keys of the (strict) object schema at `path`, for "the known fields are …".
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  for (const key of path) {
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === 'object' && typeof key === 'string') s = def.shape?.[key];
    else if (def?.type === 'array' && typeof key === 'number') s = def.element;
    else return [];
    s = unwrapOptional(s);
  }
  const def = (s as { def?: { type?: string; shape?: Record<string, unknown> } } | undefined)?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrapOptional(s: unknown): unknown {
  let cur = s as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (cur?.def?.type === 'optional') cur = cur.def.innerType as typeof cur;
  return cur;
}

/**
 * Checks a normalization spec with `@bnlab/layers`' validator and returns its typed copy; a
 * failure is re-thrown with the field path under `norm`.
 */
export function parseNorm(norm: unknown, context: string): NormalizationSpec {
  if (norm === undefined) return { type: 'none' };
  try {
    return validateNormalizationSpec(norm);
  } catch (e) {
    if (isBnlabError(e)) {
      throw new BnlabError(e.code, `${context}: \`norm\` is invalid: ${e.message}`, {
        where: e.where === undefined ? 'norm' : `norm.${e.where}`,
        cause: e,
      });
    }
    throw e;
  }
}
