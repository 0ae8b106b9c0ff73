import * as tf from '@tensorflow/tfjs-core';
import { GroupNormalization, groupNormalization } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';
import { expectBnlabError } from './support/errors.js';
import { checkCase, loadFixture, weightName } from './support/fixtures.js';

const cases = loadFixture('group_norm.json');

describe.each(BACKENDS)('GroupNormalization on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // NHWC with 1, 2, 4, 8 and -1 groups of 8 channels; 2-D and 3-D inputs.
  test.each(cases.map((c) => [c.name, c] as const))('matches PyTorch: %s', (_name, c) => checkCase(c));

  test('training and inference compute the same thing', () => {
    const gn = groupNormalization({ groups: 2 });
    const x = tf.randomNormal([2, 3, 3, 4], -3, 2, 'float32', 9);
    const a = (gn.apply(x, { training: true }) as tf.Tensor).dataSync();
    const b = (gn.apply(x) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('GroupNormalization weights and checks', () => {
  beforeAll(() => useBackend('cpu'));

  test('gamma and beta are per channel', () => {
    const gn = new GroupNormalization({ groups: 2 });
    gn.build([null, 4, 4, 6]);
    expect(gn.weights.map(weightName)).toEqual(['gamma', 'beta']);
    expect(gn.weights.map((w) => w.shape)).toEqual([[6], [6]]);
  });

  test('groups must divide the channels: the message names both values and the rule', () => {
    expectBnlabError(
      () => new GroupNormalization({ groups: 3 }).build([null, 2, 2, 4]),
      'INVALID_CONFIG',
      'GroupNormalization: `groups` (3) must divide the number of channels (4) on axis -1',
    );
    // The Keras default of 32 groups does not fit 16 channels.
    expectBnlabError(
      () => new GroupNormalization().build([null, 16]),
      'INVALID_CONFIG',
      '`groups` (32) must divide the number of channels (16)',
    );
  });

  test('the constructor rejects bad groups', () => {
    for (const groups of [0, -2, 2.5]) {
      expectBnlabError(
        () => new GroupNormalization({ groups }),
        'INVALID_CONFIG',
        `GroupNormalization: \`groups\` (${groups}) must be a positive integer or -1 (one group per channel)`,
      );
    }
  });
});
