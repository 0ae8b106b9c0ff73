import { initializers } from '@tensorflow/tfjs-layers';
import type { Initializer } from '@bnlab/layers';
import type { KernelInitializerSpec, VarianceScalingName } from './spec/types.js';

/** `scale`, `mode` and `distribution` of each variance-scaling initializer (as in tfjs and Keras). */
const VARIANCE_SCALING: Record<VarianceScalingName, { scale: number; mode: 'fanIn' | 'fanAvg'; distribution: 'uniform' | 'normal' }> = {
  glorotUniform: { scale: 1, mode: 'fanAvg', distribution: 'uniform' },
  glorotNormal: { scale: 1, mode: 'fanAvg', distribution: 'normal' },
  heUniform: { scale: 2, mode: 'fanIn', distribution: 'uniform' },
  heNormal: { scale: 2, mode: 'fanIn', distribution: 'normal' },
  lecunUniform: { scale: 1, mode: 'fanIn', distribution: 'uniform' },
  lecunNormal: { scale: 1, mode: 'fanIn', distribution: 'normal' },
};

/**
 * The tfjs initializer of a {@link KernelInitializerSpec}, its spread multiplied by `scale`.
 *
 * Variance scaling draws with standard deviation `sqrt(s / fan)`, so multiplying the spread by
 * `scale` is variance scaling with `s · scale²`; a fixed distribution has its mean, standard
 * deviation or bounds multiplied by `scale`. Only stock tfjs classes are returned, so a saved
 * model loads anywhere.
 *
 * @param spec the initializer
 * @param scale multiplies the spread; 1 leaves it as specified
 * @param seed makes the draw reproducible; `undefined` leaves it to tfjs's random state
 */
export function kernelInitializer(spec: KernelInitializerSpec, scale = 1, seed?: number): Initializer {
  if (typeof spec === 'string') {
    const v = VARIANCE_SCALING[spec];
    return initializers.varianceScaling({ scale: v.scale * scale * scale, mode: v.mode, distribution: v.distribution, seed });
  }
  switch (spec.name) {
    case 'randomNormal':
      return initializers.randomNormal({ mean: (spec.mean ?? 0) * scale, stddev: spec.stddev * scale, seed });
    case 'truncatedNormal':
      return initializers.truncatedNormal({ mean: (spec.mean ?? 0) * scale, stddev: spec.stddev * scale, seed });
    case 'randomUniform':
      return initializers.randomUniform({ minval: spec.minval * scale, maxval: spec.maxval * scale, seed });
  }
}
