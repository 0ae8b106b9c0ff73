// The test images a trial probes (training- against inference-mode accuracy) and traces
// (activation percentiles): the same for every trial, and spread over all classes of a test
// set stored class by class (as CIFAR-10's class folders are: its first 64 are airplanes).
import { fixedSubset } from '../../src/run/trial_runner.js';

it('draws distinct in-range indices from every part of a class-sorted set, the same every time', () => {
  const size = 10_000;
  const classOf = (i: number) => Math.floor(i / 1000);
  const probe = fixedSubset(size, 64);
  expect(probe).toHaveLength(64);
  expect(new Set(probe).size).toBe(64);
  for (const i of probe) expect(Number.isInteger(i) && i >= 0 && i < size).toBe(true);
  // 64 draws from 10 equal classes miss a given class with probability 0.9^64 ≈ 0.1%.
  expect(new Set(probe.map(classOf)).size).toBeGreaterThanOrEqual(9);
  expect(fixedSubset(size, 64)).toEqual(probe);
  // A longer subset starts with the shorter one (a trace of 1000 images includes the probe's).
  expect(fixedSubset(size, 1000).slice(0, 64)).toEqual(probe);
});

it('takes the whole set, shuffled, when it has fewer examples than asked for', () => {
  const all = fixedSubset(50, 64);
  expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(all).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
});
