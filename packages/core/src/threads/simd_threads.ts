import type { SimdExports } from '../kernels/simd/simd_module.js';
import { KERNEL_THREAD_SOURCE } from './worker_source.js';

/** Float64 slots of one thread's call list (512 KB); a longer list is run in parts. */
const LIST_SLOTS = 1 << 16;
/** Bytes of one thread's control words (a cache line of its own). */
const CONTROL_BYTES = 64;
/**
 * How long a worker keeps checking for the next call list before it sleeps, and the calling
 * thread for a worker to finish before it sleeps (ms): a sleeping thread takes tens of
 * microseconds to wake, as long as a small kernel, and a training step's kernels come in
 * bursts less than a millisecond apart.
 */
const SPIN_MS = 2;
/** How long the main thread waits for a thread before giving up on the pool. */
const TIMEOUT_MS = 120_000;

/** The part of a worker (Node's `worker_threads` or a browser's) the pool uses. */
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

interface Thread {
  worker: WorkerLike;
  ctl: Int32Array;
  list: Float64Array;
}

/** A recorded call of the main thread's own share: function and arguments. */
type LocalCall = [(...args: number[]) => unknown, number[]];

const isNode = (): boolean => typeof process !== 'undefined' && process.versions?.node != null;

/** The part of Node's `worker_threads` the pool uses. */
interface NodeWorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true },
  ) => WorkerLike & {
    unref(): void;
    once(event: 'message' | 'error' | 'exit', listener: (value: never) => void): void;
  };
}

/**
 * Node's `worker_threads`, through `process.getBuiltinModule` (Node 20.16+, 22.3+): a lookup,
 * not an import, so that this module stays free of Node built-ins for browser bundles.
 */
function nodeWorkerThreads(): NodeWorkerThreads {
  const builtin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof builtin !== 'function') {
    throw new Error(`kernel threads need process.getBuiltinModule (Node 20.16 or later; this is Node ${process.versions.node})`);
  }
  return builtin('node:worker_threads') as NodeWorkerThreads;
}

/** Whether this thread may block in `Atomics.wait` (not a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

async function spawn(ready: Promise<void>[], data: object): Promise<WorkerLike> {
  if (isNode()) {
    const { Worker } = nodeWorkerThreads();
    const w = new Worker(KERNEL_THREAD_SOURCE, { eval: true });
    // Kernel threads sleep between calls; they must not keep the process alive.
    w.unref();
    ready.push(
      new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', (e: Error) => reject(e));
        w.once('exit', (code: number) => reject(new Error(`kernel thread exited (code ${code}) before it was ready`)));
      }),
    );
    w.postMessage(data);
    return w;
  }
  const url = URL.createObjectURL(new Blob([KERNEL_THREAD_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  ready.push(
    new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(new Error(e.message || 'kernel thread failed to start'));
    }),
  );
  w.postMessage(data);
  return w;
}

/**
 * bnlab's SIMD kernels on several threads over one shared wasm heap: the calling thread
 * (lane 0) and `size − 1` workers, each with its own instance of the module on the same
 * memory. A kernel records each lane's share of its work as a list of SIMD calls through
 * {@link lane} (an object with the module's functions that records instead of running),
 * then {@link run} starts the workers on theirs, runs lane 0's itself and waits for all.
 * The lanes' shares must not depend on each other (different outputs, own scratch), and all
 * memory is allocated by the calling thread before {@link run}: tfjs's allocator is not
 * thread-safe, so the workers never allocate.
 */
export class SimdThreads {
  private readonly lanes: SimdExports[];
  private readonly local: LocalCall[] = [];
  private readonly used: number[];
  private seq = 0;
  private sent = 0;
  /** Time the calling thread spent on its own share, and waiting for the workers (ms). */
  private readonly times = { runs: 0, ownMs: 0, waitMs: 0 };
  private broken: string | null = null;
  private readonly blocking = canBlock();

  private constructor(
    private readonly threads: Thread[],
    private readonly main: SimdExports,
    names: string[],
    readonly memory: WebAssembly.Memory,
  ) {
    this.used = threads.map(() => 1);
    this.lanes = [this.recorder(0, names)];
    for (let i = 1; i <= threads.length; i++) this.lanes.push(this.recorder(i, names));
  }

