// The web console's side of the wire, for tests of the server: sign-in signed the way the browser does it
// (@smithy/signature-v4 over WebCrypto, only the headers a page script can set are signed, and the browser's own
// headers — Origin, Sec-Fetch-*, User-Agent, Accept — sent unsigned), console API calls with the session cookie
// and CSRF token, and raw requests whose path is sent exactly as written (no dot-segment normalisation).

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials, RawResponse } from './raw-request.ts';

/** SHA-256 / HMAC-SHA-256 over WebCrypto (crypto.subtle), as the console's sign-in page computes them. */
class WebCryptoSha256 {
  readonly #secret: Uint8Array | undefined;
  #chunks: Uint8Array[] = [];

  constructor(secret?: string | Uint8Array) {
    this.#secret = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  }

  update(data: string | Uint8Array): void {
    this.#chunks.push(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  async digest(): Promise<Uint8Array> {
    const data = Buffer.concat(this.#chunks);
    if (this.#secret === undefined) return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    const key = await crypto.subtle.importKey('raw', this.#secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
  }

  reset(): void {
    this.#chunks = [];
  }
}

export interface SendOptions {
  method?: string;
  /** Sent byte for byte as the request target. */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One HTTP exchange; `setCookie` keeps every Set-Cookie line. */
export async function send(endpoint: string, options: SendOptions = {}): Promise<RawResponse & { setCookie: string[] }> {
  const url = new URL(endpoint);
  const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ method: options.method ?? 'GET', hostname: url.hostname, port: url.port, path: options.path ?? '/', headers, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        const h: IncomingHttpHeaders = res.headers;
        resolve({ status: res.statusCode ?? 0, headers: h, text, json, setCookie: h['set-cookie'] ?? [] });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The headers a browser adds itself to a same-origin fetch from the console page. */
export function browserHeaders(endpoint: string): Record<string, string> {
  return {
    origin: new URL(endpoint).origin,
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': 'cors',
    'sec-fetch-dest': 'empty',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36',
    accept: '*/*',
  };
}

/**
 * The console's sign-in: POST / with X-Amz-Target Patchline.CreateConsoleSession and body {}, SigV4-signed in the
 * page (content-type, host, x-amz-date, x-amz-target), sent by the browser with its own unsigned headers.
 */
export async function browserSignIn(endpoint: string, credentials: Credentials, options: { region?: string; date?: Date; headers?: Record<string, string> } = {}) {
  const url = new URL(endpoint);
  const body = '{}';
  const signer = new SignatureV4({ credentials, region: options.region ?? 'us-east-1', service: 'ssm', sha256: WebCryptoSha256 as never, applyChecksum: false });
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Patchline.CreateConsoleSession' },
    body,
  } as never, { signingDate: options.date ?? new Date() });
  const headers = { ...(signed as unknown as { headers: Record<string, string> }).headers };
  delete headers.host; // the browser sends Host itself (location.host)
  return send(endpoint, { method: 'POST', path: '/', headers: { ...browserHeaders(endpoint), ...headers, ...options.headers }, body });
}

export interface ConsoleSession {
  /** `patchline_session=<token>` for a Cookie header. */
  cookie: string;
  csrf: string;
}

/** Signs in and returns the session (throws when sign-in fails). */
export async function signIn(endpoint: string, credentials: Credentials): Promise<ConsoleSession> {
  const res = await browserSignIn(endpoint, credentials);
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  const cookie = res.setCookie.find((c) => c.startsWith('patchline_session='));
  if (cookie === undefined) throw new Error('sign-in set no session cookie');
  return { cookie: cookie.split(';')[0]!, csrf: res.json.CsrfToken };
}

/** POST /console/api as the console page sends it; `csrf: null` leaves the header out. */
export function consoleCall(endpoint: string, session: Partial<ConsoleSession> | undefined, target: string, body: unknown = {}, extra: Record<string, string> = {}, csrf?: string | null) {
  const headers: Record<string, string> = {
    ...browserHeaders(endpoint),
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': target.includes('.') ? target : `AmazonSSM.${target}`,
  };
  if (session?.cookie !== undefined) headers.cookie = session.cookie;
  const token = csrf === undefined ? session?.csrf : csrf;
  if (token !== null && token !== undefined) headers['x-csrf-token'] = token;
  return send(endpoint, { method: 'POST', path: '/console/api', headers: { ...headers, ...extra }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A console call that must succeed; returns the parsed body. */
export async function consoleOk(endpoint: string, session: ConsoleSession, target: string, body: unknown = {}): Promise<any> {
  const res = await consoleCall(endpoint, session, target, body);
  if (res.status !== 200) throw new Error(`${target}: ${res.status} ${res.text}`);
  return res.json;
}

/** GET /console/export.csv as a download link in the console page (a navigation: no Origin, Sec-Fetch-Site same-origin). */
export function exportCsv(endpoint: string, session: Partial<ConsoleSession> | undefined, target: string, input: unknown, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', accept: 'text/csv,*/*' };
  if (session?.cookie !== undefined) headers.cookie = session.cookie;
  return send(endpoint, { path: `/console/export.csv?target=${encodeURIComponent(target)}&input=${encodeURIComponent(JSON.stringify(input))}`, headers: { ...headers, ...extra } });
}

/** RFC 4180 parser (quoted fields with doubled quotes, CRLF or LF line ends): rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      // CRLF: the \n ends the row
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
