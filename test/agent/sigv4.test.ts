// The agent's SigV4 signer (node:crypto only) against the AWS SDK's own signer, @smithy/signature-v4, as the
// oracle: the same request, credentials and date must give the same Authorization header, byte for byte. Then
// the real server accepts the agent's signature.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { signRequest, uriEncode } from '../../src/agent/sigv4.ts';
import { ApiClient } from '../../src/agent/http.ts';
import { startTestServer, TEST_ADMIN } from '../helpers/server.ts';

class Sha256 {
  #h;
  constructor(secret?: string | Uint8Array) {
    this.#h = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array) {
    this.#h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  async digest() {
    return new Uint8Array(this.#h.digest());
  }
}

const cases: Array<{ name: string; path: string; query?: Record<string, string>; headers: Record<string, string>; body: string; region: string; token?: string }> = [
  { name: 'PutScanReport', path: '/', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Patchline.PutScanReport' }, body: '{"InstanceId":"mi-0123456789abcdef0"}', region: 'us-east-1' },
  { name: 'empty body, other region', path: '/', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetDeployablePatchSnapshotForInstance' }, body: '', region: 'eu-west-3' },
  { name: 'unicode body, spaces in values, unsignable headers', path: '/', headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': '  Patchline.PutScanReport   x ', 'user-agent': 'patchline-agent/1.0.0', 'content-length': '30', 'x-amzn-trace-id': 'Root=1' }, body: '{"ComputerName":"hôte — ünïcode"}', region: 'ap-south-1' },
  { name: 'path, query and session token', path: '/a/./b/../c d/', query: { 'X-Amz-Foo': 'a b', alpha: '1/2', 'ü': '~' }, headers: { 'content-type': 'application/json' }, body: '{}', region: 'us-west-2', token: 'FQoGZXIvYXdzEJr//////////wEaDO' },
];

for (const c of cases) {
  test(`SigV4 matches @smithy/signature-v4: ${c.name}`, async () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', ...(c.token ? { sessionToken: c.token } : {}) };
    const date = new Date('2026-11-23T10:15:00Z');
    const mine = signRequest({ method: 'POST', host: 'patchline.example:8443', path: c.path, query: c.query, headers: c.headers, body: c.body }, credentials, { region: c.region, service: 'ssm' }, date);
    const oracle = new SignatureV4({ credentials, region: c.region, service: 'ssm', sha256: Sha256 as never });
    const signed = await oracle.sign(
      { method: 'POST', protocol: 'https:', hostname: 'patchline.example', port: 8443, path: c.path, query: c.query ?? {}, headers: { ...c.headers, host: 'patchline.example:8443' }, body: c.body } as never,
      { signingDate: date },
    );
    const theirs = (signed as unknown as { headers: Record<string, string> }).headers;
    assert.equal(mine.authorization, theirs.authorization);
    assert.equal(mine['x-amz-date'], theirs['x-amz-date']);
    if (c.token) assert.equal(mine['x-amz-security-token'], theirs['x-amz-security-token']);
  });
}

test('uriEncode follows RFC 3986 as SigV4 wants', () => {
  assert.equal(uriEncode("a b!'()*~-_.ü/"), 'a%20b%21%27%28%29%2A~-_.%C3%BC%2F');
});

test('the real server accepts the agent signer (and rejects a wrong secret)', async () => {
  const server = await startTestServer({ engine: 'sqlite' });
  try {
    const client = new ApiClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_ADMIN });
    const r = await client.call<{ BaselineId?: string }>('AmazonSSM.GetDefaultPatchBaseline', { OperatingSystem: 'DEBIAN' });
    assert.match(r.BaselineId ?? '', /AWS-DebianDefaultPatchBaseline|pb-/);
    const bad = new ApiClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { ...TEST_ADMIN, secretAccessKey: 'wrong' } });
    await assert.rejects(bad.call('AmazonSSM.GetDefaultPatchBaseline', {}), (e: Error & { code?: string }) => e.code === 'InvalidSignatureException' && /InvalidSignatureException: /.test(e.message));
  } finally {
    await server.close();
  }
});
