// Shared by the agent tests: run the agent in this process (runAgent with captured output) or as a child
// process, create activations with the admin SDK client, read a node's patches back, and list apt's own
// security upgrades for comparison.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateActivationCommand, paginateDescribeInstancePatches, type PatchComplianceData, type SSMClient } from '@aws-sdk/client-ssm';
import { runAgent, type AgentIO } from '../../src/agent/cli.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

export function tempStateDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'patchline-agent-test-')), 'state');
}

/** Runs `runAgent(args)` in this process, capturing its output; `--json` output is parsed into `json`. */
export async function agent(args: string[], io: AgentIO = {}): Promise<AgentRun> {
  let stdout = '';
  let stderr = '';
  const code = await runAgent(args, {
    env: { ...process.env, PATCHLINE_AGENT_DIR: '' },
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    progress: false,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...io,
  });
  let json: any;
  try { json = JSON.parse(stdout); } catch { json = undefined; }
  return { code, stdout, stderr, json };
}

/** Runs a command line as a child process; resolves with its exit code and output. */
export function child(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    const c = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      let json: any;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

export async function createActivation(ssm: SSMClient, input: { RegistrationLimit?: number; ExpirationDate?: Date; DefaultInstanceName?: string } = {}) {
  const r = await ssm.send(new CreateActivationCommand({ IamRole: 'SSMServiceRole', ...input }));
  return { id: r.ActivationId!, code: r.ActivationCode! };
}

/** Registers a node with the agent against `endpoint`; returns its state dir and instance id. */
export async function registerNode(ssm: SSMClient, endpoint: string, stateDir = tempStateDir()): Promise<{ stateDir: string; instanceId: string }> {
  const act = await createActivation(ssm);
  const r = await agent(['register', '--endpoint', endpoint, '--activation-id', act.id, '--activation-code', act.code, '--state-dir', stateDir, '--json']);
  if (r.code !== 0) throw new Error(`register failed: ${r.stderr}`);
  return { stateDir, instanceId: r.json.instanceId };
}

export async function allPatches(ssm: SSMClient, instanceId: string, state?: string): Promise<PatchComplianceData[]> {
  const out: PatchComplianceData[] = [];
  const Filters = state ? [{ Key: 'State', Values: [state] }] : undefined;
  for await (const page of paginateDescribeInstancePatches({ client: ssm, pageSize: 50 }, { InstanceId: instanceId, Filters })) out.push(...(page.Patches ?? []));
  return out;
}
