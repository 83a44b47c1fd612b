// Bad server answers and lost servers: the agent talks to the real server through a proxy the test controls,
// which can pass requests on, answer HTML, answer 500, hold the request forever, reset the connection, or cut
// the answer after the server has applied the report. In every case the agent says what happened and keeps the
// report in its outbox; a later run sends it (oldest first, superseded scans dropped). A full disk in the state
// directory is a real ENOSPC: the state directory sits on a 256 KiB tmpfs (a loop-mounted ext2 image when tmpfs
// cannot be mounted) that the test fills; nothing already queued is lost or torn. The scans run on a small
// isolated apt root so they take well under a second.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancePatchStatesCommand } from '@aws-sdk/client-ssm';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { agent, registerNode } from './helpers.ts';
import { buildAptRoot, hasDebTools } from './apt-root.ts';

type Mode = 'up' | 'html' | '500' | 'slow' | 'reset' | 'cut';

class Proxy {
  mode: Mode = 'up';
  requests = 0;
  readonly server: Server;
  readonly held: ServerResponse[] = [];
  constructor(readonly target: string) {
    this.server = createServer((req, res) => this.#handle(req, res));
  }
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async close() {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  #handle(req: IncomingMessage, res: ServerResponse) {
    this.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      switch (this.mode) {
        case 'html': res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>'); return;
        case '500': res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalServerError' }).end('{"__type":"InternalServerError","message":"database is on fire"}'); return;
        case 'slow': this.held.push(res); return;
        case 'reset': req.socket.destroy(); return;
        default: break;
      }
      const up = new URL(this.target);
      const fwd = request({ hostname: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        if (this.mode === 'cut') {
          // The server has applied the report; the answer never reaches the agent.
          res.writeHead(answer.statusCode ?? 200, answer.headers);
          res.write('{"InstancePatchSta');
          setTimeout(() => res.socket?.destroy(), 10);
          answer.resume();
          return;
        }
        res.writeHead(answer.statusCode ?? 200, answer.headers);
        answer.pipe(res);
      });
      fwd.end(Buffer.concat(chunks));
    });
  }
}

