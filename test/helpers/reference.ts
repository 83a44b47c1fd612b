// Reference data shared with the project (../shared/reference) is not part of the repository: a test that reads it
// falls back to the project's committed, derived copy when a checkout stands without it.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The first of the paths (relative to test/api/ and its siblings) that exists, as a file path. */
export function firstExisting(...relativeToTestDir: string[]): string {
  const paths = relativeToTestDir.map((p) => fileURLToPath(new URL(p, new URL('../api/', import.meta.url))));
  const found = paths.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`none of ${paths.join(', ')} exists`);
  return found;
}
