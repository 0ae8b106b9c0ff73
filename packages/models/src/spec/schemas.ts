import { z } from 'zod';

// Each field schema carries its rule as the error text, so a failure reads
// "`options.hiddenUnits` ([128,0]) must be a non-empty list of positive integers".

const positiveInt = (rule = 'a positive integer') =>
  z
    .number({ error: `must be ${rule}` })
    .int({ error: `must be ${rule}` })
    .positive({ error: `must be ${rule}` });

const intList = (rule: string, length?: number) => {
  const base = z.array(positiveInt(), { error: `must be ${rule}` });
  return length === undefined ? base.min(1, { error: `must be ${rule}` }) : base.length(length, { error: `must be ${rule}` });
};

const ACTIVATIONS = ['relu', 'relu6', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'gelu', 'linear'] as const;
const VARIANCE_SCALING = ['glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'lecunUniform', 'lecunNormal'] as const;

const activation = z.enum(ACTIVATIONS, { error: `must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}` });
const padding = z.enum(['valid', 'same'], { error: "must be 'valid' or 'same'" });
const finite = (rule: string) => z.number({ error: `must be ${rule}` });
const spread = finite('a finite number > 0').positive({ error: 'must be a finite number > 0' });

const INITIALIZER_RULE =
  `must be one of ${VARIANCE_SCALING.map((n) => `'${n}'`).join(', ')}, ` +
  "{name: 'randomNormal' | 'truncatedNormal', mean?, stddev} or {name: 'randomUniform', minval, maxval}";

/** A kernel initializer spec. */
export const kernelInitializerSchema = z.union(
  [
    z.enum(VARIANCE_SCALING),
    z.strictObject({
      name: z.enum(['randomNormal', 'truncatedNormal']),
      mean: finite('a finite number').optional(),
      stddev: spread,
    }),
    z
      .strictObject({ name: z.literal('randomUniform'), minval: finite('a finite number'), maxval: finite('a finite number') })
      .refine((u) => u.minval < u.maxval, { error: 'must have minval < maxval' }),
  ],
  { error: INITIALIZER_RULE },
);

/** Options every builder takes. */
export const commonOptionShape = {
  name: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }).optional(),
  activation: activation.optional(),
  outputActivation: z.enum(['softmax', 'linear'], { error: "must be 'softmax' or 'linear'" }).optional(),
  kernelInitializer: kernelInitializerSchema.optional(),
  kernelInitializerScale: spread.optional(),
  keepBias: z.boolean({ error: 'must be true or false' }).optional(),
  seed: finite('a finite number').optional(),
};

const convBlock = z.strictObject({
  type: z.literal('conv'),
  filters: positiveInt(),
  kernelSize: positiveInt().optional(),
  strides: positiveInt().optional(),
  padding: padding.optional(),
  activation: activation.optional(),
  normAfterPool: z.boolean({ error: 'must be true or false' }).optional(),
});
const denseBlock = z.strictObject({ type: z.literal('dense'), units: positiveInt(), activation: activation.optional() });
const poolBlock = z.strictObject({
  type: z.enum(['maxPool', 'avgPool']),
  poolSize: positiveInt().optional(),
  strides: positiveInt().optional(),
  padding: padding.optional(),
});
const dropoutBlock = z.strictObject({
  type: z.literal('dropout'),
  rate: finite('a number in [0, 1)').min(0, { error: 'must be a number in [0, 1)' }).lt(1, { error: 'must be a number in [0, 1)' }),
});
const flattenBlock = z.strictObject({ type: z.literal('flatten') });

/** One block of a custom model. */
export const blockSchema = z.discriminatedUnion('type', [convBlock, denseBlock, poolBlock, dropoutBlock, flattenBlock], {
  error: "must be 'conv', 'dense', 'maxPool', 'avgPool', 'dropout' or 'flatten'",
});

const RESNET_DEPTH_RULE = 'must be 6n+2 for an integer n ≥ 1 (8, 14, 20, 32, 44, 56, 110, …): n basic blocks in each of 3 stages';

