import type { ArchitectureName, NormalizationSpec, NormPosition } from '@bnlab/core';
import type { ResolvedCommonOptions } from '../assemble.js';
import { DEFAULTS } from '../spec/defaults.js';
import { parseNorm, parseOrThrow } from '../spec/parse.js';
import { builderSpecSchema, optionSchemas } from '../spec/schemas.js';
import type { CommonBuildOptions, KernelInitializerSpec } from '../spec/types.js';

/** A builder spec checked once at the boundary, with every default merged in. */
export interface ResolvedSpec<O> {
  inputShape: number[];
  numClasses: number;
  norm: NormalizationSpec;
  layers: 'all' | number[];
  position: NormPosition;
  common: ResolvedCommonOptions;
  /** The architecture's own options as given (their defaults are merged by the builder). */
  options: O;
}

interface RawSpec {
  inputShape?: number[];
  numClasses?: number;
  norm?: unknown;
  placement?: { layers?: 'all' | number[]; position?: NormPosition };
  options?: unknown;
}

/**
 * Validates a builder spec (every field, the options of `architecture` and the normalization)
 * and merges it with {@link DEFAULTS}. Throws `BnlabError('INVALID_CONFIG')` naming the field.
 */
export function resolveSpec<O extends CommonBuildOptions>(architecture: Exclude<ArchitectureName, never>, spec: unknown): ResolvedSpec<O> {
  const context = architecture;
  const raw = parseOrThrow<RawSpec>(builderSpecSchema, spec ?? {}, context);
  const options = parseOrThrow<O>(optionSchemas[architecture], raw.options ?? {}, context, ['options']);
  const norm = parseNorm(raw.norm, context);
  const c = DEFAULTS.common;
  return {
    inputShape: [...(raw.inputShape ?? DEFAULTS[architecture].inputShape)],
    numClasses: raw.numClasses ?? c.numClasses,
    norm,
    layers: raw.placement?.layers ?? c.placement.layers,
    position: raw.placement?.position ?? c.placement.position,
    common: {
      name: options.name ?? architecture,
      activation: options.activation ?? c.activation,
      outputActivation: options.outputActivation ?? c.outputActivation,
      kernelInitializer: options.kernelInitializer ?? architectureInitializer(architecture) ?? c.kernelInitializer,
      kernelInitializerScale: options.kernelInitializerScale ?? c.kernelInitializerScale,
      keepBias: options.keepBias ?? c.keepBias,
      seed: options.seed,
    },
    options,
  };
}

/** An architecture's own default kernel initializer, where it has one (`resnet`: He normal, `vgg`: He uniform). */
function architectureInitializer(architecture: ArchitectureName): KernelInitializerSpec | undefined {
  const d = DEFAULTS[architecture];
  return 'kernelInitializer' in d ? d.kernelInitializer : undefined;
}
