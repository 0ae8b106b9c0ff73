import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLength } from '../../src/experiment/run_length.js';
import { trainingSchema } from '../../src/experiment/schema.js';
import { learningRateSchedule } from '../../src/run/learning_rate_schedule.js';

/** PyTorch 1.13's schedulers, step by step (test/fixtures/lr_schedules.py wrote them). */
interface Fixture {
  torch: string;
  cases: Array<{ name: string; training: Record<string, unknown>; batchesPerEpoch: number; steps: number; expected: number[] }>;
}
const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/lr_schedules.json'), 'utf8')) as Fixture;

/** PyTorch's rates come from its recursive (chainable) formulas: agreement to rounding, not to the bit. */
const RELATIVE_TOLERANCE = 1e-12;

/** A schedule as an experiment file gives it, validated and with defaults, and its rate at each step. */
function rates(training: Record<string, unknown>, batchesPerEpoch: number): { steps: number; at: (step: number) => number } {
  const parsed = trainingSchema.parse({ batchSize: 32, ...training });
  const run = runLength(parsed, batchesPerEpoch);
  const at = learningRateSchedule(
    { learningRate: parsed.optimizer.learningRate, decay: parsed.optimizer.decay, schedule: parsed.schedule },
    run,
  );
  return { steps: run.steps, at };
}

function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(RELATIVE_TOLERANCE * Math.abs(expected));
}

describe('learning-rate schedules against PyTorch', () => {
  it('the fixture is PyTorch 1.13', () => {
    expect(fixture.torch).toMatch(/^1\.13/);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const { steps, at } = rates(c.training, c.batchesPerEpoch);
    expect(steps).toBe(c.steps);
    c.expected.forEach((rate, step) => expectClose(at(step), rate));
  });
});

describe('learning-rate schedules at chosen steps, by hand', () => {
  it('cosine: the maximum at the start, (max + min) / 2 half-way, close to min at the end', () => {
    const { at } = rates(
      { epochs: 10, optimizer: { name: 'sgd', learningRate: 0.1 }, schedule: { type: 'cosine', minLearningRate: 0.002 } },
      50,
    );
    expect(at(0)).toBe(0.1);
    expectClose(at(250), (0.1 + 0.002) / 2);
    // one step before the end: min + (max − min)(1 + cos(π·499/500))/2
    expectClose(at(499), 0.002 + (0.098 * (1 + Math.cos((Math.PI * 499) / 500))) / 2);
  });

  it('onecycle: max / divFactor at the start, maxLearningRate at step pctStart·T − 1, and the final rate at the last step', () => {
    const { at } = rates(
      { steps: 404, optimizer: { name: 'sgd', learningRate: 0.1 }, schedule: { type: 'onecycle', maxLearningRate: 0.6, pctStart: 0.25 } },
      30,
    );
    expect(at(0)).toBeCloseTo(0.6 / 25, 15);
    expect(at(100)).toBeCloseTo(0.6, 15);
    // half-way up the cosine: (initial + max) / 2; half-way down: (max + final) / 2
    expectClose(at(50), (0.6 / 25 + 0.6) / 2);
    expectClose(at(100 + 303 / 2), (0.6 + 0.6 / 25 / 1e4) / 2);
    expectClose(at(403), 0.6 / 25 / 1e4);
  });

  it('step and multistep count epochs by default: the rate changes at the first step of the epoch', () => {
    const step = rates({ epochs: 9, optimizer: { name: 'sgd', learningRate: 0.1 }, schedule: { type: 'step', stepSize: 3 } }, 10).at;
    // gamma defaults to 0.1, as PyTorch's StepLR
    expect([step(29), step(30), step(59), step(60)].map((r) => Number(r.toPrecision(12)))).toEqual([0.1, 0.01, 0.01, 0.001]);
    const multi = rates(
      { epochs: 6, optimizer: { name: 'sgd', learningRate: 0.2 }, schedule: { type: 'multistep', milestones: [2, 5], gamma: 0.5 } },
      7,
    ).at;
    expect([multi(13), multi(14), multi(34), multi(35), multi(41)]).toEqual([0.2, 0.1, 0.1, 0.05, 0.05]);
  });

  it('warmup in epochs ramps per step from startFactor to 1, times the schedule', () => {
    const { at } = rates(
      { epochs: 6, optimizer: { name: 'sgd', learningRate: 0.4 }, schedule: { type: 'cosine', warmup: { epochs: 1, startFactor: 0 } } },
      10,
    );
    const cosine = (t: number): number => (0.4 * (1 + Math.cos((Math.PI * t) / 60))) / 2;
    expect(at(0)).toBe(0);
    expectClose(at(5), 0.5 * cosine(5));
    expectClose(at(10), cosine(10));
    expectClose(at(30), 0.2);
  });

  it("the constant schedule keeps Keras's legacy decay: lr / (1 + decay·step)", () => {
    const { at } = rates({ epochs: 2, optimizer: { name: 'sgd', learningRate: 0.1, decay: 0.01 } }, 100);
    expect(at(0)).toBe(0.1);
    expectClose(at(150), 0.1 / 2.5);
  });

  it('no schedule is the constant rate', () => {
    const { at } = rates({ epochs: 2, optimizer: { name: 'adam', learningRate: 0.003 } }, 10);
    expect([0, 7, 19].map(at)).toEqual([0.003, 0.003, 0.003]);
  });
});
