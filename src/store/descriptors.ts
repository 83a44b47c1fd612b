// The shared dictionary behind compact per-node data: patch-row descriptors (kind 'r') and, for raw scans,
// package versions (kind 'p'). Each distinct value is stored once with an integer id; nodes store ids. Ids are
// assigned in their own short transactions (never inside a report's transaction), so a cached id always exists.

import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

const CHUNK = 500;
const MAX_CACHED = 2_000_000;

export class DescriptorDictionary<T> {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #byKey = new Map<string, number>();
  readonly #byId = new Map<number, T>();
  /** Cached values → their ids (values are shared objects: one per id per process). */
  readonly #idOf = new WeakMap<object, number>();

  constructor(db: Kysely<DatabaseSchema>) {
    this.#db = db;
  }

  /** Ids for the given keys (values give the JSON stored for new keys), creating entries as needed. */
  async intern(keys: readonly string[], valueOf: (index: number) => T): Promise<number[]> {
    const ids = new Array<number>(keys.length);
    const missing = new Map<string, number>(); // key → first index
    for (let i = 0; i < keys.length; i++) {
      const id = this.#byKey.get(keys[i]!);
      if (id !== undefined) ids[i] = id;
      else if (!missing.has(keys[i]!)) missing.set(keys[i]!, i);
    }
    if (missing.size > 0) {
      if (this.#byKey.size > MAX_CACHED) this.#clear();
      const wanted = [...missing.keys()];
      await this.#loadByKey(wanted);
      // In key order: concurrent inserts of overlapping keys (other processes interning the same new packages)
      // then wait on each other in one direction only; in arrival order they deadlock on PostgreSQL.
      const absent = wanted.filter((k) => !this.#byKey.has(k)).sort();
      for (let c = 0; c < absent.length; c += CHUNK) {
        const chunk = absent.slice(c, c + CHUNK);
        await this.#db.insertInto('patch_descriptors')
          .values(chunk.map((key) => ({ key, data: JSON.stringify(valueOf(missing.get(key)!)) })))
          .onConflict((oc) => oc.column('key').doNothing()).execute();
      }
      if (absent.length > 0) await this.#loadByKey(absent);
      for (let i = 0; i < keys.length; i++) {
        if (ids[i] === undefined) {
          const id = this.#byKey.get(keys[i]!);
          if (id === undefined) throw new Error(`descriptor for ${JSON.stringify(keys[i])} could not be created`);
          ids[i] = id;
        }
      }
    }
    return ids;
  }

  /**
   * Makes sure the values of these ids are cached; then `get` answers synchronously. Inside a transaction pass it
   * as `db` (SQLite has one connection: a query outside the open transaction would wait for it forever).
   */
  async load(ids: Iterable<number>, db: Kysely<DatabaseSchema> = this.#db): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#byId.has(id));
    if (missing.length > 0 && this.#byId.size > MAX_CACHED) this.#clear();
    for (let c = 0; c < missing.length; c += CHUNK) {
      const rows = await db.selectFrom('patch_descriptors').select(['id', 'key', 'data']).where('id', 'in', missing.slice(c, c + CHUNK)).execute();
      for (const r of rows) this.#remember(Number(r.id), r.key, JSON.parse(r.data) as T);
    }
  }

  get(id: number): T {
    const value = this.#byId.get(id);
    if (value === undefined) throw new Error(`descriptor ${id} is not loaded`);
    return value;
  }

  async #loadByKey(keys: string[]): Promise<void> {
    for (let c = 0; c < keys.length; c += CHUNK) {
      const rows = await this.#db.selectFrom('patch_descriptors').select(['id', 'key', 'data']).where('key', 'in', keys.slice(c, c + CHUNK)).execute();
      for (const r of rows) this.#remember(Number(r.id), r.key, JSON.parse(r.data) as T);
    }
  }

  #remember(id: number, key: string, value: T): void {
    if (this.#byId.has(id)) return; // keep the one shared object per id
    this.#byKey.set(key, id);
    this.#byId.set(id, value);
    if (typeof value === 'object' && value !== null) this.#idOf.set(value, id);
  }

  /** The id of a value obtained from `get` (undefined for objects not from this dictionary). */
  idOf(value: T): number | undefined {
    return typeof value === 'object' && value !== null ? this.#idOf.get(value) : undefined;
  }

  #clear(): void {
    this.#byKey.clear();
    this.#byId.clear();
  }
}
