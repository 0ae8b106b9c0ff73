import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** Where {@link defaultCacheDir} looks: the environment, the platform and the home folder. */
export interface CacheDirContext {
  env?: Readonly<Record<string, string | undefined>>;
  platform?: string;
  home?: string;
}

/**
 * The folder bnlab caches downloads in: `BNLAB_CACHE_DIR` when set, else the platform's user
 * cache folder + `/bnlab`: `$XDG_CACHE_HOME` or `~/.cache` on Linux and other Unixes,
 * `~/Library/Caches` on macOS, `%LOCALAPPDATA%` (or `~/AppData/Local`) on Windows.
 *
 * @param context the environment to read (defaults to this process's)
 */
export function defaultCacheDir(context: CacheDirContext = {}): string {
  const env = context.env ?? process.env;
  const platform = context.platform ?? process.platform;
  const home = context.home ?? homedir();
  const explicit = env['BNLAB_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const { join } = platform === 'win32' ? win32 : posix;
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'bnlab');
  if (platform === 'win32') {
    const local = env['LOCALAPPDATA'];
    return join(local !== undefined && local !== '' ? local : join(home, 'AppData', 'Local'), 'bnlab');
  }
  const xdg = env['XDG_CACHE_HOME'];
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  return join(xdg?.startsWith('/') ? xdg : join(home, '.cache'), 'bnlab');
}
