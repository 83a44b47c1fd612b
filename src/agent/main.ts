#!/usr/bin/env node
// Entry point of the standalone agent (dist/patchline-agent.js): `node patchline-agent.js <command> …`.

import { runAgent } from './cli.ts';

runAgent(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`patchline-agent: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
