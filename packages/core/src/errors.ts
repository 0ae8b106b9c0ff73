/**
 * Stable error codes. Code that handles bnlab errors switches on `code`, never on the
 * message text, so messages can improve without breaking callers.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'INVALID_SHAPE',
  'BACKEND_UNAVAILABLE',
  'KERNEL_UNSUPPORTED',
  'DATA_FORMAT',
  'DATA_MISSING',
  'CHECKSUM_MISMATCH',
  'DOWNLOAD_FAILED',
  'IO_ERROR',
  'DIVERGED',
  'INTERRUPTED',
] as const;

/** One of {@link ERROR_CODES}. */
export type BnlabErrorCode = (typeof ERROR_CODES)[number];

/** Options of a {@link BnlabError}. */
export interface BnlabErrorOptions {
  /** The file, field or URL the error is about, when there is one. */
  readonly where?: string;
  /** The underlying error. */
  readonly cause?: unknown;
}

/**
 * The error type of every bnlab package: a stable `code`, a message that says what was
 * wrong and where, and optionally the file or field (`where`) and the original `cause`.
 *
 * @example
 * ```ts
 * try { await mnist.load({ offline: true }); }
 * catch (e) { if (isBnlabError(e, 'DATA_MISSING')) console.error(e.message); }
 * ```
 */
export class BnlabError extends Error {
  override readonly name = 'BnlabError';
  readonly code: BnlabErrorCode;
  readonly where?: string;

  constructor(code: BnlabErrorCode, message: string, options: BnlabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.where !== undefined) this.where = options.where;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** True when `e` is a {@link BnlabError}, optionally with the given code. */
export function isBnlabError(e: unknown, code?: BnlabErrorCode): e is BnlabError {
  return e instanceof BnlabError && (code === undefined || e.code === code);
}
