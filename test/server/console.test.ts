// The web console's server side (docs/console.md) on a real server, on every store engine: sign-in by a request
// signed in the browser, the session cookie and its flags, POST /console/api through the same pipeline as POST /
// (401 without a live session, 403 for a wrong CSRF token or a foreign Origin, expiry after 30 idle minutes and 8
// hours with an injected clock, sign-out), who may sign in, the static files (content types, caching, security
// headers, traversal attempts), and the page shown when the console is not built.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CreateActivationCommand, GetDefaultPatchBaselineCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { callPatchline } from '../helpers/fleet.ts';
import { browserHeaders, browserSignIn, consoleCall, consoleOk, exportCsv, send, signIn, type ConsoleSession } from '../helpers/console.ts';
import { SESSION_IDLE_MS, SESSION_LIFETIME_MS } from '../../src/auth/console-sessions.ts';

const MINUTE = 60_000;
const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/console/assets/main-AB3DE7FG.js"></script></head><body></body></html>';
const MAIN_JS = 'console.log("patchline console");\n';
const STYLE_CSS = 'body { color: #222; }\n';
const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg"></svg>';

/** A built console: index.html, hashed and unhashed assets, a file beside assets/ and a symlink leading out. */
function consoleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-console-'));
  mkdirSync(join(dir, 'assets', 'icons'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), INDEX_HTML);
  writeFileSync(join(dir, 'assets', 'main-AB3DE7FG.js'), MAIN_JS);
  writeFileSync(join(dir, 'assets', 'style.css'), STYLE_CSS);
  writeFileSync(join(dir, 'assets', 'icons', 'favicon-0a1b2c3d4e.svg'), ICON_SVG);
  writeFileSync(join(dir, 'assets', '.env'), 'SECRET=1');
  writeFileSync(join(dir, 'secret.txt'), 'outside assets');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'assets', 'link.txt'));
  return dir;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function assertSecurityHeaders(headers: Record<string, unknown>, what: string): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(headers[k], v, `${what}: ${k}`);
  const csp = String(headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'self'/, `${what}: CSP`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no inline script`);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: no framing`);
}

