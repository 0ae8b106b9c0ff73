import { meanCI } from '../../src/stats/summary';
import { studentTCdf, studentTQuantile } from '../../src/stats/student_t';
import { emaSmooth } from '../../src/stats/smoothing';
import { histogram } from '../../src/stats/histogram';

// Reference values from Student's t tables (also scipy.stats.t.ppf / t.cdf).
describe("Student's t", () => {
  test.each([
    [1, 12.706204736174694, 63.656741162871526],
    [2, 4.302652729749462, 9.924843200918287],
    [3, 3.1824463052837078, 5.840909309733355],
    [4, 2.7764451051977934, 4.604094871349992],
    [9, 2.262157162798205, 3.249835541592126],
    [29, 2.045229642132703, 2.756385903670605],
    [100, 1.9839715185235518, 2.6258905214380173],
    [1000, 1.9623390808264083, 2.580754698065951],
  ])('quantiles with %i degrees of freedom', (df, q975, q995) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(q975, 9);
    expect(studentTQuantile(0.995, df)).toBeCloseTo(q995, 9);
    expect(studentTQuantile(0.025, df)).toBeCloseTo(-q975, 9);
  });

  test('CDF', () => {
    expect(studentTCdf(1.5, 3)).toBeCloseTo(0.8847080673775886, 12);
    expect(studentTCdf(-0.7, 7)).toBeCloseTo(0.2532587760978, 12);
    // df = 1 is the Cauchy distribution: 1/2 + atan(t)/π.
    expect(studentTCdf(2, 1)).toBeCloseTo(0.5 + Math.atan(2) / Math.PI, 12);
    expect(studentTCdf(0, 5)).toBe(0.5);
  });

  test('bad arguments', () => {
    expect(() => studentTQuantile(1, 3)).toThrow('p must be strictly between 0 and 1, got 1');
    expect(() => studentTQuantile(0.9, 0)).toThrow('degrees of freedom must be a finite number > 0, got 0');
  });
});

describe('meanCI', () => {
  test('1..5: mean 3, sd √2.5, half-width t(0.975, 4)·sd/√5', () => {
    const c = meanCI([1, 2, 3, 4, 5]);
    expect(c.n).toBe(5);
    expect(c.mean).toBe(3);
    expect(c.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(c.halfWidth).toBeCloseTo(1.9632431614775572, 9);
    expect(c.lower).toBeCloseTo(3 - 1.9632431614775572, 9);
    expect(c.upper).toBeCloseTo(3 + 1.9632431614775572, 9);
  });

  test("seed 001's batch-size accuracies as four seeds", () => {
    const c = meanCI([0.9787, 0.9785, 0.9788, 0.9774]);
    expect(c.mean).toBeCloseTo(0.97835, 12);
    expect(c.sd).toBeCloseTo(0.0006454972243678861, 12);
    expect(c.halfWidth).toBeCloseTo(0.0010271301283802338, 10);
  });

  test('two-pass variance survives a large mean', () => {
    const c = meanCI([10000.1, 10000.3, 9999.8, 10000.0]);
    expect(c.sd).toBeCloseTo(0.20816659994664238, 9);
    expect(c.halfWidth).toBeCloseTo(0.3312395134418319, 9);
  });

  test('other levels, NaN dropped, tiny samples', () => {
    // 99%: t(0.995, 4) = 4.604094871349992.
    expect(meanCI([1, 2, 3, 4, 5], 0.99).halfWidth).toBeCloseTo((4.604094871349992 * Math.sqrt(2.5)) / Math.sqrt(5), 9);
    const d = meanCI([1, NaN, 3, Infinity]);
    expect([d.n, d.dropped, d.mean]).toEqual([2, 2, 2]);
    const one = meanCI([0.5]);
    expect(one.mean).toBe(0.5);
    expect(Number.isNaN(one.halfWidth)).toBe(true);
    expect(Number.isNaN(meanCI([]).mean)).toBe(true);
    expect(() => meanCI([1, 2], 95)).toThrow('level must be strictly between 0 and 1, got 95');
  });
});

test('emaSmooth is the bias-corrected exponential moving average', () => {
  // w = 0.5: m = 0.5, 1.25, 2.125, 3.0625 divided by 1 − 0.5^k.
  const s = emaSmooth([1, 2, 3, 4], 0.5);
  [1, 5 / 3, 2.125 / 0.875, 3.0625 / 0.9375].forEach((v, i) => expect(s[i]).toBeCloseTo(v, 12));
  expect(emaSmooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
  const withNaN = emaSmooth([1, NaN, 3], 0.5);
  expect(Number.isNaN(withNaN[1]!)).toBe(true);
  expect(withNaN[2]).toBeCloseTo((0.25 + 1.5) / 0.75, 12);
  expect(() => emaSmooth([1], 1)).toThrow('smoothing weight must be in [0, 1), got 1');
});

test('histogram counts into equal bins, the last closed on the right', () => {
  const h = histogram([0, 0.1, 0.5, 0.99, 1, NaN, 2], { bins: 2, range: [0, 1] });
  expect(h.edges).toEqual([0, 0.5]);
  expect(h.binWidth).toBe(0.5);
  expect(h.counts).toEqual([2, 3]);
  expect(h.total).toBe(5);
  const auto = histogram([1, 2, 3, 4], { bins: 3 });
  expect(auto.edges[0]).toBe(1);
  expect(auto.counts).toEqual([1, 1, 2]);
  expect(() => histogram([1], { bins: 0 })).toThrow('bins must be an integer ≥ 1, got 0');
});
