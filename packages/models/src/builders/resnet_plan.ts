import { BnlabError, formatValue } from '@bnlab/core';
import type { NormalizationSpec } from '@bnlab/core';
import { checkNormFits } from '../assemble.js';
import type { ResolvedCommonOptions } from '../assemble.js';
import { DEFAULTS } from '../spec/defaults.js';
import type { ResNetOptions } from '../spec/types.js';
import type { ResolvedSpec } from './resolve.js';

/** A ResNet spec checked against everything that can be known before building, with defaults merged. */
export interface ResNetPlan {
  inputShape: number[];
  numClasses: number;
  norm: NormalizationSpec;
  common: ResolvedCommonOptions;
  /** n of depth 6n + 2: basic blocks per stage. */
  blocksPerStage: number;
  widths: [number, number, number];
  shortcut: 'A' | 'B';
  preActivation: boolean;
  zeroInitLastNorm: boolean;
}

const CONTEXT = 'resnet';

/**
 * Checks what a ResNet spec's schema cannot: the input is an image; the placement is one a
 * ResNet can be built with (`layers: 'all'`, `position: 'before-activation'`, both the
 * defaults; ignored with `norm: { type: 'none' }`, as by every builder); `zeroInitLastNorm`
 * has a `gamma` to set; option-A shortcuts have no channels to drop; and the normalization
 * fits the channels of every stage (`norm.axis`, group norm's `groups`).
 *
 * @throws BnlabError `INVALID_CONFIG` (`INVALID_SHAPE` for a non-image input) naming the field.
 */
export function planResNet(r: ResolvedSpec<ResNetOptions>): ResNetPlan {
  const d = DEFAULTS.resnet;
  const o = r.options;
  const depth = o.depth ?? d.depth;
  const widths = [...(o.widths ?? d.widths)] as [number, number, number];
  const shortcut = o.shortcut ?? d.shortcut;
  const preActivation = o.preActivation ?? d.preActivation;
  const zeroInitLastNorm = o.zeroInitLastNorm ?? d.zeroInitLastNorm;
  const { norm } = r;

  if (r.inputShape.length !== 3) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `${CONTEXT}: \`inputShape\` (${formatValue(r.inputShape)}) must be [height, width, channels]: ` +
        'the stem convolution needs an image input',
      { where: 'inputShape' },
    );
  }
  if (shortcut === 'A') {
    const drop = widths.findIndex((w, i) => i > 0 && w < widths[i - 1]!);
    if (drop !== -1) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${CONTEXT}: \`options.widths\` (${formatValue(widths)}) must not decrease with \`options.shortcut\` 'A': ` +
          `stage ${drop + 1} has ${widths[drop]} channels after ${widths[drop - 1]}, and a zero-padded identity ` +
          "cannot drop channels; use `options.shortcut: 'B'` (a 1×1 projection) for that",
        { where: 'options.widths' },
      );
    }
  }
  if (norm.type === 'none') {
    if (zeroInitLastNorm) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${CONTEXT}: \`options.zeroInitLastNorm\` (true) has no effect with \`norm\` {type: 'none'}: it sets gamma of ` +
          "each residual branch's last normalization to 0, and there is none",
        { where: 'options.zeroInitLastNorm' },
      );
    }
  } else {
    checkPlacement(r, preActivation);
    if (zeroInitLastNorm && norm.scale === false) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${CONTEXT}: \`options.zeroInitLastNorm\` (true) needs a normalization with a gamma, but \`norm.scale\` is false`,
        { where: 'options.zeroInitLastNorm' },
      );
    }
    widths.forEach((channels, i) => {
      checkNormFits(CONTEXT, norm, { name: `stage ${i + 1} (\`options.widths[${i}]\`)`, rank: 4, channels }, '');
    });
  }
  return {
    inputShape: [...r.inputShape],
    numClasses: r.numClasses,
    norm,
    common: r.common,
    blocksPerStage: (depth - 2) / 6,
    widths,
    shortcut,
    preActivation,
    zeroInitLastNorm,
  };
}

/**
 * A ResNet normalizes after every convolution and its blocks fix where: right before each
 * activation and, in classic blocks, before the addition. `placement` can only say so.
 */
function checkPlacement(r: ResolvedSpec<ResNetOptions>, preActivation: boolean): void {
  if (r.layers !== 'all') {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${CONTEXT}: \`placement.layers\` (${formatValue(r.layers)}) must be 'all': a ResNet normalizes every ` +
        "convolution's output or none (`norm: { type: 'none' }`); leave `placement.layers` out",
      { where: 'placement.layers' },
    );
  }
  if (r.position === 'before-activation') return;
  const reason = preActivation
    ? 'cannot be used with `options.preActivation` (true): a pre-activation block puts each norm before its ' +
      'activation (norm → relu → conv)'
    : "must be 'before-activation': a classic block's second norm comes before the addition and has no " +
      'activation of its own to follow (conv → norm → relu → conv → norm, add, relu)';
  throw new BnlabError(
    'INVALID_CONFIG',
    `${CONTEXT}: \`placement.position\` ('${r.position}') ${reason}; leave \`placement.position\` out`,
    { where: 'placement.position' },
  );
}
