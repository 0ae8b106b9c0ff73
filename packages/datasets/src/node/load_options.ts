import type { PixelScaling } from '../dataset/scaling.js';
import type { RETRY_DEFAULTS, RetryOptions } from '../net/retry.js';
import type { DownloadOptions } from './download.js';

/**
 * Options of the `load` of a dataset in Node. The download options come from
 * {@link RetryOptions} (through {@link DownloadOptions}): `retries`, `backoffMs`, `idleTimeoutMs`
 * (how long a silent connection is tolerated, 60 s by default) and `timeoutMs` (the longest one
 * attempt may last); {@link RETRY_DEFAULTS} holds their defaults, for a command line's help.
 */
export interface LoadOptions extends DownloadOptions {
  /**
   * A folder holding the dataset's files (plain or `.gz`). When given, only this folder is read:
   * no default source, no cache, no network.
   */
  folder?: string;
  /**
   * Never use the network: read local sources and the cache only, and say what is missing and
   * how to provide it. @default `true` when the environment variable `BNLAB_OFFLINE` is `1`,
   * else `false`
   */
  offline?: boolean;
  /** The download cache. @default {@link defaultCacheDir}() */
  cacheDir?: string;
  /** Where to download from, ending in `/`. @default the official location */
  baseUrl?: string;
  /**
   * SHA-256 per file name, replacing the official ones (for a mirror that serves other bytes).
   * @default the official checksums
   */
  sha256?: Readonly<Record<string, string>>;
  /** How batches scale pixels. @default 'unit' */
  scaling?: PixelScaling;
}

/** `options.offline`, else the `BNLAB_OFFLINE` environment variable. */
export function isOffline(options: LoadOptions): boolean {
  return options.offline ?? process.env['BNLAB_OFFLINE'] === '1';
}
