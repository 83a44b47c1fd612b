// `patchline verify`: recomputes every aggregate kept on write (per-group node counts, per-compliance-type
// resource counts, and the console's fleet counters: registered and non-compliant nodes, nodes per missing KBId and
// per CVE) from the per-node rows, checks what is kept per row set (its CVE index; that a node still refers to
// it) and that nodes reading their installed times from their scans have one, reports each difference, and with `repair` rewrites the aggregates and the row sets' indexes (and sweeps
// unreferenced row sets).
// Repair runs in one transaction that locks the aggregate tables first, so reports arriving meanwhile wait and
// then apply their deltas on top of the recomputed values.

import { sql, type Transaction } from 'kysely';
import type { Store } from '../store/store.ts';
import type { DatabaseSchema } from '../store/schema.ts';
import { shardOf, countersFromState, sweepRowSets } from '../store/reporting-store.ts';
import { COUNTER_COLUMN, COUNTER_NAMES, COMPLIANCE_SEVERITIES, groupContribution } from '../domain/patch-state.ts';
import { computeFleetCounters, writeFleetCounters, type FleetCounterValues } from '../store/fleet-counters.ts';

export interface AggregateDifference {
  table: 'patch_group_counts' | 'compliance_type_counts' | 'fleet_counts' | 'missing_patch_counts' | 'cve_counts' | 'node_patch_state' | 'patch_row_set_cves' | 'node_patches';
  key: string;
  column: string;
  expected: number;
  actual: number;
}

const GROUP_COLUMNS = ['instances', ...COUNTER_NAMES.map((n) => `with_${COUNTER_COLUMN[n]}`)];
const SEVERITY_COLUMNS = COMPLIANCE_SEVERITIES.flatMap((s) => [`compliant_${s.toLowerCase()}`, `non_compliant_${s.toLowerCase()}`]);
const PAGE = 5000;

type Vectors = Map<string, Record<string, number>>; // key `${name}\u0000${shard}`

function add(map: Vectors, key: string, columns: string[], values: Record<string, number>): void {
  let v = map.get(key);
  if (v === undefined) {
    v = Object.fromEntries(columns.map((c) => [c, 0]));
    map.set(key, v);
  }
  for (const c of columns) v[c]! += values[c] ?? 0;
}

async function expectedGroupCounts(db: Transaction<DatabaseSchema>): Promise<Vectors> {
  const out: Vectors = new Map();
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('node_patch_state').selectAll().where('instance_id', '>', after).orderBy('instance_id').limit(PAGE).execute();
    for (const r of rows) {
      const c = groupContribution(countersFromState(r));
      const values: Record<string, number> = { instances: 1 };
      for (const n of COUNTER_NAMES) values[`with_${COUNTER_COLUMN[n]}`] = c[n];
      add(out, `${r.patch_group}\u0000${shardOf(r.instance_id)}`, GROUP_COLUMNS, values);
    }
    if (rows.length < PAGE) return out;
    after = rows[rows.length - 1]!.instance_id;
  }
}

async function expectedComplianceCounts(db: Transaction<DatabaseSchema>): Promise<Vectors> {
  const out: Vectors = new Map();
  let after: [string, string] = ['', ''];
  for (;;) {
    const rows = await db.selectFrom('resource_compliance').select(['instance_id', 'compliance_type', 'status', 'overall_severity'])
      .where((eb) => eb.or([eb('instance_id', '>', after[0]), eb.and([eb('instance_id', '=', after[0]), eb('compliance_type', '>', after[1])])]))
      .orderBy('instance_id').orderBy('compliance_type').limit(PAGE).execute();
    for (const r of rows) {
      const column = `${r.status === 'COMPLIANT' ? 'compliant_' : 'non_compliant_'}${r.overall_severity.toLowerCase()}`;
      add(out, `${r.compliance_type}\u0000${shardOf(r.instance_id)}`, SEVERITY_COLUMNS, { [column]: 1 });
    }
    if (rows.length < PAGE) return out;
    const last = rows[rows.length - 1]!;
    after = [last.instance_id, last.compliance_type];
  }
}

function compare(table: AggregateDifference['table'], expected: Vectors, actualRows: Array<Record<string, unknown>>, nameColumn: string, columns: string[]): AggregateDifference[] {
  const actual: Vectors = new Map();
  for (const r of actualRows) {
    add(actual, `${String(r[nameColumn])}\u0000${Number(r.shard)}`, columns, Object.fromEntries(columns.map((c) => [c, Number(r[c])])));
  }
  // Compare per name (the shard split is an implementation detail; totals are what clients read).
  const totals = (v: Vectors) => {
    const t: Vectors = new Map();
    for (const [key, values] of v) add(t, key.split('\u0000')[0]!, columns, values);
    return t;
  };
  const e = totals(expected);
  const a = totals(actual);
  const diffs: AggregateDifference[] = [];
  for (const name of new Set([...e.keys(), ...a.keys()])) {
    for (const c of columns) {
      const ev = e.get(name)?.[c] ?? 0;
      const av = a.get(name)?.[c] ?? 0;
      if (ev !== av) diffs.push({ table, key: name, column: c, expected: ev, actual: av });
    }
  }
  return diffs;
}

