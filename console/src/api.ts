// The console's only way to the server: `POST /console/api` with the session cookie (HttpOnly, set by the server),
// `X-Amz-Target` and `X-CSRF-Token`, as docs/console.md defines it. The CSRF token lives in this module's memory
// only; after a reload `Patchline.GetConsoleSession` hands the page a token for its still-valid cookie. Sign-in is
// the one request that goes to `POST /`, signed with SigV4 in the browser (sigv4.ts).

import { signRequest } from './sigv4.ts';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

export interface Session {
  AccessKeyId: string;
  Expires: number;
}

let csrfToken: string | undefined;
let session: Session | undefined;
const listeners = new Set<(s: Session | undefined, reason?: string) => void>();

/** Called when the session starts or ends (reason: why it ended, for the sign-in page). */
export function onSessionChange(listener: (s: Session | undefined, reason?: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(s: Session | undefined, token: string | undefined, reason?: string): void {
  session = s;
  csrfToken = token;
  for (const l of listeners) l(s, reason);
}

export function currentSession(): Session | undefined {
  return session;
}

/** `AmazonSSM.<Op>` for AWS operations, `Patchline.<Op>` as given. */
export function targetOf(operation: string): string {
  return operation.includes('.') ? operation : `AmazonSSM.${operation}`;
}

async function parseError(res: Response): Promise<ApiError> {
  let code = res.headers.get('x-amzn-errortype')?.split(':')[0] ?? '';
  let message = '';
  try {
    const body = (await res.json()) as { __type?: string; message?: string; Message?: string };
    if (!code && body.__type) code = body.__type.split('#').pop() ?? body.__type;
    message = body.message ?? body.Message ?? '';
  } catch {
    message = res.statusText;
  }
  return new ApiError(code || `HTTP${res.status}`, message || `The server answered HTTP ${res.status}.`, res.status);
}

async function post(operation: string, body: unknown, signal: AbortSignal | undefined, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-amz-json-1.1',
    'X-Amz-Target': targetOf(operation),
  };
  if (token !== undefined) headers['X-CSRF-Token'] = token;
  try {
    return await fetch('/console/api', { method: 'POST', headers, body: JSON.stringify(body ?? {}), credentials: 'same-origin', cache: 'no-store', signal: signal ?? null });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('NetworkError', `The server could not be reached (${(err as Error).message}).`, 0);
  }
}

let refreshing: Promise<boolean> | undefined;

/** Asks the server for this cookie's session and a CSRF token; true when the session is valid. */
export function resumeSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await post('Patchline.GetConsoleSession', {}, undefined, undefined);
      if (!res.ok) {
        if (res.status !== 401) console.warn('GetConsoleSession', (await parseError(res)).message);
        setSession(undefined, undefined);
        return false;
      }
      const body = (await res.json()) as { CsrfToken: string; Expires: number; AccessKeyId: string };
      setSession({ AccessKeyId: body.AccessKeyId, Expires: body.Expires }, body.CsrfToken);
      return true;
    } catch {
      setSession(undefined, undefined);
      return false;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/**
 * Calls an operation. A 401 ends the session (the sign-in page shows why); a 403 AccessDeniedException is
 * retried once with a freshly fetched CSRF token (another tab may have rotated it), then thrown.
 */
export async function call<T = any>(operation: string, body: unknown = {}, signal?: AbortSignal): Promise<T> {
  let res = await post(operation, body, signal, csrfToken);
  if (res.status === 403 && session !== undefined) {
    const err = await parseError(res);
    if (err.code !== 'AccessDeniedException' || !(await resumeSession())) throw err;
    res = await post(operation, body, signal, csrfToken);
  }
  if (res.status === 401) {
    const err = await parseError(res);
    setSession(undefined, undefined, 'Your session has ended (signed out, expired, or idle for too long). Sign in again to continue.');
    throw err;
  }
  if (!res.ok) throw await parseError(res);
  return (await res.json()) as T;
}

/** Signs `Patchline.CreateConsoleSession` with the key and starts a session; the secret is not kept. */
export async function signIn(accessKeyId: string, secretAccessKey: string, region: string): Promise<Session> {
  const body = '{}';
  const target = 'Patchline.CreateConsoleSession';
  const headers = await signRequest({ accessKeyId, secretAccessKey, region, service: 'ssm', host: location.host, target, body });
  let res: Response;
  try {
    res = await fetch('/', { method: 'POST', headers: { ...headers }, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new ApiError('NetworkError', `The server could not be reached (${(err as Error).message}).`, 0);
  }
  if (!res.ok) throw await parseError(res);
  const answer = (await res.json()) as { CsrfToken: string; Expires: number; AccessKeyId: string };
  const s = { AccessKeyId: answer.AccessKeyId ?? accessKeyId, Expires: answer.Expires };
  setSession(s, answer.CsrfToken);
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await call('Patchline.DeleteConsoleSession', {});
  } catch {
    // The session may already be gone; signing out locally is what matters.
  }
  setSession(undefined, undefined, 'You have signed out.');
}

/** Follows NextToken until `limit` items are collected or the pages end. */
export async function collect<T>(operation: string, body: Record<string, unknown>, listKey: string, limit = 1000, signal?: AbortSignal): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let NextToken: string | undefined;
  do {
    const page: Record<string, unknown> = await call(operation, { ...body, ...(NextToken ? { NextToken } : {}) }, signal);
    items.push(...((page[listKey] as T[] | undefined) ?? []));
    NextToken = page.NextToken as string | undefined;
  } while (NextToken !== undefined && items.length < limit);
  return { items, truncated: NextToken !== undefined };
}

/** The CSV export link of a paginated list operation (docs/console.md "CSV export"). */
export function exportUrl(operation: string, input: Record<string, unknown>): string {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (v !== undefined && k !== 'NextToken') clean[k] = v;
  return `/console/export.csv?target=${encodeURIComponent(operation)}&input=${encodeURIComponent(JSON.stringify(clean))}`;
}
