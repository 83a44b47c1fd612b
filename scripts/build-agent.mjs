#!/usr/bin/env node
// Builds dist/patchline-agent.js: the node agent (src/agent/main.ts) as one self-contained file for Node.js 18+,
// with no native modules and nothing of the server. CommonJS, so that `node patchline-agent.js` runs wherever the
// file is copied (no package.json with "type": "module" beside it). The build fails if anything other than the
// agent's own code is bundled, or anything other than a node: built-in is left as an import.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const started = Date.now();
const result = await build({
  entryPoints: ['src/agent/main.ts'],
  outfile: 'dist/patchline-agent.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  minify: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs);
const foreign = inputs.filter((p) => !p.startsWith('src/agent/'));
if (foreign.length > 0) {
  process.stderr.write(`build-agent: the agent must only contain src/agent/ code, but it pulled in:\n  ${foreign.join('\n  ')}\n`);
  process.exit(1);
}
const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
const nonBuiltin = imports.filter((p) => !p.startsWith('node:'));
if (nonBuiltin.length > 0) {
  process.stderr.write(`build-agent: only node: built-ins may stay external, found: ${nonBuiltin.join(', ')}\n`);
  process.exit(1);
}
chmodSync('dist/patchline-agent.js', 0o755);
process.stderr.write(`built dist/patchline-agent.js (${inputs.length} modules) in ${Date.now() - started} ms\n`);
