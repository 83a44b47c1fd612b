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
//
// The web console (docs/console.md) uses the same pipeline; only the authenticate stage differs:
//
//   POST /console/api           authenticate session ─► 401 MissingAuthenticationTokenException (no/expired session),
//                               403 AccessDeniedException (foreign Origin, wrong X-CSRF-Token — not needed for
//                               Patchline.GetConsoleSession, which hands it out); then as POST /
//   GET /console/export.csv     session (no CSRF token: a GET the SameSite cookie keeps same-site), then every page
//                               of a paginated operation through authorise → validate → dispatch, streamed as CSV
//   GET / , GET /console/assets/… the console's static files (public, no data; src/server/console-static.ts)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ServiceError, Errors } from './errors.ts';
import { verifySigV4 } from './sigv4.ts';
import { nodeScope } from '../auth/node-policy.ts';
import { AGENT_PATH, requestScheme, SNAPSHOT_PATH_PREFIX, urlHost } from '../auth/snapshot-urls.ts';
import { SESSION_COOKIE, consoleForbidden, readCookie, sessionMissing } from '../auth/console-sessions.ts';
import { agentBundle } from '../api/agent-download.ts';
import { snapshotDownload } from '../api/snapshots.ts';
import { ConsoleFiles, CONSOLE_SECURITY_HEADERS } from './console-static.ts';
import { exportPlan, exportableOperations, headerLine, itemLines } from './csv-export.ts';
import type { Principal } from '../auth/credentials.ts';
import type { RequestContext } from './operation.ts';
import type { App } from '../app.ts';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCEPTED_CONTENT_TYPES = new Set(['application/x-amz-json-1.1', 'application/x-amz-json-1.0', 'application/json']);
export const CONSOLE_API_PATH = '/console/api';
export const CONSOLE_EXPORT_PATH = '/console/export.csv';

/** Extra routes (the console, agent download) mounted before the API; they return true when they answered. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, requestId: string) => boolean | Promise<boolean>;

/** One request in flight: what the log line and the error answer need, filled in as the stages run. */
interface Exchange {
  readonly app: App;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly started: number;
  operation: string;
  accessKeyId?: string;
  limiterKeys?: string[];
  /** Headers every answer to this request carries, errors included (the console's security headers). */
  headers: Record<string, string>;
}

/** Who is calling, as the authenticate stage established it. */
interface Caller {
  principal: Principal;
  signingRegion: string;
  authenticatedBy: 'sigv4' | 'session';
}

type Authenticate = (ex: Exchange, body: Buffer) => Promise<Caller>;

