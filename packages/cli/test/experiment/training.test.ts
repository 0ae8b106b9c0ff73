/**
 * The training recipe's fields in experiment files: steps or epochs, Nesterov, weight decay and
 * learning-rate schedules, and the errors bad values give when the file loads.
 */
import { isBnlabError } from '@bnlab/core';
import { parseExperiment } from '../../src/experiment/load.js';
import { scheduleProblems } from '../../src/experiment/schedule_checks.js';
import { expandTrials } from '../../src/experiment/trials.js';

const base = {
  name: 'recipe',
  dataset: { name: 'cifar10' },
  model: { architecture: 'simpleCnn' },
  training: { epochs: 200, batchSize: 128, optimizer: { name: 'sgd', learningRate: 0.1, momentum: 0.9 } },
};

/** An experiment with these `training` fields (over the base's), parsed and expanded. */
function load(training: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return expandTrials(parseExperiment({ ...base, ...extra, training: { ...base.training, ...training } }, 'e.json'), 'e.json');
}

/** The message `load` throws (an INVALID_CONFIG error, exit code 2). */
function refusal(training: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  try {
    load(training, extra);
  } catch (e) {
    expect(isBnlabError(e, 'INVALID_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the file to be refused');
}

const sgd = (extra: Record<string, unknown>) => ({ name: 'sgd', learningRate: 0.1, momentum: 0.9, ...extra });

describe('the CIFAR ResNet recipe', () => {
  it('loads: SGD with Nesterov momentum, decoupled weight decay without norms and biases, warmup and multistep', () => {
    const [trial] = load({
      optimizer: sgd({ nesterov: true, weightDecay: 5e-4, weightDecayMode: 'decoupled', weightDecayExclude: ['norm', 'bias'] }),
      schedule: { type: 'multistep', milestones: [100, 150], warmup: { epochs: 5 } },
    });
    expect(trial?.fields.training.schedule).toEqual({
      type: 'multistep',
      milestones: [100, 150],
      gamma: 0.1,
      unit: 'epoch',
      warmup: { epochs: 5, startFactor: 1 / 3 },
    });
    expect(trial?.fields.training.optimizer).toMatchObject({ nesterov: true, weightDecay: 5e-4 });
  });

  it('fills the schedules’ defaults (PyTorch’s)', () => {
    const schedule = (s: Record<string, unknown>) => load({ schedule: s })[0]?.fields.training.schedule;
    expect(schedule({ type: 'cosine' })).toEqual({ type: 'cosine', minLearningRate: 0 });
    expect(schedule({ type: 'step', stepSize: 30 })).toEqual({ type: 'step', stepSize: 30, gamma: 0.1, unit: 'epoch' });
    expect(schedule({ type: 'onecycle', maxLearningRate: 0.4 })).toEqual({
      type: 'onecycle',
      maxLearningRate: 0.4,
      pctStart: 0.3,
      divFactor: 25,
      finalDivFactor: 1e4,
    });
  });

  it('adds no field to a trial that uses none of them, so its id stays', () => {
    const [trial] = load({});
    expect(Object.keys(trial?.fields.training ?? {}).sort()).toEqual(['batchSize', 'epochs', 'optimizer', 'shuffle']);
    expect(Object.keys(trial?.fields.training.optimizer ?? {}).sort()).toEqual(['learningRate', 'momentum', 'name']);
  });

  it('trains for a number of steps instead of epochs', () => {
    const [trial] = load({ epochs: undefined, steps: 64000, schedule: { type: 'multistep', unit: 'step', milestones: [32000, 48000] } });
    expect(trial?.fields.training).toMatchObject({ steps: 64000 });
    expect(trial?.fields.training.epochs).toBeUndefined();
  });

  it('a grid can vary the schedule and its fields', () => {
    const trials = load(
      { schedule: { type: 'step', stepSize: 30 } },
      { grid: { 'training.schedule.gamma': [0.1, 0.5], 'training.optimizer.weightDecay': [0, 5e-4] } },
    );
    expect(trials.map((t) => t.variantLabel)).toEqual([
      'gamma=0.1 weightDecay=0',
      'gamma=0.1 weightDecay=0.0005',
      'gamma=0.5 weightDecay=0',
      'gamma=0.5 weightDecay=0.0005',
    ]);
  });
});

describe('bad input is refused when the file loads, naming the field', () => {
  it('steps and epochs both, or neither', () => {
    expect(refusal({ steps: 1000 })).toMatch(/training\.steps: give one of epochs and steps, not both; got epochs 200 and steps 1000/);
    expect(refusal({ epochs: undefined })).toMatch(/training: give how long to train: epochs, or steps/);
  });

  it('nesterov without a momentum, or for another optimizer', () => {
    expect(refusal({ optimizer: { name: 'sgd', learningRate: 0.1, nesterov: true } })).toMatch(
      /training\.optimizer\.nesterov: needs a momentum above 0 \(Nesterov's is a momentum method\); got momentum undefined/,
    );
    expect(refusal({ optimizer: sgd({ momentum: 0, nesterov: true }) })).toMatch(/got momentum 0/);
    expect(refusal({ optimizer: { name: 'adam', learningRate: 0.001, nesterov: true } })).toMatch(
      /training\.optimizer\.nesterov: is for sgd only, not 'adam'/,
    );
  });

  it('a negative weight decay, and its options without it', () => {
    expect(refusal({ optimizer: sgd({ weightDecay: -1e-4 }) })).toMatch(
      /training\.optimizer\.weightDecay: expected number to be >=0; got -0\.0001/,
    );
    expect(refusal({ optimizer: sgd({ weightDecayMode: 'decoupled' }) })).toMatch(
      /training\.optimizer\.weightDecayMode: has no effect without optimizer\.weightDecay; give weightDecay too, or remove weightDecayMode/,
    );
    expect(refusal({ optimizer: sgd({ weightDecay: 1e-4, weightDecayExclude: ['bn'] }) })).toMatch(
      /training\.optimizer\.weightDecayExclude\.0: must be one of 'norm', 'bias'; got 'bn'/,
    );
  });

  it('onecycle without maxLearningRate, an unknown schedule, a field of another schedule', () => {
    expect(refusal({ schedule: { type: 'onecycle' } })).toMatch(/training\.schedule\.maxLearningRate: required \(number\)/);
    expect(refusal({ schedule: { type: 'exponential' } })).toMatch(
      /training\.schedule\.type: must be one of 'constant', 'step', 'multistep', 'cosine', 'onecycle'; got 'exponential'/,
    );
    expect(refusal({ schedule: {} })).toMatch(/training\.schedule\.type: required \(one of 'constant', /);
    expect(refusal({ schedule: { type: 'onecycle', maxLearningRate: 0.1, warmup: { steps: 10 } } })).toMatch(
      /training\.schedule: unknown field "warmup" \(allowed: type, maxLearningRate, pctStart, divFactor, finalDivFactor\)/,
    );
    expect(refusal({ schedule: { type: 'multistep', milestones: [150, 100] } })).toMatch(
      /training\.schedule\.milestones\.1: must increase, each milestone after the one before \(150\); got \[150, ?100\]/,
    );
  });

  it('Keras’s legacy decay with another schedule, a cosine minimum above the rate', () => {
    expect(refusal({ optimizer: sgd({ decay: 1e-4 }), schedule: { type: 'cosine' } })).toMatch(
      /training\.optimizer\.decay: is Keras's legacy schedule and training\.schedule is 'cosine'; give one of them/,
    );
    expect(refusal({ schedule: { type: 'cosine', minLearningRate: 0.5 } })).toMatch(
      /training\.schedule\.minLearningRate: must be at most optimizer\.learningRate \(0\.1\), the rate the run anneals from; got 0\.5/,
    );
  });

  it('milestones, a step size or a warmup beyond the run, in its own units', () => {
    expect(refusal({ schedule: { type: 'multistep', milestones: [100, 200] } })).toMatch(
      /training\.schedule\.milestones\.1: must be less than the run's 200 epochs \(training\.epochs\), or it never takes effect; got 200/,
    );
    expect(refusal({ epochs: undefined, steps: 5000, schedule: { type: 'step', unit: 'step', stepSize: 5000 } })).toMatch(
      /training\.schedule\.stepSize: must be less than the run's 5000 steps \(training\.steps\), or the rate never decays; got 5000/,
    );
    expect(refusal({ schedule: { type: 'cosine', warmup: { epochs: 201 } } })).toMatch(
      /training\.schedule\.warmup\.epochs: must be at most the run's 200 epochs \(training\.epochs\); got 201/,
    );
    expect(refusal({ schedule: { type: 'constant', warmup: { steps: 10, epochs: 1 } } })).toMatch(
      /training\.schedule\.warmup\.epochs: give one of steps and epochs, not both/,
    );
  });

  it('across units too, for a built-in dataset whose training split the file tells', () => {
    // CIFAR-10: 50,000 training examples, 391 batches of 128 an epoch
    expect(refusal({ epochs: undefined, steps: 64000, schedule: { type: 'multistep', milestones: [100, 164] } })).toBe(
      "e.json: training.schedule.milestones.1: must be less than the run's 164 epochs (training.steps 64000, 391 batches an epoch: 50000 training examples in batches of 128), or it never takes effect; got 164",
    );
    expect(
      refusal(
        { epochs: 10, schedule: { type: 'multistep', unit: 'step', milestones: [3910] } },
        { grid: { 'training.batchSize': [128, 256] } },
      ),
    ).toBe(
      'e.json: training.schedule.milestones.0 (grid variant "batchSize=128"): must be less than the run\'s 3910 steps (training.epochs 10 × 391 batches an epoch: 50000 training examples in batches of 128), or it never takes effect; got 3910',
    );
    expect(
      refusal(
        { epochs: undefined, steps: 800, schedule: { type: 'cosine', warmup: { epochs: 3 } } },
        { dataset: { name: 'cifar10', trainLimit: 40000, validationSplit: 0.1 } },
      ),
    ).toBe(
      "e.json: training.schedule.warmup.epochs: 3 epochs are 846 steps (282 batches an epoch: 36000 training examples in batches of 128), more than the run's 800 steps (training.steps); use at most 2 epochs, or warmup.steps",
    );
  });

  it('a dataset read from a folder is checked across units when the trial starts, with the split it loaded', () => {
    expect(
      load(
        { epochs: undefined, steps: 100, schedule: { type: 'multistep', milestones: [1000] } },
        { dataset: { name: 'cifar10', dir: '/data/cifar' } },
      ),
    ).toHaveLength(1);
    const training = {
      steps: 100,
      batchSize: 10,
      schedule: { type: 'multistep' as const, milestones: [5, 10], gamma: 0.1, unit: 'epoch' as const },
    };
    expect(scheduleProblems(training, 50)).toEqual([]);
    expect(scheduleProblems(training, 100)).toEqual([
      {
        path: ['schedule', 'milestones', 1],
        message:
          "must be less than the run's 10 epochs (training.steps 100, 10 batches an epoch: 100 training examples in batches of 10), or it never takes effect; got 10",
      },
    ]);
  });
});
