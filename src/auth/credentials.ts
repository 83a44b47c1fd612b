// Access keys: creation, encrypted storage, lookup for SigV4 verification, revocation.
// Admin keys may call every operation; node keys (issued at registration) act only on their own node.

import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { MasterKey } from './master-key.ts';

export interface Principal {
  accessKeyId: string;
  /**
   * 'admin' keys may call every operation; 'node' keys act only on their own managed node; 'activation' is a
   * hybrid activation (id + code used as a SigV4 key pair) that may only register a node.
   */
  kind: 'admin' | 'node' | 'activation';
  /** Set for node keys: the only managed node this key may act on. */
  instanceId?: string;
  /** Set for activations. */
  activationId?: string;
}

const ACTIVATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

interface CachedKey {
  secret: string;
  principal: Principal;
  expiresAt: number;
}

export const ADMIN_CREDENTIALS_FILE = 'admin-credentials';
/** How long another server may keep using a key after it was revoked elsewhere (same server: immediately). */
const CACHE_TTL_MS = 2_000;
const NEGATIVE_TTL_MS = 1_000;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** AWS-shaped key pair: a 20-character id (prefix AKPL) and a 40-character secret. */
export function generateKeyPair(): KeyPair {
  let id = 'AKPL';
  for (let i = 0; i < 16; i++) id += BASE32[randomInt(32)];
  const bytes = randomBytes(40);
  let secret = '';
  for (const b of bytes) secret += SECRET_CHARS[b & 63];
  return { accessKeyId: id, secretAccessKey: secret };
}

export class CredentialStore {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #master: MasterKey;
  readonly #static = new Map<string, { secret: string; principal: Principal }>();
  readonly #cache = new Map<string, CachedKey | { missing: true; expiresAt: number }>();

  constructor(db: Kysely<DatabaseSchema>, master: MasterKey) {
    this.#db = db;
    this.#master = master;
  }

  /** Registers an admin key that lives only in memory (PATCHLINE_ACCESS_KEY_ID / PATCHLINE_SECRET_ACCESS_KEY). */
  addStaticAdminKey(pair: KeyPair): void {
    this.#static.set(pair.accessKeyId, { secret: pair.secretAccessKey, principal: { accessKeyId: pair.accessKeyId, kind: 'admin' } });
  }

  /** Secret for SigV4 verification; undefined for unknown or revoked keys. */
  lookupSecret = (accessKeyId: string): string | undefined | Promise<string | undefined> => {
    const entry = this.#resolveCached(accessKeyId);
    if (entry !== undefined) return 'missing' in entry ? undefined : entry.secret;
    return this.#load(accessKeyId).then((e) => e?.secret);
  };

  /** The principal of a key that lookupSecret just accepted. */
  async principal(accessKeyId: string): Promise<Principal | undefined> {
    const entry = this.#resolveCached(accessKeyId);
    if (entry !== undefined) return 'missing' in entry ? undefined : entry.principal;
    return (await this.#load(accessKeyId))?.principal;
  }

  #resolveCached(accessKeyId: string): CachedKey | { missing: true; expiresAt: number } | undefined {
    const fixed = this.#static.get(accessKeyId);
    if (fixed) return { ...fixed, expiresAt: Number.POSITIVE_INFINITY };
    const cached = this.#cache.get(accessKeyId);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached;
    return undefined;
  }

