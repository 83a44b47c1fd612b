// Row sets (src/domain/row-set.ts, ReportingStore): nodes with identical rows share one stored set; a set lives
// exactly while some node refers to it; the CVE index and the fleet counters follow the sets; migration 0010 moves
// per-node rows into sets; and on PostgreSQL, concurrent writers that take and release the same sets never lose a
// set a node refers to. Runs on both engines against real databases.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenDatabase } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';
import { ReportingStore, sweepRowSets, type PatchReportWrite } from '../../src/store/reporting-store.ts';
import { verifyAggregates } from '../../src/services/verify.ts';
import { countersFromRows, summarizePatchRows, type PatchRow } from '../../src/domain/patch-state.ts';
import { encodePatchRows, sortPatchRows } from '../../src/domain/patch-rows.ts';
import { rowSetOf, scanRowSetOf, withScanTimes } from '../../src/domain/row-set.ts';
import { createPostgresDatabase, engines } from '../helpers/engines.ts';

const NOW = 1_790_000_000_000;

function row(kb: string, state: PatchRow['State'], cves?: string, installedTime = 0): PatchRow {
  const r: PatchRow = { Title: `${kb}.x86_64:0:1.0-1`, KBId: kb, Classification: 'Security', Severity: 'Important', State: state, InstalledTime: installedTime };
  if (cves !== undefined) r.CVEIds = cves;
  return r;
}

/** Three outcomes a node can have: A and B list CVEs on Missing rows, C has nothing missing. */
const VARIANTS: Record<'A' | 'B' | 'C', PatchRow[]> = {
  A: sortPatchRows([row('openssl.x86_64', 'Missing', 'CVE-2099-0001,CVE-2099-0002'), row('bash.x86_64', 'Installed', undefined, 1_700_000_000), row('curl.x86_64', 'Failed', 'cve-2099-0003, not-a-cve')]),
  B: sortPatchRows([row('openssl.x86_64', 'Missing', 'CVE-2099-0001'), row('bash.x86_64', 'Installed', 'CVE-2099-0009', 1_700_000_000)]),
  C: sortPatchRows([row('openssl.x86_64', 'Installed', 'CVE-2099-0001', 1_700_000_100)]),
};