/** The options schema of each architecture. */
export const optionSchemas = {
  mlp: z.strictObject({ ...commonOptionShape, hiddenUnits: intList('a non-empty list of positive integers').optional() }),
  simpleCnn: z.strictObject({
    ...commonOptionShape,
    filters: intList('a list of 2 positive integers', 2).optional(),
    kernelSize: positiveInt().optional(),
    denseUnits: positiveInt().optional(),
  }),
  kerasCnn: z.strictObject({
    ...commonOptionShape,
    filters: intList('a list of 3 positive integers', 3).optional(),
    kernelSize: positiveInt().optional(),
    denseUnits: positiveInt().optional(),
  }),
  convNet4: z.strictObject({
    ...commonOptionShape,
    filters: intList('a list of 4 positive integers', 4).optional(),
    denseUnits: positiveInt().optional(),
    layout: z.enum(['seed', 'uniform'], { error: "must be 'seed' or 'uniform'" }).optional(),
  }),
  resnet: z.strictObject({
    ...commonOptionShape,
    depth: z
      .number({ error: RESNET_DEPTH_RULE })
      .int({ error: RESNET_DEPTH_RULE })
      .min(8, { error: RESNET_DEPTH_RULE })
      .refine((d) => (d - 2) % 6 === 0, { error: RESNET_DEPTH_RULE })
      .optional(),
    widths: intList('a list of 3 positive integers (the channels of stages 1, 2 and 3)', 3).optional(),
    shortcut: z.enum(['A', 'B'], { error: "must be 'A' (zero-padded identity) or 'B' (1×1 projection)" }).optional(),
    preActivation: z.boolean({ error: 'must be true or false' }).optional(),
    zeroInitLastNorm: z.boolean({ error: 'must be true or false' }).optional(),
  }),
  vgg: z.strictObject({
    ...commonOptionShape,
    depth: z.union([z.literal(11), z.literal(13), z.literal(16)], { error: 'must be 11, 13 or 16 (VGG-11, VGG-13, VGG-16)' }).optional(),
    hiddenUnits: z.array(positiveInt(), { error: 'must be a list of positive integers (possibly empty)' }).optional(),
    dropout: finite('a number in [0, 1)')
      .min(0, { error: 'must be a number in [0, 1)' })
      .lt(1, { error: 'must be a number in [0, 1)' })
      .optional(),
  }),
  custom: z.strictObject({
    ...commonOptionShape,
    blocks: z.array(blockSchema, { error: 'must be a non-empty list of blocks' }).min(1, {
      error: 'must be a non-empty list of blocks',
    }),
  }),
} as const;

const placementSchema = z.strictObject(
  {
    layers: z
      .union([z.literal('all'), z.array(positiveInt('a positive integer block number'))], {
        error: "must be 'all' or a list of block numbers (integers from 1)",
      })
      .refine((l) => l === 'all' || new Set(l).size === l.length, { error: 'must not list a block twice' })
      .optional(),
    position: z.enum(['before-activation', 'after-activation'], { error: "must be 'before-activation' or 'after-activation'" }).optional(),
  },
  { error: 'must be an object {layers?, position?}' },
);

/** The parts of a spec every architecture shares; `norm` is checked by `@bnlab/layers`, `options` per architecture. */
export const specShape = {
  inputShape: intList('a non-empty list of positive integers (the shape without the batch dimension)').optional(),
  numClasses: positiveInt('an integer >= 2').min(2, { error: 'must be an integer >= 2' }).optional(),
  norm: z.unknown().optional(),
  placement: placementSchema.optional(),
  options: z.unknown().optional(),
};

/** A {@link ModelSpec}: the shared parts plus `architecture`. */
export const modelSpecSchema = z.strictObject({
  architecture: z.enum(['mlp', 'simpleCnn', 'kerasCnn', 'convNet4', 'resnet', 'vgg', 'custom'], {
    error: "must be 'mlp', 'simpleCnn', 'kerasCnn', 'convNet4', 'resnet', 'vgg' or 'custom'",
  }),
  ...specShape,
  inputShape: intList('a non-empty list of positive integers (the shape without the batch dimension)'),
  numClasses: positiveInt('an integer >= 2').min(2, { error: 'must be an integer >= 2' }),
});

/** A builder's spec: a model spec without `architecture`, every field optional. */
export const builderSpecSchema = z.strictObject(specShape);
