import { BnlabError } from '@bnlab/core';
import type { ArchitectureName } from '@bnlab/core';
import { DEFAULTS } from '../spec/defaults.js';
import type {
  BlockSpec,
  ConvNet4Options,
  CustomOptions,
  KerasCnnOptions,
  MlpOptions,
  ResNetOptions,
  SimpleCnnOptions,
  VggDepth,
  VggOptions,
} from '../spec/types.js';

/** The options type of each architecture. */
export interface ArchitectureOptions {
  mlp: MlpOptions;
  simpleCnn: SimpleCnnOptions;
  kerasCnn: KerasCnnOptions;
  convNet4: ConvNet4Options;
  resnet: ResNetOptions;
  vgg: VggOptions;
  custom: CustomOptions;
}

/** The architectures that are a plain stack of blocks (all but `resnet`, whose blocks branch). */
export type StackArchitecture = Exclude<ArchitectureName, 'resnet'>;

/**
 * The conv filters of each VGG stage (every stage ends in a 2×2 max pool): configurations A
 * (VGG-11), B (VGG-13) and D (VGG-16) of Simonyan & Zisserman (2015), table 1.
 */
const VGG_STAGES: Record<VggDepth, number[][]> = {
  11: [[64], [128], [256, 256], [512, 512], [512, 512]],
  13: [
    [64, 64],
    [128, 128],
    [256, 256],
    [512, 512],
    [512, 512],
  ],
  16: [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ],
};

/** The blocks (before the classifier) an architecture is made of, given its validated options. */
export function architectureBlocks<A extends StackArchitecture>(architecture: A, options: ArchitectureOptions[A]): BlockSpec[] {
  switch (architecture) {
    case 'mlp': {
      const o = options as MlpOptions;
      const hidden = o.hiddenUnits ?? DEFAULTS.mlp.hiddenUnits;
      return [{ type: 'flatten' }, ...hidden.map((units) => ({ type: 'dense' as const, units }))];
    }
    case 'simpleCnn': {
      const o = options as SimpleCnnOptions;
      const d = DEFAULTS.simpleCnn;
      const kernelSize = o.kernelSize ?? d.kernelSize;
      return [
        ...(o.filters ?? d.filters).flatMap((f) => [
          { type: 'conv' as const, filters: f, kernelSize },
          { type: 'maxPool' as const, poolSize: 2 },
        ]),
        { type: 'dense', units: o.denseUnits ?? d.denseUnits },
      ];
    }
    case 'kerasCnn': {
      const o = options as KerasCnnOptions;
      const d = DEFAULTS.kerasCnn;
      const filters = o.filters ?? d.filters;
      const kernelSize = o.kernelSize ?? d.kernelSize;
      const blocks: BlockSpec[] = [];
      filters.forEach((f, i) => {
        blocks.push({ type: 'conv', filters: f, kernelSize });
        if (i < filters.length - 1) blocks.push({ type: 'maxPool', poolSize: 2 });
      });
      blocks.push({ type: 'dense', units: o.denseUnits ?? d.denseUnits });
      return blocks;
    }
    case 'convNet4': {
      const o = options as ConvNet4Options;
      const d = DEFAULTS.convNet4;
      const seedLayout = (o.layout ?? d.layout) === 'seed';
      const blocks: BlockSpec[] = [];
      (o.filters ?? d.filters).forEach((f, i) => {
        // Seed 002's code pads the 1st and 3rd convolutions 'same' and normalizes them after pooling.
        const padding = i % 2 === 0 ? 'same' : 'valid';
        blocks.push({ type: 'conv', filters: f, kernelSize: 3, padding, normAfterPool: seedLayout && i % 2 === 0 });
        blocks.push({ type: 'maxPool', poolSize: 2, padding: 'same' });
      });
      blocks.push({ type: 'dense', units: o.denseUnits ?? d.denseUnits });
      return blocks;
    }
    case 'vgg': {
      const o = options as VggOptions;
      const d = DEFAULTS.vgg;
      const hidden = o.hiddenUnits ?? d.hiddenUnits;
      const rate = o.dropout ?? d.dropout;
      if (rate > 0 && hidden.length === 0) {
        throw new BnlabError(
          'INVALID_CONFIG',
          `vgg: \`options.dropout\` (${rate}) has no effect: it adds dropout after each hidden dense layer, and ` +
            '`options.hiddenUnits` is empty; give `options.hiddenUnits` (e.g. [512, 512]) or leave `options.dropout` out',
          { where: 'options.dropout' },
        );
      }
      const blocks: BlockSpec[] = VGG_STAGES[o.depth ?? d.depth].flatMap((stage) => [
        ...stage.map((filters) => ({ type: 'conv' as const, filters, kernelSize: 3, padding: 'same' as const })),
        { type: 'maxPool' as const, poolSize: 2 },
      ]);
      for (const units of hidden) {
        blocks.push({ type: 'dense', units });
        if (rate > 0) blocks.push({ type: 'dropout', rate });
      }
      return blocks;
    }
    default:
      return [...(options as CustomOptions).blocks];
  }
}
