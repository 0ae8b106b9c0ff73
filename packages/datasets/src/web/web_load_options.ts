import type { PixelScaling } from '../dataset/scaling.js';
import type { RetryOptions } from '../net/retry.js';
import type { FetchVerifiedOptions } from './fetch_verified.js';

/**
 * Options of the `load` of datasets fetched over HTTP (the browser entry), with the download
 * options of {@link RetryOptions}: `retries`, `backoffMs`, `idleTimeoutMs` and `timeoutMs`.
 */
export interface WebLoadOptions extends FetchVerifiedOptions {
  /** Where the dataset's files are, ending in `/`. @default the official location */
  baseUrl?: string;
  /**
   * SHA-256 per file name, replacing the official ones (a mirror that serves other bytes), or
   * `false` to skip the check. @default the official checksums
   */
  sha256?: Readonly<Record<string, string>> | false;
  /** How batches scale pixels. @default 'unit' */
  scaling?: PixelScaling;
}

/** The checksum to verify `name` against, given the options and the official value. */
export function expectedSha256(name: string, official: string | undefined, sha256: WebLoadOptions['sha256']): string | undefined {
  if (sha256 === false) return undefined;
  return sha256?.[name] ?? official;
}

/** `baseUrl` and a file name joined with one `/` (relative base URLs stay relative). */
export function joinUrl(baseUrl: string, name: string): string {
  return baseUrl.endsWith('/') ? `${baseUrl}${name}` : `${baseUrl}/${name}`;
}
