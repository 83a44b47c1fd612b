// Installing the agent: Patchline.GetAgentInstallCommand hands out a presigned download URL of the one-file agent
// build; the file is served only with a valid, unexpired signature.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { signedRequest } from '../helpers/raw-request.ts';

let server: TestServer;
before(async () => {
  if (!existsSync('dist/patchline-agent.js')) execFileSync(process.execPath, ['scripts/build-agent.mjs'], { stdio: 'ignore' });
  server = await startTestServer({ background: false });
});
after(() => server.close());

const installCommand = (body: Record<string, string>) =>
  signedRequest(server.endpoint, { target: 'Patchline.GetAgentInstallCommand', body, credentials: TEST_ADMIN });

test('the install command downloads the agent with a presigned URL, registers and scans', async () => {
  const id = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  const r = await installCommand({ ActivationId: id, ActivationCode: 'abcdefghijklmnopqrst' });
  assert.equal(r.status, 200);
  const { DownloadUrl, InstallCommand, Expires } = r.json as { DownloadUrl: string; InstallCommand: string; Expires: number };
  assert.match(DownloadUrl, /\/agent\/patchline-agent\.js\?X-Amz-Algorithm=AWS4-HMAC-SHA256&/);
  assert.ok(InstallCommand.includes(`--activation-id '\\''${id}'\\''`), InstallCommand);
  assert.ok(InstallCommand.includes(' scan'));
  assert.ok(Math.abs(Expires - (Date.now() / 1000 + 86_400)) < 60);
  const file = await fetch(DownloadUrl);
  assert.equal(file.status, 200);
  const text = await file.text();
  assert.ok(text.startsWith('#!/usr/bin/env node'), 'the agent build is served');
});

test('the agent file is refused without a signature, with an altered one, and after expiry', async () => {
  const { DownloadUrl } = (await installCommand({})).json as { DownloadUrl: string };
  assert.equal((await fetch(`${server.endpoint}/agent/patchline-agent.js`)).status, 403);
  assert.equal((await fetch(DownloadUrl.replace(/X-Amz-Signature=(.)/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`))).status, 403);
  const clock = server.app.snapshotUrls.clock;
  server.app.snapshotUrls.clock = () => Date.now() + 25 * 3600 * 1000;
  try {
    const expired = await fetch(DownloadUrl);
    assert.equal(expired.status, 403);
    assert.match((await expired.json() as { message: string }).message, /expired/i);
  } finally {
    server.app.snapshotUrls.clock = clock;
  }
});

test('an activation id without its code is refused', async () => {
  const r = await installCommand({ ActivationId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' });
  assert.equal(r.status, 400);
  assert.equal((r.json as { __type: string }).__type, 'ValidationException');
});
