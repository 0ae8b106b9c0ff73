#!/usr/bin/env bash
# The property-based fuzz suites in their long mode: every property BNLAB_FUZZ_RUNS times
# (default 1000; `npm test` runs them quickly). CI runs this after the tests with the fixed seed;
# BNLAB_FUZZ_SEED=random (or any integer) searches other cases.
set -euo pipefail
cd "$(dirname "$0")/.."
export BNLAB_FUZZ_RUNS="${BNLAB_FUZZ_RUNS:-1000}"
echo "fuzz suites, ${BNLAB_FUZZ_RUNS} runs per property, seed ${BNLAB_FUZZ_SEED:-20261207 (fixed)}"
(cd packages/datasets && npx jest test/formats/fuzz.test.ts)
(cd packages/cli && npx jest test/experiment/fuzz.test.ts)
(cd packages/models && npx jest test/node/fuzz.test.ts)
