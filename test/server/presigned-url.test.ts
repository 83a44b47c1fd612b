// Query-string (presigned) SigV4 URLs: Patchline's signer (presignQuery) and verifier (verifyPresigned), checked
// against the AWS SDK's own presigner (@smithy/signature-v4) as the oracle, and the failure answers (all 403).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { presignQuery, verifyPresigned, type SignedRequest } from '../../src/server/sigv4.ts';
import { ServiceError } from '../../src/server/errors.ts';
import { requestScheme, urlHost } from '../../src/auth/snapshot-urls.ts';
import { NodeSha256 } from '../helpers/raw-request.ts';


const KEY = { accessKeyId: 'PLSNAPSHOTURLSIGNER0', secretAccessKey: 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5' };
const lookup = (id: string) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined);
const HOST = '127.0.0.1:8080';
const PATH = '/snapshots/0d4c4f7e-6a2b-4c1e-9f3a-2b1d5e6f7a8b.json';
const NOW = Date.UTC(2026, 10, 23, 10, 0, 0);

function request(pathAndQuery: string, headers: Record<string, string> = {}): SignedRequest {
  return { method: 'GET', url: pathAndQuery, rawHeaders: Object.entries({ host: HOST, ...headers }).flat(), body: Buffer.alloc(0) };
}

function ours(expiresSeconds = 86_400, now = NOW, query: Record<string, string> = { InstanceId: 'mi-0123456789abcdef0' }): string {
  return `${PATH}?${presignQuery({ accessKeyId: KEY.accessKeyId, secret: KEY.secretAccessKey, region: 'us-east-1', method: 'GET', host: HOST, path: PATH, query, expiresSeconds, now })}`;
}

async function failsWith(promise: Promise<unknown>, code: string): Promise<ServiceError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ServiceError, `expected ${code}, but it verified`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.status, 403);
  return err;
}

test('a URL presigned by the AWS SDK (@smithy/signature-v4) verifies, and so does ours; both sign the same canonical request', async () => {
  const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'ssm', sha256: NodeSha256 as never });
  const presigned = await signer.presign(
    { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 8080, path: PATH, query: { InstanceId: 'mi-0123456789abcdef0' }, headers: { host: HOST } } as never,
    { signingDate: new Date(NOW), expiresIn: 86_400 },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  const identity = await verifyPresigned(request(`${PATH}?${query}`), lookup, NOW + 1000);
  assert.equal(identity.accessKeyId, KEY.accessKeyId);
  assert.equal(identity.expiresAt, NOW + 86_400_000);
  const mine = new URLSearchParams(ours().split('?')[1]);
  assert.equal(mine.get('X-Amz-Signature'), (presigned.query as Record<string, string>)['X-Amz-Signature']);
  await verifyPresigned(request(ours()), lookup, NOW + 86_400_000);
});

test('expired, not yet current, too long a lifetime, altered, unknown key, duplicated or mixed with an Authorization header → 403', async () => {
  await failsWith(verifyPresigned(request(ours()), lookup, NOW + 86_400_001), 'AccessDeniedException');
  await failsWith(verifyPresigned(request(ours(60)), lookup, NOW + 61_000), 'AccessDeniedException');
  await failsWith(verifyPresigned(request(ours()), lookup, NOW - 16 * 60_000), 'InvalidSignatureException');
  assert.throws(() => ours(86_401), /valid 1 to 86400 seconds/);
  const url = ours();
  await failsWith(verifyPresigned(request(url.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401')), lookup, NOW), 'IncompleteSignatureException');
  await failsWith(verifyPresigned(request(url.replace('X-Amz-Expires=86400', 'X-Amz-Expires=3600')), lookup, NOW), 'InvalidSignatureException');
  await failsWith(verifyPresigned(request(url.replace('mi-0123456789abcdef0', 'mi-0123456789abcdef1')), lookup, NOW), 'InvalidSignatureException');
  await failsWith(verifyPresigned({ ...request(url), method: 'HEAD' }, lookup, NOW), 'InvalidSignatureException');
  await failsWith(verifyPresigned(request(url, { host: 'example.com' }), lookup, NOW), 'InvalidSignatureException');
  await failsWith(verifyPresigned(request(url), () => undefined, NOW), 'UnrecognizedClientException');
  await failsWith(verifyPresigned(request(`${url}&X-Amz-Date=20261123T100000Z`), lookup, NOW), 'IncompleteSignatureException');
  await failsWith(verifyPresigned(request(url, { authorization: 'AWS4-HMAC-SHA256 Credential=x' }), lookup, NOW), 'IncompleteSignatureException');
  await failsWith(verifyPresigned(request(url.replace(/&X-Amz-Signature=[0-9a-f]+/, '')), lookup, NOW), 'IncompleteSignatureException');
  await failsWith(verifyPresigned(request(PATH), lookup, NOW), 'MissingAuthenticationTokenException');
  await failsWith(verifyPresigned(request(url.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1')), lookup, NOW), 'IncompleteSignatureException');
});

test('URL scheme and host: https only when a TLS terminator says so; default ports dropped, host lower-cased', () => {
  assert.equal(requestScheme({}), 'http');
  assert.equal(requestScheme({ 'x-forwarded-proto': 'https' }), 'https');
  assert.equal(requestScheme({ 'x-forwarded-proto': 'https, http' }), 'https');
  assert.equal(requestScheme({ forwarded: 'for=192.0.2.60;proto=https;by=203.0.113.43' }), 'https');
  assert.equal(requestScheme({ forwarded: 'for=192.0.2.60;proto=http' }), 'http');
  assert.equal(urlHost('Patchline.Example.com:443', 'https'), 'patchline.example.com');
  assert.equal(urlHost('patchline.example.com:80', 'http'), 'patchline.example.com');
  assert.equal(urlHost('patchline.example.com:8080', 'https'), 'patchline.example.com:8080');
});
