import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import { loadExperiment, parseExperiment } from '../../src/experiment/load.js';
import { MAX_NESTING } from '../../src/experiment/json_shape.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = {
  name: 'load',
  dataset: { name: 'mnist', trainLimit: 64 },
  model: { architecture: 'mlp' },
  training: { epochs: 1, batchSize: 64 },
};

/** `levels` arrays inside each other around 1. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('nesting', () => {
  it('20,000 levels deep is refused, naming the file and the path where it got too deep (not a stack overflow)', async () => {
    const file = join(tmp, 'deep.json');
    writeFileSync(
      file,
      JSON.stringify({ ...base, grid: { 'model.options.x': ['__deep__'] } }).replace('"__deep__"', '['.repeat(20000) + ']'.repeat(20000)),
    );
    const err = await errorOf(() => loadExperiment(file));
    expect(isBnlabError(err, 'INVALID_CONFIG')).toBe(true);
    // the top-level object, grid, the value list, then arrays: the 65th level is the 62nd array
    expect(err.message).toBe(
      `${file}: grid["model.options.x"]${'[0]'.repeat(MAX_NESTING - 2)}: values nest more than 64 levels deep here; an experiment file needs only a few levels`,
    );
  });

  it('in objects too, and as deep as JSON.parse goes', async () => {
    const deep = JSON.parse('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)) as unknown;
    const err = await errorOf(() => parseExperiment({ ...base, model: { ...base.model, options: deep } }, 'e.json'));
    expect(err.message).toMatch(/^e\.json: model\.options(\.a){62}: values nest more than 64 levels deep/);
  });

  it(`${MAX_NESTING} levels are allowed (what the schema says of them aside)`, async () => {
    // the top level, labels, then 62 arrays
    const err = await errorOf(() => parseExperiment({ ...base, labels: { x: nested(MAX_NESTING - 2) } }, 'e.json'));
    expect(err.message).not.toMatch(/nest/);
    expect(err.message).toMatch(/labels\.x\.0: expected string/);
  });
});

describe('reserved keys', () => {
  const polluted = (): boolean => Object.hasOwn(Object.prototype, 'polluted') || ({} as Record<string, unknown>)['polluted'] !== undefined;

  it.each([
    [
      'a grid path through __proto__',
      { grid: { 'model.norm.__proto__.polluted': [1] } },
      'grid: "model.norm.__proto__.polluted": "__proto__" cannot be part of a path',
    ],
    [
      'a grid path through constructor',
      { grid: { 'model.options.constructor.prototype.polluted': [1] } },
      'grid: "model.options.constructor.prototype.polluted": "constructor" cannot be part of a path',
    ],
    ['a grid path that is __proto__', { grid: JSON.parse('{"__proto__": [1]}') as unknown }, 'grid: the key "__proto__" is not allowed'],
    [
      'an exclude entry',
      { grid: { 'model.norm': [{}] }, exclude: [{ 'model.prototype': 1 }] },
      'exclude[0]: "model.prototype": "prototype" cannot be part of a path',
    ],
    ['a labels key', { labels: { 'x.__proto__': ['a'] } }, 'labels: "x.__proto__": "__proto__" cannot be part of a path'],
    [
      'a key of a free-form record',
      { model: { architecture: 'mlp', options: JSON.parse('{"__proto__": {"polluted": 1}}') as unknown } },
      'model.options: the key "__proto__" is not allowed',
    ],
    [
      'a key inside a grid value',
      { grid: { 'model.norm': [{ type: 'batch', constructor: 1 }] } },
      'grid["model.norm"][0]: the key "constructor" is not allowed',
    ],
  ])('%s is refused when the file loads, and Object.prototype is untouched', async (_, extra, message) => {
    const file = join(tmp, 'proto.json');
    writeFileSync(file, JSON.stringify({ ...base, ...(extra as object) }));
    const err = await errorOf(() => loadExperiment(file));
    expect(isBnlabError(err, 'INVALID_CONFIG')).toBe(true);
    expect(err.message).toBe(`${file}: ${message} (a name JavaScript objects reserve for their prototype)`);
    expect(polluted()).toBe(false);
  });
});

it('accepts a file that starts with a UTF-8 byte order mark', async () => {
  const file = join(tmp, 'bom.json');
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(base))]));
  expect((await loadExperiment(file)).name).toBe('load');
});
