/**
 * Per-channel mean and variance pooled exactly over batches, in float64: each batch brings
 * its count, mean and biased variance, and they are combined with the pairwise update of
 * Chan, Golub & LeVeque (1979), so the result is the mean and variance of all the values
 * together, not an average of per-batch figures.
 */
export class PooledMoments {
  private n = 0;
  private means: Float64Array | null = null;
  /** Sum of squared deviations from the mean, per channel. */
  private m2: Float64Array | null = null;

  /** Number of values per channel so far. */
  get count(): number {
    return this.n;
  }

  /** Number of channels (0 before the first batch). */
  get channels(): number {
    return this.means?.length ?? 0;
  }

  /** Adds a batch of `count` values per channel with these means and biased variances. */
  add(count: number, mean: ArrayLike<number>, variance: ArrayLike<number>): void {
    if (count <= 0) return;
    if (!this.means || !this.m2) {
      this.means = Float64Array.from(mean);
      this.m2 = Float64Array.from(variance, (v) => v * count);
      this.n = count;
      return;
    }
    if (mean.length !== this.means.length) {
      throw new RangeError(`a batch has ${mean.length} channels, the ones before had ${this.means.length}`);
    }
    const total = this.n + count;
    for (let c = 0; c < mean.length; c++) {
      const delta = (mean[c] as number) - this.means[c]!;
      this.means[c] = this.means[c]! + (delta * count) / total;
      this.m2[c] = this.m2[c]! + (variance[c] as number) * count + (delta * delta * this.n * count) / total;
    }
    this.n = total;
  }

  /** The pooled means. */
  mean(): Float64Array {
    return Float64Array.from(this.means ?? []);
  }

  /** The pooled biased variances (divisor: the number of values). */
  variance(): Float64Array {
    return Float64Array.from(this.m2 ?? [], (v) => v / this.n);
  }
}
