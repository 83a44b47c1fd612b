// Installing the agent on a node: Patchline.GetAgentInstallCommand answers a presigned download URL of the agent's
// one-file build (valid 24 hours; GET /agent/patchline-agent.js checks the signature) and the one command that
// installs, registers and first scans a node. The file is dist/patchline-agent.js (`npm run build:agent`).

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ServiceError } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { SNAPSHOT_URL_LIFETIME_SECONDS } from '../auth/snapshot-urls.ts';
import type { PatchlineGetAgentInstallCommandRequest } from '../generated/ssm-types.ts';

/** The built agent, beside the bundled server (dist/cli.js) or in dist/ when running from src/. */
function agentPath(): string | undefined {
  const candidates = [new URL('./patchline-agent.js', import.meta.url), new URL('../../dist/patchline-agent.js', import.meta.url)];
  for (const c of candidates) {
    const path = fileURLToPath(c);
    if (existsSync(path) && !path.endsWith('/src/api/patchline-agent.js')) return path;
  }
  return undefined;
}

let cached: { path: string; data: Buffer } | undefined;

export async function agentBundle(): Promise<Buffer> {
  const path = agentPath();
  if (path === undefined) throw new ServiceError('DoesNotExistException', 'The agent has not been built on this server: run npm run build:agent.', { status: 404 });
  if (cached?.path !== path) cached = { path, data: await readFile(path) };
  return cached.data;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export const agentDownloadOperations = defineOperations({
  async 'Patchline.GetAgentInstallCommand'(input: PatchlineGetAgentInstallCommandRequest, ctx) {
    const { app } = ctx;
    const origin = ctx.origin ?? { scheme: 'http' as const, host: undefined };
    const url = app.snapshotUrls.agentUrl(origin, `${app.config.host}:${app.config.port}`);
    const endpoint = url.slice(0, url.indexOf('/agent/'));
    const target = '/usr/local/lib/patchline/patchline-agent.js';
    const steps = [`mkdir -p /usr/local/lib/patchline`, `curl -fsSL ${shellQuote(url)} -o ${target}`];
    if (input.ActivationId !== undefined) {
      if (input.ActivationCode === undefined) throw ServiceErrorMissingCode();
      steps.push(`node ${target} register --endpoint ${shellQuote(endpoint)} --activation-id ${shellQuote(input.ActivationId)} --activation-code ${shellQuote(input.ActivationCode)} --region ${shellQuote(app.config.region)}`);
      steps.push(`node ${target} scan`);
    }
    return {
      DownloadUrl: url,
      InstallCommand: `sudo sh -c ${shellQuote(steps.join(' && '))}`,
      Expires: (app.snapshotUrls.clock() + SNAPSHOT_URL_LIFETIME_SECONDS * 1000) / 1000,
    };
  },
});

function ServiceErrorMissingCode(): ServiceError {
  return new ServiceError('ValidationException', 'ActivationCode is required with ActivationId.');
}
