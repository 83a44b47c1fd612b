// The AWS JSON 1.1 front door, seen from outside: routes, authentication, content type, targets, JSON parsing,
// body limits, model validation wording, request ids and error bodies. Raw requests are signed with the SDK's own
// signer (test/helpers/raw-request.ts); the SDK itself is used where it can express the case.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { firstExisting } from '../helpers/reference.ts';
import { connect } from 'node:net';
import { CreatePatchBaselineCommand, DescribePatchBaselinesCommand, GetDefaultPatchBaselineCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { signedRequest, type RawResponse, type SignedRequestOptions } from '../helpers/raw-request.ts';

// The AWS model from ../shared/reference when it is there, else the subset the project derived from it and committed
// (test/generated/model-check.test.ts checks that subset against the reference wherever both exist).
const referenceModel = JSON.parse(readFileSync(firstExisting('../../../shared/reference/ssm-service-2.json', '../../src/generated/ssm-model.json'), 'utf8')) as {
  shapes: Record<string, { enum?: string[] }>;
};

/** Anything that looks like a JavaScript stack frame or a source path. */
const STACK_TRACE = /\bat [^\s]+ \(|\bat (file:|node:|\/)|\.ts:\d+:\d+|\.js:\d+:\d+|node_modules/;

function assertWellFormed(r: RawResponse): void {
  const requestId = r.headers['x-amzn-requestid'];
  assert.equal(typeof requestId, 'string', `x-amzn-RequestId missing on a ${r.status} answer: ${r.text}`);
  assert.match(requestId as string, /^[0-9a-f-]{36}$/);
  assert.doesNotMatch(r.text, STACK_TRACE, `response body carries a stack trace: ${r.text}`);
  assert.match(String(r.headers['content-type']), /^application\/x-amz-json-1\.1/, 'every answer is JSON, never HTML');
  assert.notEqual(r.json, undefined, `body is not JSON: ${r.text}`);
}

/** An error answer: status, code in both the header and `__type`, and a message. */
function assertError(r: RawResponse, status: number, code: string, message?: RegExp | string): void {
  assertWellFormed(r);
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.__type, code, r.text);
  assert.equal(r.headers['x-amzn-errortype'], code);
  assert.equal(typeof r.json.message, 'string');
  if (typeof message === 'string') assert.equal(r.json.message, message);
  else if (message) assert.match(r.json.message, message);
}

async function sdkError(promise: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number; requestId?: string }; $fault?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as never;
  }
  assert.fail('expected the call to fail');
}

