// Schema migrations, run in order on every start (Kysely's Migrator keeps a lock and a record of what ran).
// Never edit a migration that has shipped; add a new one.

import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from './database.ts';
import { computeFleetCounters, writeFleetCounters } from './fleet-counters.ts';
import { descriptorIdsInStates, installedTimesOf, withoutInstalledTimes } from '../domain/patch-rows.ts';
import { MISSING_STATES } from '../domain/fleet.ts';
import { cveIdsIn, rowSetDigest } from '../domain/row-set.ts';

function buildMigrations(engine: Engine): Record<string, Migration> {
  const blob = engine === 'postgres' ? 'bytea' : 'blob';
  return {
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
  '0002-reporting': { up: (db) => reportingSchema(db, blob) },
  '0004-descriptors': {
    async up(db: Kysely<any>) {
      // Patch rows now refer to shared descriptors; earlier per-node rows (JSON) are dropped and come back with
      // each node's next report.
      await db.schema.createTable('patch_descriptors')
        .addColumn('id', engine === 'postgres' ? 'serial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.deleteFrom('node_patches').execute();
    },
  },
  '0005-scans': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('node_scans')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('scan_seq', 'bigint', (c) => c.notNull())
        .addColumn('operating_system', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('operation_start', 'bigint', (c) => c.notNull())
        .addColumn('operation_end', 'bigint', (c) => c.notNull())
        .addColumn('snapshot_id', 'text')
        .addColumn('reboot_option', 'text')
        .addColumn('last_no_reboot_install', 'bigint')
        .addColumn('data', blob, (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('dirty', 'integer', (c) => c.notNull())
        .addColumn('dirty_seq', 'bigint', (c) => c.notNull())
        .addColumn('evaluated_seq', 'bigint', (c) => c.notNull())
        .addColumn('evaluated_at', 'bigint')
        .addColumn('evaluated_baseline_id', 'text')
        .addColumn('next_change_at', 'bigint')
        .addColumn('claimed_until', 'bigint')
        .execute();
      await db.schema.createIndex('node_scans_dirty').on('node_scans').columns(['dirty', 'instance_id']).execute();
      await db.schema.createIndex('node_scans_baseline').on('node_scans').column('evaluated_baseline_id').execute();
      await db.schema.createIndex('node_scans_os').on('node_scans').column('operating_system').execute();
      await db.schema.createIndex('node_scans_next_change').on('node_scans').column('next_change_at').execute();
    },
  },
  '0006-advisories': {
    async up(db: Kysely<any>) {
      // The advisory catalogue (`patchline advisories import`, src/services/advisory-import.ts): one row per
      // advisory record (key = Advisory.key, re-imports update in place) and one per fixed package build, indexed
      // for matching scan candidates by (family, name) and (family, source name).
      await db.schema.createTable('advisories')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('family', 'text', (c) => c.notNull())
        .addColumn('distribution', 'text')
        .addColumn('classification', 'text', (c) => c.notNull())
        .addColumn('severity', 'text')
        .addColumn('title', 'text')
        .addColumn('issued', 'bigint')
        .addColumn('updated', 'bigint')
        .addColumn('cve_ids', 'text', (c) => c.notNull())
        .addColumn('bugzilla_ids', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('imported_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('advisories_family').on('advisories').columns(['family', 'key']).execute();
      await db.schema.createIndex('advisories_id').on('advisories').column('id').execute();
      await db.schema.createTable('advisory_packages')
        .addColumn('advisory_key', 'text', (c) => c.notNull())
        .addColumn('family', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('source_name', 'text')
        .addColumn('distribution', 'text')
        .addColumn('fixed_version', 'text', (c) => c.notNull())
        .addColumn('introduced_version', 'text')
        .addColumn('arch', 'text')
        .addColumn('data', 'text')
        .execute();
      await db.schema.createIndex('advisory_packages_advisory').on('advisory_packages').column('advisory_key').execute();
      await db.schema.createIndex('advisory_packages_name').on('advisory_packages').columns(['family', 'name']).execute();
      await db.schema.createIndex('advisory_packages_source').on('advisory_packages').columns(['family', 'source_name']).execute();
      // The CVE index of the nodes' reports (Patchline.DescribeInstancesForCve): the CVEs listed by each node's
      // Missing/Failed rows, replaced with the rows in ReportingStore.applyPatchReportsIn.
      await db.schema.createTable('node_cves')
        .addColumn('cve_id', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('node_cves_pk', ['cve_id', 'instance_id'])
        .execute();
      await db.schema.createIndex('node_cves_instance').on('node_cves').columns(['instance_id', 'cve_id']).execute();
      // Scanned nodes are re-evaluated once, which fills node_cves for them; inventory-reported nodes fill it with
      // their next report.
      await db.updateTable('node_scans').set((eb) => ({ dirty: 1, dirty_seq: eb('dirty_seq', '+', 1) })).execute();
    },
  },
  '0003-activations': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('activations')
        .addColumn('activation_id', 'text', (c) => c.primaryKey())
        .addColumn('code_ciphertext', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('default_instance_name', 'text')
        .addColumn('iam_role', 'text', (c) => c.notNull())
        .addColumn('registration_limit', 'integer', (c) => c.notNull())
        .addColumn('registrations_count', 'integer', (c) => c.notNull())
        .addColumn('expiration_date', 'bigint', (c) => c.notNull())
        .addColumn('created_date', 'bigint', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0007-catalogue': {
    async up(db: Kysely<any>) {
      // The patch catalogue: every update candidate a scan reported, per product (package ids refer to the shared
      // package dictionary, patch_descriptors kind 'p').
      await db.schema.createTable('catalogue_patches')
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('package_id', 'integer', (c) => c.notNull())
        .addColumn('operating_system', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('catalogue_patches_pk', ['product', 'package_id'])
        .execute();
      await db.schema.createIndex('catalogue_patches_os').on('catalogue_patches').columns(['operating_system', 'product', 'package_id']).execute();
      // Deployable snapshots: the frozen baseline shared by the nodes of one run (SnapshotId, patch group, OS, and
      // the BaselineOverride if any), and the document handed to each node.
      await db.schema.createTable('patch_snapshots')
        .addColumn('snapshot_id', 'text', (c) => c.notNull())
        .addColumn('patch_group', 'text', (c) => c.notNull())
        .addColumn('operating_system', 'text', (c) => c.notNull())
        .addColumn('baseline_source', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('baseline', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('patch_snapshots_pk', ['snapshot_id', 'patch_group', 'operating_system', 'baseline_source'])
        .execute();
      await db.schema.createIndex('patch_snapshots_created').on('patch_snapshots').column('created_at').execute();
      await db.schema.createTable('patch_snapshot_nodes')
        .addColumn('snapshot_id', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('patch_group', 'text', (c) => c.notNull())
        .addColumn('operating_system', 'text', (c) => c.notNull())
        .addColumn('baseline_source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('patch_snapshot_nodes_pk', ['snapshot_id', 'instance_id'])
        .execute();
      await db.schema.createIndex('patch_snapshot_nodes_issued').on('patch_snapshot_nodes').column('issued_at').execute();
    },
  },
  '0008-console': {
    async up(db: Kysely<any>) {
      // Web console sessions (docs/console.md): only hashes of the cookie token and of the CSRF token are stored.
      await db.schema.createTable('console_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('access_key_id', 'text', (c) => c.notNull())
        .addColumn('csrf_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_expires').on('console_sessions').column('expires_at').execute();
      await db.schema.createIndex('console_sessions_last_used').on('console_sessions').column('last_used_at').execute();
      // Fleet-wide counters kept on write (Patchline.GetFleetSummary), sharded like patch_group_counts.
      await db.schema.createTable('fleet_counts')
        .addColumn('shard', 'integer', (c) => c.primaryKey())
        .addColumn('nodes', 'integer', (c) => c.notNull())
        .addColumn('non_compliant', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createTable('missing_patch_counts')
        .addColumn('kb_id', 'text', (c) => c.notNull())
        .addColumn('shard', 'integer', (c) => c.notNull())
        .addColumn('nodes', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('missing_patch_counts_pk', ['kb_id', 'shard'])
        .execute();
      await db.schema.createTable('cve_counts')
        .addColumn('cve_id', 'text', (c) => c.notNull())
        .addColumn('shard', 'integer', (c) => c.notNull())
        .addColumn('nodes', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('cve_counts_pk', ['cve_id', 'shard'])
        .execute();
      // Patchline.ListNodes: the node's compliance as a column (so it can lead an index), and keyset indexes for
      // each sort; (reported_at) also serves the Stale count, nodes(last_ping_at) the PingStatus count.
      await db.schema.alterTable('node_patch_state').addColumn('non_compliant', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.updateTable('node_patch_state').set({
        non_compliant: sql`case when critical_non_compliant + security_non_compliant + other_non_compliant > 0 then 1 else 0 end`,
      }).execute();
      await db.schema.createIndex('node_patch_state_reported').on('node_patch_state').columns(['reported_at', 'instance_id']).execute();
      await db.schema.createIndex('node_patch_state_missing').on('node_patch_state').columns(['missing', 'instance_id']).execute();
      await db.schema.createIndex('node_patch_state_critical').on('node_patch_state').columns(['critical_non_compliant', 'instance_id']).execute();
      await db.schema.createIndex('node_patch_state_nc_missing').on('node_patch_state').columns(['non_compliant', 'missing', 'instance_id']).execute();
      await db.schema.createIndex('nodes_last_ping').on('nodes').columns(['last_ping_at', 'instance_id']).execute();
      // The counters are filled from what is already stored by 0010, which changes where rows are kept (the
      // recomputation reads the schema of the current code).
    },
  },
  '0009-scan-data': {
    async up(db: Kysely<any>) {
      // Scan data moves out of node_scans: marking, claiming and finishing an evaluation update node_scans, and on
      // SQLite an update rewrites the whole record, kilobytes of scan included.
      await db.schema.createTable('node_scan_data')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('data', blob, (c) => c.notNull())
        .execute();
      await sql`insert into node_scan_data (instance_id, data) select instance_id, data from node_scans`.execute(db);
      await db.schema.alterTable('node_scans').dropColumn('data').execute();
    },
  },
  '0010-row-sets': {
    async up(db: Kysely<any>) {
      // Patch rows are stored once per distinct content (patch_row_sets) and nodes refer to them; the CVE index
      // follows the sets (patch_row_set_cves) instead of listing every node × CVE pair.
      await db.schema.createTable('patch_row_sets')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('shape', 'text', (c) => c.notNull())
        .addColumn('row_count', 'integer', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('patch_row_set_cves')
        .addColumn('row_set', 'text', (c) => c.notNull().references('patch_row_sets.digest').onDelete('cascade'))
        .addColumn('cve_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('patch_row_set_cves_pk', ['row_set', 'cve_id'])
        .execute();
      await db.schema.createIndex('patch_row_sets_shape').on('patch_row_sets').columns(['shape', 'digest']).execute();
      await db.schema.createIndex('patch_row_set_cves_cve').on('patch_row_set_cves').columns(['cve_id', 'row_set']).execute();
      await db.schema.createTable('node_row_sets')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('report_seq', 'bigint', (c) => c.notNull())
        .addColumn('row_count', 'integer', (c) => c.notNull())
        .addColumn('row_set', 'text', (c) => c.notNull().references('patch_row_sets.digest'))
        .addColumn('installed_times', blob)
        .execute();
      await moveRowsToSets(db);
      await db.schema.dropTable('node_patches').execute();
      await db.schema.dropTable('node_cves').execute();
      await db.schema.alterTable('node_row_sets').renameTo('node_patches').execute();
      await db.schema.createIndex('node_patches_row_set').on('node_patches').columns(['row_set', 'instance_id']).execute();
      // Fill the fleet counters (0008's tables) from what is stored.
      await writeFleetCounters(db, await computeFleetCounters(db));
    },
  },
  '0011-evaluation-keys': {
    async up(db: Kysely<any>) {
      // Patchline.GetEvaluationStatus's last evaluation time without a table scan (it is polled during re-evaluation).
      await db.schema.createIndex('node_scans_evaluated').on('node_scans').column('evaluated_at').execute();
      // Each stored scan's fingerprint and installed-times digest, filled by the next evaluation of existing scans.
      await db.schema.alterTable('node_scans').addColumn('scan_key', 'text').execute();
      await db.schema.alterTable('node_scans').addColumn('times_key', 'text').execute();
    },
  },
  '0012-scan-timed-row-sets': {
    async up(db: Kysely<any>) {
      // A row set evaluated from scans names, per row, the package whose installed time the row shows; its nodes
      // read their times from their stored scans, so re-evaluation writes no per-node times (row-set.ts).
      await db.schema.alterTable('patch_row_sets').addColumn('timed_packages', blob).execute();
      // The installed-times key only served per-node times; scan_key alone now names a node's shared evaluation.
      await db.schema.alterTable('node_scans').dropColumn('times_key').execute();
    },
  },
  };
}

/** 0010: every node's encoded rows become a reference to the row set with the same content (times apart). */
async function moveRowsToSets(db: Kysely<any>): Promise<void> {
  const kbAndCves = new Map<number, { KBId: string; CVEIds: string }>();
  const written = new Set<string>();
  const now = Date.now();
  for (let after = ''; ;) {
    const page = await db.selectFrom('node_patches').select(['instance_id', 'report_seq', 'row_count', 'data'])
      .where('instance_id', '>', after).orderBy('instance_id').limit(500).execute() as Array<{ instance_id: string; report_seq: number; row_count: number; data: Uint8Array }>;
    if (page.length === 0) return;
    const wanted = [...new Set(page.flatMap((p) => descriptorIdsInStates(p.data, MISSING_STATES)))].filter((id) => !kbAndCves.has(id));
    for (let c = 0; c < wanted.length; c += 500) {
      for (const d of await db.selectFrom('patch_descriptors').select(['id', 'data']).where('id', 'in', wanted.slice(c, c + 500)).execute()) {
        kbAndCves.set(Number(d.id), JSON.parse(d.data) as { KBId: string; CVEIds: string });
      }
    }
    for (const p of page) {
      const data = Buffer.from(p.data);
      let digest = rowSetDigest(data);
      const shape = rowSetDigest(withoutInstalledTimes(data));
      let ownTimes: Buffer | null = null;
      if (!written.has(digest)) {
        // The same outcome with other installed times: refer to that set and keep the node's own times.
        const sameShape = await db.selectFrom('patch_row_sets').select('digest').where('shape', '=', shape).orderBy('digest').executeTakeFirst() as { digest: string } | undefined;
        if (sameShape !== undefined) {
          digest = sameShape.digest;
          ownTimes = installedTimesOf(data);
        } else {
          written.add(digest);
          await db.insertInto('patch_row_sets').values({ digest, shape, row_count: p.row_count, data, created_at: now }).execute();
          const cves = new Set<string>();
          for (const id of descriptorIdsInStates(data, MISSING_STATES)) cveIdsIn(kbAndCves.get(id)?.CVEIds, cves);
          if (cves.size > 0) await db.insertInto('patch_row_set_cves').values([...cves].map((cve_id) => ({ row_set: digest, cve_id }))).execute();
        }
      }
      await db.insertInto('node_row_sets').values({ instance_id: p.instance_id, report_seq: p.report_seq, row_count: p.row_count, row_set: digest, installed_times: ownTimes }).execute();
    }
    after = page[page.length - 1]!.instance_id;
  }
}

class InCodeMigrations implements MigrationProvider {
  constructor(private readonly engine: Engine) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return buildMigrations(this.engine);
  }
}

const COUNTERS = [
  'installed', 'installed_other', 'installed_pending_reboot', 'installed_rejected', 'missing', 'failed', 'not_applicable',
  'unreported_not_applicable', 'available_security_update', 'critical_non_compliant', 'security_non_compliant', 'other_non_compliant',
] as const;
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational', 'unspecified'] as const;

/** Managed nodes, their latest patch report, per-group and per-compliance-type counters, compliance, inventory, history. */
async function reportingSchema(db: Kysely<any>, blob: 'bytea' | 'blob'): Promise<void> {
  await db.schema.createTable('nodes')
    .addColumn('instance_id', 'text', (c) => c.primaryKey())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('computer_name', 'text')
    .addColumn('ip_address', 'text')
    .addColumn('platform_type', 'text')
    .addColumn('platform_name', 'text')
    .addColumn('platform_version', 'text')
    .addColumn('agent_version', 'text')
    .addColumn('activation_id', 'text')
    .addColumn('iam_role', 'text')
    .addColumn('registration_date', 'bigint')
    .addColumn('source_id', 'text')
    .addColumn('source_type', 'text')
    .addColumn('patch_group_tag', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_ping_at', 'bigint')
    .execute();
  await db.schema.createIndex('nodes_patch_group_tag').on('nodes').columns(['patch_group_tag', 'instance_id']).execute();
  await db.schema.createIndex('nodes_activation').on('nodes').column('activation_id').execute();

  let state = db.schema.createTable('node_patch_state')
    .addColumn('instance_id', 'text', (c) => c.primaryKey())
    .addColumn('report_seq', 'bigint', (c) => c.notNull())
    .addColumn('patch_group', 'text', (c) => c.notNull())
    .addColumn('baseline_id', 'text', (c) => c.notNull())
    .addColumn('snapshot_id', 'text')
    .addColumn('owner_information', 'text')
    .addColumn('install_override_list', 'text');
  for (const c of COUNTERS) state = state.addColumn(c, 'integer', (col) => col.notNull());
  await state
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('operation_start', 'bigint', (c) => c.notNull())
    .addColumn('operation_end', 'bigint', (c) => c.notNull())
    .addColumn('reboot_option', 'text')
    .addColumn('last_no_reboot_install', 'bigint')
    .addColumn('summary_hash', 'text')
    .addColumn('patches_hash', 'text')
    .addColumn('capture_time', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('node_patch_state_group').on('node_patch_state').columns(['patch_group', 'instance_id']).execute();

  await db.schema.createTable('node_patches')
    .addColumn('instance_id', 'text', (c) => c.primaryKey())
    .addColumn('report_seq', 'bigint', (c) => c.notNull())
    .addColumn('row_count', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .execute();

  let groups = db.schema.createTable('patch_group_counts')
    .addColumn('patch_group', 'text', (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('instances', 'integer', (c) => c.notNull());
  for (const c of COUNTERS) groups = groups.addColumn(`with_${c}`, 'integer', (col) => col.notNull());
  await groups.addPrimaryKeyConstraint('patch_group_counts_pk', ['patch_group', 'shard']).execute();

  let resource = db.schema.createTable('resource_compliance')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('compliance_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('overall_severity', 'text', (c) => c.notNull());
  for (const s of SEVERITIES) resource = resource.addColumn(`compliant_${s}`, 'integer', (c) => c.notNull()).addColumn(`non_compliant_${s}`, 'integer', (c) => c.notNull());
  await resource
    .addColumn('execution_time', 'bigint', (c) => c.notNull())
    .addColumn('execution_id', 'text')
    .addColumn('execution_type', 'text')
    .addColumn('items_hash', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_compliance_pk', ['instance_id', 'compliance_type'])
    .execute();
  await db.schema.createIndex('resource_compliance_type').on('resource_compliance').columns(['compliance_type', 'instance_id']).execute();

  await db.schema.createTable('compliance_items')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('compliance_type', 'text', (c) => c.notNull())
    .addColumn('item_count', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('compliance_items_pk', ['instance_id', 'compliance_type'])
    .execute();

  let types = db.schema.createTable('compliance_type_counts')
    .addColumn('compliance_type', 'text', (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull());
  for (const s of SEVERITIES) types = types.addColumn(`compliant_${s}`, 'integer', (c) => c.notNull()).addColumn(`non_compliant_${s}`, 'integer', (c) => c.notNull());
  await types.addPrimaryKeyConstraint('compliance_type_counts_pk', ['compliance_type', 'shard']).execute();

  await db.schema.createTable('inventory_items')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('type_name', 'text', (c) => c.notNull())
    .addColumn('schema_version', 'text', (c) => c.notNull())
    .addColumn('capture_time', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text')
    .addColumn('entry_count', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addColumn('context', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('inventory_items_pk', ['instance_id', 'type_name'])
    .execute();

  await db.schema.createTable('node_history')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .addColumn('report_seq', 'bigint', (c) => c.notNull())
    .addColumn('patch_group', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('node_history_pk', ['instance_id', 'report_seq'])
    .execute();
  await db.schema.createIndex('node_history_time').on('node_history').column('reported_at').execute();

  let history = db.schema.createTable('patch_group_history')
    .addColumn('patch_group', 'text', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('instances', 'integer', (c) => c.notNull());
  for (const c of COUNTERS) history = history.addColumn(`with_${c}`, 'integer', (col) => col.notNull());
  await history.addPrimaryKeyConstraint('patch_group_history_pk', ['patch_group', 'bucket']).execute();
}

/** Brings the schema up to date (or up to the migration named `upTo`); throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>, engine: Engine, upTo?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new InCodeMigrations(engine), migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock' });
  const { error, results } = upTo === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(upTo);
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
