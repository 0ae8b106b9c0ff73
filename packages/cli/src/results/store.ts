import { access, constants, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import type { TrainingRecord } from '@bnlab/core';
import type { Trial } from '../experiment/trials.js';
import type { Experiment } from '../experiment/schema.js';
import { parseExperiment } from '../experiment/load.js';
import { encodeNonFinite, validateTrainingRecord, writeFileAtomic } from '@bnlab/metrics';

/** A finished (or failed) trial as stored in a results folder: which trial, and its record. */
export interface TrialResult {
  trial: Omit<Trial, 'fields'> & { fields: Trial['fields'] };
  record: TrainingRecord;
  /**
   * Feature maps of the first conv block for the first test image, after training (when the
   * experiment records them): values in HWC order, rounded to 4 significant digits.
   */
  featureMaps?: Array<{ layer: string; height: number; width: number; channels: number; data: number[] }>;
}

/** Statuses whose trials are not run again: their outcome is a result. */
const FINAL: ReadonlySet<string> = new Set(['completed', 'diverged']);

/**
 * A results folder:
 *
 *     <dir>/experiment.json      the validated experiment (defaults filled in)
 *     <dir>/trials/<id>.json     one file per trial, written atomically when the trial ends
 *     <dir>/…                    combined CSV, plots and reports, rebuilt from the trial files
 *
 * Trials whose file says `completed` or `diverged` are finished and skipped on a rerun;
 * `failed` and `interrupted` trials (and trials without a file) run again.
 */
export class ResultsStore {
  readonly trialsDir: string;

  constructor(readonly dir: string) {
    this.trialsDir = join(dir, 'trials');
  }

  /** Creates the folder (checking it is writable) and records the experiment. */
  async init(experiment: Experiment): Promise<void> {
    try {
      await mkdir(this.trialsDir, { recursive: true });
      await access(this.trialsDir, constants.W_OK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw this.notAFolder(e);
      throw new BnlabError('IO_ERROR', `cannot write the results folder ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
        where: this.dir,
        cause: e,
      });
    }
    await writeFileAtomic(join(this.dir, 'experiment.json'), JSON.stringify(experiment, null, 2) + '\n');
  }

  /** `trials` is there but is not a folder. */
  private notAFolder(cause: unknown): BnlabError {
    return new BnlabError(
      'DATA_FORMAT',
      `${this.trialsDir} is a file, not the folder of trial files of a results folder; move it away, or use another results folder`,
      {
        where: this.trialsDir,
        cause,
      },
    );
  }

  /**
   * A read of `path` that failed other than with ENOENT, as one error naming it: a folder or
   * file where the other belongs is a results folder in the wrong shape (exit 3), anything else
   * a read error (exit 4).
   */
  private async readError(path: string, what: string, e: unknown): Promise<BnlabError> {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR')
      return new BnlabError(
        'DATA_FORMAT',
        `${path} is a folder, not ${what}; remove it${what === 'a trial file' ? ' to run the trial again' : ''}`,
        { where: path, cause: e },
      );
    if (code === 'ENOTDIR') {
      // A file on the way: the results folder itself, or its `trials`.
      const isFolder = await stat(this.dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (isFolder && path !== join(this.dir, 'experiment.json')) return this.notAFolder(e);
      return new BnlabError('DATA_FORMAT', `${this.dir} is not a bnlab results folder (it, or a folder it is in, is a file)`, {
        where: this.dir,
        cause: e,
      });
    }
    return new BnlabError('IO_ERROR', `cannot read ${path}: ${code ?? String(e)}`, { where: path, cause: e });
  }

  /**
   * The experiment the folder holds, validated with defaults filled in (a folder written by an
   * older version lacks the fields added since), or null when there is none.
   */
  async experiment(): Promise<Experiment | null> {
    const file = join(this.dir, 'experiment.json');
    let json: unknown;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw await this.readError(file, 'the experiment file', e);
    }
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new BnlabError('DATA_FORMAT', `${file}: ${(e as Error).message}`, { where: file, cause: e });
    }
    return parseExperiment(json, file);
  }

  path(id: string): string {
    return join(this.trialsDir, `${id}.json`);
  }

  /** The stored result of a trial, or null when there is none. */
  async read(id: string): Promise<TrialResult | null> {
    let text: string;
    try {
      text = await readFile(this.path(id), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw await this.readError(this.path(id), 'a trial file', e);
    }
    try {
      const result = JSON.parse(text) as TrialResult;
      // NaN and ±Infinity (a diverged run's loss) are stored as strings: back to numbers,
      // every field of the record checked.
      result.record = validateTrainingRecord(result.record, `${this.path(id)}: record`, true);
      for (const map of result.featureMaps ?? []) map.data = map.data.map((v) => (typeof v === 'string' ? Number(v) : v));
      return result;
    } catch (e) {
      throw new BnlabError(
        'DATA_FORMAT',
        `${this.path(id)}: not a valid trial file (${(e as Error).message}); delete it to run the trial again`,
        {
          where: this.path(id),
          cause: e,
        },
      );
    }
  }

  /** True when the trial has a final result (completed or diverged). */
  async isFinished(id: string): Promise<boolean> {
    const r = await this.read(id);
    return r !== null && FINAL.has(r.record.status);
  }

  /**
   * Stores a trial's result atomically, unless it would replace a finished (completed or
   * diverged) result with an unfinished one (failed, interrupted): a finished result is never
   * lost, e.g. when a worker process dies after writing its trial and the pool records the
   * trial as failed. Returns whether it wrote. A write error is an IO_ERROR naming the file.
   */
  async write(result: TrialResult): Promise<boolean> {
    const path = this.path(result.trial.id);
    if (!FINAL.has(result.record.status)) {
      const stored = await this.read(result.trial.id).catch(() => null); // unreadable: replace it
      if (stored && FINAL.has(stored.record.status)) return false;
    }
    await this.simulatedFullDisk(path);
    // JSON has no NaN or Infinity (JSON.stringify would write null): as the strings "NaN",
    // "Infinity", "-Infinity", as @bnlab/metrics' records files do.
    await writeFileAtomic(path, JSON.stringify(result, encodeNonFinite) + '\n');
    return true;
  }

  /**
   * For tests only (there is no other way to fill a disk on cue, and as root a read-only folder
   * does not stop writes): with `BNLAB_TEST_FULL_DISK_AFTER=n` in the environment, once `trials/`
   * holds n trial files, writing a trial file fails as on a full disk. Read in every process that
   * writes (the command and its workers), so a test sets it on the command.
   */
  private async simulatedFullDisk(path: string): Promise<void> {
    const after = process.env.BNLAB_TEST_FULL_DISK_AFTER;
    if (after === undefined) return;
    const names = await readdir(this.trialsDir).catch(() => [] as string[]);
    if (names.filter((n) => n.endsWith('.json')).length < Number(after)) return;
    const e = Object.assign(new Error(`ENOSPC: no space left on device, write (simulated: BNLAB_TEST_FULL_DISK_AFTER=${after})`), {
      code: 'ENOSPC',
    });
    throw new BnlabError('IO_ERROR', `could not write ${path}: ${e.message}`, { where: path, cause: e });
  }

  /** Every stored trial result, in trial order. */
  async all(): Promise<TrialResult[]> {
    let names: string[];
    try {
      names = await readdir(this.trialsDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw await this.readError(this.trialsDir, 'the folder of trial files', e);
    }
    const results: TrialResult[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const r = await this.read(name.slice(0, -'.json'.length));
      if (r) results.push(r);
    }
    return results.sort((a, b) => a.trial.index - b.trial.index);
  }
}