export function createHttpServer(app: App, routes: RouteHandler[] = []): Server {
  const files = new ConsoleFiles(app.config.consoleDir);
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
    void handleRequest(app, files, routes, req, res);
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

async function handleRequest(app: App, files: ConsoleFiles, routes: RouteHandler[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ex: Exchange = { app, req, res, requestId: randomUUID(), started: performance.now(), operation: '-', headers: {} };
  const { requestId, started } = ex;
  try {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? '';
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      sendJson(res, 200, requestId, { status: 'ok' });
      return;
    }
    if (method === 'GET' && path.startsWith(SNAPSHOT_PATH_PREFIX)) {
      // A snapshot document by its presigned URL (query-string SigV4; 403 when expired or altered).
      ex.operation = 'GET /snapshots';
      const body = await readBody(req, app.config.maxBodyBytes);
      const document = await snapshotDownload(app, { method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body });
      sendJson(res, 200, requestId, document, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      logRequest(app, requestId, ex.operation, 200, started);
      return;
    }
    if (method === 'GET' && path === AGENT_PATH) {
      // The agent's one-file build, by its presigned URL (Patchline.GetAgentInstallCommand).
      ex.operation = 'GET /agent';
      await app.snapshotUrls.verify({ method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body: Buffer.alloc(0) });
      const file = await agentBundle();
      res.writeHead(200, { 'Content-Type': 'application/javascript', 'Content-Length': file.length, 'Cache-Control': 'no-store', 'x-amzn-RequestId': requestId });
      res.end(file);
      logRequest(app, requestId, ex.operation, 200, started);
      return;
    }
    for (const route of routes) {
      if (await route(req, res, requestId)) return;
    }
    if (method === 'POST' && path === '/') {
      await apiRequest(ex, authenticateSigV4);
      return;
    }
    if (path === CONSOLE_API_PATH || path === CONSOLE_EXPORT_PATH || ConsoleFiles.isConsolePath(path)) {
      Object.assign(ex.headers, CONSOLE_SECURITY_HEADERS);
      if (method === 'POST' && path === CONSOLE_API_PATH) {
        // Every call needs the session's CSRF token, except the one that hands it to a reloaded page.
        await apiRequest(ex, authenticateSession(header(req, 'x-amz-target') !== 'Patchline.GetConsoleSession'));
        return;
      }
      if (method === 'GET' && path === CONSOLE_EXPORT_PATH) {
        await exportCsv(ex);
        return;
      }
      if ((method === 'GET' || method === 'HEAD') && ConsoleFiles.isConsolePath(path)) {
        ex.operation = `${method} ${path === '/' ? '/' : '/console/assets'}`;
        if (await files.serve(req, res, path, requestId)) {
          logRequest(app, requestId, ex.operation, res.statusCode, started);
          return;
        }
        throw new ServiceError('ResourceNotFoundException', `No console file at ${path}.`, { status: 404 });
      }
      if (path !== '/') {
        const allowed = path === CONSOLE_API_PATH ? 'POST' : path === CONSOLE_EXPORT_PATH ? 'GET' : 'GET, HEAD';
        ex.headers.Allow = allowed;
        throw new ServiceError('MethodNotAllowedException', `${method} is not allowed on ${path}; use ${allowed}.`, { status: 405 });
      }
    }
    throw new ServiceError(
      'UnknownOperationException',
      `Patchline serves the AWS JSON 1.1 API with POST / (and GET /healthz, the console at GET /); ${method} ${path} is not a route.`,
      { status: 404 },
    );
  } catch (err) {
    const error = err instanceof ServiceError ? err : undefined;
    if (ex.limiterKeys && error && REGISTRATION_FAILURES.has(error.code)) app.registrationLimiter.recordFailure(ex.limiterKeys);
    if (error === undefined) {
      app.log.error('unexpected error', { requestId, operation: ex.operation, error: err });
    }
    const answer = error ?? Errors.internal();
    if (!res.headersSent) {
      sendJson(res, answer.status, requestId, answer.toBody(), { ...ex.headers, 'X-Amzn-ErrorType': answer.code, ...(answer.status === 413 ? { Connection: 'close' } : {}) });
    } else {
      res.destroy();
    }
    logRequest(app, requestId, ex.operation, answer.status, started, ex.accessKeyId, answer.code);
  }
}

// ---- the API pipeline (POST / and POST /console/api) ---------------------------------------------------------------

async function apiRequest(ex: Exchange, authenticate: Authenticate): Promise<void> {
  const { app, req, res, requestId } = ex;
  const body = await readBody(req, app.config.maxBodyBytes);
  const caller = await authenticate(ex, body);

  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
    throw new ServiceError('UnsupportedMediaTypeException', `Unsupported content type '${contentType}'. Send ${JSON_CONTENT_TYPE}.`, { status: 415 });
  }

  ex.operation = resolveTarget(app, req.headers['x-amz-target']);

  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw Errors.serialization(`Request body is not valid JSON: ${(err as Error).message}`);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw Errors.serialization('Request body must be a JSON object.');
  }

  const { output, ctx } = await invoke(ex, caller, input as Record<string, unknown>);
  sendJson(res, 200, requestId, output, { ...ex.headers, ...ctx.responseHeaders });
  logRequest(app, requestId, ex.operation, 200, ex.started, ex.accessKeyId);
}

/** Authorise → validate → dispatch, for one operation call (one page of an export). */
async function invoke(ex: Exchange, caller: Caller, input: Record<string, unknown>): Promise<{ output: object; ctx: RequestContext }> {
  const { app, req, requestId, operation } = ex;
  const { principal } = caller;
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

  const sessionToken = readCookie(header(req, 'cookie'), SESSION_COOKIE);
  const ctx: RequestContext = {
    requestId,
    operation,
    principal,
    signingRegion: caller.signingRegion,
    now: Date.now(),
    origin: { scheme: requestScheme(req.headers), host: req.headers.host },
    log: app.log,
    app,
    authenticatedBy: caller.authenticatedBy,
    ...(sessionToken !== undefined && sessionToken !== '' ? { sessionToken } : {}),
    responseHeaders: {},
  };
  const output = await app.operations[operation]!(input, ctx);
  return { output, ctx };
}

