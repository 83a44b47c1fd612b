#!/usr/bin/env node
// Builds dist/cli.js (the server and CLI) with esbuild: one ESM file; native and driver packages stay external.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const started = Date.now();
await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['better-sqlite3', 'pg', 'esbuild'],
  banner: { js: "import { createRequire as __plCreateRequire } from 'node:module'; const require = __plCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
process.stderr.write(`built dist/cli.js in ${Date.now() - started} ms\n`);
// The agent's one-file build, which the server hands out to nodes (GET /agent/patchline-agent.js).
await import('./build-agent.mjs');
// The web console (console/ → dist/console/, served at GET / and /console/assets/), once its build script exists.
if (existsSync(new URL('./build-console.mjs', import.meta.url))) await import('./build-console.mjs');
