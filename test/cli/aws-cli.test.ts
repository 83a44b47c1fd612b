// The real server as a child process (`node --import tsx src/cli.ts serve`), driven by the real AWS CLI and boto3:
// first-start key creation and its banner, file modes, restarts, SIGTERM, and the PATCHLINE_HOST / PATCHLINE_PORT /
// PATCHLINE_REGION settings. On PostgreSQL the server gets PATCHLINE_DATABASE_URL; everything else is the same.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribePatchBaselinesCommand, GetDefaultPatchBaselineCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createPostgresDatabase, engines } from '../helpers/engines.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = '/usr/bin/python3';

const awsCliMissing = (() => {
  const r = spawnSync('aws', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? false : `the AWS CLI (aws) is not installed or not runnable: ${r.error?.message ?? r.stderr}`;
})();
const boto3Missing = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import boto3'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? false : `boto3 is not importable by ${PYTHON}: ${r.error?.message ?? r.stderr.trim()}`;
})();

/** The environment of this process without any PATCHLINE_* or AWS_* setting, so only what a test sets applies. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PATCHLINE_|AWS_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function canBind(host: string): Promise<boolean> {
  try {
    await freePort(host);
    return true;
  } catch {
    return false;
  }
}

class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: cleanEnv({ NODE_NO_WARNINGS: '1', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Waits until stdout matches, failing early if the process exits or the time runs out. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.stdout);
      if (m) return m;
      if (this.child.exitCode !== null) assert.fail(`server exited (${this.child.exitCode}) before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) assert.fail(`server did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` and measures how long the process takes to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    this.child.kill(signal);
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms after ${signal}`)), timeoutMs).unref());
    const result = await Promise.race([this.exited, timer]);
    return { ...result, ms: Date.now() - started };
  }

  /** Last resort in `after`: this test's own child only. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      let json: unknown;
      try {
        json = stdout.trim() === '' ? undefined : JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** A timestamp as the AWS CLI prints it (epoch seconds or ISO 8601, depending on its version) → epoch ms. */
function cliTime(value: unknown): number {
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(String(value));
  assert.ok(Number.isFinite(ms), `not a timestamp: ${String(value)}`);
  return ms;
}

const BOTO3_SCRIPT = `
import json, sys
import boto3
from botocore.exceptions import ClientError
ssm = boto3.client('ssm', endpoint_url=sys.argv[1], region_name=sys.argv[2])
created = ssm.create_patch_baseline(
    Name='boto3-baseline', OperatingSystem='UBUNTU', Description='made by boto3',
    ApprovalRules={'PatchRules': [{'PatchFilterGroup': {'PatchFilters': [{'Key': 'PRIORITY', 'Values': ['Required', 'Important']}]}}]},
    Tags=[{'Key': 'made-by', 'Value': 'boto3'}])
got = ssm.get_patch_baseline(BaselineId=created['BaselineId'])
try:
    ssm.get_patch_baseline(BaselineId='pb-0123456789abcdef0')
    missing = None
except ClientError as e:
    missing = e.response['Error']['Code']
print(json.dumps({
    'id': created['BaselineId'], 'name': got['Name'], 'os': got['OperatingSystem'], 'description': got.get('Description'),
    'rules': got['ApprovalRules'], 'patchGroups': got['PatchGroups'], 'created': got['CreatedDate'].timestamp(),
    'tags': ssm.list_tags_for_resource(ResourceType='PatchBaseline', ResourceId=created['BaselineId'])['TagList'],
    'missing': missing,
}))
`;

