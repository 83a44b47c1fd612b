// Assertions the API tests share.

import assert from 'node:assert/strict';

/**
 * Awaits `promise`, which must reject with an error named `name` (an AWS SDK client error carries the `__type` as
 * its name); `expect` also checks the message (a RegExp) or the whole error (a function). Returns the error.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  name: string,
  expect?: RegExp | ((err: Error & Record<string, unknown>) => void),
): Promise<Error & Record<string, unknown>> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, `expected ${name}, but the call succeeded`);
  assert.equal(caught.name, name, `expected ${name}, got ${caught.name}: ${caught.message}`);
  const err = caught as Error & Record<string, unknown>;
  if (expect instanceof RegExp) assert.match(err.message, expect);
  else expect?.(err);
  return err;
}
