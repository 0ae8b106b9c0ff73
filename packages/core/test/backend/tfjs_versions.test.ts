import { version_core } from '@tensorflow/tfjs-core';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { checkTfjsVersions, SUPPORTED_TFJS } from '../../src/backend/tfjs_versions';

test('the installed tfjs packages are of the supported line', () => {
  expect(version_core.startsWith(`${SUPPORTED_TFJS}.`)).toBe(true);
  expect(() => checkTfjsVersions({ '@tensorflow/tfjs-core': version_core, '@tensorflow/tfjs-backend-wasm': version_wasm })).not.toThrow();
});

test.each([
  [{ '@tensorflow/tfjs-core': '4.21.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' }, '@tensorflow/tfjs-core'],
  [{ '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.23.1' }, '@tensorflow/tfjs-backend-wasm'],
  [
    { '@tensorflow/tfjs-core': '4.220.0', '@tensorflow/tfjs-backend-wasm': '5.0.0' },
    '@tensorflow/tfjs-core, @tensorflow/tfjs-backend-wasm',
  ],
])('%j: a BACKEND_UNAVAILABLE error naming every version', (versions, where) => {
  let error: unknown;
  try {
    checkTfjsVersions(versions);
  } catch (e) {
    error = e;
  }
  expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', where });
  const message = (error as Error).message;
  for (const [name, v] of Object.entries(versions)) expect(message).toContain(`${name} ${v}`);
  expect(message).toContain('needs TensorFlow.js 4.22.x');
});
