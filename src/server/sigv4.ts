// AWS Signature Version 4 verification for requests signed by AWS SDKs, the AWS CLI and boto3.
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
// The payload hash is always computed from the raw body we received; a client's x-amz-content-sha256
// header is never trusted for it. Messages and codes follow what AWS JSON services answer.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError } from './errors.ts';

export const SIGNING_SERVICE = 'ssm';
const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a request's date may be from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received (e.g. "/" or "/?a=b"). */
  url: string;
  /** Raw header lines: node's `req.rawHeaders` (name, value, name, value, …), so repeated headers keep their order. */
  rawHeaders: string[];
  body: Buffer;
}

export interface VerifiedIdentity {
  accessKeyId: string;
  region: string;
  /** Request time from X-Amz-Date / Date, epoch ms. */
  requestTime: number;
}

/** Looks a secret up by access key id; undefined means the key is unknown (or revoked). */
export type SecretLookup = (accessKeyId: string) => string | undefined | Promise<string | undefined>;

const authError = (code: string, message: string) => new ServiceError(code, message, { status: 400 });

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminal: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw authError('IncompleteSignatureException', `Unsupported authorization type '${algorithm}'. Only ${ALGORITHM} is accepted.`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((p) => !params.get(p));
  if (missing.length > 0) {
    throw authError(
      'IncompleteSignatureException',
      missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ') + ` Authorization=${header}`,
    );
  }
  const credential = params.get('Credential')!.split('/');
  if (credential.length !== 5 || credential.some((c) => c === '')) {
    throw authError(
      'IncompleteSignatureException',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.get('Credential')}'`,
    );
  }
  const [accessKeyId, date, region, service, terminal] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminal,
    signedHeaders: params.get('SignedHeaders')!.split(';'),
    signature: params.get('Signature')!,
  };
}

/** Parses 20261123T101500Z; NaN when malformed. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept, everything else %XX upper-case). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    const k = eq < 0 ? p : p.slice(0, eq);
    const v = eq < 0 ? '' : p.slice(eq + 1);
    const decode = (s: string) => {
      try { return decodeURIComponent(s.replace(/\+/g, '%20')); } catch { return s; }
    };
    return [uriEncode(decode(k)), uriEncode(decode(v))] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalPath(path: string): string {
  // Non-S3 services: drop empty, "." and ".." segments, then URI-encode the (already encoded) path once more.
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEncode(normalized).replace(/%2F/g, '/');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Derived signing keys are cached per (secret, date, region, service): one HMAC per request instead of five. */
const signingKeyCache = new Map<string, Buffer>();
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${date}\u0000${region}\u0000${service}\u0000${secret}`;
  let key = signingKeyCache.get(cacheKey);
  if (key === undefined) {
    const kDate = createHmac('sha256', 'AWS4' + secret).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    if (signingKeyCache.size > 10_000) signingKeyCache.clear();
    signingKeyCache.set(cacheKey, key);
  }
  return key;
}

/** Headers as SigV4 canonicalises them: lower-case names, trimmed values, repeats joined with ',' in arrival order. */
function collectHeaders(rawHeaders: readonly string[]): Map<string, string> {
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!.trim().replace(/\s+/g, ' ');
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev},${value}`);
  }
  return headers;
}

/**
 * Verifies the request's SigV4 signature. Resolves with the caller's identity, or throws a ServiceError with
 * the code AWS uses: MissingAuthenticationTokenException, IncompleteSignatureException,
 * InvalidSignatureException or UnrecognizedClientException.
 */
