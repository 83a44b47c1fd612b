// The agent's API client: AWS JSON 1.1 over node:http/https, signed with the agent's own SigV4 signer, with a
// time limit on every attempt and retries with exponential back-off and full jitter for network errors,
// timeouts, 5xx answers, throttling and answers that are not JSON. 4xx answers end at once with the AWS error
// code and message (ApiError).

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { signRequest, type SigningCredentials } from './sigv4.ts';
import { ApiError, NetworkError, isRetryable } from './errors.ts';
import { AGENT_VERSION } from './version.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First back-off ceiling in ms; doubles each attempt. */
  baseDelayMs: number;
  /** Largest back-off in ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20_000 };

export interface ClientOptions {
  endpoint: string;
  region: string;
  credentials: SigningCredentials;
  /** Time limit for one attempt (connect, send, answer), ms. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** PEM file with the CA certificates to trust for an https endpoint (a self-signed server). */
  caFile?: string;
  /** Which errors are retried (default: network errors, timeouts, 5xx, throttling, non-JSON answers). */
  retryable?: (err: unknown) => boolean;
  /** Called before each retry (for progress output). */
  onRetry?: (info: { attempt: number; delayMs: number; error: Error }) => void;
  /** Randomness for the jitter (tests). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential back-off: a random delay in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

export class ApiClient {
  readonly endpoint: URL;
  readonly #options: ClientOptions;
  readonly #retry: RetryPolicy;
  readonly #ca: Buffer | undefined;

  constructor(options: ClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new NetworkError(`The endpoint '${options.endpoint}' is not a URL (expected e.g. https://patchline.example.com:8080).`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NetworkError(`The endpoint must be http:// or https://, not ${url.protocol}`);
    this.endpoint = url;
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#ca = options.caFile ? readFileSync(options.caFile) : undefined;
  }

  /** Calls `target` (e.g. `AmazonSSM.GetDeployablePatchSnapshotForInstance` or `Patchline.PutScanReport`). */
  async call<T = Record<string, unknown>>(target: string, input: unknown): Promise<T> {
    const body = Buffer.from(JSON.stringify(input), 'utf8');
    const sleep = this.#options.sleep ?? realSleep;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.#once(target, body)) as T;
      } catch (err) {
        if (!(this.#options.retryable ?? isRetryable)(err) || attempt >= this.#retry.maxAttempts) throw err;
        const delayMs = backoffDelay(attempt, this.#retry, this.#options.random);
        this.#options.onRetry?.({ attempt, delayMs, error: err as Error });
        await sleep(delayMs);
      }
    }
  }

  #once(target: string, body: Buffer): Promise<unknown> {
    const url = this.endpoint;
    const path = url.pathname === '' ? '/' : url.pathname;
    const headers = signRequest(
      {
        method: 'POST',
        host: url.host,
        path,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': target,
          'content-length': String(body.length),
          'user-agent': `patchline-agent/${AGENT_VERSION} node/${process.version}`,
        },
        body,
      },
      this.#options.credentials,
      { region: this.#options.region, service: 'ssm' },
    );
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = send(
        { protocol: url.protocol, hostname: url.hostname, port: url.port || undefined, path, method: 'POST', headers, ...(this.#ca ? { ca: this.#ca } : {}) },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(new NetworkError(`The connection to ${url.host} broke while reading the answer: ${e.message}`, { cause: e })));
          res.on('aborted', () => fail(new NetworkError(`The connection to ${url.host} was closed before the answer was complete.`)));
          res.on('end', () => {
            if (settled) return;
            if (!res.complete) return fail(new NetworkError(`The connection to ${url.host} was closed before the answer was complete.`));
            settled = true;
            clearTimeout(timer);
            try {
              resolve(interpret(res, Buffer.concat(chunks).toString('utf8'), url.host));
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      const timer = setTimeout(() => fail(new NetworkError(`${url.host} did not answer within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => fail(new NetworkError(describeNetworkError(e, url), { cause: e })));
      req.end(body);
    });
  }
}

function describeNetworkError(e: NodeJS.ErrnoException, url: URL): string {
  switch (e.code) {
    case 'ECONNREFUSED': return `Nothing is listening at ${url.host} (connection refused). Is the Patchline server running?`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `The host name ${url.hostname} could not be resolved (${e.code}).`;
    case 'ECONNRESET': return `The connection to ${url.host} was reset before the answer was complete.`;
    case 'EHOSTUNREACH': case 'ENETUNREACH': return `${url.host} cannot be reached (${e.code}).`;
    default: return `Could not talk to ${url.host}: ${e.message}${e.code ? ` (${e.code})` : ''}`;
  }
}

function interpret(res: IncomingMessage, text: string, host: string): unknown {
  const status = res.statusCode ?? 0;
  const requestId = headerValue(res.headers['x-amzn-requestid']);
  let json: unknown;
  let parsed = false;
  try {
    json = text === '' ? {} : JSON.parse(text);
    parsed = json !== null && typeof json === 'object' && !Array.isArray(json);
  } catch {
    parsed = false;
  }
  if (status >= 200 && status < 300) {
    if (!parsed) throw new NetworkError(`${host} answered HTTP ${status} with a body that is not a JSON object (${snippet(text)}). Is the endpoint a Patchline server?`);
    return json;
  }
  const errorType = headerValue(res.headers['x-amzn-errortype']);
  const obj = (parsed ? json : {}) as Record<string, unknown>;
  const rawCode = (typeof obj.__type === 'string' ? obj.__type : undefined) ?? errorType;
  if (rawCode === undefined) {
    // No AWS error: a proxy, a crashed server or something that is not Patchline.
    const err = new ApiError(`HTTP${status}`, `${host} answered HTTP ${status} without an AWS error (${snippet(text)}).`, status, requestId);
    if (status >= 500 || status === 429 || !parsed) throw Object.assign(new NetworkError(err.message), { status });
    throw err;
  }
  const code = rawCode.split(':')[0]!.split('#').pop()!;
  const message = typeof obj.message === 'string' ? obj.message : typeof obj.Message === 'string' ? obj.Message : '(no message)';
  throw new ApiError(code, message, status, requestId);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t === '' ? 'empty' : JSON.stringify(t.length > 80 ? `${t.slice(0, 80)}…` : t);
}
