// Schema migrations, run in order on every start (Kysely's Migrator keeps a lock and a record of what ran).
// Never edit a migration that has shipped; add a new one.

import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001-foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('access_keys')
        .addColumn('access_key_id', 'text', (c) => c.primaryKey())
        .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text')
        .addColumn('label', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('access_keys_instance').on('access_keys').column('instance_id').execute();
      await db.schema.createTable('baselines')
        .addColumn('baseline_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('operating_system', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .addColumn('client_token', 'text', (c) => c.unique())
        .addColumn('request_hash', 'text')
        .execute();
      await db.schema.createIndex('baselines_name').on('baselines').column('name').execute();
      await db.schema.createTable('default_baselines')
        .addColumn('operating_system', 'text', (c) => c.primaryKey())
        .addColumn('baseline_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('patch_group_baselines')
        .addColumn('patch_group', 'text', (c) => c.notNull())
        .addColumn('operating_system', 'text', (c) => c.notNull())
        .addColumn('baseline_id', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('patch_group_baselines_pk', ['patch_group', 'operating_system'])
        .execute();
      await db.schema.createIndex('patch_group_baselines_baseline').on('patch_group_baselines').column('baseline_id').execute();
      await db.schema.createTable('tags')
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('tag_key', 'text', (c) => c.notNull())
        .addColumn('tag_value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['resource_type', 'resource_id', 'tag_key'])
        .execute();
    },
  },
};

class InCodeMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new InCodeMigrations(), migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