export async function verifySigV4(req: SignedRequest, lookupSecret: SecretLookup, now = Date.now()): Promise<VerifiedIdentity> {
  const headers = collectHeaders(req.rawHeaders);
  const authorization = headers.get('authorization');
  if (authorization === undefined || authorization === '') {
    const q = req.url.indexOf('?');
    if (q >= 0 && /(^|&)X-Amz-Signature=/i.test(req.url.slice(q + 1))) {
      throw authError('IncompleteSignatureException', 'Query-string (presigned) authentication is not supported; sign the request with an Authorization header.');
    }
    throw authError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const auth = parseAuthorization(authorization);

  const amzDate = headers.get('x-amz-date');
  const dateHeader = headers.get('date');
  let requestTime: number;
  let requestTimeText: string;
  if (amzDate !== undefined) {
    requestTime = parseAmzDate(amzDate);
    requestTimeText = amzDate;
  } else if (dateHeader !== undefined) {
    requestTime = Date.parse(dateHeader);
    requestTimeText = Number.isNaN(requestTime) ? dateHeader : formatAmzDate(requestTime);
  } else {
    throw authError('IncompleteSignatureException', `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`);
  }
  if (Number.isNaN(requestTime)) {
    throw authError('IncompleteSignatureException', `Date must be in ISO-8601 'basic format'. Got '${amzDate ?? dateHeader}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  if (auth.terminal !== 'aws4_request') {
    throw authError('InvalidSignatureException', `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminal}'.`);
  }
  if (auth.service !== SIGNING_SERVICE) {
    throw authError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'. `);
  }
  if (auth.date !== requestTimeText.slice(0, 8)) {
    throw authError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${requestTimeText.slice(0, 8)}', from '${requestTimeText}'.`,
    );
  }
  if (requestTime < now - MAX_CLOCK_SKEW_MS) {
    throw authError(
      'InvalidSignatureException',
      `Signature expired: ${requestTimeText} is now earlier than ${formatAmzDate(now - MAX_CLOCK_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (requestTime > now + MAX_CLOCK_SKEW_MS) {
    throw authError(
      'InvalidSignatureException',
      `Signature not yet current: ${requestTimeText} is still later than ${formatAmzDate(now + MAX_CLOCK_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    throw authError('InvalidSignatureException', `'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  const sortedSigned = [...auth.signedHeaders].sort();
  if (sortedSigned.join(';') !== auth.signedHeaders.join(';') || auth.signedHeaders.some((h) => h !== h.toLowerCase())) {
    throw authError('InvalidSignatureException', 'SignedHeaders must be lower-case and sorted.');
  }
  for (const name of auth.signedHeaders) {
    if (!headers.has(name)) {
      throw authError('InvalidSignatureException', `The request signature we calculated does not match the signature you provided. Signed header '${name}' is not present in the request.`);
    }
  }

  const secret = await lookupSecret(auth.accessKeyId);
  if (secret === undefined) {
    throw authError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }

  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const canonicalRequest = [
    req.method,
    canonicalPath(path),
    canonicalQuery(query),
    auth.signedHeaders.map((h) => `${h}:${headers.get(h)}\n`).join(''),
    auth.signedHeaders.join(';'),
    sha256Hex(req.body),
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [ALGORITHM, requestTimeText, scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = createHmac('sha256', signingKey(secret, auth.date, auth.region, auth.service)).update(stringToSign).digest();
  const given = /^[0-9a-f]{64}$/.test(auth.signature) ? Buffer.from(auth.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw authError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.' +
        `\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region, requestTime };
}

// ---- query-string (presigned) signatures ------------------------------------------------------------------------
// Only for URLs Patchline itself hands out (GET /snapshots/…): the server signs them with an internal key and
// verifies them by the same rules as header signatures (scope, date, signed host header, constant-time compare),
// plus X-Amz-Expires. Failures are HTTP 403 with the same JSON error body as every other answer.

/** The longest validity a presigned URL may claim (24 hours). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 86_400;

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;
const presignError = (code: string, message: string) => new ServiceError(code, message, { status: 403 });

export interface PresignInput {
  accessKeyId: string;
  secret: string;
  region: string;
  method: string;
  /** The Host header the URL will be fetched with (lower-case host, port only when not the scheme's default). */
  host: string;
  /** The URL path, already percent-encoded where needed (e.g. /snapshots/<id>.json). */
  path: string;
  /** Further query parameters, covered by the signature. */
  query?: Record<string, string>;
  expiresSeconds: number;
  /** Signing time, epoch ms. */
  now: number;
}

/** The query string (without '?') of a SigV4 presigned URL: the given parameters, then X-Amz-*, then X-Amz-Signature. */
export function presignQuery(input: PresignInput): string {
  if (!Number.isInteger(input.expiresSeconds) || input.expiresSeconds < 1 || input.expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new Error(`presigned URLs are valid 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds, not ${input.expiresSeconds}`);
  }
  const amzDate = formatAmzDate(input.now);
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${input.region}/${SIGNING_SERVICE}/aws4_request`;
  const params: Array<[string, string]> = [
    ...Object.entries(input.query ?? {}),
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${input.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(input.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const unsigned = params.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
  const canonicalRequest = [input.method, canonicalPath(input.path), canonicalQuery(unsigned), `host:${input.host}\n`, 'host', sha256Hex('')].join('\n');
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(input.secret, date, input.region, SIGNING_SERVICE)).update(stringToSign).digest('hex');
  return `${unsigned}&X-Amz-Signature=${signature}`;
}

function decodeQueryPart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

/**
 * Verifies a presigned (query-string) SigV4 request. Resolves with the signer's identity and when the URL expires,
 * or throws a 403 ServiceError: MissingAuthenticationTokenException (no signature parameters),
 * IncompleteSignatureException (malformed parameters), AccessDeniedException (expired), InvalidSignatureException
 * (wrong signature, scope or date) or UnrecognizedClientException (unknown key).
 */
export async function verifyPresigned(req: SignedRequest, lookupSecret: SecretLookup, now = Date.now()): Promise<VerifiedIdentity & { expiresAt: number }> {
  const headers = collectHeaders(req.rawHeaders);
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const rawPairs = q < 0 ? [] : req.url.slice(q + 1).split('&').filter((p) => p !== '');
  const params = new Map<string, string>();
  const unsignedPairs: string[] = [];
  for (const pair of rawPairs) {
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeQueryPart(eq < 0 ? '' : pair.slice(eq + 1));
    if ((PRESIGN_PARAMS as readonly string[]).includes(key)) {
      if (params.has(key)) throw presignError('IncompleteSignatureException', `Query parameter ${key} is given more than once.`);
      params.set(key, value);
    }
    if (key !== 'X-Amz-Signature') unsignedPairs.push(pair);
  }
  if (params.size === 0) {
    throw presignError('MissingAuthenticationTokenException', 'This URL needs a query-string signature (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature).');
  }
  if (headers.has('authorization')) {
    throw presignError('IncompleteSignatureException', 'Use either an Authorization header or a query-string signature, not both.');
  }
  const missing = PRESIGN_PARAMS.filter((p) => !params.get(p));
  if (missing.length > 0) throw presignError('IncompleteSignatureException', `The query-string signature lacks ${missing.join(', ')}.`);
  const algorithm = params.get('X-Amz-Algorithm')!;
  if (algorithm !== ALGORITHM) throw presignError('IncompleteSignatureException', `Unsupported X-Amz-Algorithm '${algorithm}'. Only ${ALGORITHM} is accepted.`);
  const credential = params.get('X-Amz-Credential')!.split('/');
  if (credential.length !== 5 || credential.some((c) => c === '')) {
    throw presignError('IncompleteSignatureException', `X-Amz-Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.get('X-Amz-Credential')}'`);
  }
  const [accessKeyId, date, region, service, terminal] = credential as [string, string, string, string, string];
  const amzDate = params.get('X-Amz-Date')!;
  const requestTime = parseAmzDate(amzDate);
  if (Number.isNaN(requestTime)) throw presignError('IncompleteSignatureException', `X-Amz-Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  const expiresText = params.get('X-Amz-Expires')!;
  const expires = /^\d{1,6}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (!(expires >= 1 && expires <= MAX_PRESIGNED_EXPIRES_SECONDS)) {
    throw presignError('IncompleteSignatureException', `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS}, got '${expiresText}'.`);
  }
  if (terminal !== 'aws4_request') throw presignError('InvalidSignatureException', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminal}'.`);
  if (service !== SIGNING_SERVICE) throw presignError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'. `);
  if (date !== amzDate.slice(0, 8)) {
    throw presignError('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from X-Amz-Date: '${date}' != '${amzDate.slice(0, 8)}'.`);
  }
  if (requestTime > now + MAX_CLOCK_SKEW_MS) {
    throw presignError('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_CLOCK_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`);
  }
  const expiresAt = requestTime + expires * 1000;
  if (now > expiresAt) throw presignError('AccessDeniedException', `Request has expired: the URL was valid until ${formatAmzDate(expiresAt)}; it is now ${formatAmzDate(now)}.`);
  const signedHeaders = params.get('X-Amz-SignedHeaders')!.split(';');
  if (!signedHeaders.includes('host')) throw presignError('InvalidSignatureException', `'host' must be a signed header (X-Amz-SignedHeaders).`);
  if ([...signedHeaders].sort().join(';') !== signedHeaders.join(';') || signedHeaders.some((h) => h !== h.toLowerCase())) {
    throw presignError('InvalidSignatureException', 'X-Amz-SignedHeaders must be lower-case and sorted.');
  }
  for (const name of signedHeaders) {
    if (!headers.has(name)) throw presignError('InvalidSignatureException', `Signed header '${name}' is not present in the request.`);
  }
  const secret = await lookupSecret(accessKeyId);
  if (secret === undefined) throw presignError('UnrecognizedClientException', 'The access key in X-Amz-Credential is not valid for this URL.');

  const canonicalRequest = [
    req.method,
    canonicalPath(path),
    canonicalQuery(unsignedPairs.join('&')),
    signedHeaders.map((h) => `${h}:${headers.get(h)}\n`).join(''),
    signedHeaders.join(';'),
    sha256Hex(req.body),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = createHmac('sha256', signingKey(secret, date, region, service)).update(stringToSign).digest();
  const signature = params.get('X-Amz-Signature')!;
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw presignError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  }
  return { accessKeyId, region, requestTime, expiresAt };
}
