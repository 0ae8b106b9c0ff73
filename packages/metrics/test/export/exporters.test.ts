import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { TrainingRecord } from '@bnlab/core';
import { parseRecordsJson, recordsToJson } from '../../src/export/json';
import { readRecordsJson, writeRecordsJson } from '../../src/node/json_file';
import { BATCH_CSV_COLUMNS, EPOCH_CSV_COLUMNS, batchesToCsv, epochsToCsv } from '../../src/export/csv';
import { syntheticRecord } from '../helpers/records';

const runs: TrainingRecord[] = [
  syntheticRecord({
    runId: 'bn-seed0',
    seed: 0,
    config: { variant: 'BN', seed: 0, norm: { type: 'batch', momentum: 0.99 }, layers: [1, 3] },
  }),
  syntheticRecord({
    runId: 'none, "quoted"',
    seed: 1,
    config: { variant: 'no BN', seed: 1, norm: { type: 'none' }, note: 'line1\nline2' },
  }),
  syntheticRecord({ runId: 'diverged', seed: 2, config: { variant: 'no BN', seed: 2, lr: 0.04 }, diverge: 50 }),
];
runs[0]!.epochs[0]!.extra!['gradNorm/all'] = [0.5, 0.25];
runs[0]!.epochs[1]!.valLoss = Infinity;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bnlab-metrics-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What a CSV cell means to pandas, R or JavaScript's Number: empty is missing. */
function num(s: string): number | undefined {
  return s === '' ? undefined : Number(s);
}

describe('JSON', () => {
  test('round trip keeps every field, NaN and Infinity included', async () => {
    const path = join(dir, 'runs.json');
    await writeRecordsJson(path, runs);
    const back = await readRecordsJson(path);
    expect(back).toEqual(runs);
    expect(Number.isNaN(back[2]!.batches[50]!.loss)).toBe(true);
    expect(back[0]!.epochs[1]!.valLoss).toBe(Infinity);
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc.format).toBe('bnlab-training-records');
    expect(doc.version).toBe(1);
    expect(doc.records[2].batches[50].loss).toBe('NaN');
  });

  test('a single bare record reads too, with plain JSON.stringify nulls read as NaN', () => {
    expect(parseRecordsJson(JSON.stringify(runs[1]))).toEqual([runs[1]]);
    const back = parseRecordsJson(JSON.stringify(runs[2]))[0]!;
    expect(Number.isNaN(back.batches[50]!.loss)).toBe(true);
  });

  test('bad documents name the source and the field', () => {
    expect(() => parseRecordsJson('{oops', 'runs.json')).toThrow(/^runs\.json is not valid JSON/);
    expect(() => parseRecordsJson('{"format":"x"}', 'runs.json')).toThrow('runs.json: format must be \'bnlab-training-records\', got "x"');
    expect(() => parseRecordsJson('{"format":"bnlab-training-records","version":7,"records":[]}', 'f')).toThrow(
      /version must be between 1 and 1 .* got 7/,
    );
    const bad = JSON.parse(recordsToJson(runs[0]!));
    bad.records[0].batches[3].loss = 'abc';
    expect(() => parseRecordsJson(JSON.stringify(bad), 'f.json')).toThrow('f.json: records[0].batches[3].loss must be a number, got "abc"');
    bad.records[0].batches[3].loss = 1;
    bad.records[0].status = 'done';
    expect(() => parseRecordsJson(JSON.stringify(bad), 'f.json')).toThrow(/records\[0\]\.status must be one of 'running', .*got "done"/);
  });
});

describe('CSV', () => {
  test('epochs: one row per run × epoch, parsed back by csv-parse equal to the records', () => {
    const text = epochsToCsv(runs);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(runs.reduce((n, r) => n + r.epochs.length, 0));
    const header = Object.keys(rows[0]!);
    expect(header.slice(0, 2)).toEqual(['runId', 'status']);
    expect(header).toEqual(
      expect.arrayContaining(['config.variant', 'config.norm.type', 'config.norm.momentum', 'config.layers', 'config.note', 'config.lr']),
    );
    expect(header).toEqual(expect.arrayContaining([...EPOCH_CSV_COLUMNS, 'gradNorm/conv1', 'gradNorm/all[0]', 'gradNorm/all[1]']));
    let i = 0;
    for (const r of runs) {
      for (const e of r.epochs) {
        const row = rows[i++]!;
        expect(row.runId).toBe(r.runId);
        expect(row.status).toBe(r.status);
        expect(row['config.variant']).toBe(r.config.variant);
        expect(num(row['config.seed']!)).toBe(r.config.seed);
        for (const c of EPOCH_CSV_COLUMNS) expect(num(row[c]!)).toEqual(e[c]);
        for (const [k, v] of Object.entries(e.extra!)) {
          if (Array.isArray(v)) v.forEach((x, j) => expect(num(row[`${k}[${j}]`]!)).toBe(x));
          else expect(num(row[k]!)).toBe(v);
        }
      }
    }
    expect(rows[0]!['config.layers']).toBe('[1,3]');
    expect(rows[3]!['config.note']).toBe('line1\nline2');
    expect(rows[0]!['config.note']).toBe('');
  });

  test('batches: one row per run × batch, equal to the records', () => {
    const rows = parse(batchesToCsv(runs, { configColumns: ['variant', 'seed'] }), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(['runId', 'status', 'config.variant', 'config.seed', ...BATCH_CSV_COLUMNS]);
    const all = runs.flatMap((r) => r.batches.map((b) => ({ r, b })));
    expect(rows).toHaveLength(all.length);
    all.forEach(({ r, b }, i) => {
      const row = rows[i]!;
      expect(row.runId).toBe(r.runId);
      for (const c of BATCH_CSV_COLUMNS) expect(num(row[c]!)).toEqual(b[c]);
    });
  });
});
