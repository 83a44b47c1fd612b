// The server's master key: 32 random bytes kept outside the database (a 0600 file in the data directory, or
// PATCHLINE_MASTER_KEY for several servers sharing one PostgreSQL database). It encrypts every stored secret
// access key and signs pagination tokens, so a stolen database alone reveals neither.
//
// Why encryption and not a hash: SigV4 is an HMAC over the request, so the server must hold the secret itself
// (the signing key is derived from the secret and the request's date). A one-way hash cannot verify a
// signature; encryption at rest under a key stored elsewhere is the strongest option SigV4 leaves.

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

export class MasterKey {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes (44 base64 characters)');
    this.#key = key;
  }

  /** AES-256-GCM; `context` (e.g. the access key id) is bound as additional data so ciphertexts cannot be swapped. */
  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), data.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
  }

  decrypt(ciphertext: string, context: string): string {
    const [version, iv, data, tag] = ciphertext.split('.');
    if (version !== 'v1' || iv === undefined || data === undefined || tag === undefined) throw new Error('unknown ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }

  /** A sub-key for one purpose (HKDF-like: HMAC of the purpose under the master key). */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.#key).update(`patchline:${purpose}`).digest();
  }
}

/**
 * Loads the master key from PATCHLINE_MASTER_KEY (base64) if given, else from DATA_DIR/master.key,
 * creating that file (mode 0600) on first start.
 */
export function loadMasterKey(dataDir: string, fromEnv: string | undefined): { key: MasterKey; created: boolean; source: string } {
  if (fromEnv !== undefined && fromEnv !== '') {
    return { key: new MasterKey(Buffer.from(fromEnv.trim(), 'base64')), created: false, source: 'PATCHLINE_MASTER_KEY' };
  }
  const file = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return { key: new MasterKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')), created: false, source: file };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raw = randomBytes(32);
  writeFileSync(file, raw.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key: new MasterKey(raw), created: true, source: file };
}
