import { TrainingRecorder } from '../../src/recorder/training_recorder';

/** Records epochs of batches with the given losses; every batch has 2 examples. */
async function recordEpochs(rec: TrainingRecorder, epochs: number[][], first = 0): Promise<void> {
  for (let e = 0; e < epochs.length; e++) {
    rec.beginEpoch(first + e);
    for (const loss of epochs[e]!) await rec.recordBatch({ loss, size: 2 });
    await rec.endEpoch();
  }
}

describe('TrainingRecorder resumes a run from a record saved at an epoch end', () => {
  test('the resumed record equals one run straight through, but the resumes it lists', async () => {
    const losses = [
      [2.0, 1.5],
      [1.2, 1.0],
      [0.8, 0.6],
    ];
    const straight = new TrainingRecorder({ runId: 'r', environment: {}, learningRate: () => 0.1 });
    await straight.begin();
    await recordEpochs(straight, losses);
    const whole = await straight.end();

    const first = new TrainingRecorder({ runId: 'r', environment: {}, learningRate: () => 0.1 });
    await first.begin();
    await recordEpochs(first, losses.slice(0, 1));
    const saved = JSON.parse(JSON.stringify(first.record)) as typeof whole;

    const second = new TrainingRecorder({ runId: 'r', environment: {}, learningRate: () => 0.1 });
    await second.begin(undefined, { resumeFrom: saved });
    // The loop goes on from the epoch after the saved one.
    await recordEpochs(second, losses.slice(1), 1);
    const resumed = await second.end();

    const strip = (r: typeof whole) => ({
      batches: r.batches,
      epochs: r.epochs.map(({ seconds: _s, imagesPerSecond: _i, extra, ...rest }) => ({ ...rest, batches: extra?.['batches'] })),
      status: r.status,
    });
    expect(strip(resumed)).toEqual(strip(whole));
    expect(resumed.batches.map((b) => b.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(resumed.startedAt).toBe(saved.startedAt);
    expect(resumed.environment?.['resumes']).toEqual([{ epoch: 1, at: expect.any(String) }]);
  });

  test('with batches: false the record keeps no batch records, sinks still get them, and a resume counts steps from the epochs', async () => {
    const seen: number[] = [];
    const sink = { onBatch: (b: { step: number }) => void seen.push(b.step), onEpoch: () => undefined };
    const first = new TrainingRecorder({ runId: 'n', environment: {}, batches: false, sinks: [sink] });
    await first.begin();
    await recordEpochs(first, [[2.0, 1.5, 1.2]]);
    expect(first.record.batches).toEqual([]);
    expect(first.record.epochs.map((e) => e.trainLoss)).toEqual([expect.closeTo((2.0 + 1.5 + 1.2) / 3, 12)]);
    const second = new TrainingRecorder({ runId: 'n', environment: {}, batches: false, sinks: [sink] });
    await second.begin(undefined, { resumeFrom: JSON.parse(JSON.stringify(first.record)) });
    await recordEpochs(second, [[1.0, 0.8]], 1);
    // The resumed run's batches are steps 3 and 4, not 0 and 1.
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(second.record.batches).toEqual([]);
  });

  test('the divergence detector has seen the saved losses', async () => {
    // Patience 3 above chance (ln 10 ≈ 2.30): two high losses saved, one more after the resume diverges.
    const opts = { runId: 'd', environment: {}, divergence: { numClasses: 10, patience: 3 } };
    const first = new TrainingRecorder(opts);
    await first.begin();
    await recordEpochs(first, [[5, 5]]);
    const second = new TrainingRecorder(opts);
    await second.begin(undefined, { resumeFrom: JSON.parse(JSON.stringify(first.record)) });
    second.beginEpoch(1);
    await second.recordBatch({ loss: 5, size: 2 });
    expect(second.shouldStop).toBe(true);
    expect(second.record.status).toBe('diverged');
    // The streak above chance began at the first saved batch.
    expect(second.record.divergedAtStep).toBe(0);
  });

  test('refuses a record of another run, a finished one, or one cut mid-epoch', async () => {
    const first = new TrainingRecorder({ runId: 'a', environment: {} });
    await first.begin();
    await recordEpochs(first, [[1, 1]]);
    const saved = JSON.parse(JSON.stringify(first.record));
    await expect(new TrainingRecorder({ runId: 'b', environment: {} }).begin(undefined, { resumeFrom: saved })).rejects.toThrow(
      /resumeFrom: the saved record is of run a, not b/,
    );
    await expect(
      new TrainingRecorder({ runId: 'a', environment: {} }).begin(undefined, { resumeFrom: { ...saved, status: 'completed' } }),
    ).rejects.toThrow(/is completed; only a running record/);
    first.beginEpoch(1);
    await first.recordBatch({ loss: 1, size: 2 });
    const cut = JSON.parse(JSON.stringify(first.record));
    await expect(new TrainingRecorder({ runId: 'a', environment: {} }).begin(undefined, { resumeFrom: cut })).rejects.toThrow(
      /does not end at the end of an epoch/,
    );
  });
});
