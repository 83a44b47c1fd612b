// Raw AWS JSON 1.1 requests over node:http, signed with the AWS SDK's own signer (@smithy/signature-v4), for the
// protocol cases an SDK client cannot express: malformed JSON, a wrong content type, unknown targets, oversized
// bodies, enum values the SDK would pass through anyway, or no signature at all.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequestOptions {
  /** X-Amz-Target, e.g. `AmazonSSM.GetDefaultPatchBaseline`; omitted from the request when undefined. */
  target?: string;
  /** A string or Buffer is sent as is; anything else is sent as JSON. Default `{}`. */
  body?: string | Buffer | object;
  /** Required unless `skipSigning`. */
  credentials?: Credentials;
  /** Extra headers; they are signed too (unless the signer never signs them, like user-agent). */
  headers?: Record<string, string>;
  /** Default `application/x-amz-json-1.1`; null sends no Content-Type. */
  contentType?: string | null;
  /** Signing region, default us-east-1. */
  region?: string;
  /** Signing service, default ssm. */
  service?: string;
  /** Signing date, default now. */
  date?: Date;
  /** Send the request without an Authorization header (and without X-Amz-Date). */
  skipSigning?: boolean;
  /** Default POST. */
  method?: string;
  /** Default `/`. */
  path?: string;
  /** Stream the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** Socket timeout in ms (default 10 s). */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  json: any;
}

/** SHA-256 / HMAC-SHA-256 in the shape @smithy/signature-v4 expects (a Checksum constructor). */
export class NodeSha256 {
  #hash;
  readonly #secret?: string | Uint8Array;

  constructor(secret?: string | Uint8Array) {
    this.#secret = secret;
    this.#hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }

  update(data: string | Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#secret ? createHmac('sha256', this.#secret) : createHash('sha256');
  }
}

function bodyBytes(body: SignedRequestOptions['body']): Buffer {
  if (body === undefined) return Buffer.from('{}');
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** Sends one request to `endpoint` (e.g. `http://127.0.0.1:8080`) and collects the whole response. */
export async function signedRequest(endpoint: string, options: SignedRequestOptions = {}): Promise<RawResponse> {
  const url = new URL(options.path ?? '/', endpoint);
  const method = options.method ?? 'POST';
  const body = options.body === undefined && (method === 'GET' || method === 'HEAD') ? Buffer.alloc(0) : bodyBytes(options.body);
  let headers: Record<string, string> = { host: url.host };
  const contentType = options.contentType === undefined ? 'application/x-amz-json-1.1' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.target !== undefined) headers['x-amz-target'] = options.target;
  Object.assign(headers, options.headers);

  if (!options.skipSigning) {
    if (options.credentials === undefined) throw new Error('signedRequest: credentials are required unless skipSigning is set');
    const signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region ?? 'us-east-1',
      service: options.service ?? 'ssm',
      sha256: NodeSha256 as never,
    });
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      } as never,
      { signingDate: options.date ?? new Date() },
    );
    headers = { ...(signed as unknown as { headers: Record<string, string> }).headers };
  }

  // Content-Length is left unsigned (like the SDKs' own requests); node:http uses chunked encoding without it.
  if (!options.chunked && body.length > 0) headers['content-length'] = String(body.length);

  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    const req = httpRequest(
      { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent: false, timeout: options.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          if (!settled) {
            settled = true;
            reject(err);
          }
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url.href} timed out`)));
    // The server may answer (413) and close before the whole body is written; the answer still counts.
    req.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    if (body.length === 0) {
      req.end();
    } else if (options.chunked) {
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half));
      req.end(body.subarray(half));
    } else {
      req.end(body);
    }
  });
}