const authenticateSigV4: Authenticate = async (ex, body) => {
  const { app, req } = ex;
  if (req.headers['x-amz-target'] === 'Patchline.RegisterManagedInstance') {
    ex.limiterKeys = registrationKeys(req);
    app.registrationLimiter.check(ex.limiterKeys);
  }
  const identity = await verifySigV4({ method: req.method ?? 'POST', url: req.url ?? '/', rawHeaders: req.rawHeaders, body }, app.credentials.lookupSecret);
  ex.accessKeyId = identity.accessKeyId;
  const principal = await app.credentials.principal(identity.accessKeyId);
  if (principal === undefined) throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  return { principal, signingRegion: identity.region, authenticatedBy: 'sigv4' };
};

/**
 * The console's authenticate stage: the request must come from the server's own origin (when the browser says
 * where it comes from), carry a live session cookie, and (for the API) the session's CSRF token.
 */
function authenticateSession(requireCsrf: boolean): Authenticate {
  return async (ex) => {
    const { app, req } = ex;
    const origin = header(req, 'origin');
    if (origin !== undefined) {
      const scheme = requestScheme(req.headers);
      const host = req.headers.host;
      if (host === undefined || origin.toLowerCase() !== `${scheme}://${urlHost(host, scheme)}`) {
        throw consoleForbidden(`Requests from ${origin} are not accepted: the console calls its own origin only.`);
      }
    }
    const site = header(req, 'sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw consoleForbidden(`Cross-site requests (Sec-Fetch-Site: ${site}) are not accepted.`);
    const token = readCookie(header(req, 'cookie'), SESSION_COOKIE);
    const session = await app.sessions.authenticate(token, requireCsrf ? header(req, 'x-csrf-token') ?? '' : false);
    ex.accessKeyId = session.accessKeyId;
    const principal = await app.credentials.principal(session.accessKeyId);
    if (principal?.kind !== 'admin') {
      await app.sessions.delete(token!);
      throw sessionMissing('The access key this session was created with is no longer valid; sign in again.');
    }
    return { principal, signingRegion: app.config.region, authenticatedBy: 'session' };
  };
}

// ---- CSV export (GET /console/export.csv) --------------------------------------------------------------------------

async function exportCsv(ex: Exchange): Promise<void> {
  const { app, req, res, requestId } = ex;
  const caller = await authenticateSession(false)(ex, Buffer.alloc(0));
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const target = query.get('target') ?? '';
  // `Patchline.ListNodes`, `AmazonSSM.DescribeInstancePatches`, or a bare name (AWS's, else Patchline's).
  ex.operation = resolveTarget(app, target === '' || target.includes('.') ? target : app.operations[target] !== undefined ? `${app.model.targetPrefix}.${target}` : `Patchline.${target}`);
  const plan = exportPlan(ex.operation);
  if (plan === undefined) {
    throw Errors.validation(`${ex.operation} cannot be exported as CSV: it is not a paginated list operation. Exportable: ${exportableOperations().join(', ')}.`);
  }
  let input: unknown;
  try {
    input = JSON.parse(query.get('input') ?? '{}');
  } catch (err) {
    throw Errors.serialization(`The input parameter is not valid JSON: ${(err as Error).message}`);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw Errors.serialization('The input parameter must be a JSON object.');
  const request = { ...(input as Record<string, unknown>) };
  if (plan.limit !== undefined && request[plan.limit.member] === undefined) request[plan.limit.member] = plan.limit.max;

  // The first page runs before anything is sent, so its errors are ordinary JSON answers.
  let page = (await invoke(ex, caller, request)).output as Record<string, unknown>;
  const name = ex.operation.replace(/^Patchline\./, '');
  res.writeHead(200, {
    ...ex.headers,
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}.csv"`,
    'Cache-Control': 'no-store',
    'x-amzn-RequestId': requestId,
  });
  let rows = 0;
  let chunk = headerLine(plan);
  for (;;) {
    const items = page[plan.resultKey];
    if (Array.isArray(items)) {
      chunk += itemLines(plan, items);
      rows += items.length;
    }
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
    chunk = '';
    if (res.destroyed) return;
    const token = page[plan.outputToken];
    if (typeof token !== 'string' || token === '') break;
    page = (await invoke(ex, caller, { ...request, [plan.inputToken]: token })).output as Record<string, unknown>;
  }
  res.end();
  if (app.log.enabled('info')) {
    app.log.info('request', { requestId, operation: `GET /console/export.csv ${ex.operation}`, status: 200, rows, ms: Math.round((performance.now() - ex.started) * 100) / 100, accessKeyId: ex.accessKeyId });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
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

function sendJson(res: ServerResponse, status: number, requestId: string, body: unknown, headers: Record<string, string | string[]> = {}): void {
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
