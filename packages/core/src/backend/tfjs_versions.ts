import { BnlabError } from '../errors.js';

/**
 * The TensorFlow.js release line bnlab's kernels are written for: they replace and extend
 * kernels of tfjs-backend-wasm and read its module's memory layout, which change between minor
 * releases. The packages' peer ranges say the same (`~4.22.0`); npm refuses other versions, and
 * this check catches an install forced past that (`--force`, `--legacy-peer-deps`).
 */
export const SUPPORTED_TFJS = '4.22';

/**
 * Throws `BACKEND_UNAVAILABLE`, naming every version, when a tfjs package is not of the
 * {@link SUPPORTED_TFJS} line.
 */
export function checkTfjsVersions(versions: Readonly<Record<string, string>>): void {
  const wrong = Object.entries(versions).filter(([, v]) => !(v === SUPPORTED_TFJS || v.startsWith(`${SUPPORTED_TFJS}.`)));
  if (wrong.length === 0) return;
  const all = Object.entries(versions)
    .map(([name, v]) => `${name} ${v}`)
    .join(', ');
  throw new BnlabError(
    'BACKEND_UNAVAILABLE',
    `bnlab needs TensorFlow.js ${SUPPORTED_TFJS}.x, found ${all}: install @tensorflow/tfjs-core, @tensorflow/tfjs-layers, ` +
      `@tensorflow/tfjs-backend-wasm and @tensorflow/tfjs-backend-cpu at ~${SUPPORTED_TFJS}.0 (npm says the same about the peer ranges)`,
    { where: wrong.map(([name]) => name).join(', ') },
  );
}