for (const { engine, skip } of engines()) {
  describe(`patchline serve, AWS CLI and boto3 (${engine})`, { skip }, () => {
    const host = '127.0.0.1';
    const region = 'eu-west-3';
    let dataDir: string;
    let databaseEnv: Record<string, string> = {};
    let dropDatabase: (() => Promise<void>) | undefined;
    let port: number;
    let endpoint: string;
    let server: ServerProcess;
    let key: { accessKeyId: string; secretAccessKey: string };
    const others: ServerProcess[] = [];

    const awsEnv = () => cleanEnv({
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'admin-credentials'),
      AWS_PROFILE: 'patchline',
      AWS_CONFIG_FILE: join(dataDir, 'no-aws-config'),
      AWS_DEFAULT_REGION: region,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      AWS_RETRY_MODE: 'standard',
      AWS_MAX_ATTEMPTS: '1',
    });
    const aws = (...args: string[]) => run('aws', ['ssm', ...args, '--endpoint-url', endpoint, '--output', 'json'], awsEnv());
    const awsOk = async (...args: string[]) => {
      const r = await aws(...args);
      assert.equal(r.code, 0, `aws ssm ${args.join(' ')} failed:\n${r.stderr}`);
      return r.json;
    };

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'patchline-cli-'));
      if (engine === 'postgres') {
        const pgdb = await createPostgresDatabase();
        databaseEnv = { PATCHLINE_DATABASE_URL: pgdb.url };
        dropDatabase = pgdb.drop;
      }
      port = await freePort(host);
      server = new ServerProcess({ PATCHLINE_HOST: host, PATCHLINE_PORT: String(port), PATCHLINE_DATA_DIR: dataDir, PATCHLINE_REGION: region, ...databaseEnv });
      const [, listening] = await server.waitFor(/Patchline is listening on (http:\/\/\S+) \(region ([a-z0-9-]+)\)\./);
      endpoint = listening!;
      await server.waitFor(/aws ssm describe-patch-baselines --profile patchline --endpoint-url \S+\n/);
    });
    after(async () => {
      server?.kill();
      others.forEach((o) => o.kill());
      await dropDatabase?.();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('the first start prints the created admin key and the aws configure lines', () => {
      assert.equal(endpoint, `http://${host}:${port}`, 'PATCHLINE_HOST and PATCHLINE_PORT are honoured');
      assert.match(server.stdout, new RegExp(`listening on http://${host.replace(/\./g, '\\.')}:${port} \\(region ${region}\\)`));
      const id = /aws configure set aws_access_key_id (\S+) --profile patchline/.exec(server.stdout);
      const secret = /aws configure set aws_secret_access_key (\S+) --profile patchline/.exec(server.stdout);
      assert.ok(id && secret, `banner lacks the aws configure lines:\n${server.stdout}`);
      assert.match(server.stdout, new RegExp(`aws configure set region ${region} --profile patchline`));
      assert.match(server.stdout, new RegExp(`export AWS_ACCESS_KEY_ID=${id[1]}\\n`));
      assert.match(server.stdout, new RegExp(`export AWS_SECRET_ACCESS_KEY=${secret[1]!.replace(/[+/]/g, '\\$&')}\\n`));
      assert.ok(server.stdout.includes(join(dataDir, 'admin-credentials')), 'the banner names the credentials file');
      key = { accessKeyId: id[1]!, secretAccessKey: secret[1]! };
      assert.match(key.accessKeyId, /^[A-Z0-9]{16,128}$/);
      assert.ok(key.secretAccessKey.length >= 30);
    });

    test('admin-credentials and master.key are 0600, the data directory 0700', () => {
      const mode = (p: string) => statSync(p).mode & 0o777;
      assert.equal(mode(dataDir).toString(8), '700');
      assert.equal(mode(join(dataDir, 'admin-credentials')).toString(8), '600');
      assert.equal(mode(join(dataDir, 'master.key')).toString(8), '600');
      const file = readFileSync(join(dataDir, 'admin-credentials'), 'utf8');
      assert.match(file, /^\[patchline\]$/m);
      assert.match(file, new RegExp(`^aws_access_key_id = ${key.accessKeyId}$`, 'm'));
      assert.ok(file.includes(`aws_secret_access_key = ${key.secretAccessKey}\n`));
    });

    test('PATCHLINE_REGION shows in the ARNs of AWS-provided baselines', async () => {
      const ssm = new SSMClient({ endpoint, region, credentials: key, maxAttempts: 1 });
      try {
        const r = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'AMAZON_LINUX_2' }));
        assert.match(r.BaselineId!, /^arn:aws:ssm:eu-west-3:\d{12}:patchbaseline\/pb-[0-9a-f]{17}$/);
        const all = await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'OWNER', Values: ['AWS'] }] }));
        assert.equal(all.BaselineIdentities!.length, 17);
        assert.ok(all.BaselineIdentities!.every((b) => b.BaselineId!.startsWith('arn:aws:ssm:eu-west-3:')));
      } finally {
        ssm.destroy();
      }
    });

    test('the AWS CLI creates, lists, updates, registers, tags, deregisters and deletes a baseline', { skip: awsCliMissing }, async () => {
      const rules = JSON.stringify({ PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] }, ApproveAfterDays: 7 }] });
      const created = await awsOk('create-patch-baseline', '--name', 'cli-baseline', '--operating-system', 'AMAZON_LINUX_2', '--approval-rules', rules, '--description', 'made by the AWS CLI');
      const id = created.BaselineId as string;
      assert.match(id, /^pb-[0-9a-f]{17}$/);

      const own = await awsOk('describe-patch-baselines', '--filters', JSON.stringify([{ Key: 'OWNER', Values: ['Self'] }]));
      assert.deepEqual(own.BaselineIdentities.map((b: { BaselineId: string }) => b.BaselineId), [id]);
      // The CLI's own pagination (MaxResults 5, following NextToken) collects all 17 AWS baselines.
      const paged = await awsOk('describe-patch-baselines', '--filters', JSON.stringify([{ Key: 'OWNER', Values: ['AWS'] }]), '--page-size', '5');
      assert.equal(paged.BaselineIdentities.length, 17);
      assert.ok(paged.BaselineIdentities.every((b: { BaselineId: string }) => b.BaselineId.startsWith(`arn:aws:ssm:${region}:`)));

      const updated = await awsOk('update-patch-baseline', '--baseline-id', id, '--description', 'updated by the AWS CLI');
      assert.equal(updated.Description, 'updated by the AWS CLI');
      assert.equal(updated.ApprovalRules.PatchRules[0].ApproveAfterDays, 7);
      assert.ok(cliTime(updated.ModifiedDate) > cliTime(updated.CreatedDate));

      const registered = await awsOk('register-patch-baseline-for-patch-group', '--baseline-id', id, '--patch-group', 'web servers');
      assert.deepEqual(registered, { BaselineId: id, PatchGroup: 'web servers' });
      const resolved = await awsOk('get-patch-baseline-for-patch-group', '--patch-group', 'web servers', '--operating-system', 'AMAZON_LINUX_2');
      assert.equal(resolved.BaselineId, id);

      await awsOk('add-tags-to-resource', '--resource-type', 'PatchBaseline', '--resource-id', id, '--tags', JSON.stringify([{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'web ops' }]));
      const tags = await awsOk('list-tags-for-resource', '--resource-type', 'PatchBaseline', '--resource-id', id);
      assert.deepEqual(tags.TagList, [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'web ops' }]);

      const got = await awsOk('get-patch-baseline', '--baseline-id', id);
      assert.equal(got.Name, 'cli-baseline');
      assert.equal(got.Description, 'updated by the AWS CLI');
      assert.deepEqual(got.PatchGroups, ['web servers']);
      assert.ok(Math.abs(cliTime(got.CreatedDate) - Date.now()) < 5 * 60_000);

      const inUse = await aws('delete-patch-baseline', '--baseline-id', id);
      assert.notEqual(inUse.code, 0);
      assert.match(inUse.stderr, /ResourceInUseException/);

      const deregistered = await awsOk('deregister-patch-baseline-for-patch-group', '--baseline-id', id, '--patch-group', 'web servers');
      assert.deepEqual(deregistered, { BaselineId: id, PatchGroup: 'web servers' });
      const deleted = await awsOk('delete-patch-baseline', '--baseline-id', id);
      assert.equal(deleted.BaselineId, id);
      const gone = await aws('get-patch-baseline', '--baseline-id', id);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /DoesNotExistException/);
    });

    test('boto3 creates and reads a baseline', { skip: boto3Missing }, async () => {
      const r = await run(PYTHON, ['-c', BOTO3_SCRIPT, endpoint, region], cleanEnv({
        AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'admin-credentials'),
        AWS_PROFILE: 'patchline',
        AWS_CONFIG_FILE: join(dataDir, 'no-aws-config'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_MAX_ATTEMPTS: '1',
      }));
      assert.equal(r.code, 0, r.stderr);
      const out = r.json;
      assert.match(out.id, /^pb-[0-9a-f]{17}$/);
      assert.equal(out.name, 'boto3-baseline');
      assert.equal(out.os, 'UBUNTU');
      assert.equal(out.description, 'made by boto3');
      assert.deepEqual(out.rules, { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['Required', 'Important'] }] }, ComplianceLevel: 'UNSPECIFIED', EnableNonSecurity: false }] });
      assert.deepEqual(out.patchGroups, []);
      assert.ok(Math.abs(out.created * 1000 - Date.now()) < 5 * 60_000, 'boto3 parsed CreatedDate');
      assert.deepEqual(out.tags, [{ Key: 'made-by', Value: 'boto3' }]);
      assert.equal(out.missing, 'DoesNotExistException');
    });

    test('SIGTERM makes the server exit 0 promptly', async () => {
      const { code, signal, ms } = await server.stop('SIGTERM');
      assert.equal(signal, null, 'exited by itself, not killed by the signal');
      assert.equal(code, 0, server.stderr);
      assert.ok(ms < 5000, `took ${ms} ms`);
    });

    test('a second start keeps the admin key and does not print the secret', async () => {
      const credentialsBefore = readFileSync(join(dataDir, 'admin-credentials'), 'utf8');
      const masterBefore = readFileSync(join(dataDir, 'master.key'), 'utf8');
      const otherHost = (await canBind('127.0.0.2')) ? '127.0.0.2' : host;
      const otherPort = await freePort(otherHost);
      const again = new ServerProcess({ PATCHLINE_HOST: otherHost, PATCHLINE_PORT: String(otherPort), PATCHLINE_DATA_DIR: dataDir, PATCHLINE_REGION: 'ap-southeast-2', ...databaseEnv });
      others.push(again);
      const [, otherEndpoint] = await again.waitFor(/Patchline is listening on (http:\/\/\S+) \(region ap-southeast-2\)\./);
      await again.waitFor(/Admin key: see .*admin-credentials/);
      assert.equal(otherEndpoint, `http://${otherHost}:${otherPort}`);
      assert.ok(!again.output.includes(key.secretAccessKey), 'the secret is not printed again');
      assert.doesNotMatch(again.output, /aws configure set aws_secret_access_key|export AWS_SECRET_ACCESS_KEY|admin access key was created/);
      assert.equal(readFileSync(join(dataDir, 'admin-credentials'), 'utf8'), credentialsBefore, 'no new key written');
      assert.equal(readFileSync(join(dataDir, 'master.key'), 'utf8'), masterBefore);

      const ssm = new SSMClient({ endpoint: otherEndpoint, region: 'ap-southeast-2', credentials: key, maxAttempts: 1 });
      try {
        const r = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }));
        assert.match(r.BaselineId!, /^arn:aws:ssm:ap-southeast-2:\d{12}:patchbaseline\//, 'the first key still works; the new region shows');
        const own = await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'OWNER', Values: ['Self'] }] }));
        // The AWS CLI's baseline was deleted; boto3's remains.
        const expected = boto3Missing ? [] : ['boto3-baseline'];
        assert.deepEqual(own.BaselineIdentities!.map((b) => b.BaselineName), expected, 'the data survived the restart');
      } finally {
        ssm.destroy();
      }
      if (otherHost !== host) {
        const elsewhere = new SSMClient({ endpoint: `http://${host}:${otherPort}`, region: 'ap-southeast-2', credentials: key, maxAttempts: 1 });
        try {
          await assert.rejects(elsewhere.send(new GetDefaultPatchBaselineCommand({})), /ECONNREFUSED/, 'listens on PATCHLINE_HOST only');
        } finally {
          elsewhere.destroy();
        }
      }
      const { code, ms } = await again.stop('SIGTERM');
      assert.equal(code, 0, again.stderr);
      assert.ok(ms < 5000, `took ${ms} ms`);
    });
  });
}
