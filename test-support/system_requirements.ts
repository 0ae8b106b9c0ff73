// Tests that need something outside npm (a Debian package: Chromium, Fashion-MNIST, fonts).
//
// On a machine with only Node and npm, `npm test` skips them with one line on stderr saying
// what to install. CI sets BNLAB_REQUIRE_SYSTEM_DEPS=1 (after installing the packages), and
// then a missing requirement fails the suite instead of skipping it, so CI runs every test.

/** Something a test needs from the machine. */
export interface SystemRequirement {
  /** What it is, e.g. "Chromium at /usr/bin/chromium". */
  what: string;
  /** Whether the machine has it. */
  present: boolean;
  /** How to get it, e.g. "apt-get install chromium". */
  install: string;
}

/** The jest functions a suite uses, skipped or failing as the requirement says. */
export interface GatedJest {
  /** Whether the suite runs for real. */
  available: boolean;
  describe: jest.Describe;
  test: jest.It;
}

const announced = new Set<string>();

/** True when CI asked for every system requirement to be present. */
export function systemRequirementsMandatory(): boolean {
  return process.env.BNLAB_REQUIRE_SYSTEM_DEPS === '1';
}

/**
 * `describe` and `test` for a suite that needs `req`: the real ones when it is present; when
 * it is missing, skipped ones (with one line on stderr) — or, with BNLAB_REQUIRE_SYSTEM_DEPS=1,
 * ones that fail with a message saying what is missing and how to install it.
 */
export function requireSystem(req: SystemRequirement): GatedJest {
  if (req.present) return { available: true, describe, test };
  const message = `${req.what} is missing: install it with \`${req.install}\``;
  if (systemRequirementsMandatory()) {
    const failing = ((name: string) =>
      test(name, () => {
        throw new Error(`${message} (BNLAB_REQUIRE_SYSTEM_DEPS=1 makes this test mandatory)`);
      })) as unknown as jest.It;
    const failingDescribe = ((name: string) =>
      describe(name, () => {
        failing('system requirement');
      })) as unknown as jest.Describe;
    return { available: false, describe: failingDescribe, test: failing };
  }
  if (!announced.has(req.what)) {
    announced.add(req.what);
    process.stderr.write(`skipped tests: ${message}\n`);
  }
  return { available: false, describe: describe.skip, test: test.skip };
}

/** Chromium for browser tests: `BNLAB_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.BNLAB_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The gate of tests driving headless Chromium. `BNLAB_SKIP_BROWSER_TESTS=1` skips them even
 * where Chromium is installed.
 */
export function requireChromium(): GatedJest {
  if (process.env.BNLAB_SKIP_BROWSER_TESTS === '1') return { available: false, describe: describe.skip, test: test.skip };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { existsSync } = require('node:fs') as typeof import('node:fs');
  return requireSystem({
    what: `Chromium at ${CHROMIUM_PATH}`,
    present: existsSync(CHROMIUM_PATH),
    install: 'apt-get install chromium (or point BNLAB_CHROMIUM at a Chromium binary)',
  });
}
