import { z } from 'zod';
import { BnlabError, formatValue, valueAtPath } from '@bnlab/core';

/**
 * The defaults of every normalization option, per layer type, in one place. The layers merge
 * them once in their constructors; `getConfig()` reports them for options the user left out.
 * Keras values throughout (epsilon 1e-3, momentum 0.99, groups 32).
 */
export const NORMALIZATION_DEFAULTS = {
  batch: { axis: -1, momentum: 0.99, epsilon: 1e-3, center: true, scale: true, renorm: false, renormMomentum: 0.99 },
  layer: { axis: -1, epsilon: 1e-3, center: true, scale: true },
  group: { groups: 32, axis: -1, epsilon: 1e-3, center: true, scale: true },
  instance: { axis: -1, epsilon: 1e-3, center: true, scale: true },
} as const;

// Each field schema carries its rule as the error text, so a failure reads
// "`momentum` (1.5) must be a number in [0, 1]" whatever layer or spec it came from.
const number = (rule: string) => z.number({ error: `must be ${rule}` });
const integer = (rule: string) => number(rule).int({ error: `must be ${rule}` });
const LAYER_AXIS_RULE = 'must be an integer or a non-empty list of distinct integers, none of them 0 (axis 0 is the batch axis)';

/** The schema of every normalization option; shared by the spec and the layer constructors. */
export const OPTION_SCHEMAS = {
  epsilon: number('a finite number > 0').positive({ error: 'must be a finite number > 0' }),
  center: z.boolean({ error: 'must be true or false' }),
  scale: z.boolean({ error: 'must be true or false' }),
  axis: integer('an integer other than 0 (axis 0 is the batch axis)').refine((a) => a !== 0, {
    error: 'must be an integer other than 0 (axis 0 is the batch axis)',
  }),
  layerAxis: z.union(
    [
      z
        .number({ error: LAYER_AXIS_RULE })
        .int({ error: LAYER_AXIS_RULE })
        .refine((a) => a !== 0, { error: LAYER_AXIS_RULE }),
      z
        .array(z.number({ error: LAYER_AXIS_RULE }).int({ error: LAYER_AXIS_RULE }), { error: LAYER_AXIS_RULE })
        .min(1, { error: LAYER_AXIS_RULE })
        .refine((axes) => !axes.includes(0) && new Set(axes).size === axes.length, { error: LAYER_AXIS_RULE }),
    ],
    { error: LAYER_AXIS_RULE },
  ),
  momentum: number('a number in [0, 1]').min(0, { error: 'must be a number in [0, 1]' }).max(1, { error: 'must be a number in [0, 1]' }),
  groups: integer('a positive integer or -1 (one group per channel)').refine((g) => g === -1 || g >= 1, {
    error: 'must be a positive integer or -1 (one group per channel)',
  }),
  virtualBatchSize: integer('a positive integer').positive({ error: 'must be a positive integer' }),
  renorm: z.boolean({ error: 'must be true or false' }),
  renormClipping: z.strictObject(
    {
      rmax: number('a finite number >= 1').min(1, { error: 'must be a finite number >= 1' }).optional(),
      dmax: number('a finite number >= 0').min(0, { error: 'must be a finite number >= 0' }).optional(),
    },
    { error: 'must be an object {rmax?, dmax?}' },
  ),
  renormMomentum: number('a number in [0, 1]')
    .min(0, { error: 'must be a number in [0, 1]' })
    .max(1, { error: 'must be a number in [0, 1]' }),
} as const;

/** Option names per layer type, in the order they are documented and serialized. */
export const OPTION_NAMES = {
  batch: ['axis', 'momentum', 'epsilon', 'center', 'scale', 'virtualBatchSize', 'renorm', 'renormClipping', 'renormMomentum'],
  layer: ['axis', 'epsilon', 'center', 'scale'],
  group: ['groups', 'axis', 'epsilon', 'center', 'scale'],
  instance: ['axis', 'epsilon', 'center', 'scale'],
} as const;

/** A normalization family with options (everything but `'none'`). */
export type NormalizationFamily = keyof typeof OPTION_NAMES;

function fieldSchema(family: NormalizationFamily, name: string): z.ZodType {
  if (family === 'layer' && name === 'axis') return OPTION_SCHEMAS.layerAxis;
  return OPTION_SCHEMAS[name as keyof typeof OPTION_SCHEMAS];
}

/**
 * The schema of the options of one family. `strict` (the JSON spec) rejects unknown keys and
 * `null`; the loose form (layer constructors) lets the tfjs `LayerArgs` through and treats
 * `null` as "not given", as tfjs's own deserialization produces it.
 */
export function optionsSchema(family: NormalizationFamily, strict: boolean): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const name of OPTION_NAMES[family]) {
    const field = fieldSchema(family, name);
    shape[name] = strict ? field.optional() : field.nullish();
  }
  return strict ? z.strictObject(shape) : z.looseObject(shape);
}

/**
 * Parses `input` with `schema`; on failure throws `BnlabError('INVALID_CONFIG')` whose message
 * names the field, its value and the rule, prefixed by `context` (the layer or the spec).
 */
export function parseOrThrow<T>(schema: z.ZodType, input: unknown, context: string, allowed?: readonly string[]): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys' && issue.path.length > 0) {
    // An unknown key inside an object option, e.g. renormClipping: {rmin}.
    const field = issue.path.map(String).join('.');
    const keys = issue.keys.map((k) => `\`${k}\``).join(', ');
    const message = `${context}: \`${field}\` (${formatValue(valueAtPath(input, issue.path))}) ${issue.message}: unknown key ${keys}`;
    throw new BnlabError('INVALID_CONFIG', message, { where: field });
  }
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `\`${k}\``).join(', ');
    const known = allowed ? `; the options are ${allowed.map((k) => `\`${k}\``).join(', ')}` : '';
    throw new BnlabError('INVALID_CONFIG', `${context}: unknown option ${keys}${known}`, { where: issue.keys[0] });
  }
  // A rule that failed inside a nested object or list is reported against the top-level
  // field, whose whole value is shown, e.g. "`axis` ([1,1]) must be ... distinct integers".
  const top = issue.path.length > 0 ? [issue.path[0]!] : [];
  const nested = issue.path.length > 1 && fieldIsObject(input, top);
  const path = nested ? issue.path : top;
  const field = path.map(String).join('.');
  const message = `${context}: \`${field}\` (${formatValue(valueAtPath(input, path))}) ${issue.message}`;
  throw new BnlabError('INVALID_CONFIG', message, { where: field });
}

function fieldIsObject(input: unknown, path: readonly PropertyKey[]): boolean {
  const v = valueAtPath(input, path);
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Rules that tie two batch-norm options together. */
export function checkBatchOptionCombination(options: Record<string, unknown>, context: string): void {
  const renorm = options['renorm'] === true;
  for (const name of ['renormClipping', 'renormMomentum'] as const) {
    if (options[name] != null && !renorm) {
      throw new BnlabError('INVALID_CONFIG', `${context}: \`${name}\` is only used with \`renorm: true\``, { where: name });
    }
  }
  if (renorm && options['virtualBatchSize'] != null) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${context}: \`virtualBatchSize\` (${formatValue(options['virtualBatchSize'])}) cannot be combined with \`renorm: true\``,
      { where: 'virtualBatchSize' },
    );
  }
}
