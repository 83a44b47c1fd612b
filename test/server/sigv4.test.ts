// The SigV4 verifier, checked against the AWS SDK's own signer (@smithy/signature-v4) as the oracle.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { verifySigV4, type SignedRequest } from '../../src/server/sigv4.ts';
import { ServiceError } from '../../src/server/errors.ts';
import { NodeSha256 } from '../helpers/raw-request.ts';


const KEY = { accessKeyId: 'AKPLEXAMPLE000000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const lookup = (id: string) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined);

async function sign(options: { body?: string; region?: string; service?: string; date?: Date; credentials?: typeof KEY; extraHeaders?: Record<string, string>; unsigned?: string[] } = {}) {
  const body = options.body ?? '{"OperatingSystem":"UBUNTU"}';
  const signer = new SignatureV4({ credentials: options.credentials ?? KEY, region: options.region ?? 'us-east-1', service: options.service ?? 'ssm', sha256: NodeSha256 as never });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path: '/',
      headers: { host: '127.0.0.1:8080', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetDefaultPatchBaseline', ...options.extraHeaders },
      body,
    } as never,
    { signingDate: options.date ?? new Date(), unsignableHeaders: new Set(options.unsigned ?? []) },
  );
  const headers = (signed as unknown as { headers: Record<string, string> }).headers;
  return { method: 'POST', url: '/', rawHeaders: Object.entries(headers).flat(), body: Buffer.from(body) } satisfies SignedRequest;
}

function setHeader(req: SignedRequest, name: string, value: string): SignedRequest {
  const raw = [...req.rawHeaders];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) raw[i + 1] = value;
  return { ...req, rawHeaders: raw };
}

function dropHeader(req: SignedRequest, name: string): SignedRequest {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() !== name) raw.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  return { ...req, rawHeaders: raw };
}

async function rejects(req: SignedRequest, code: string, message?: RegExp, now?: number) {
  await assert.rejects(verifySigV4(req, lookup, now), (err: unknown) => {
    assert.ok(err instanceof ServiceError, `expected a ServiceError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('a request signed by the SDK signer verifies, in any region', async () => {
  for (const region of ['us-east-1', 'eu-west-3', 'ap-southeast-2']) {
    const id = await verifySigV4(await sign({ region }), lookup);
    assert.equal(id.accessKeyId, KEY.accessKeyId);
    assert.equal(id.region, region);
  }
});

test('wrong secret → InvalidSignatureException with AWS wording', async () => {
  const req = await sign({ credentials: { ...KEY, secretAccessKey: 'not-the-secret-0123456789abcdefghijklmn' } });
  await rejects(req, 'InvalidSignatureException', /^The request signature we calculated does not match the signature you provided/);
});

test('unknown access key → UnrecognizedClientException', async () => {
  await rejects(await sign({ credentials: { ...KEY, accessKeyId: 'AKPLUNKNOWN000000000' } }), 'UnrecognizedClientException', /security token included in the request is invalid/);
});

test('a body altered after signing is refused', async () => {
  const req = await sign();
  await rejects({ ...req, body: Buffer.from('{"OperatingSystem":"WINDOWS"}') }, 'InvalidSignatureException');
});

test('x-amz-content-sha256 is never trusted for the payload hash', async () => {
  const original = '{"Name":"original"}';
  const forged = '{"Name":"forged-body"}';
  const hashOfOriginal = createHash('sha256').update(original).digest('hex');
  const req = await sign({ body: original, extraHeaders: { 'x-amz-content-sha256': hashOfOriginal } });
  // Keep the signed header (claiming the original body) but send another body.
  await rejects({ ...req, body: Buffer.from(forged) }, 'InvalidSignatureException');
  // And the honest request still verifies.
  await verifySigV4(req, lookup);
});

test('an altered signed header is refused; an unsigned one may change', async () => {
  const req = await sign({ extraHeaders: { 'user-agent': 'test/1' }, unsigned: ['user-agent'] });
  await rejects(setHeader(req, 'x-amz-target', 'AmazonSSM.DeletePatchBaseline'), 'InvalidSignatureException');
  await verifySigV4(setHeader(req, 'user-agent', 'other/2'), lookup);
});

test('expired and future dates are refused beyond 15 minutes of skew', async () => {
  const now = Date.now();
  await rejects(await sign({ date: new Date(now - 16 * 60_000) }), 'InvalidSignatureException', /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/, now);
  await rejects(await sign({ date: new Date(now + 16 * 60_000) }), 'InvalidSignatureException', /^Signature not yet current: .* is still later than .* \+ 15 min\.\)$/, now);
  await verifySigV4(await sign({ date: new Date(now - 14 * 60_000) }), lookup, now);
  await verifySigV4(await sign({ date: new Date(now + 14 * 60_000) }), lookup, now);
});

test('missing Authorization → MissingAuthenticationTokenException', async () => {
  await rejects(dropHeader(await sign(), 'authorization'), 'MissingAuthenticationTokenException', /^Missing Authentication Token$/);
});

test('an Authorization header without its parts → IncompleteSignatureException', async () => {
  const req = await sign();
  const auth = req.rawHeaders[req.rawHeaders.findIndex((h) => h.toLowerCase() === 'authorization') + 1]!;
  await rejects(setHeader(req, 'authorization', auth.replace(/, Signature=[0-9a-f]+/, '')), 'IncompleteSignatureException', /requires 'Signature' parameter/);
  await rejects(setHeader(req, 'authorization', 'AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=00'), 'IncompleteSignatureException', /Credential must have exactly 5/);
  await rejects(setHeader(req, 'authorization', 'Basic dXNlcjpwYXNz'), 'IncompleteSignatureException');
});

test('missing X-Amz-Date (and Date) → IncompleteSignatureException', async () => {
  await rejects(dropHeader(await sign(), 'x-amz-date'), 'IncompleteSignatureException', /either a 'X-Amz-Date' or a 'Date' header/);
});

test('a signature scoped to another service is refused', async () => {
  await rejects(await sign({ service: 'ec2' }), 'InvalidSignatureException', /scoped to correct service: 'ssm'/);
});