for (const { engine, skip } of engines()) {
  describe(`protocol (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const send = async (options: SignedRequestOptions): Promise<RawResponse> => {
      const r = await signedRequest(server.endpoint, { credentials: TEST_ADMIN, region: server.config.region, ...options });
      assertWellFormed(r);
      return r;
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('GET /healthz answers 200 without authentication, with a request id', async () => {
      const r = await send({ method: 'GET', path: '/healthz', skipSigning: true });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: 'ok' });
      const again = await send({ method: 'GET', path: '/healthz', skipSigning: true });
      assert.notEqual(again.headers['x-amzn-requestid'], r.headers['x-amzn-requestid'], 'each request gets its own id');
    });

    test('paths other than the API, /healthz and the console answer a JSON 404, never HTML', async () => {
      // GET / serves the web console (docs/console.md; test/server/console.test.ts).
      for (const [method, path] of [['GET', '/index.html'], ['POST', '/other'], ['PUT', '/'], ['GET', '/healthz/extra'], ['DELETE', '/']] as const) {
        const r = await send({ method, path, skipSigning: true, body: method === 'GET' ? undefined : '{}' });
        assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
        assert.equal(typeof r.json.__type, 'string');
        assert.equal(r.headers['x-amzn-errortype'], r.json.__type);
        assert.doesNotMatch(r.text, /<html|<!doctype/i);
      }
    });

    test('a malformed HTTP request gets a JSON 400 with a request id', async () => {
      const { hostname, port } = new URL(server.endpoint);
      for (const raw of ['GARBAGE\r\n\r\n', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n']) {
        const answer = await new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => socket.write(raw));
          let data = '';
          socket.setEncoding('utf8').on('data', (d: string) => (data += d));
          socket.on('close', () => resolve(data));
          socket.on('error', reject);
        });
        const [head, body = ''] = answer.split('\r\n\r\n');
        const [statusLine, ...headerLines] = head!.split('\r\n');
        const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        assert.match(statusLine!, /^HTTP\/1\.1 400 /);
        assertWellFormed({ status: 400, headers, text: body, json: JSON.parse(body) });
        assert.equal(headers['content-length'], String(Buffer.byteLength(body)));
        assert.equal(headers['x-amzn-errortype'], JSON.parse(body).__type);
      }
      const health = await send({ method: 'GET', path: '/healthz', skipSigning: true });
      assert.equal(health.status, 200);
    });

    test('no Authorization → 400 MissingAuthenticationTokenException in __type and X-Amzn-ErrorType', async () => {
      const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', skipSigning: true });
      assertError(r, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    });

    test('a correctly signed raw request succeeds (the helper is a valid oracle)', async () => {
      const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', body: { OperatingSystem: 'UBUNTU' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.OperatingSystem, 'UBUNTU');
      assert.match(r.json.BaselineId, /^arn:aws:ssm:us-east-1:\d{12}:patchbaseline\/pb-[0-9a-f]{17}$/);
    });

    test('SDK with a wrong secret → InvalidSignatureException', async () => {
      const bad = server.client({ accessKeyId: TEST_ADMIN.accessKeyId, secretAccessKey: 'wrong-secret-0123456789abcdefghijklmnop' });
      const err = await sdkError(bad.send(new GetDefaultPatchBaselineCommand({})));
      assert.equal(err.name, 'InvalidSignatureException');
      assert.match(err.message, /signature we calculated does not match/);
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.match(err.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    });

    test('SDK with an unknown access key → UnrecognizedClientException', async () => {
      const unknown = server.client({ accessKeyId: 'AKPLUNKNOWNKEY000001', secretAccessKey: TEST_ADMIN.secretAccessKey });
      const err = await sdkError(unknown.send(new GetDefaultPatchBaselineCommand({})));
      assert.equal(err.name, 'UnrecognizedClientException');
      assert.match(err.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    });

    test('a raw request signed with a wrong secret is refused as well', async () => {
      const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', credentials: { ...TEST_ADMIN, secretAccessKey: 'x'.repeat(40) } });
      assertError(r, 400, 'InvalidSignatureException');
    });

    test('unknown targets → UnknownOperationException', async () => {
      for (const target of ['AmazonSSM.NoSuchOperation', 'Foo.GetDefaultPatchBaseline', 'GetDefaultPatchBaseline', 'AmazonSSM.', 'Patchline.NoSuchOperation']) {
        const r = await send({ target });
        assertError(r, 400, 'UnknownOperationException');
      }
      const missing = await send({});
      assertError(missing, 400, 'UnknownOperationException', /X-Amz-Target/);
    });

    test('an AWS operation Patchline does not implement → UnsupportedOperationException naming it', async () => {
      for (const op of ['SendCommand', 'GetParameter', 'CreateAssociation']) {
        const r = await send({ target: `AmazonSSM.${op}`, body: {} });
        assertError(r, 400, 'UnsupportedOperationException');
        assert.ok(r.json.message.includes(op), r.json.message);
      }
    });

    test('malformed JSON → SerializationException', async () => {
      for (const body of ['{"OperatingSystem":', '{OperatingSystem: "UBUNTU"}', 'not json', '{"a":1}}']) {
        const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', body });
        assertError(r, 400, 'SerializationException');
      }
    });

    test('a body that is JSON but not an object → SerializationException', async () => {
      for (const body of ['[]', '[{"OperatingSystem":"UBUNTU"}]', '"UBUNTU"', '42', 'null', 'true']) {
        const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', body });
        assertError(r, 400, 'SerializationException');
      }
    });

    test('an empty body counts as {}', async () => {
      const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', body: '' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.OperatingSystem, 'WINDOWS');
    });

    test('a member of the wrong JSON type → SerializationException', async () => {
      const r = await send({ target: 'AmazonSSM.DescribePatchBaselines', body: { MaxResults: '10' } });
      assertError(r, 400, 'SerializationException');
    });

    test('a wrong content type → 415; the JSON content types are accepted', async () => {
      for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', null]) {
        const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', contentType });
        assertError(r, 415, 'UnsupportedMediaTypeException');
      }
      for (const contentType of ['application/x-amz-json-1.1', 'application/x-amz-json-1.0', 'application/json', 'application/x-amz-json-1.1; charset=utf-8']) {
        const r = await send({ target: 'AmazonSSM.GetDefaultPatchBaseline', contentType });
        assert.equal(r.status, 200, `${contentType}: ${r.text}`);
      }
    });

    test('model validation failures use AWS wording (enum)', async () => {
      const r = await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'enum-check', OperatingSystem: 'FOO' } });
      const values = referenceModel.shapes.OperatingSystem!.enum!;
      assert.ok(values.length >= 15);
      assertError(
        r, 400, 'ValidationException',
        `1 validation error detected: Value 'FOO' at 'operatingSystem' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
      );
    });

    test('model validation failures use AWS wording (length, pattern, required, range; several at once)', async () => {
      const short = await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'ab' } });
      // Too short for both the length and the pattern's {3,128}: AWS reports each violated constraint.
      assertError(short, 400, 'ValidationException', /^2 validation errors detected: Value 'ab' at 'name' failed to satisfy constraint: Member must .*; Value 'ab' at 'name' failed to satisfy constraint: Member must .*$/);
      assert.ok(short.json.message.includes('Member must have length greater than or equal to 3'), short.json.message);
      assert.ok(short.json.message.includes('Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$'), short.json.message);
      const two = await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'a b' } });
      assertError(two, 400, 'ValidationException', /^1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\[a-zA-Z0-9_\\-\.\]\{3,128\}\$$/);
      const missing = await send({ target: 'AmazonSSM.CreatePatchBaseline', body: {} });
      assertError(missing, 400, 'ValidationException', "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
      const range = await send({ target: 'AmazonSSM.DescribePatchBaselines', body: { MaxResults: 101 } });
      assertError(range, 400, 'ValidationException', "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100");
      const several = await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'ok-name', OperatingSystem: 'FOO', RejectedPatchesAction: 'NOPE' } });
      assertError(several, 400, 'ValidationException', /^2 validation errors detected: Value 'FOO' at 'operatingSystem' .*; Value 'NOPE' at 'rejectedPatchesAction' failed to satisfy constraint: Member must satisfy enum value set: \[ALLOW_AS_DEPENDENCY, BLOCK\]$/);
    });

    test('an invalid request changes nothing', async () => {
      const before = await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'OWNER', Values: ['Self'] }] }));
      await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'never-created', OperatingSystem: 'FOO' } });
      await send({ target: 'AmazonSSM.CreatePatchBaseline', body: '{"Name":"never-created"' });
      await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'never-created' }, contentType: 'text/plain' });
      await send({ target: 'AmazonSSM.CreatePatchBaseline', body: { Name: 'never-created' }, skipSigning: true });
      const afterwards = await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'OWNER', Values: ['Self'] }] }));
      assert.deepEqual(afterwards.BaselineIdentities, before.BaselineIdentities);
    });

    test('SDK answers carry the request id, on success and on error', async () => {
      const ok = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }));
      assert.match(ok.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
      const err = await sdkError(ssm.send(new CreatePatchBaselineCommand({ Name: 'x' })));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.$fault, 'client');
      assert.match(err.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    });

    describe('with PATCHLINE_MAX_BODY_BYTES=2048', () => {
      let small: TestServer;
      before(async () => {
        small = await startTestServer({ engine, env: { PATCHLINE_MAX_BODY_BYTES: '2048' } });
      });
      after(async () => {
        await small?.close();
      });
      const padded = (bytes: number) => {
        const base = JSON.stringify({ OperatingSystem: 'UBUNTU', Padding: '' });
        return JSON.stringify({ OperatingSystem: 'UBUNTU', Padding: 'x'.repeat(bytes - base.length) });
      };

      test('a body at the limit is served', async () => {
        const body = padded(2048);
        assert.equal(Buffer.byteLength(body), 2048);
        const r = await signedRequest(small.endpoint, { target: 'AmazonSSM.GetDefaultPatchBaseline', credentials: TEST_ADMIN, body });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.OperatingSystem, 'UBUNTU');
      });

      test('a body over the limit → 413, with or without Content-Length, and the server keeps serving', async () => {
        for (const chunked of [false, true]) {
          const r = await signedRequest(small.endpoint, { target: 'AmazonSSM.GetDefaultPatchBaseline', credentials: TEST_ADMIN, body: padded(2049), chunked });
          assertError(r, 413, 'RequestEntityTooLargeException', /2048/);
          const big = await signedRequest(small.endpoint, { target: 'AmazonSSM.GetDefaultPatchBaseline', credentials: TEST_ADMIN, body: padded(200_000), chunked });
          assertError(big, 413, 'RequestEntityTooLargeException');
        }
        // Unauthenticated oversized bodies are refused the same way, before anything else.
        const anonymous = await signedRequest(small.endpoint, { target: 'AmazonSSM.GetDefaultPatchBaseline', skipSigning: true, body: padded(5000) });
        assertError(anonymous, 413, 'RequestEntityTooLargeException');
        const ok = await small.client().send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }));
        assert.equal(ok.OperatingSystem, 'DEBIAN');
        const health = await signedRequest(small.endpoint, { method: 'GET', path: '/healthz', skipSigning: true });
        assert.equal(health.status, 200);
      });
    });
  });
}
