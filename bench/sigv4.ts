// A minimal SigV4 signer for the driver (AWS JSON 1.1, POST /, no query string), on node:crypto only.
// It signs the headers the AWS SDK signs for an SSM call that matter here: content-type, host, x-amz-date and
// x-amz-target. The derived signing key is cached per day; the x-amz-date string is cached per second.
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html

import { createHash, createHmac, type Hash } from 'node:crypto';

export const CONTENT_TYPE = 'application/x-amz-json-1.1';
const SIGNED_HEADERS = 'content-type;host;x-amz-date;x-amz-target';

export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
  /** The Host header value, e.g. 127.0.0.1:8080. */
  host: string;
}

export class Signer {
  readonly #accessKeyId: string;
  readonly #secret: string;
  readonly #region: string;
  readonly #service: string;
  readonly #host: string;
  #day = '';
  #key: Buffer = Buffer.alloc(0);
  #second = -1;
  #amzDate = '';

  constructor(options: SignerOptions) {
    this.#accessKeyId = options.accessKeyId;
    this.#secret = options.secretAccessKey;
    this.#region = options.region;
    this.#service = options.service ?? 'ssm';
    this.#host = options.host;
  }

  #clock(): string {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#amzDate = new Date(second * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
    return this.#amzDate;
  }

  #signingKey(day: string): Buffer {
    if (day !== this.#day) {
      const kDate = createHmac('sha256', 'AWS4' + this.#secret).update(day).digest();
      const kRegion = createHmac('sha256', kDate).update(this.#region).digest();
      const kService = createHmac('sha256', kRegion).update(this.#service).digest();
      this.#key = createHmac('sha256', kService).update('aws4_request').digest();
      this.#day = day;
    }
    return this.#key;
  }

  /**
   * The HTTP/1.1 request head (request line and headers, ending with the blank line) for a POST / whose body
   * hashes to `bodySha256Hex` and is `contentLength` bytes long.
   */
  head(target: string, bodySha256Hex: string, contentLength: number): string {
    const amzDate = this.#clock();
    const day = amzDate.slice(0, 8);
    const canonical = `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${this.#host}\nx-amz-date:${amzDate}\nx-amz-target:${target}\n\n${SIGNED_HEADERS}\n${bodySha256Hex}`;
    const scope = `${day}/${this.#region}/${this.#service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.#signingKey(day)).update(stringToSign).digest('hex');
    return (
      `POST / HTTP/1.1\r\n` +
      `host: ${this.#host}\r\n` +
      `content-type: ${CONTENT_TYPE}\r\n` +
      `x-amz-target: ${target}\r\n` +
      `x-amz-date: ${amzDate}\r\n` +
      `authorization: AWS4-HMAC-SHA256 Credential=${this.#accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}\r\n` +
      `content-length: ${contentLength}\r\n` +
      `connection: keep-alive\r\n\r\n`
    );
  }
}

/** SHA-256 hex of a body given as chunks; `prefixHash` (a hash already fed with a constant prefix) is copied, not consumed. */
export function bodyHash(chunks: readonly Buffer[], prefixHash?: Hash): string {
  const h = prefixHash ? prefixHash.copy() : createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}
