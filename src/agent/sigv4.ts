// AWS Signature Version 4 for the agent's requests, on node:crypto only. It signs the way the AWS SDK for
// JavaScript (@smithy/signature-v4) does: an x-amz-content-sha256 header with the SHA-256 of the exact body bytes
// (the SDK's default), every header signed except the ones the SDK never signs, header values with runs of
// spaces folded, and the `AWS4-HMAC-SHA256` Authorization header.
// test/agent/sigv4.test.ts checks the result byte for byte against @smithy/signature-v4.

import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** Host header value (host[:port]). */
  host: string;
  /** Path, already URI-encoded as it goes on the wire (e.g. "/"). */
  path: string;
  /** Query parameters (decoded). */
  query?: Record<string, string>;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Headers the SDK never signs (they may be changed by proxies and agents on the way). */
const UNSIGNABLE = new Set([
  'authorization', 'cache-control', 'connection', 'expect', 'from', 'keep-alive', 'max-forwards', 'pragma', 'referer', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id',
]);

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 percent-encoding as SigV4 requires: unreserved characters stay, everything else is %XX (upper case). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** 20261123T101500Z and 20261123 from a Date. */
export function amzDates(date: Date): { long: string; short: string } {
  const long = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { long, short: long.slice(0, 8) };
}

function canonicalPath(path: string): string {
  // Non-S3 services: normalise the path (drop empty and "." segments, resolve ".."), then encode each segment again.
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const joined = `${path.startsWith('/') ? '/' : ''}${out.join('/')}${out.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEncode(joined).replace(/%2F/g, '/') || '/';
}

function canonicalQuery(query: Record<string, string> | undefined): string {
  if (query === undefined) return '';
  // Sorted by the encoded key, as the SDK does.
  return Object.keys(query)
    .filter((k) => k.toLowerCase() !== 'x-amz-signature')
    .map((k) => [uriEncode(k), uriEncode(query[k]!)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Signs a request: returns the headers to send (the given ones plus host, x-amz-date, x-amz-content-sha256,
 * x-amz-security-token when there is a session token, and authorization).
 */
export function signRequest(
  request: RequestToSign,
  credentials: SigningCredentials,
  scope: { region: string; service: string },
  date: Date = new Date(),
): Record<string, string> {
  const { long, short } = amzDates(date);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) {
    if (k.toLowerCase() !== 'authorization' && k.toLowerCase() !== 'x-amz-date') headers[k] = v;
  }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) headers.host = request.host;
  headers['x-amz-date'] = long;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const payloadHash = sha256Hex(request.body);
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'x-amz-content-sha256')) headers['x-amz-content-sha256'] = payloadHash;

  const canonical = new Map<string, string>();
  for (const name of Object.keys(headers).sort()) {
    const lower = name.toLowerCase();
    if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
    canonical.set(lower, headers[name]!.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, ''));
  }
  const signedNames = [...canonical.keys()].sort();
  const signedHeaders = signedNames.join(';');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.query),
    signedNames.map((n) => `${n}:${canonical.get(n)}`).join('\n') + '\n',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const credentialScope = `${short}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', long, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${credentials.secretAccessKey}`, short);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  const kSigning = hmac(kService, 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
