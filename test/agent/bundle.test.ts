// `npm run build:agent` → dist/patchline-agent.js: one self-contained file that needs nothing but Node.js. The
// test builds it, copies it alone to an empty directory (no node_modules, no package.json), checks that it
// requires nothing but node: built-ins (no better-sqlite3, pg, kysely…), and runs it with `node` to register
// against the real server, scan a small apt root and report.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancePatchStatesCommand } from '@aws-sdk/client-ssm';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ROOT, child, createActivation } from './helpers.ts';
import { buildAptRoot, hasDebTools } from './apt-root.ts';

describe('the built agent', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer({ engine: 'sqlite' });
    dir = mkdtempSync(join(tmpdir(), 'patchline-bundle-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('builds into one file that requires only node: built-ins, and runs alone', { timeout: 60_000 }, async () => {
    const build = await child(process.execPath, ['scripts/build-agent.mjs']);
    assert.equal(build.code, 0, build.stderr);
    const file = join(dir, 'patchline-agent.js');
    copyFileSync(join(ROOT, 'dist/patchline-agent.js'), file);
    const code = readFileSync(file, 'utf8');
    const required = [...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!))];
    assert.ok(required.length > 0);
    assert.deepEqual(required.filter((r) => !r.startsWith('node:')), [], 'only node: built-ins');
    assert.doesNotMatch(code, /better-sqlite3|kysely|from "pg"|require\("pg"\)/);
    assert.match(code, /^#!\/usr\/bin\/env node/);

    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
    const version = await child(process.execPath, [file, '--version'], { env });
    assert.equal(version.stdout.trim(), '1.0.0');

    const ssm = server.client();
    const act = await createActivation(ssm);
    const state = join(dir, 'state');
    const reg = await child(process.execPath, [file, 'register', '--endpoint', server.endpoint, '--activation-id', act.id, '--state-dir', state, '--json'], { env: { ...env, PATCHLINE_ACTIVATION_CODE: act.code } });
    assert.equal(reg.code, 0, reg.stderr);
    const instanceId = reg.json.instanceId as string;

    if (hasDebTools && process.getuid?.() === 0) {
      const root = buildAptRoot([{ name: 'plbundle', version: '1.0' }], [{ name: 'plbundle', version: '2.0' }]);
      try {
        const scan = await child(process.execPath, [file, 'scan', '--root', root, '--state-dir', state, '--json'], { env });
        assert.equal(scan.code, 0, scan.stderr);
        const s = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [instanceId] }))).InstancePatchStates![0]!;
        assert.equal(s.MissingCount, 1);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    const status = await child(process.execPath, [file, 'status', '--state-dir', state], { env });
    assert.equal(status.code, 0);
    assert.match(status.stdout, new RegExp(`Registered as ${instanceId}`));
    const bad = await child(process.execPath, [file, 'install', '--reboot-option', 'Sometimes', '--state-dir', state], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--reboot-option must be NoReboot or RebootIfNeeded/);
  });
});
