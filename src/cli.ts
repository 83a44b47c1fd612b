#!/usr/bin/env node
// The `patchline` command: `serve` runs the service; other subcommands are maintenance tools.

import { parseArgs } from 'node:util';
import { loadServerConfig, ConfigError } from './config.ts';
import { serve } from './serve.ts';

const USAGE = `Usage: patchline <command> [options]

Commands:
  serve     Run the Patchline service (AWS SSM Patch Manager API on POST /, web console on GET /, health check
            on GET /healthz)
  verify    Recompute every aggregate (patch-group, compliance and fleet counters) from per-node data and report
            differences; --repair rewrites them. Takes --data-dir / --database-url like serve. --json for JSON.
  advisories import PATH…
            Import advisory files or directories (updateinfo.xml[.gz], OSV JSON, Debian Security Tracker JSON,
            DSA/DLA/CVE lists; docs/advisories.md) into the catalogue that labels scanned updates. Each file is one
            transaction. Takes --data-dir / --database-url like serve; --distribution KEY for updateinfo files that
            name no release (e.g. rocky:8); --json for a JSON summary. Exit 1 if any file failed.
  install-command --endpoint URL [--activation-id ID --activation-code CODE]
            Print the one command that installs the agent on a node (and registers it with the activation).
  agent register|scan|install|run|status
            The node agent (docs/agent.md); also built alone into dist/patchline-agent.js (npm run build:agent).

Options for serve (each also read from the environment variable shown):
  --host HOST            PATCHLINE_HOST            address to listen on (default 127.0.0.1)
  --port PORT            PATCHLINE_PORT            port (default 8080)
  --data-dir DIR         PATCHLINE_DATA_DIR        data directory (default ./data)
  --database-url URL     PATCHLINE_DATABASE_URL    sqlite:PATH (default DATA_DIR/patchline.db) or postgres://…
  --region REGION        PATCHLINE_REGION          AWS region the API answers as (default us-east-1)
  --account-id ID        PATCHLINE_ACCOUNT_ID      12-digit account id used in ARNs (default 000000000000)
  --log-level LEVEL      PATCHLINE_LOG_LEVEL       debug|info|warn|error|silent (default info)
  --workers N            PATCHLINE_WORKERS         worker processes, 0 = one per CPU core (default 1)
  --max-body-bytes N     PATCHLINE_MAX_BODY_BYTES  largest accepted request body (default 64 MiB)
  --console-dir DIR      PATCHLINE_CONSOLE_DIR     the built web console (default dist/console beside the server)
                         PATCHLINE_ACCESS_KEY_ID + PATCHLINE_SECRET_ACCESS_KEY   an admin key (kept in memory only)
                         PATCHLINE_MASTER_KEY      base64 master key (default: DATA_DIR/master.key, created on first start)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'serve') {
    const { values } = parseArgs({
      args: rest,
      options: {
        host: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' }, 'database-url': { type: 'string' },
        region: { type: 'string' }, 'account-id': { type: 'string' }, 'log-level': { type: 'string' }, workers: { type: 'string' },
        'max-body-bytes': { type: 'string' }, 'console-dir': { type: 'string' },
      },
      strict: true,
    });
    const config = loadServerConfig({ flags: values, env: process.env });
    await serve(config);
    return -1; // keeps running until a signal
  }
  if (command === 'advisories') {
    const [sub, ...args] = rest;
    if (sub !== 'import') {
      process.stderr.write(`patchline: advisories needs a subcommand: advisories import PATH…\n\n${USAGE}`);
      return 2;
    }
    const { values, positionals } = parseArgs({
      args,
      options: { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' }, distribution: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length === 0) {
      process.stderr.write('patchline: advisories import needs at least one file or directory\n');
      return 2;
    }
    const config = loadServerConfig({ flags: values, env: process.env });
    const { runAdvisoriesImport } = await import('./services/advisory-import-command.ts');
    return runAdvisoriesImport(config, positionals, {
      json: values.json === true,
      ...(values.distribution !== undefined ? { distribution: values.distribution } : {}),
    });
  }
  if (command === 'install-command') {
    const { values } = parseArgs({
      args: rest,
      options: { endpoint: { type: 'string' }, 'activation-id': { type: 'string' }, 'activation-code': { type: 'string' }, region: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    });
    const config = loadServerConfig({ flags: values, env: process.env });
    const { runInstallCommand } = await import('./services/install-command.ts');
    return runInstallCommand({
      endpoint: values.endpoint ?? `http://${config.host}:${config.port}`, region: config.region, dataDir: config.dataDir, json: values.json === true,
      ...(values['activation-id'] ? { activationId: values['activation-id'] } : {}), ...(values['activation-code'] ? { activationCode: values['activation-code'] } : {}),
    });
  }
  if (command === 'agent') return (await import('./agent/cli.ts')).runAgent(rest);
  if (command === 'verify') {
    const { values } = parseArgs({
      args: rest,
      options: { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' }, repair: { type: 'boolean' }, json: { type: 'boolean' } },
      strict: true,
    });
    const config = loadServerConfig({ flags: values, env: process.env });
    const { runVerify } = await import('./services/verify-command.ts');
    return runVerify(config, { repair: values.repair === true, json: values.json === true });
  }
  process.stderr.write(`patchline: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`patchline: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`patchline: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
