import { Rng } from '../src/rng.js';
import { BnlabError } from '../src/errors.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('draws uniforms in [0, 1) with the moments of U(0, 1)', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    // mean 1/2 and variance 1/12, within ~5 standard errors
    expect(Math.abs(s / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const r = new Rng(3);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });

  it('int(n) is unbiased over a small range', () => {
    const r = new Rng(11);
    const counts = new Array(6).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - n / 6)).toBeLessThan(5 * Math.sqrt((n / 6) * (5 / 6)));
  });

  it('permutation holds every index once and depends on the seed', () => {
    const p = new Rng(5).permutation(1000);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(new Rng(5).permutation(1000))).toEqual(Array.from(p));
    expect(Array.from(new Rng(6).permutation(1000))).not.toEqual(Array.from(p));
  });

  it('fork gives an independent but reproducible stream', () => {
    const f1 = new Rng(9).fork();
    const f2 = new Rng(9).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
    expect(new Rng(9).fork().nextUint32()).not.toBe(new Rng(9).nextUint32());
  });

  it('rejects bad arguments with a BnlabError', () => {
    expect(() => new Rng(Number.NaN)).toThrow(BnlabError);
    expect(() => new Rng(1).int(0)).toThrow(/int\(n\) needs an integer/);
  });
});
