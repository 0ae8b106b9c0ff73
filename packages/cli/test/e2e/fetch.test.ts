/**
 * `bnlab datasets fetch` against a local HTTP server that misbehaves: the command's own flags
 * bound how long a download may stall or drip (issue 22: a stalling server took 248 s to fail
 * with no way to shorten the 60 s idle timeout). Runs against dist/ (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '../../dist/cjs/bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'bnlab-fetch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Behaviour = (res: ServerResponse) => void;
let behaviour: Behaviour = () => {};
const open = new Set<ServerResponse>();
let server: Server;
let baseUrl: string;
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  server = createServer((_req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    behaviour(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterEach(() => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const res of open) res.destroy();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Runs the built command without blocking this process's event loop (the server lives here). */
function bnlab(args: string[]): Promise<{ status: number | null; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, BNLAB_OFFLINE: '0' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

const cacheDir = (name: string): string => join(tmp, name);

it('--timeout ends a download that drips a byte every 100 ms (never idle) and leaves no partial file', async () => {
  behaviour = (res) => {
    res.writeHead(200, { 'content-length': '9912422' });
    timers.push(setInterval(() => res.write('x'), 100));
  };
  const r = await bnlab([
    'datasets',
    'fetch',
    'cifar10',
    '--base-url',
    baseUrl,
    '--cache-dir',
    cacheDir('drip'),
    '--retries',
    '0',
    '--timeout',
    '1.5',
  ]);
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/1500 ms|1\.5 s/);
  // Without the flag the default limit is 60 s plus 10 min for this Content-Length.
  expect(r.seconds).toBeLessThan(15);
  const left = readdirSync(cacheDir('drip'), { recursive: true })
    .map(String)
    .filter((f) => /\.(tmp|part|download)/.test(f));
  expect(left).toEqual([]);
}, 30_000);

it('--idle-timeout ends a download that sends its headers and then nothing', async () => {
  behaviour = (res) => {
    res.writeHead(200, { 'content-length': '9912422' });
    res.write('x');
  };
  const r = await bnlab([
    'datasets',
    'fetch',
    'cifar10',
    '--base-url',
    baseUrl,
    '--cache-dir',
    cacheDir('stall'),
    '--retries',
    '1',
    '--idle-timeout',
    '0.5',
  ]);
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/500 ms|0\.5 s/);
  // Two attempts of 0.5 s and a 1 s backoff, not 60 s each.
  expect(r.seconds).toBeLessThan(15);
}, 30_000);

it.each([
  ['--timeout', '0'],
  ['--timeout', 'soon'],
  ['--idle-timeout', '-1'],
  ['--retries', '1.5'],
  ['--retries', ''],
])(
  'rejects %s %j, naming the flag, before any download',
  async (flag, value) => {
    let requests = 0;
    behaviour = (res) => {
      requests++;
      res.end();
    };
    const r = await bnlab(['datasets', 'fetch', 'cifar10', '--base-url', baseUrl, '--cache-dir', cacheDir('bad'), flag, value]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(requests).toBe(0);
  },
  30_000,
);