async function openEngine(engine: string): Promise<{ open: OpenDatabase; cleanup: () => Promise<void> }> {
  if (engine === 'postgres') {
    const pgdb = await createPostgresDatabase();
    return { open: openDatabase({ url: pgdb.url, poolSize: 6 }), cleanup: pgdb.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'patchline-rowsets-'));
  return { open: openDatabase({ url: `sqlite:${join(dir, 'store.db')}` }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

for (const { engine, skip } of engines()) {
  describe(`row sets (${engine})`, { skip }, () => {
    let open: OpenDatabase;
    let cleanup: () => Promise<void>;
    let store: Store;
    let reports: ReportingStore;

    const write = async (instanceId: string, variant: keyof typeof VARIANTS, now = NOW): Promise<PatchReportWrite> => {
      const rows = VARIANTS[variant];
      return {
        instanceId,
        summary: { patchGroup: 'web', baselineId: 'pb-0123456789abcdef0', counters: countersFromRows(rows), operation: 'Scan', operationStart: now - 1000, operationEnd: now },
        rowSet: rowSetOf(rows, await reports.internRows(rows)),
        source: 'scan',
        compliance: { type: 'Patch', summary: summarizePatchRows(rows), executionTime: now },
        now,
      };
    };
    const apply = async (...writes: PatchReportWrite[]) => store.transaction((trx) => reports.applyPatchReportsIn(trx, writes));
    const count = async (table: 'patch_row_sets' | 'patch_row_set_cves') =>
      Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const cveCounts = async () => Object.fromEntries((await store.db.selectFrom('cve_counts').select(['cve_id', (eb) => eb.fn.sum<number>('nodes').as('n')]).groupBy('cve_id').orderBy('cve_id').execute()).map((r) => [r.cve_id, Number(r.n)]));

    before(async () => {
      ({ open, cleanup } = await openEngine(engine));
      await migrateToLatest(open.db, open.engine);
      store = new Store(open);
      reports = new ReportingStore(store);
    });
    after(async () => {
      await open?.close();
      await cleanup?.();
    });

    test('identical rows are stored once; a set goes when its last node leaves it, with its CVE entries', async () => {
      await apply(await write('mi-00000000000000001', 'A'), await write('mi-00000000000000002', 'A'));
      assert.equal(await count('patch_row_sets'), 1, 'two nodes, one set');
      assert.equal(await count('patch_row_set_cves'), 3, 'CVE-2099-0001..0003 (upper-cased; the token that is not a CVE id left out)');
      assert.deepEqual(await cveCounts(), { 'CVE-2099-0001': 2, 'CVE-2099-0002': 2, 'CVE-2099-0003': 2 });
      const one = await reports.getPatchRows('mi-00000000000000001');
      assert.deepEqual(one?.rows, VARIANTS.A, 'the rows come back as written, installed times included');

      await apply(await write('mi-00000000000000001', 'B'));
      assert.equal(await count('patch_row_sets'), 2, 'A is still referred to by node 2');
      assert.deepEqual(await cveCounts(), { 'CVE-2099-0001': 2, 'CVE-2099-0002': 1, 'CVE-2099-0003': 1 }, 'an Installed row exposes nothing (CVE-2099-0009)');

      await apply(await write('mi-00000000000000002', 'C'));
      const left = await store.db.selectFrom('patch_row_sets').select('digest').orderBy('digest').execute();
      assert.equal(left.length, 2, 'A went with its last node');
      assert.deepEqual(await store.db.selectFrom('patch_row_set_cves').select('cve_id').execute(), [{ cve_id: 'CVE-2099-0001' }], 'and its CVE entries with it');
      assert.deepEqual(await cveCounts(), { 'CVE-2099-0001': 1 });
      assert.deepEqual((await reports.getPatchRows('mi-00000000000000002'))?.rows, VARIANTS.C);

      await store.transaction((trx) => reports.removeNodeIn(trx, 'mi-00000000000000001'));
      assert.equal(await count('patch_row_sets'), 1, 'deregistering the last node of B removes B');
      assert.deepEqual(await cveCounts(), {});
      const verified = await verifyAggregates(store, { repair: false });
      assert.deepEqual(verified.differences, []);
      await store.transaction((trx) => reports.removeNodeIn(trx, 'mi-00000000000000002'));
      assert.equal(await count('patch_row_sets'), 0);
    });

    test('a scan-timed set holds no times, is addressed by its rows and their packages, and never by a report\'s set', () => {
      const ids = VARIANTS.A.map((_, i) => 100 + i);
      const installed = VARIANTS.A.findIndex((r) => r.State === 'Installed');
      const packages = Int32Array.from(VARIANTS.A, (_, i) => (i === installed ? 7 : -1));
      const a = scanRowSetOf(VARIANTS.A, ids, packages);
      const later = scanRowSetOf(VARIANTS.A.map((r) => ({ ...r, InstalledTime: r.InstalledTime + 3600 })), ids, packages);
      assert.deepEqual([later.digest, later.data], [a.digest, a.data], 'installed times are not part of it');
      assert.equal(a.shape, a.digest, 'its shape is its address: only nodes of the same scan outcome share it');
      assert.deepEqual(a.data, encodePatchRows(VARIANTS.A.map((r) => ({ ...r, InstalledTime: 0 })), ids), 'the rows, every time 0');
      assert.deepEqual(Array.from(packages, (_, i) => a.timedPackages!.readInt32LE(4 * i)), [...packages], 'per row, int32 LE, its package');
      const reported = rowSetOf(VARIANTS.A.map((r) => ({ ...r, InstalledTime: 0 })), ids);
      assert.notEqual(a.digest, reported.digest, 'a report with the same rows and no times is another set');
      assert.notEqual(a.digest, reported.shape);
      assert.notEqual(scanRowSetOf(VARIANTS.A, ids, Int32Array.from(VARIANTS.A, (_, i) => (i === installed ? 8 : -1))).digest, a.digest, 'another package, another set');
      assert.deepEqual([...a.cveIds].sort(), ['CVE-2099-0001', 'CVE-2099-0002', 'CVE-2099-0003']);
      assert.deepEqual([...a.missingKbIds].sort(), ['curl.x86_64', 'openssl.x86_64']);
      const read = withScanTimes(VARIANTS.A.map((r) => ({ ...r, InstalledTime: 0 })), a.timedPackages!, (id) => (id === 7 ? 1_800_000_000 : undefined));
      assert.deepEqual(read.map((r) => r.InstalledTime), VARIANTS.A.map((_, i) => (i === installed ? 1_800_000_000 : 0)), 'each node\'s times, read by package');
      assert.throws(() => scanRowSetOf(VARIANTS.A, ids, Int32Array.of(1)), /one timed package per row/);
    });

    test('nodes whose rows differ only in installed times share the set and read back their own times', async () => {
      const later = VARIANTS.A.map((r) => (r.InstalledTime === 0 ? r : { ...r, InstalledTime: r.InstalledTime + 3600 }));
      const own = async (id: string, rows: PatchRow[]): Promise<PatchReportWrite> => ({ ...(await write(id, 'A')), rowSet: rowSetOf(rows, await reports.internRows(rows)) });
      await apply(await write('mi-00000000000000011', 'A'), await own('mi-00000000000000012', later));
      assert.equal(await count('patch_row_sets'), 1, 'one outcome, one set');
      assert.equal(await count('patch_row_set_cves'), 3);
      const times = await store.db.selectFrom('node_patches').select(['instance_id', 'installed_times']).orderBy('instance_id')
        .where('instance_id', 'in', ['mi-00000000000000011', 'mi-00000000000000012']).execute();
      const holder = times.find((t) => t.installed_times === null);
      const other = times.find((t) => t.installed_times !== null);
      assert.ok(holder !== undefined && other !== undefined, 'the node whose times the set holds keeps none; the other keeps its own');
      assert.equal(other.installed_times!.byteLength, 4 * later.length, '4 bytes a row');
      assert.deepEqual((await reports.getPatchRows('mi-00000000000000011'))?.rows, VARIANTS.A);
      assert.deepEqual((await reports.getPatchRows('mi-00000000000000012'))?.rows, later);
      assert.deepEqual(await cveCounts(), { 'CVE-2099-0001': 2, 'CVE-2099-0002': 2, 'CVE-2099-0003': 2 });
      // The node whose times the set holds leaves; the other still reads its own times from the same set.
      await apply(await write(holder.instance_id, 'C'));
      const stays = other.instance_id === 'mi-00000000000000011' ? VARIANTS.A : later;
      assert.deepEqual((await reports.getPatchRows(other.instance_id))?.rows, stays);
      await store.transaction((trx) => reports.removeNodeIn(trx, 'mi-00000000000000011'));
      await store.transaction((trx) => reports.removeNodeIn(trx, 'mi-00000000000000012'));
      assert.equal(await count('patch_row_sets'), 0);
    });

    test('verify finds a wrong CVE index and counts sets no node refers to; repair mends the one and sweeps the other', async () => {
      await apply(await write('mi-00000000000000003', 'A'));
      const digest = (await store.db.selectFrom('node_patches').select('row_set').where('instance_id', '=', 'mi-00000000000000003').executeTakeFirstOrThrow()).row_set;
      await store.db.deleteFrom('patch_row_set_cves').where('row_set', '=', digest).where('cve_id', '=', 'CVE-2099-0002').execute();
      const orphan = rowSetOf(VARIANTS.C, await reports.internRows(VARIANTS.C));
      await store.db.insertInto('patch_row_sets').values({ digest: orphan.digest, shape: orphan.shape, row_count: orphan.rowCount, data: orphan.data, created_at: NOW }).execute();
      const found = await verifyAggregates(store, { repair: false });
      assert.deepEqual(found.differences.map((d) => [d.table, d.key, d.expected, d.actual]), [['patch_row_set_cves', digest, 3, 2]]);
      assert.equal(found.unreferencedRowSets, 1);
      assert.equal((await verifyAggregates(store, { repair: true })).repaired, true);
      const after = await verifyAggregates(store, { repair: false });
      assert.deepEqual([after.differences, after.unreferencedRowSets], [[], 0]);
      assert.equal(await count('patch_row_set_cves'), 3);
      assert.equal(await count('patch_row_sets'), 1, 'the unreferenced set was swept');
      await store.transaction((trx) => reports.removeNodeIn(trx, 'mi-00000000000000003'));
    });

    test('migration 0010 moves each node\'s rows into shared sets and fills the CVE index and counters', async () => {
      const old = await openEngine(engine);
      try {
        await migrateToLatest(old.open.db, old.open.engine, '0009-scan-data');
        const db = old.open.db as any;
        const descriptors = [...VARIANTS.A, ...VARIANTS.B].map((r) => ({ Title: r.Title, KBId: r.KBId, Classification: r.Classification, Severity: r.Severity, CVEIds: r.CVEIds ?? '' }));
        const ids: number[] = [];
        for (const [i, d] of descriptors.entries()) {
          const r = await db.insertInto('patch_descriptors').values({ key: `k${i}`, data: JSON.stringify(d) }).returning('id').executeTakeFirstOrThrow();
          ids.push(Number(r.id));
        }
        const dataA = encodePatchRows(VARIANTS.A, ids.slice(0, 3));
        const laterA = VARIANTS.A.map((r) => ({ ...r, InstalledTime: r.InstalledTime + 60 }));
        const dataB = encodePatchRows(VARIANTS.B, ids.slice(3));
        for (const [id, data, rows] of [['mi-00000000000000a01', dataA, 3], ['mi-00000000000000a02', dataA, 3], ['mi-00000000000000a03', dataB, 2], ['mi-00000000000000a04', encodePatchRows(laterA, ids.slice(0, 3)), 3]] as const) {
          await db.insertInto('nodes').values({ instance_id: id, resource_type: 'ManagedInstance', created_at: NOW }).execute();
          await db.insertInto('node_patches').values({ instance_id: id, report_seq: 7, row_count: rows, data }).execute();
          await db.insertInto('node_cves').values({ cve_id: 'CVE-2099-0001', instance_id: id }).execute();
        }
        assert.deepEqual(await migrateToLatest(old.open.db, old.open.engine), ['0010-row-sets', '0011-evaluation-keys', '0012-scan-timed-row-sets'], 'and 0012: rows kept with their own times read as before');
        const migrated = new Store(old.open);
        const sets = await migrated.db.selectFrom('patch_row_sets').select(['digest', 'row_count']).execute();
        assert.equal(sets.length, 2, 'two distinct outcomes, two sets (a04 differs from a01 in installed times only)');
        const moved = new ReportingStore(migrated);
        assert.deepEqual((await moved.getPatchRows('mi-00000000000000a02'))?.rows, VARIANTS.A);
        assert.deepEqual((await moved.getPatchRows('mi-00000000000000a03'))?.rows, VARIANTS.B);
        assert.equal((await moved.getPatchRows('mi-00000000000000a03'))?.seq, 7);
        assert.deepEqual((await moved.getPatchRows('mi-00000000000000a04'))?.rows, laterA);
        const counts = Object.fromEntries((await migrated.db.selectFrom('cve_counts').select(['cve_id', (eb) => eb.fn.sum<number>('nodes').as('n')]).groupBy('cve_id').execute()).map((r) => [r.cve_id, Number(r.n)]));
        assert.deepEqual(counts, { 'CVE-2099-0001': 4, 'CVE-2099-0002': 3, 'CVE-2099-0003': 3 });
        assert.deepEqual((await verifyAggregates(migrated, { repair: false })).differences, []);
        assert.deepEqual(await migrated.db.selectFrom('node_patches').select('instance_id').where('installed_times', 'is not', null).execute(), [{ instance_id: 'mi-00000000000000a04' }]);
      } finally {
        await old.open.close();
        await old.cleanup();
      }
    });

    test('concurrent writers taking and releasing the same sets keep every referred set and every counter', async () => {
      const nodes = Array.from({ length: 24 }, (_, i) => `mi-1${i.toString(16).padStart(16, '0')}`);
      const variants = ['A', 'B', 'C'] as const;
      // Writers move nodes between the three outcomes in overlapping batches, so sets are released by one
      // transaction while another is about to refer to them again.
      const writers = Array.from({ length: 6 }, async (_, w) => {
        for (let round = 0; round < 12; round++) {
          const batch = nodes.filter((_, i) => (i + w + round) % 3 === 0);
          const writes = [];
          for (const [k, id] of batch.entries()) writes.push(await write(id, variants[(w + round + k) % 3]!, NOW + round));
          // Node and counter locks are taken in sorted order: overlapping batches wait for each other, never deadlock.
          await apply(...writes);
        }
      });
      await Promise.all(writers);
      const dangling = await store.db.selectFrom('node_patches').leftJoin('patch_row_sets', 'patch_row_sets.digest', 'node_patches.row_set')
        .select('node_patches.instance_id').where('patch_row_sets.digest', 'is', null).execute();
      assert.deepEqual(dangling, [], 'no node refers to a set that is gone');
      const { differences, unreferencedRowSets } = await verifyAggregates(store, { repair: false });
      assert.deepEqual(differences, [], 'counters and CVE indexes are exact');
      // Concurrent releases may leave a set behind unreferenced (PostgreSQL); the sweep removes exactly those.
      assert.equal(await sweepRowSets(store), unreferencedRowSets);
      const referred = Number((await store.db.selectFrom('node_patches').select((eb) => eb.fn.count<number>('row_set').distinct().as('n')).executeTakeFirstOrThrow()).n);
      assert.equal(await count('patch_row_sets'), referred, 'after the sweep, exactly the sets some node refers to');
      for (const id of nodes) {
        const got = await reports.getPatchRows(id);
        assert.ok(got !== undefined && variants.some((v) => JSON.stringify(VARIANTS[v]) === JSON.stringify(got.rows)), `${id} has one of the outcomes`);
      }
    });
  });
}
