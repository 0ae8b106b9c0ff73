import { isBnlabError } from '@bnlab/core';
import { parseExperiment } from '../../src/experiment/load.js';
import { canonicalJson, expandTrials } from '../../src/experiment/trials.js';
import { experimentJsonSchema } from '../../src/experiment/schema.js';

const base = {
  name: 'augment',
  dataset: { name: 'cifar10' },
  model: { architecture: 'simpleCnn' },
  training: { epochs: 1, batchSize: 128 },
};

function withAugmentation(augmentation: unknown) {
  return parseExperiment({ ...base, training: { ...base.training, augmentation } }, 'e.json');
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isBnlabError(e, 'INVALID_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('training.augmentation', () => {
  it('is off when absent, and absent from the trial ids (trials run before it existed keep theirs)', () => {
    const e = parseExperiment(base);
    expect(e.training.augmentation).toBeUndefined();
    const [trial] = expandTrials(e);
    expect(canonicalJson(trial?.fields)).not.toContain('augmentation');
  });

  it('fills in its defaults: padding 4, no crop and no flip unless asked', () => {
    expect(withAugmentation({ crop: {}, flip: true }).training.augmentation).toEqual({ crop: { padding: 4 }, flip: true });
    expect(withAugmentation({ crop: { padding: 2 } }).training.augmentation).toEqual({ crop: { padding: 2 }, flip: false });
    expect(withAugmentation({ flip: true }).training.augmentation).toEqual({ crop: false, flip: true });
    expect(withAugmentation({}).training.augmentation).toEqual({ crop: false, flip: false });
  });

  it('refuses a bad padding, crop or flip, naming the field', () => {
    expect(messageOf(() => withAugmentation({ crop: { padding: -1 } }))).toMatch(/training\.augmentation\.crop\.padding: .*-1/);
    expect(messageOf(() => withAugmentation({ crop: { padding: 1.5 } }))).toMatch(
      /training\.augmentation\.crop\.padding: must be an integer; got 1\.5/,
    );
    expect(messageOf(() => withAugmentation({ crop: { pading: 4 } }))).toMatch(/training\.augmentation\.crop: unknown field "pading"/);
    expect(messageOf(() => withAugmentation({ crop: true }))).toMatch(
      /training\.augmentation\.crop: must be false or an object such as \{ "padding": 4 \}; got true/,
    );
    expect(messageOf(() => withAugmentation({ crop: 4 }))).toMatch(/training\.augmentation\.crop: must be false or .*; got 4/);
    expect(messageOf(() => withAugmentation({ flip: 'yes' }))).toMatch(/training\.augmentation\.flip: expected boolean, got 'yes'/);
    expect(messageOf(() => withAugmentation({ rotate: 10 }))).toMatch(
      /training\.augmentation: unknown field "rotate" \(allowed: crop, flip\)/,
    );
  });

  it('is in the JSON Schema, optional', () => {
    const schema = experimentJsonSchema() as { properties: { training: { properties: Record<string, unknown>; required?: string[] } } };
    expect(schema.properties.training.properties).toHaveProperty('augmentation');
    expect(schema.properties.training.required ?? []).not.toContain('augmentation');
  });
});