  /**
   * Starts `size − 1` kernel threads on `memory` (shared), each instantiating `module` (the
   * shared-memory build of bnlab's SIMD module); `main` is the calling thread's instance.
   */
  static async create(size: number, module: WebAssembly.Module, memory: WebAssembly.Memory, main: SimdExports): Promise<SimdThreads> {
    const names = Object.keys(main).filter((k) => typeof (main as unknown as Record<string, unknown>)[k] === 'function');
    const count = size - 1;
    const control = new SharedArrayBuffer(count * (CONTROL_BYTES + LIST_SLOTS * 8));
    const ready: Promise<void>[] = [];
    const threads: Thread[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const ctlOffset = i * CONTROL_BYTES;
        const argsOffset = count * CONTROL_BYTES + i * LIST_SLOTS * 8;
        const data = { module, memory, names, control, ctlOffset, argsOffset, argsLength: LIST_SLOTS, spinMs: SPIN_MS };
        const worker = await spawn(ready, data);
        threads.push({ worker, ctl: new Int32Array(control, ctlOffset, 4), list: new Float64Array(control, argsOffset, LIST_SLOTS) });
      }
      await Promise.all(ready);
    } catch (e) {
      for (const t of threads) t.worker.terminate();
      throw e;
    }
    return new SimdThreads(threads, main, names, memory);
  }

  /** Threads, the calling one included. */
  get size(): number {
    return this.threads.length + 1;
  }

  /** SIMD calls run by the worker threads so far (what tests check to see the work was split). */
  get callsOnWorkers(): number {
    return this.sent;
  }

  /**
   * Runs so far, and the time the calling thread spent on its own shares and then waiting for
   * the workers' (ms): a wait as long as the own share means the workers are slower.
   */
  get timings(): { runs: number; ownMs: number; waitMs: number } {
    return { ...this.times };
  }

  /** Whether `simd` is the calling thread's own module (not a lane recording calls). */
  isCallingThread(simd: SimdExports): boolean {
    return simd === this.main;
  }

  /** Why the pool stopped working (a thread failed to answer), or null. */
  get failure(): string | null {
    return this.broken;
  }

  /** The module's functions for lane `i` (0 … size − 1): calls are recorded for {@link run}. */
  lane(i: number): SimdExports {
    const l = this.lanes[i];
    if (!l) throw new Error(`bnlab: no kernel thread lane ${i} (the pool has ${this.size})`);
    return l;
  }

  private recorder(i: number, names: string[]): SimdExports {
    const out: Record<string, (...args: number[]) => number> = {};
    const mainFns = this.main as unknown as Record<string, (...args: number[]) => number>;
    names.forEach((name, index) => {
      if (i === 0) {
        const fn = mainFns[name] as (...args: number[]) => number;
        out[name] = (...args: number[]) => {
          this.local.push([fn, args]);
          return 0;
        };
        return;
      }
      out[name] = (...args: number[]) => {
        const t = this.threads[i - 1] as Thread;
        let at = this.used[i - 1] as number;
        if (at + 2 + args.length > LIST_SLOTS) {
          this.run();
          at = 1;
        }
        const list = t.list;
        list[at] = index;
        list[at + 1] = args.length;
        for (let a = 0; a < args.length; a++) list[at + 2 + a] = args[a] as number;
        this.used[i - 1] = at + 2 + args.length;
        list[0] = (list[0] as number) + 1;
        return 0;
      };
    });
    return out as unknown as SimdExports;
  }

  /** Forgets what was recorded and not run (after an error while recording). */
  discard(): void {
    this.local.length = 0;
    for (let i = 0; i < this.threads.length; i++) {
      (this.threads[i] as Thread).list[0] = 0;
      this.used[i] = 1;
    }
  }

  /**
   * Runs every lane's recorded calls: the workers' in parallel with lane 0's on this
   * thread, and returns when all are done. Throws (after all have stopped) if a call failed
   * on any lane; a thread that does not answer within two minutes disables the pool.
   */
  run(): void {
    if (this.broken) throw new Error(`bnlab kernel threads are disabled: ${this.broken}`);
    const seq = ++this.seq;
    const started: Thread[] = [];
    for (const t of this.threads) {
      if ((t.list[0] as number) === 0) continue;
      this.sent += t.list[0] as number;
      Atomics.store(t.ctl, 0, seq);
      Atomics.notify(t.ctl, 0);
      started.push(t);
    }
    let error: unknown = null;
    const local = this.local.splice(0);
    const t0 = performance.now();
    try {
      for (const [fn, args] of local) fn(...args);
    } catch (e) {
      error = e;
    }
    const t1 = performance.now();
    const deadline = Date.now() + TIMEOUT_MS;
    let failedOn = -1;
    for (const t of started) {
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(t.ctl, 1) !== seq && performance.now() < spinUntil) {
        // spinning: the worker is about to finish
      }
      while (Atomics.load(t.ctl, 1) !== seq) {
        if (this.blocking) Atomics.wait(t.ctl, 1, Atomics.load(t.ctl, 1), 1000);
        if (Date.now() > deadline) {
          this.broken = `thread ${this.threads.indexOf(t) + 1} did not finish its kernel within ${TIMEOUT_MS / 1000} s`;
          this.discard();
          throw new Error(`bnlab: ${this.broken}`);
        }
      }
      if (Atomics.load(t.ctl, 2) !== 0) failedOn = this.threads.indexOf(t) + 1;
    }
    this.times.runs++;
    this.times.ownMs += t1 - t0;
    this.times.waitMs += performance.now() - t1;
    this.discard();
    if (error) throw error;
    if (failedOn >= 0) throw new Error(`bnlab: a SIMD kernel failed on kernel thread ${failedOn}`);
  }

  /** Stops the workers. The pool cannot run afterwards. */
  close(): void {
    this.broken ??= 'the pool was closed';
    for (const t of this.threads) {
      Atomics.store(t.ctl, 0, -1);
      Atomics.notify(t.ctl, 0);
      t.worker.terminate();
    }
  }
}
