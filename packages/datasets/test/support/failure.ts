import { isBnlabError } from '@bnlab/core';

/** The error a promise rejects with, checked to be a `BnlabError` (fails the test otherwise). */
export async function failure(p: Promise<unknown>): Promise<Error & { code: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isBnlabError(e)).toBe(true);
  return e as Error & { code: string };
}
