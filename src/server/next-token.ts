// Pagination tokens: opaque and tamper-evident (AES-256-GCM under a key derived from the master key, so every
// server sharing a database accepts the others' tokens), bound to the operation and to the query that made
// them, and valid for 24 hours. A forged, altered, foreign or stale token is refused, never trusted.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

export type TokenFailure = 'malformed' | 'forged' | 'other-query' | 'expired';

export class PageTokens {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** A stable fingerprint of the request members that define the result set (not NextToken/MaxResults). */
  static fingerprint(operation: string, query: Record<string, unknown>): string {
    const { NextToken: _t, MaxResults: _m, ...rest } = query;
    return createHash('sha256').update(operation).update('\0').update(stableJson(rest)).digest('base64url').slice(0, 22);
  }

  seal(fingerprint: string, cursor: unknown, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify({ q: fingerprint, c: cursor, e: now + TOKEN_LIFETIME_MS }), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
  }

  open(fingerprint: string, token: string, now = Date.now()): { ok: true; cursor: unknown } | { ok: false; reason: TokenFailure } {
    if (!/^[A-Za-z0-9_-]{40,}$/.test(token)) return { ok: false, reason: 'malformed' };
    const raw = Buffer.from(token, 'base64url');
    let text: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return { ok: false, reason: 'forged' };
    }
    let parsed: { q?: unknown; c?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (parsed.q !== fingerprint) return { ok: false, reason: 'other-query' };
    if (typeof parsed.e !== 'number' || parsed.e < now) return { ok: false, reason: 'expired' };
    return { ok: true, cursor: parsed.c };
  }
}

/** JSON with object keys sorted, so equal requests give equal fingerprints and hashes. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