function assertError(res: { status: number; json: any; headers: Record<string, unknown> }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json?.__type, code);
  assert.equal(res.headers['x-amzn-errortype'], code);
  assert.match(String(res.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
}

for (const { engine, skip } of engines()) {
  describe(`web console: sessions and static files (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let dir: string;
    const realNow = () => Date.now();

    before(async () => {
      dir = consoleDir();
      server = await startTestServer({ engine, env: { PATCHLINE_CONSOLE_DIR: dir } });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('sign-in signed in the browser sets an HttpOnly, SameSite=Strict session cookie and answers a CSRF token', async () => {
      const res = await browserSignIn(server.endpoint, TEST_ADMIN);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.setCookie.length, 1);
      const cookie = res.setCookie[0]!;
      const parts = cookie.split(';').map((p) => p.trim());
      assert.match(parts[0]!, /^patchline_session=[A-Za-z0-9_-]{43}$/, '256-bit random token');
      assert.ok(parts.includes('HttpOnly'));
      assert.ok(parts.includes('SameSite=Strict'));
      assert.ok(parts.includes('Path=/'));
      assert.ok(parts.includes(`Max-Age=${SESSION_LIFETIME_MS / 1000}`));
      assert.ok(!parts.includes('Secure'), 'plain HTTP: no Secure flag');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(Object.keys(res.json).sort(), ['AccessKeyId', 'CsrfToken', 'Expires']);
      assert.equal(res.json.AccessKeyId, TEST_ADMIN.accessKeyId);
      assert.match(res.json.CsrfToken, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(Math.abs(res.json.Expires - (Date.now() + SESSION_LIFETIME_MS) / 1000) < 60);
      assert.ok(!res.text.includes(TEST_ADMIN.secretAccessKey));
      // The database holds hashes only.
      const rows = await server.app.store.db.selectFrom('console_sessions').selectAll().execute();
      const token = parts[0]!.split('=')[1]!;
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => r.token_hash !== token && r.csrf_hash !== res.json.CsrfToken));
    });

    test('behind a TLS terminator the cookie is Secure', async () => {
      const res = await browserSignIn(server.endpoint, TEST_ADMIN, { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.setCookie[0]!.split(';').map((p) => p.trim()).includes('Secure'));
    });

    test('a session calls AWS and Patchline operations through POST /console/api', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const viaApi = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'UBUNTU' }));
      const viaConsole = await consoleCall(server.endpoint, session, 'GetDefaultPatchBaseline', { OperatingSystem: 'UBUNTU' });
      assert.equal(viaConsole.status, 200, viaConsole.text);
      assert.equal(viaConsole.json.BaselineId, viaApi.BaselineId);
      assertSecurityHeaders(viaConsole.headers, 'console API');
      assert.match(String(viaConsole.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
      const summary = await consoleOk(server.endpoint, session, 'Patchline.GetFleetSummary', {});
      assert.equal(typeof summary.Nodes, 'number');
      const baselines = await consoleOk(server.endpoint, session, 'DescribePatchBaselines', { MaxResults: 10 });
      assert.ok(Array.isArray(baselines.BaselineIdentities));
    });

    test('the console API runs the same pipeline: content type, target, JSON, validation, errors with request ids', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      assertError(await consoleCall(server.endpoint, session, 'GetDefaultPatchBaseline', '{not json'), 400, 'SerializationException');
      assertError(await consoleCall(server.endpoint, session, 'Patchline.NoSuchThing', {}), 400, 'UnknownOperationException');
      assertError(await consoleCall(server.endpoint, session, 'SendCommand', {}), 400, 'UnsupportedOperationException');
      assertError(await consoleCall(server.endpoint, session, 'GetDefaultPatchBaseline', { OperatingSystem: 'BEOS' }), 400, 'ValidationException');
      assertError(await consoleCall(server.endpoint, session, 'GetDefaultPatchBaseline', {}, { 'content-type': 'text/plain' }), 415, 'UnsupportedMediaTypeException');
      const big = await consoleCall(server.endpoint, session, 'GetDefaultPatchBaseline', JSON.stringify({ pad: 'x'.repeat(server.config.maxBodyBytes) }));
      assertError(big, 413, 'RequestEntityTooLargeException');
      assertError(await consoleCall(server.endpoint, session, 'Patchline.ListNodes', { MaxResults: 500 }), 400, 'ValidationException');
    });

    test('without a session cookie → 401 MissingAuthenticationTokenException', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const res = await consoleCall(server.endpoint, { csrf: session.csrf }, 'Patchline.GetFleetSummary');
      assertError(res, 401, 'MissingAuthenticationTokenException');
      assertSecurityHeaders(res.headers, '401');
      assertError(await consoleCall(server.endpoint, { cookie: 'patchline_session=forged-token', csrf: session.csrf }, 'Patchline.GetFleetSummary'), 401, 'MissingAuthenticationTokenException');
      // The cookie alone is no SigV4 signature: POST / still wants one.
      const api = await send(server.endpoint, { method: 'POST', path: '/', headers: { cookie: session.cookie, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Patchline.GetFleetSummary' }, body: '{}' });
      assertError(api, 400, 'MissingAuthenticationTokenException');
    });

    test('a wrong or missing CSRF token → 403 AccessDeniedException', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const other = await signIn(server.endpoint, TEST_ADMIN);
      assertError(await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary', {}, {}, null), 403, 'AccessDeniedException');
      assertError(await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary', {}, {}, 'x'.repeat(43)), 403, 'AccessDeniedException');
      assertError(await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary', {}, {}, other.csrf), 403, 'AccessDeniedException');
      assert.equal((await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary')).status, 200);
    });

    test('a foreign Origin → 403 AccessDeniedException, even with a valid cookie and CSRF token', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      for (const origin of ['https://evil.example', 'null', server.endpoint.replace('127.0.0.1', 'localhost'), `${server.endpoint}.evil.example`]) {
        assertError(await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary', {}, { origin }), 403, 'AccessDeniedException');
      }
      assertError(await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary', {}, { 'sec-fetch-site': 'cross-site' }), 403, 'AccessDeniedException');
      // Without an Origin header (a client that is no browser) the cookie and the CSRF token decide.
      const { origin: _o, ...noOrigin } = browserHeaders(server.endpoint);
      const call = (headers: Record<string, string>) => send(server.endpoint, {
        method: 'POST', path: '/console/api', body: '{}',
        headers: { ...noOrigin, ...headers, cookie: session.cookie, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Patchline.GetFleetSummary' },
      });
      assert.equal((await call({ 'x-csrf-token': session.csrf })).status, 200);
      assertError(await call({}), 403, 'AccessDeniedException');
      assertError(await call({ 'x-csrf-token': session.csrf, origin: '' }), 403, 'AccessDeniedException');
    });

    test('GetConsoleSession hands a reloaded page the session and its CSRF token (no X-CSRF-Token needed)', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const resumed = await consoleCall(server.endpoint, { cookie: session.cookie }, 'Patchline.GetConsoleSession');
      assert.equal(resumed.status, 200, resumed.text);
      assert.equal(resumed.json.CsrfToken, session.csrf, 'the same token for every tab');
      assert.equal(resumed.json.AccessKeyId, TEST_ADMIN.accessKeyId);
      assertError(await consoleCall(server.endpoint, undefined, 'Patchline.GetConsoleSession'), 401, 'MissingAuthenticationTokenException');
      assertError(await consoleCall(server.endpoint, { cookie: session.cookie }, 'Patchline.GetConsoleSession', {}, { origin: 'https://evil.example' }), 403, 'AccessDeniedException');
    });

    test('sessions end after 30 idle minutes and after 8 hours however busy (injected clock)', async (t) => {
      t.after(() => {
        server.app.sessions.now = realNow;
      });
      let now = Date.now();
      server.app.sessions.now = () => now;
      const idle = await signIn(server.endpoint, TEST_ADMIN);
      now += SESSION_IDLE_MS - MINUTE;
      assert.equal((await consoleCall(server.endpoint, idle, 'Patchline.GetFleetSummary')).status, 200, 'used just before the idle limit');
      now += SESSION_IDLE_MS - MINUTE;
      assert.equal((await consoleCall(server.endpoint, idle, 'Patchline.GetFleetSummary')).status, 200, 'each use restarts the idle time');
      now += SESSION_IDLE_MS + 1;
      assertError(await consoleCall(server.endpoint, idle, 'Patchline.GetFleetSummary'), 401, 'MissingAuthenticationTokenException');

      const busy = await signIn(server.endpoint, TEST_ADMIN);
      const start = now;
      while (now + 20 * MINUTE < start + SESSION_LIFETIME_MS) {
        now += 20 * MINUTE;
        assert.equal((await consoleCall(server.endpoint, busy, 'Patchline.GetFleetSummary')).status, 200, `active at +${(now - start) / MINUTE} min`);
      }
      now = start + SESSION_LIFETIME_MS;
      assertError(await consoleCall(server.endpoint, busy, 'Patchline.GetFleetSummary'), 401, 'MissingAuthenticationTokenException');
      assertError(await consoleCall(server.endpoint, { cookie: busy.cookie }, 'Patchline.GetConsoleSession'), 401, 'MissingAuthenticationTokenException');

      // The pruning job deletes what has expired and keeps the rest.
      const fresh = await signIn(server.endpoint, TEST_ADMIN);
      const stale = await signIn(server.endpoint, TEST_ADMIN);
      const staleHash = createHash('sha256').update(stale.cookie.split('=')[1]!).digest('hex');
      await server.app.store.db.updateTable('console_sessions').set({ last_used_at: now - SESSION_IDLE_MS - 1 }).where('token_hash', '=', staleHash).execute();
      assert.ok((await server.app.sessions.prune(now)) >= 1);
      const left = await server.app.store.db.selectFrom('console_sessions').select('token_hash').execute();
      assert.ok(!left.some((r) => r.token_hash === staleHash), 'the idle session is pruned');
      assert.equal((await consoleCall(server.endpoint, fresh, 'Patchline.GetFleetSummary')).status, 200);
      assertError(await consoleCall(server.endpoint, stale, 'Patchline.GetFleetSummary'), 401, 'MissingAuthenticationTokenException');
    });

    test('DeleteConsoleSession signs out: the cookie is cleared and the session no longer works', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const other = await signIn(server.endpoint, TEST_ADMIN);
      const res = await consoleCall(server.endpoint, session, 'Patchline.DeleteConsoleSession');
      assert.equal(res.status, 200, res.text);
      assert.match(res.setCookie[0]!, /^patchline_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0/);
      assertError(await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary'), 401, 'MissingAuthenticationTokenException');
      assert.equal((await consoleCall(server.endpoint, other, 'Patchline.GetFleetSummary')).status, 200, 'other sessions go on');
      assertError(await consoleCall(server.endpoint, session, 'Patchline.DeleteConsoleSession'), 401, 'MissingAuthenticationTokenException');
    });

    test('only admin keys sign in, and only with a signature: node keys, activations and sessions → AccessDeniedException', async () => {
      const activation = await ssm.send(new CreateActivationCommand({ IamRole: 'SSMServiceRole', RegistrationLimit: 2 }));
      const activationKey = { accessKeyId: activation.ActivationId!, secretAccessKey: activation.ActivationCode! };
      const registered = await callPatchline(server.endpoint, activationKey, 'RegisterManagedInstance', { ComputerName: 'web-1' });
      const nodeKey = { accessKeyId: registered.AccessKeyId, secretAccessKey: registered.SecretAccessKey };
      for (const key of [nodeKey, activationKey]) {
        const res = await browserSignIn(server.endpoint, key);
        assertError(res, 400, 'AccessDeniedException');
        assert.deepEqual(res.setCookie, []);
      }
      const wrongSecret = await browserSignIn(server.endpoint, { ...TEST_ADMIN, secretAccessKey: 'not-the-secret-0123456789abcdefghijklmn' });
      assertError(wrongSecret, 400, 'InvalidSignatureException');
      assert.deepEqual(wrongSecret.setCookie, []);
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const fromSession = await consoleCall(server.endpoint, session, 'Patchline.CreateConsoleSession');
      assertError(fromSession, 400, 'AccessDeniedException');
      assert.deepEqual(fromSession.setCookie, []);
    });

    test('GET / serves index.html and /console/assets/* the built files, with content types, caching and security headers', async () => {
      const index = await send(server.endpoint, { path: '/' });
      assert.equal(index.status, 200);
      assert.equal(index.text, INDEX_HTML);
      assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(index.headers['cache-control'], 'no-cache');
      assertSecurityHeaders(index.headers, 'index.html');
      const etag = String(index.headers.etag);
      assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
      const again = await send(server.endpoint, { path: '/', headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.text, '');
      const head = await send(server.endpoint, { method: 'HEAD', path: '/' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(Buffer.byteLength(INDEX_HTML)));
      assert.equal(head.text, '');

      const cases: Array<[string, string, string, string]> = [
        ['/console/assets/main-AB3DE7FG.js', MAIN_JS, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
        ['/console/assets/style.css', STYLE_CSS, 'text/css; charset=utf-8', 'no-cache'],
        ['/console/assets/icons/favicon-0a1b2c3d4e.svg', ICON_SVG, 'image/svg+xml', 'public, max-age=31536000, immutable'],
      ];
      for (const [path, body, type, cache] of cases) {
        const res = await send(server.endpoint, { path });
        assert.equal(res.status, 200, path);
        assert.equal(res.text, body, path);
        assert.equal(res.headers['content-type'], type, path);
        assert.equal(res.headers['cache-control'], cache, path);
        assert.ok(res.headers.etag, path);
        assertSecurityHeaders(res.headers, path);
      }
      assert.equal((await send(server.endpoint, { path: '/console/assets/main-AB3DE7FG.js?v=1' })).status, 200, 'a query string is ignored');
    });

    test('static paths cannot leave assets/: traversal, encoded dots and separators, dot files and symlinks → 404', async () => {
      const attempts = [
        '/console/assets/../../package.json',
        '/console/assets/../index.html',
        '/console/assets/%2e%2e/%2e%2e/package.json',
        '/console/assets/%2E%2E/secret.txt',
        '/console/assets/..%2f..%2fpackage.json',
        '/console/assets/%2e%2e%2fsecret.txt',
        '/console/assets/icons/../../secret.txt',
        '/console/assets/icons/%2e%2e/%2e%2e/secret.txt',
        '/console/assets/..%5c..%5cpackage.json',
        '/console/assets/.env',
        '/console/assets/%2eenv',
        '/console/assets/link.txt',
        '/console/assets/main-AB3DE7FG.js%00.png',
        '/console/assets/%ff%fe',
        '/console/assets/',
        '/console/assets/icons',
        '/console/assets//etc/passwd',
        '/console/assets/' + encodeURIComponent('/etc/passwd'),
        '/console/secret.txt',
        '/console/index.html',
        '/index.html',
        '/secret.txt',
      ];
      const secrets = [readFileSync(new URL('../../package.json', import.meta.url), 'utf8').slice(0, 40), 'outside assets', 'SECRET=1', 'root:'];
      for (const path of attempts) {
        const res = await send(server.endpoint, { path });
        assert.equal(res.status, 404, `${path}: ${res.status} ${res.text.slice(0, 80)}`);
        for (const s of secrets) assert.ok(!res.text.includes(s), `${path} leaks ${s}`);
      }
    });

    test('static files hold no data and answer only GET and HEAD', async () => {
      const session = await signIn(server.endpoint, TEST_ADMIN);
      const withCookie = await send(server.endpoint, { path: '/', headers: { cookie: session.cookie } });
      assert.equal(withCookie.text, INDEX_HTML, 'the same bytes with or without a session');
      assert.deepEqual(withCookie.setCookie, []);
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const res = await send(server.endpoint, { method, path: '/console/assets/style.css', body: '{}', headers: { 'content-type': 'application/json' } });
        assertError(res, 405, 'MethodNotAllowedException');
        assert.equal(res.headers.allow, 'GET, HEAD');
      }
      assertError(await send(server.endpoint, { method: 'GET', path: '/console/api' }), 405, 'MethodNotAllowedException');
      assertError(await send(server.endpoint, { method: 'POST', path: '/console/export.csv', body: '' }), 405, 'MethodNotAllowedException');
      for (const path of ['/', '/index.html']) {
        const res = await send(server.endpoint, { method: 'PUT', path, body: '{}' });
        assert.equal(res.status, 404, path);
      }
    });

    test('the CSV export needs a live session and refuses cross-site requests', async () => {
      const session: ConsoleSession = await signIn(server.endpoint, TEST_ADMIN);
      assertError(await exportCsv(server.endpoint, undefined, 'Patchline.ListNodes', {}), 401, 'MissingAuthenticationTokenException');
      assertError(await exportCsv(server.endpoint, session, 'Patchline.ListNodes', {}, { 'sec-fetch-site': 'cross-site' }), 403, 'AccessDeniedException');
      assertError(await exportCsv(server.endpoint, session, 'Patchline.ListNodes', {}, { origin: 'https://evil.example' }), 403, 'AccessDeniedException');
      const ok = await exportCsv(server.endpoint, session, 'Patchline.ListNodes', {});
      assert.equal(ok.status, 200, ok.text);
      assertSecurityHeaders(ok.headers, 'export');
    });
  });

  describe(`web console not built (${engine})`, { skip }, () => {
    let server: TestServer;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'patchline-no-console-'));
      server = await startTestServer({ engine, env: { PATCHLINE_CONSOLE_DIR: join(dir, 'missing') } });
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('GET / says to run npm run build; assets are 404; the API still works', async () => {
      const res = await send(server.endpoint, { path: '/' });
      assert.equal(res.status, 503);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(res.text, /npm run build/);
      assert.ok(res.text.length < 1000);
      assertSecurityHeaders(res.headers, 'not built');
      assert.equal((await send(server.endpoint, { path: '/console/assets/main.js' })).status, 404);
      const session = await signIn(server.endpoint, TEST_ADMIN);
      assert.equal((await consoleCall(server.endpoint, session, 'Patchline.GetFleetSummary')).status, 200);
    });
  });
}