const canMountTmpfs = (() => {
  if (process.getuid?.() !== 0) return false;
  const d = mkdtempSync(join(tmpdir(), 'patchline-mnt-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]).status === 0;
  if (ok) spawnSync('umount', [d]);
  rmSync(d, { recursive: true, force: true });
  return ok;
})();

const skip = hasDebTools && process.getuid?.() === 0 ? false : 'needs root, dpkg-deb, dpkg-scanpackages and apt-get';

describe('agent against bad and vanishing servers', { skip }, () => {
  let server: TestServer;
  let proxy: Proxy;
  let endpoint: string;
  let root: string;
  before(async () => {
    server = await startTestServer({ engine: 'sqlite' });
    proxy = new Proxy(server.endpoint);
    endpoint = await proxy.start();
    root = buildAptRoot([{ name: 'plres', version: '1.0' }], [{ name: 'plres', version: '1.1' }]);
  });
  after(async () => {
    await proxy.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  const outbox = (stateDir: string) => readdirSync(join(stateDir, 'outbox')).filter((f) => f.endsWith('.json')).sort();

  test('HTML, 500, a silent server, a reset and a cut answer: each explained, the report kept; a later run sends it', { timeout: 60_000 }, async () => {
    const ssm = server.client();
    proxy.mode = 'up';
    const { stateDir, instanceId } = await registerNode(ssm, endpoint);
    const scan = (...extra: string[]) => agent(['scan', '--root', root, '--state-dir', stateDir, '--json', ...extra]);

    proxy.mode = 'html';
    let r = await scan();
    assert.equal(r.code, 3);
    assert.match(r.stderr + r.json.sendError, /not a JSON object.*Welcome to nginx/);
    assert.equal(outbox(stateDir).length, 1);

    proxy.mode = '500';
    const before500 = proxy.requests;
    r = await scan();
    assert.equal(r.code, 3);
    assert.match(r.json.sendError, /InternalServerError: database is on fire/);
    assert.equal(proxy.requests - before500, 4, 'a 5xx answer is retried (4 attempts in all)');
    assert.equal(outbox(stateDir).length, 1, 'the newer scan superseded the older queued one');

    proxy.mode = 'slow';
    r = await scan('--timeout', '1');
    assert.equal(r.code, 3);
    assert.match(r.json.sendError, /did not answer within 1 s/);

    proxy.mode = 'reset';
    r = await scan();
    assert.equal(r.code, 3);
    assert.match(r.json.sendError, /reset|hang up|closed/i);

    proxy.mode = 'cut';
    r = await scan();
    assert.equal(r.code, 3);
    assert.match(r.json.sendError, /closed before the answer was complete|reset|hang up|JSON/i);
    const queued = outbox(stateDir);
    assert.equal(queued.length, 1);
    const kept = JSON.parse(readFileSync(join(stateDir, 'outbox', queued[0]!), 'utf8'));
    assert.equal(kept.InstanceId, instanceId);
    assert.equal(kept.Operation, 'Scan');

    // The status command tells the story.
    const st = await agent(['status', '--state-dir', stateDir, '--json']);
    assert.equal(st.json.outbox.length, 1);
    assert.match(st.json.lastError.message, /closed before|reset|hang up|JSON/i);

    // The server is back: `run` retries with back-off and empties the outbox.
    proxy.mode = 'reset';
    const controller = new AbortController();
    const running = agent(['run', '--root', root, '--state-dir', stateDir, '--interval', '4s', '--jitter', '0'], { signal: controller.signal });
    await new Promise((res) => setTimeout(res, 800));
    proxy.mode = 'up';
    for (let i = 0; i < 100 && outbox(stateDir).length > 0; i++) await new Promise((res) => setTimeout(res, 100));
    controller.abort();
    const done = await running;
    assert.equal(done.code, 0);
    assert.deepEqual(outbox(stateDir), [], 'everything queued was sent');
    assert.match(done.stdout, /wait in the outbox[\s\S]*Sent 1 queued report/);
    const state = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [instanceId] }))).InstancePatchStates![0]!;
    assert.equal(state.MissingCount, 1);
    assert.ok(state.OperationEndTime!.getTime() >= kept.OperationEndTime * 1000);
  });

  test('a full state directory: a clear error, nothing queued is lost or torn, and the report still goes out when the server is up', { skip: canMountTmpfs ? false : 'cannot mount a size-limited tmpfs here', timeout: 60_000 }, async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'patchline-fullfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt]);
    try {
      const stateDir = join(mnt, 'state');
      mkdirSync(stateDir, { mode: 0o700 });
      const ssm = server.client();
      proxy.mode = 'up';
      const { instanceId } = await registerNode(ssm, endpoint, stateDir);
      const scan = () => agent(['scan', '--root', root, '--state-dir', stateDir, '--json']);
      assert.equal((await scan()).code, 0);

      proxy.mode = 'reset';
      assert.equal((await scan()).code, 3);
      const [queuedFile] = outbox(stateDir);
      const queuedBytes = readFileSync(join(stateDir, 'outbox', queuedFile!));
      const statusBytes = readFileSync(join(stateDir, 'status.json'));

      // Fill the file system to the last byte (again before each step: a failed write may free what it had).
      const fill = () => {
        const fd = openSync(join(mnt, 'filler'), 'a');
        try {
          for (const size of [65536, 4096, 1]) {
            try { for (;;) writeSync(fd, Buffer.alloc(size, 1)); } catch (err) { assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC'); }
          }
        } finally {
          closeSync(fd);
        }
      };
      fill();

      let r = await scan();
      assert.equal(r.code, 6);
      assert.match(r.stderr, /could not be sent .* and could not be saved .*full \(ENOSPC\).*Reports queued earlier are intact/s);
      assert.deepEqual(outbox(stateDir), [queuedFile], 'no torn or partial file in the outbox');
      assert.deepEqual(readFileSync(join(stateDir, 'outbox', queuedFile!)), queuedBytes);
      assert.deepEqual(readFileSync(join(stateDir, 'status.json')), statusBytes);
      assert.deepEqual(readdirSync(join(stateDir, 'outbox')).filter((f) => f.includes('.tmp-')), [], 'no temporary files left behind');

      // The server is back but the disk is still full: the queued report and the new one are both delivered.
      proxy.mode = 'up';
      fill();
      r = await scan();
      assert.equal(r.code, 6, 'the state directory problem is still an error');
      assert.equal(r.json.sent, 2);
      assert.match(r.stderr, /full \(ENOSPC\).*sent directly/s);
      assert.deepEqual(outbox(stateDir), []);
      const state = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [instanceId] }))).InstancePatchStates![0]!;
      assert.equal(state.MissingCount, 1);

      rmSync(join(mnt, 'filler'));
      r = await scan();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')).lastSent !== undefined, true);
    } finally {
      const u = spawnSync('umount', [mnt], { encoding: 'utf8' });
      if (u.status === 0) rmSync(mnt, { recursive: true, force: true });
      else process.stderr.write(`umount ${mnt}: ${u.stderr}\n`);
    }
  });
});
