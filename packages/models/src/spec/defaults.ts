/**
 * Every default of `@bnlab/models`, in one place. The builders merge a spec with these once, at
 * the boundary. Architectures follow the seed texts: `mlp` seed 001, `simpleCnn` seed 000,
 * `kerasCnn` seed 003 and the benchmark anchor, `convNet4` seed 002's published Keras code;
 * `resnet` and `vgg` the CIFAR variants of their papers.
 */
export const DEFAULTS = {
  /** Shared by every builder. */
  common: {
    numClasses: 10,
    norm: { type: 'none' },
    placement: { layers: 'all', position: 'before-activation' },
    activation: 'relu',
    outputActivation: 'softmax',
    kernelInitializer: 'glorotUniform',
    kernelInitializerScale: 1,
    keepBias: false,
  },
  /** Flatten, Dense 128, Dense 64, Dense 10 (seed 001). */
  mlp: { inputShape: [28, 28, 1], hiddenUnits: [128, 64] },
  /** Conv32 → Pool, Conv64 → Pool, Flatten, Dense 128, Dense 10 (seed 000). */
  simpleCnn: { inputShape: [28, 28, 1], filters: [32, 64], kernelSize: 3, denseUnits: 128 },
  /** Conv32 → Pool, Conv64 → Pool, Conv64, Flatten, Dense 64, Dense 10 (seed 003, the benchmark). */
  kerasCnn: { inputShape: [28, 28, 1], filters: [32, 64, 64], kernelSize: 3, denseUnits: 64 },
  /**
   * Seed 002's `conv_net`: Conv64 (same) → Pool, Conv64 (valid) → Pool, Conv128 (same) → Pool,
   * Conv128 (valid) → Pool, all 3×3 with 2×2 'same' pooling, then Dense 512, Dense classes.
   */
  convNet4: { inputShape: [32, 32, 3], filters: [64, 64, 128, 128], denseUnits: 512, layout: 'seed' },
  /**
   * He et al.'s CIFAR ResNet: depth 6n + 2 (20: ResNet-20), three stages of n basic blocks of
   * 16, 32 and 64 channels, option-A shortcuts, He-normal kernels (tfjs's `heNormal`).
   */
  resnet: {
    inputShape: [32, 32, 3],
    depth: 20,
    widths: [16, 32, 64],
    shortcut: 'A',
    preActivation: false,
    zeroInitLastNorm: false,
    kernelInitializer: 'heNormal',
  },
  /**
   * VGG-16 for 32×32 inputs: 3×3 'same' convolutions in five stages, each ending in 2×2 max
   * pooling, then one dense classifier on the 512 features (no hidden dense layers, no
   * dropout), He-uniform kernels (He et al.'s variance 2 / fan in; tfjs draws its truncated
   * normal `heNormal` in JavaScript, about 12 s for VGG-11's 9.2M weights, against 1 s).
   */
  vgg: { inputShape: [32, 32, 3], depth: 16, hiddenUnits: [], dropout: 0, kernelInitializer: 'heUniform' },
  /** A custom stack of blocks. */
  custom: { inputShape: [28, 28, 1] },
} as const;