/** The fleet counters (GetFleetSummary) against their recomputation, compared as totals over shards. */
async function compareFleetCounters(db: Transaction<DatabaseSchema>, expected: FleetCounterValues): Promise<AggregateDifference[]> {
  const expectedFleet: Vectors = new Map();
  for (const [shard, v] of expected.fleet) add(expectedFleet, `fleet\u0000${shard}`, FLEET_COLUMNS, v);
  const fleetRows = await db.selectFrom('fleet_counts').selectAll().execute();
  const diffs = compare('fleet_counts', expectedFleet, fleetRows.map((r) => ({ ...r, name: 'fleet' })), 'name', FLEET_COLUMNS);
  const keyed = async (table: 'missing_patch_counts' | 'cve_counts', column: 'kb_id' | 'cve_id', counts: Map<string, number>) => {
    const want: Vectors = new Map();
    for (const [key, nodes] of counts) add(want, key, ['nodes'], { nodes });
    const rows = await db.selectFrom(table).selectAll().execute();
    diffs.push(...compare(table, want, rows as never, column, ['nodes']));
  };
  await keyed('missing_patch_counts', 'kb_id', expected.missing);
  await keyed('cve_counts', 'cve_id', expected.cves);
  for (const [id, flag] of expected.flags) diffs.push({ table: 'node_patch_state', key: id, column: 'non_compliant', expected: flag, actual: 1 - flag });
  for (const [digest, v] of expected.setCves) diffs.push({ table: 'patch_row_set_cves', key: digest, column: 'cve_ids', expected: v.expected.length, actual: v.stored });
  return diffs;
}

const FLEET_COLUMNS = ['nodes', 'non_compliant'];

/**
 * Nodes that refer to a scan-timed set (patch_row_sets.timed_packages) read their installed times from their stored
 * scans: each one without a scan is a difference (`scan`: expected 1, actual 0). Not repairable from aggregates: the
 * node's next scan rewrites its rows.
 */
async function scanTimedNodeDifferences(db: Transaction<DatabaseSchema>): Promise<AggregateDifference[]> {
  const rows = await db.selectFrom('node_patches')
    .innerJoin('patch_row_sets', 'patch_row_sets.digest', 'node_patches.row_set')
    .leftJoin('node_scan_data', 'node_scan_data.instance_id', 'node_patches.instance_id')
    .select('node_patches.instance_id as instance_id')
    .where('patch_row_sets.timed_packages', 'is not', null).where('node_scan_data.instance_id', 'is', null)
    .orderBy('node_patches.instance_id').execute();
  return rows.map((r) => ({ table: 'node_patches' as const, key: r.instance_id, column: 'scan', expected: 1, actual: 0 }));
}

export interface VerifyResult {
  differences: AggregateDifference[];
  repaired: boolean;
  nodes: number;
  /**
   * Row sets no node refers to: not a difference (nothing reads them), garbage that concurrent PostgreSQL writers
   * can leave behind and the hourly sweep removes; `repair` sweeps them at once.
   */
  unreferencedRowSets: number;
}

export async function verifyAggregates(store: Store, options: { repair: boolean }): Promise<VerifyResult> {
  // Without repair, one consistent snapshot that holds no lock (reports keep flowing); repair locks the aggregates.
  const run = options.repair ? store.transaction.bind(store) : store.snapshot.bind(store);
  const result = await run(async (trx) => {
    if (store.engine === 'postgres' && options.repair) {
      await sql`lock table patch_group_counts, compliance_type_counts, fleet_counts, missing_patch_counts, cve_counts in exclusive mode`.execute(trx);
    }
    const groups = await expectedGroupCounts(trx);
    const compliance = await expectedComplianceCounts(trx);
    const fleet = await computeFleetCounters(trx);
    const fleetDifferences = await compareFleetCounters(trx, fleet);
    const differences = [
      ...compare('patch_group_counts', groups, await trx.selectFrom('patch_group_counts').selectAll().execute() as never, 'patch_group', GROUP_COLUMNS),
      ...compare('compliance_type_counts', compliance, await trx.selectFrom('compliance_type_counts').selectAll().execute() as never, 'compliance_type', SEVERITY_COLUMNS),
      ...fleetDifferences,
      ...await scanTimedNodeDifferences(trx),
    ];
    const nodes = Number((await trx.selectFrom('node_patch_state').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    if (options.repair && differences.some((d) => d.table !== 'node_patches')) {
      await trx.deleteFrom('patch_group_counts').execute();
      for (const [key, values] of groups) {
        const [name, shard] = key.split('\u0000') as [string, string];
        await trx.insertInto('patch_group_counts').values({ patch_group: name, shard: Number(shard), ...values } as never).execute();
      }
      await trx.deleteFrom('compliance_type_counts').execute();
      for (const [key, values] of compliance) {
        const [name, shard] = key.split('\u0000') as [string, string];
        await trx.insertInto('compliance_type_counts').values({ compliance_type: name, shard: Number(shard), ...values } as never).execute();
      }
      if (fleetDifferences.length > 0) await writeFleetCounters(trx, fleet);
    }
    return { differences, repaired: options.repair && differences.some((d) => d.table !== 'node_patches'), nodes, unreferencedRowSets: fleet.unreferencedSets };
  });
  if (options.repair && result.unreferencedRowSets > 0) await sweepRowSets(store);
  return result;
}

