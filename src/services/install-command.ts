// `patchline install-command`: prints the one command that installs the agent on a node (and, with an activation,
// registers it and runs a first scan). It asks the server (Patchline.GetAgentInstallCommand) with an admin key:
// PATCHLINE_ACCESS_KEY_ID/PATCHLINE_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the
// data directory's admin-credentials file.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../agent/http.ts';
import { ADMIN_CREDENTIALS_FILE } from '../auth/credentials.ts';

export interface InstallCommandOptions {
  endpoint: string;
  region: string;
  dataDir: string;
  activationId?: string;
  activationCode?: string;
  json: boolean;
}

function adminCredentials(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  const env = process.env;
  if (env.PATCHLINE_ACCESS_KEY_ID && env.PATCHLINE_SECRET_ACCESS_KEY) return { accessKeyId: env.PATCHLINE_ACCESS_KEY_ID, secretAccessKey: env.PATCHLINE_SECRET_ACCESS_KEY };
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  const file = join(dataDir, ADMIN_CREDENTIALS_FILE);
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
    const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
    if (id && secret) return { accessKeyId: id, secretAccessKey: secret };
  }
  throw new Error(`no admin key: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run where ${file} exists`);
}

export async function runInstallCommand(options: InstallCommandOptions): Promise<number> {
  const client = new ApiClient({ endpoint: options.endpoint, region: options.region, credentials: adminCredentials(options.dataDir), retry: { maxAttempts: 2 } });
  const input: Record<string, string> = {};
  if (options.activationId) input.ActivationId = options.activationId;
  if (options.activationCode) input.ActivationCode = options.activationCode;
  const answer = await client.call<{ InstallCommand: string; DownloadUrl: string; Expires: number }>('Patchline.GetAgentInstallCommand', input);
  if (options.json) process.stdout.write(JSON.stringify(answer) + '\n');
  else {
    process.stdout.write(`# Run on the node (the download link is valid until ${new Date(answer.Expires * 1000).toISOString()}):\n`);
    process.stdout.write(answer.InstallCommand + '\n');
  }
  return 0;
}