  async #load(accessKeyId: string): Promise<CachedKey | undefined> {
    if (ACTIVATION_ID.test(accessKeyId)) return this.#loadActivation(accessKeyId);
    const row = await this.#db.selectFrom('access_keys').selectAll().where('access_key_id', '=', accessKeyId).executeTakeFirst();
    if (this.#cache.size > 100_000) this.#cache.clear();
    if (row === undefined || row.revoked_at !== null) {
      this.#cache.set(accessKeyId, { missing: true, expiresAt: Date.now() + NEGATIVE_TTL_MS });
      return undefined;
    }
    const principal: Principal = row.kind === 'node' && row.instance_id !== null
      ? { accessKeyId, kind: 'node', instanceId: row.instance_id }
      : { accessKeyId, kind: 'admin' };
    const entry: CachedKey = { secret: this.#master.decrypt(row.secret_ciphertext, accessKeyId), principal, expiresAt: Date.now() + CACHE_TTL_MS };
    this.#cache.set(accessKeyId, entry);
    return entry;
  }

  async #loadActivation(activationId: string): Promise<CachedKey | undefined> {
    const row = await this.#db.selectFrom('activations').select('code_ciphertext').where('activation_id', '=', activationId).executeTakeFirst();
    if (row === undefined) {
      this.#cache.set(activationId, { missing: true, expiresAt: Date.now() + NEGATIVE_TTL_MS });
      return undefined;
    }
    const entry: CachedKey = {
      secret: this.#master.decrypt(row.code_ciphertext, activationId),
      principal: { accessKeyId: activationId, kind: 'activation', activationId },
      expiresAt: Date.now() + CACHE_TTL_MS,
    };
    this.#cache.set(activationId, entry);
    return entry;
  }

  /** Encrypts an activation code for storage (it is the SigV4 secret the agent registers with). */
  encryptActivationCode(activationId: string, code: string): string {
    return this.#master.encrypt(code, activationId);
  }

  /** Creates and stores a new key; the secret is returned once and stored only encrypted. */
  async createKey(kind: 'admin' | 'node', options: { instanceId?: string; label?: string; db?: Kysely<DatabaseSchema> } = {}): Promise<KeyPair> {
    const pair = generateKeyPair();
    await (options.db ?? this.#db).insertInto('access_keys').values({
      access_key_id: pair.accessKeyId,
      secret_ciphertext: this.#master.encrypt(pair.secretAccessKey, pair.accessKeyId),
      kind,
      instance_id: options.instanceId ?? null,
      label: options.label ?? null,
      created_at: Date.now(),
      revoked_at: null,
    }).execute();
    return pair;
  }

  /** Revokes every key of a node (deregistration); effective at once on this server. */
  async revokeNodeKeys(instanceId: string, db: Kysely<DatabaseSchema> = this.#db): Promise<number> {
    const rows = await db.selectFrom('access_keys').select('access_key_id').where('instance_id', '=', instanceId).where('revoked_at', 'is', null).execute();
    await db.updateTable('access_keys').set({ revoked_at: Date.now() }).where('instance_id', '=', instanceId).where('revoked_at', 'is', null).execute();
    for (const r of rows) this.#cache.delete(r.access_key_id);
    return rows.length;
  }

  forget(accessKeyId: string): void {
    this.#cache.delete(accessKeyId);
  }

  async hasStoredAdminKey(): Promise<boolean> {
    const row = await this.#db.selectFrom('access_keys').select('access_key_id').where('kind', '=', 'admin').where('revoked_at', 'is', null).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Checks that the master key decrypts the stored keys (it must be the same on every server sharing the database). */
  async checkMasterKey(): Promise<void> {
    const row = await this.#db.selectFrom('access_keys').select(['access_key_id', 'secret_ciphertext']).limit(1).executeTakeFirst();
    if (row === undefined) return;
    try {
      this.#master.decrypt(row.secret_ciphertext, row.access_key_id);
    } catch {
      throw new Error(
        'the master key does not decrypt the access keys stored in this database. Every server sharing a database needs the same ' +
          'master key: copy DATA_DIR/master.key from the first server or set PATCHLINE_MASTER_KEY.',
      );
    }
  }
}

/** Writes the admin key as an AWS shared-credentials file readable only by its owner. */
export function writeAdminCredentialsFile(dataDir: string, pair: KeyPair, region: string): string {
  const file = join(dataDir, ADMIN_CREDENTIALS_FILE);
  const text = `# Patchline admin key, created ${new Date().toISOString()}. Keep this file secret.\n` +
    `# Use it with: AWS_SHARED_CREDENTIALS_FILE=${file} AWS_PROFILE=patchline aws ssm ... --region ${region}\n` +
    `[patchline]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n`;
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export function adminCredentialsFileExists(dataDir: string): boolean {
  return existsSync(join(dataDir, ADMIN_CREDENTIALS_FILE));
}
