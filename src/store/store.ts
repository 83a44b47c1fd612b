// The store: small, named queries over Kysely for each area of the API. One implementation serves SQLite and
// PostgreSQL; the conformance suite (test/store/) runs unchanged against both.

import { sql, type Kysely, type Transaction } from 'kysely';
import type { DatabaseSchema, BaselinesTable } from './schema.ts';
import type { OpenDatabase, Engine } from './database.ts';

export type Db = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;

export interface TagRow {
  Key: string;
  Value: string;
}

export class Store {
  readonly db: Kysely<DatabaseSchema>;
  readonly engine: Engine;

  constructor(open: OpenDatabase) {
    this.db = open.db;
    this.engine = open.engine;
  }

  /** Runs `fn` in one transaction: all of its writes land together or not at all. */
  transaction<T>(fn: (trx: Transaction<DatabaseSchema>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /**
   * Runs `fn` on one consistent snapshot without taking the write lock (PostgreSQL REPEATABLE READ; SQLite a
   * deferred transaction, a WAL snapshot): long reads such as `patchline verify` never hold up reports.
   */
  snapshot<T>(fn: (trx: Transaction<DatabaseSchema>) => Promise<T>): Promise<T> {
    return this.db.transaction().setIsolationLevel('repeatable read').execute(fn);
  }

  // ---- baselines -------------------------------------------------------------------------------------------

  async insertBaseline(row: BaselinesTable, db: Db = this.db): Promise<void> {
    await db.insertInto('baselines').values(row).execute();
  }

  getBaseline(baselineId: string, db: Db = this.db): Promise<BaselinesTable | undefined> {
    return db.selectFrom('baselines').selectAll().where('baseline_id', '=', baselineId).executeTakeFirst();
  }

  /**
   * PostgreSQL: locks a baseline row until the transaction ends, so deleting a baseline and registering it to a
   * patch group (or as a default) cannot interleave. SQLite write transactions are already serial.
   */
  async lockBaseline(baselineId: string, db: Db): Promise<void> {
    if (this.engine === 'postgres') await sql`select 1 from baselines where baseline_id = ${baselineId} for update`.execute(db);
  }

  getBaselineByClientToken(token: string, db: Db = this.db): Promise<BaselinesTable | undefined> {
    return db.selectFrom('baselines').selectAll().where('client_token', '=', token).executeTakeFirst();
  }

  listBaselines(db: Db = this.db): Promise<BaselinesTable[]> {
    return db.selectFrom('baselines').selectAll().orderBy('created_at').orderBy('baseline_id').execute();
  }

  async countBaselines(db: Db = this.db): Promise<number> {
    const row = await db.selectFrom('baselines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async updateBaseline(baselineId: string, fields: Pick<BaselinesTable, 'name' | 'description' | 'document' | 'modified_at'>, db: Db = this.db): Promise<boolean> {
    const result = await db.updateTable('baselines').set(fields).where('baseline_id', '=', baselineId).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteBaseline(baselineId: string, db: Db = this.db): Promise<void> {
    await db.deleteFrom('baselines').where('baseline_id', '=', baselineId).execute();
    await db.deleteFrom('tags').where('resource_type', '=', 'PatchBaseline').where('resource_id', '=', baselineId).execute();
  }

  // ---- default baselines -------------------------------------------------------------------------------------

  async getDefaultBaselineIds(db: Db = this.db): Promise<Map<string, string>> {
    const rows = await db.selectFrom('default_baselines').selectAll().execute();
    return new Map(rows.map((r) => [r.operating_system, r.baseline_id]));
  }

  async setDefaultBaseline(os: string, baselineId: string | null, db: Db = this.db): Promise<void> {
    await db.deleteFrom('default_baselines').where('operating_system', '=', os).execute();
    if (baselineId !== null) await db.insertInto('default_baselines').values({ operating_system: os, baseline_id: baselineId }).execute();
  }

  // ---- patch groups ------------------------------------------------------------------------------------------

  getPatchGroupBaseline(patchGroup: string, os: string, db: Db = this.db) {
    return db.selectFrom('patch_group_baselines').selectAll().where('patch_group', '=', patchGroup).where('operating_system', '=', os).executeTakeFirst();
  }

  listPatchGroupBaselines(db: Db = this.db) {
    return db.selectFrom('patch_group_baselines').selectAll().orderBy('patch_group').orderBy('operating_system').execute();
  }

  async patchGroupsOfBaseline(baselineId: string, db: Db = this.db): Promise<string[]> {
    const rows = await db.selectFrom('patch_group_baselines').select('patch_group').where('baseline_id', '=', baselineId).orderBy('patch_group').execute();
    return rows.map((r) => r.patch_group);
  }

  async registerPatchGroup(patchGroup: string, os: string, baselineId: string, now: number, db: Db = this.db): Promise<void> {
    await db.insertInto('patch_group_baselines').values({ patch_group: patchGroup, operating_system: os, baseline_id: baselineId, registered_at: now }).execute();
  }

  async deregisterPatchGroup(patchGroup: string, baselineId: string, db: Db = this.db): Promise<number> {
    const r = await db.deleteFrom('patch_group_baselines').where('patch_group', '=', patchGroup).where('baseline_id', '=', baselineId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- tags --------------------------------------------------------------------------------------------------

  async listTags(resourceType: string, resourceId: string, db: Db = this.db): Promise<TagRow[]> {
    const rows = await db.selectFrom('tags').select(['tag_key', 'tag_value']).where('resource_type', '=', resourceType).where('resource_id', '=', resourceId).orderBy('tag_key').execute();
    return rows.map((r) => ({ Key: r.tag_key, Value: r.tag_value }));
  }

  /** Upserts tags (existing keys get the new value). */
  async putTags(resourceType: string, resourceId: string, tags: TagRow[], db: Db = this.db): Promise<void> {
    if (tags.length === 0) return;
    await db.insertInto('tags')
      .values(tags.map((t) => ({ resource_type: resourceType, resource_id: resourceId, tag_key: t.Key, tag_value: t.Value })))
      .onConflict((oc) => oc.columns(['resource_type', 'resource_id', 'tag_key']).doUpdateSet((eb) => ({ tag_value: eb.ref('excluded.tag_value') })))
      .execute();
  }

  async removeTags(resourceType: string, resourceId: string, keys: string[], db: Db = this.db): Promise<void> {
    if (keys.length === 0) return;
    await db.deleteFrom('tags').where('resource_type', '=', resourceType).where('resource_id', '=', resourceId).where('tag_key', 'in', keys).execute();
  }

  // ---- meta --------------------------------------------------------------------------------------------------

  async getMeta(key: string, db: Db = this.db): Promise<string | undefined> {
    return (await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  async setMeta(key: string, value: string, db: Db = this.db): Promise<void> {
    await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }
}
