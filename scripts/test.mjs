#!/usr/bin/env node
// Runs the whole test suite: a type check, then every test/**/*.test.ts file with node:test (via tsx).
// Extra arguments are test-file filters: `npm test -- sigv4 baselines` runs only files whose path matches.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

const files = findTests(join(root, 'test')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files match', filters);
  process.exit(1);
}

if (filters.length === 0 || process.env.PATCHLINE_TEST_TYPECHECK === '1') {
  console.log('> tsc --noEmit');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_NO_WARNINGS: '1' };
const concurrency = process.env.PATCHLINE_TEST_CONCURRENCY ?? '2';
console.log(`> node --test (${files.length} files, concurrency ${concurrency})`);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { cwd: root, stdio: 'inherit', env });
process.exit(run.status ?? 1);
