// The HTTP front: the request lifecycle of the AWS JSON 1.1 protocol, stage by stage. Each stage's failure has
// one defined answer (see docs/protocol.md):
//
//   GET /healthz ─────────────────────────────────────────────► 200 {"status":"ok"} (no authentication)
//   GET /snapshots/<SnapshotId>.json?InstanceId=…&X-Amz-… ────► 200 snapshot document (presigned URL; 403 / 404 otherwise)
//   POST /  read body (limit) ─► 413 RequestEntityTooLargeException
//           authenticate SigV4 ─► MissingAuthenticationToken / IncompleteSignature / InvalidSignature / UnrecognizedClient
//           content type ──────► 415 UnsupportedMediaTypeException (x-amz-json-1.1 / 1.0 / application/json accepted)
//           target ────────────► UnknownOperationException, or UnsupportedOperationException (in the AWS model, not served)
//           parse JSON ────────► SerializationException
//           authorise ─────────► AccessDeniedException
//           validate (model) ──► ValidationException / SerializationException
//           dispatch ──────────► 200 JSON, or the handler's ServiceError, or 500 InternalServerError (logged with the request id)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ServiceError, Errors } from './errors.ts';
import { verifySigV4 } from './sigv4.ts';
import { nodeScope } from '../auth/node-policy.ts';
import { AGENT_PATH, requestScheme, SNAPSHOT_PATH_PREFIX } from '../auth/snapshot-urls.ts';
import { agentBundle } from '../api/agent-download.ts';
import { snapshotDownload } from '../api/snapshots.ts';
import type { RequestContext } from './operation.ts';
import type { App } from '../app.ts';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCEPTED_CONTENT_TYPES = new Set(['application/x-amz-json-1.1', 'application/x-amz-json-1.0', 'application/json']);

/** Extra routes (the console, agent download) mounted before the API; they return true when they answered. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, requestId: string) => boolean | Promise<boolean>;

export function createHttpServer(app: App, routes: RouteHandler[] = []): Server {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
    void handleRequest(app, routes, req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') {
      // Like every other answer: a request id, the error type header and a JSON body with its length.
      const body = '{"__type":"BadRequestException","message":"Malformed HTTP request"}';
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `x-amzn-RequestId: ${randomUUID()}\r\nX-Amzn-ErrorType: BadRequestException\r\nConnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.destroy();
    }
  });
  return server;
}

async function handleRequest(app: App, routes: RouteHandler[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const started = performance.now();
  let operation = '-';
  let accessKeyId: string | undefined;
  let limiterKeys: string[] | undefined;
  try {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, requestId, { status: 'ok' });
      return;
    }
    if (req.method === 'GET' && path?.startsWith(SNAPSHOT_PATH_PREFIX) === true) {
      // A snapshot document by its presigned URL (query-string SigV4; 403 when expired or altered).
      operation = 'GET /snapshots';
      const body = await readBody(req, app.config.maxBodyBytes);
      const document = await snapshotDownload(app, { method: req.method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body });
      sendJson(res, 200, requestId, document, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      logRequest(app, requestId, operation, 200, started);
      return;
    }
    if (req.method === 'GET' && path === AGENT_PATH) {
      // The agent's one-file build, by its presigned URL (Patchline.GetAgentInstallCommand).
      operation = 'GET /agent';
      await app.snapshotUrls.verify({ method: req.method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body: Buffer.alloc(0) });
      const file = await agentBundle();
      res.writeHead(200, { 'Content-Type': 'application/javascript', 'Content-Length': file.length, 'Cache-Control': 'no-store', 'x-amzn-RequestId': requestId });
      res.end(file);
      logRequest(app, requestId, operation, 200, started);
      return;
    }
    for (const route of routes) {
      if (await route(req, res, requestId)) return;
    }
    if (req.method !== 'POST' || path !== '/') {
      throw new ServiceError('UnknownOperationException', `Patchline serves the AWS JSON 1.1 API with POST / (and GET /healthz); ${req.method} ${path} is not a route.`, { status: 404 });
    }
    const body = await readBody(req, app.config.maxBodyBytes);
    const registering = req.headers['x-amz-target'] === 'Patchline.RegisterManagedInstance';
    if (registering) limiterKeys = registrationKeys(req);
    if (limiterKeys) app.registrationLimiter.check(limiterKeys);

    const identity = await verifySigV4({ method: req.method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body }, app.credentials.lookupSecret);
    accessKeyId = identity.accessKeyId;
    const principal = await app.credentials.principal(identity.accessKeyId);
    if (principal === undefined) throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');

    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
      throw new ServiceError('UnsupportedMediaTypeException', `Unsupported content type '${contentType}'. Send ${JSON_CONTENT_TYPE}.`, { status: 415 });
    }

    operation = resolveTarget(app, req.headers['x-amz-target']);
    const handler = app.operations[operation]!;

    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw Errors.serialization(`Request body is not valid JSON: ${(err as Error).message}`);
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw Errors.serialization('Request body must be a JSON object.');
    }

    if (principal.kind === 'activation') {
      if (operation !== 'Patchline.RegisterManagedInstance') {
        throw Errors.accessDenied(`Activation ${principal.activationId} may only register a managed node (Patchline.RegisterManagedInstance), not call ${operation}.`);
      }
    } else if (principal.kind !== 'admin') {
      const scope = nodeScope(operation, input);
      const resource = scope === undefined ? '*' : scope.find((id) => id !== principal.instanceId);
      if (scope === undefined || resource !== undefined) {
        throw Errors.accessDenied(
          `User: ${principal.accessKeyId} (managed node ${principal.instanceId}) is not authorized to perform: ssm:${operation} on resource: ${resource === '*' ? '*' : `arn:aws:ssm:${app.config.region}:${app.config.accountId}:managed-instance/${resource}`}`,
        );
      }
    }

    const outcome = app.model.validate(operation, input);
    if (!outcome.ok) throw new ServiceError(outcome.code, outcome.message);

    const ctx: RequestContext = {
      requestId,
      operation,
      principal,
      signingRegion: identity.region,
      now: Date.now(),
      origin: { scheme: requestScheme(req.headers), host: req.headers.host },
      log: app.log,
      app,
    };
    const output = await handler(input, ctx);
    sendJson(res, 200, requestId, output);
    logRequest(app, requestId, operation, 200, started, accessKeyId);
  } catch (err) {
    const error = err instanceof ServiceError ? err : undefined;
    if (limiterKeys && error && REGISTRATION_FAILURES.has(error.code)) app.registrationLimiter.recordFailure(limiterKeys);
    if (error === undefined) {
      app.log.error('unexpected error', { requestId, operation, error: err });
    }
    const answer = error ?? Errors.internal();
    if (!res.headersSent) {
      sendJson(res, answer.status, requestId, answer.toBody(), { 'X-Amzn-ErrorType': answer.code, ...(answer.status === 413 ? { Connection: 'close' } : {}) });
    } else {
      res.destroy();
    }
    logRequest(app, requestId, operation, answer.status, started, accessKeyId, answer.code);
  }
}

/** Failures that count against the registration rate limit (wrong or unusable activation). */
const REGISTRATION_FAILURES = new Set(['InvalidSignatureException', 'UnrecognizedClientException', 'IncompleteSignatureException', 'InvalidActivation', 'InvalidActivationId']);

