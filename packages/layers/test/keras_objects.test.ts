import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GroupNormalization } from '../src/index.js';
import { useBackend } from './support/backends.js';
import { expectBnlabError } from './support/errors.js';
import { weightName } from './support/fixtures.js';

// Initializers, regularizers and constraints of gamma and beta, given as tfjs does: a name, an
// instance, or the serialized {className, config} a saved model holds.
describe('initializers, regularizers and constraints', () => {
  beforeAll(() => useBackend('cpu'));

  test('names, instances and serialized forms all work and serialize the same way', () => {
    const byName = new GroupNormalization({
      groups: 1,
      gammaInitializer: 'randomUniform',
      betaRegularizer: 'l1l2',
      gammaConstraint: 'nonNeg',
    });
    const config = byName.getConfig();
    expect(config['gammaInitializer']).toMatchObject({ className: 'RandomUniform' });
    expect(config['betaRegularizer']).toMatchObject({ className: 'L1L2' });
    expect(config['gammaConstraint']).toMatchObject({ className: 'NonNeg' });
    const byInstance = new GroupNormalization({
      groups: 1,
      gammaInitializer: tfl.initializers.constant({ value: 3 }),
      betaRegularizer: tfl.regularizers.l2({ l2: 0.5 }),
      gammaConstraint: tfl.constraints.nonNeg(),
    });
    const fromConfig = new GroupNormalization(byInstance.getConfig() as never);
    expect(fromConfig.getConfig()).toEqual(byInstance.getConfig());
    fromConfig.build([null, 2]);
    expect(Array.from(fromConfig.weights[0]!.read().dataSync())).toEqual([3, 3]);
  });

  test('a regularizer adds a loss; a constraint applies when the weight is written', () => {
    const gn = new GroupNormalization({ groups: 1, gammaRegularizer: tfl.regularizers.l2({ l2: 0.5 }), gammaConstraint: 'nonNeg' });
    gn.build([null, 3]);
    const gamma = gn.weights.find((w) => weightName(w) === 'gamma')!;
    gamma.write(tf.tensor1d([1, -2, 3]));
    expect(Array.from(gamma.read().dataSync())).toEqual([1, 0, 3]);
    expect(gn.losses.length).toBe(1);
    expect((gn.losses[0] as () => tf.Scalar)().dataSync()[0]).toBeCloseTo(0.5 * (1 + 0 + 9), 5);
  });

  test.each([
    [{ gammaInitializer: 5 }, '`gammaInitializer` (5) must be an initializer'],
    [{ gammaInitializer: 'Dense' }, "`gammaInitializer` ('Dense') must name a registered tfjs initializer"],
    [{ betaRegularizer: 'ones' }, "`betaRegularizer` ('ones') must name a registered tfjs regularizer"],
    [{ betaConstraint: { className: 'NoSuchConstraint', config: {} } }, 'must name a registered tfjs constraint'],
  ])('rejects %j', (args, message) => {
    expectBnlabError(() => new GroupNormalization({ groups: 1, ...(args as object) }), 'INVALID_CONFIG', message);
  });
});
