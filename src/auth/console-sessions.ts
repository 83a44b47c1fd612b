// Web console sessions (docs/console.md): created by a SigV4-signed Patchline.CreateConsoleSession from an admin
// key, carried by an HttpOnly SameSite=Strict cookie, and checked on every POST /console/api with a CSRF token.
// The session token is a 256-bit random value; the CSRF token is an HMAC of it under a key derived from the master
// key, so Patchline.GetConsoleSession can hand the same token again to a page reloaded with the cookie (every tab
// of a session shares it). The database keeps only SHA-256 hashes of both (a leaked table opens no session). A
// session ends 8 hours after creation or 30 minutes after its last use, whichever comes first; its last use is
// written at most once a minute. Expired rows are deleted when met and by the hourly pruning job.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { ServiceError } from '../server/errors.ts';

export const SESSION_COOKIE = 'patchline_session';
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** A session's last use is recorded at most this often (the idle expiry is exact to within this). */
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface NewSession {
  token: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export interface ActiveSession {
  tokenHash: string;
  accessKeyId: string;
  expiresAt: number;
}

const hash = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

/** 401 MissingAuthenticationTokenException: no session, or an expired or ended one. */
export function sessionMissing(message = 'Sign in to the console: the session is missing or has expired.'): ServiceError {
  return new ServiceError('MissingAuthenticationTokenException', message, { status: 401 });
}

/** 403 AccessDeniedException: a wrong CSRF token or a foreign Origin. */
export function consoleForbidden(message: string): ServiceError {
  return new ServiceError('AccessDeniedException', message, { status: 403 });
}

export class ConsoleSessions {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #csrfKey: Buffer;
  /** The clock behind creation and expiry (tests replace it). */
  now: () => number = Date.now;

  /** `csrfKey`: a key only the servers know (derived from the master key), so CSRF tokens cannot be forged. */
  constructor(db: Kysely<DatabaseSchema>, csrfKey: Buffer) {
    this.#db = db;
    this.#csrfKey = csrfKey;
  }

  /** The CSRF token of the session a cookie token names. */
  csrfTokenFor(token: string): string {
    return createHmac('sha256', this.#csrfKey).update(token, 'utf8').digest('base64url');
  }

  async create(accessKeyId: string): Promise<NewSession> {
    const token = newToken();
    const csrfToken = this.csrfTokenFor(token);
    const createdAt = this.now();
    const expiresAt = createdAt + SESSION_LIFETIME_MS;
    await this.#db.insertInto('console_sessions').values({
      token_hash: hash(token), access_key_id: accessKeyId, csrf_hash: hash(csrfToken), created_at: createdAt, last_used_at: createdAt, expires_at: expiresAt,
    }).execute();
    return { token, csrfToken, createdAt, expiresAt };
  }

  /**
   * The live session a cookie token names, or 401. With `csrfToken` (every state-changing entry point) the CSRF
   * token must match, else 403; the CSV export (a GET the SameSite cookie keeps same-site) passes none.
   */
  async authenticate(token: string | undefined, csrfToken: string | undefined | false): Promise<ActiveSession> {
    if (token === undefined || token === '') throw sessionMissing();
    const tokenHash = hash(token);
    const row = await this.#db.selectFrom('console_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (row === undefined) throw sessionMissing();
    const now = this.now();
    const lastUsed = Number(row.last_used_at);
    if (now >= Number(row.expires_at) || now - lastUsed >= SESSION_IDLE_MS) {
      await this.#db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute();
      throw sessionMissing();
    }
    if (csrfToken !== false) {
      const given = Buffer.from(hash(csrfToken ?? ''), 'hex');
      const expected = Buffer.from(row.csrf_hash, 'hex');
      if (csrfToken === undefined || csrfToken === '' || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw consoleForbidden('The X-CSRF-Token header is missing or does not match this session.');
      }
    }
    if (now - lastUsed >= TOUCH_INTERVAL_MS) {
      await this.#db.updateTable('console_sessions').set({ last_used_at: now }).where('token_hash', '=', tokenHash).execute();
    }
    return { tokenHash, accessKeyId: row.access_key_id, expiresAt: Number(row.expires_at) };
  }

  /** The stored session of a cookie token (no expiry check: authenticate did that). */
  async lookup(token: string): Promise<ActiveSession | undefined> {
    const tokenHash = hash(token);
    const row = await this.#db.selectFrom('console_sessions').select(['access_key_id', 'expires_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
    return row === undefined ? undefined : { tokenHash, accessKeyId: row.access_key_id, expiresAt: Number(row.expires_at) };
  }

  /** Ends the session a cookie token names; true if there was one. */
  async delete(token: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('console_sessions').where('token_hash', '=', hash(token)).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Deletes every session past its absolute or idle expiry. */
  async prune(now = this.now()): Promise<number> {
    const r = await this.#db.deleteFrom('console_sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_used_at', '<=', now - SESSION_IDLE_MS)])).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** The value of one cookie in a Cookie header (the first one of that name), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a new session, or (maxAgeSeconds 0) one that clears it. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