function registrationKeys(req: IncomingMessage): string[] {
  const keys = [`ip:${req.socket.remoteAddress ?? '?'}`];
  const credential = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''));
  if (credential) keys.push(`activation:${credential[1]}`);
  return keys;
}

function resolveTarget(app: App, header: string | string[] | undefined): string {
  const target = Array.isArray(header) ? header[0] : header;
  if (target === undefined || target === '') {
    throw new ServiceError('UnknownOperationException', 'Missing X-Amz-Target header: expected AmazonSSM.<Operation> or Patchline.<Operation>.');
  }
  const dot = target.indexOf('.');
  const prefix = dot < 0 ? '' : target.slice(0, dot);
  const name = target.slice(dot + 1);
  const operation = prefix === 'Patchline' ? target : prefix === app.model.targetPrefix ? name : undefined;
  if (operation !== undefined && app.operations[operation] !== undefined) return operation;
  if (prefix === app.model.targetPrefix && app.model.isAwsOperation(name)) {
    throw new ServiceError(
      'UnsupportedOperationException',
      `${name} is an operation of the AWS Systems Manager API that Patchline does not implement. See docs/api.md for the operations it serves.`,
    );
  }
  throw new ServiceError('UnknownOperationException', `Unknown operation ${target}.`);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(new ServiceError('BadRequestException', `Could not read the request body: ${err.message}`));
    });
  });
}

function tooLarge(limit: number): ServiceError {
  return new ServiceError('RequestEntityTooLargeException', `Request body exceeds the limit of ${limit} bytes (PATCHLINE_MAX_BODY_BYTES).`, { status: 413 });
}

function sendJson(res: ServerResponse, status: number, requestId: string, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
    ...headers,
  });
  res.end(text);
}

function logRequest(app: App, requestId: string, operation: string, status: number, started: number, accessKeyId?: string, code?: string): void {
  const level = status >= 500 ? 'error' : 'info';
  if (!app.log.enabled(level)) return;
  app.log[level]('request', { requestId, operation, status, ms: Math.round((performance.now() - started) * 100) / 100, accessKeyId, code });
}
