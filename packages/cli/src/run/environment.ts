import { cpus } from 'node:os';
import type { BackendInfo } from '@bnlab/core';
import { captureEnvironment } from '@bnlab/metrics';

const BNLAB_PACKAGES = ['@bnlab/core', '@bnlab/layers', '@bnlab/datasets', '@bnlab/models', '@bnlab/metrics', '@bnlab/cli'];

/** Versions of the bnlab packages this process runs with (when it can resolve them). */
function bnlabVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  // `require` exists in the CommonJS build, which the `bnlab` command runs.
  if (typeof require !== 'function') return versions;
  for (const name of BNLAB_PACKAGES) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // not resolvable from here: leave it out
    }
  }
  return versions;
}

/** Backend, versions and machine of a run, recorded with every trial. */
export function collectEnvironment(backend: BackendInfo): Record<string, unknown> {
  const cpu = cpus();
  return { ...captureEnvironment({ backendInfo: backend, versions: bnlabVersions() }), cpus: cpu.length, cpuModel: cpu[0]?.model };
}
