// Managed nodes and their patch reports: the transactional write of a report (summary, rows, compliance,
// history) together with the per-group and per-compliance-type counters it moves, and the reads behind
// DescribeInstancePatches, DescribeInstancePatchStates*, DescribePatchGroupState and the compliance APIs.
//
// Counters are maintained on write, in the same transaction as the node's rows: the transaction reads the node's
// previous summary (PostgreSQL: with the node row locked FOR UPDATE; SQLite: under BEGIN IMMEDIATE), subtracts its
// old contribution and adds the new one. Counter rows are split into SHARDS by node id so concurrent writers
// for one group rarely wait on the same row; a read sums a group's shards (constant cost, whatever its size).
// The fleet-wide counters of the console (fleet_counts, missing_patch_counts, cve_counts; src/store/fleet-counters.ts)
// move the same way, by the difference between the node's previous and new report. Counter tables are always
// written in one order (fleet_counts, patch_group_counts, compliance_type_counts, missing_patch_counts, cve_counts),
// and rows within a table in sorted key order; fleet_counts comes first because creating a node (ensureNode)
// counts it before anything else the transaction does.

import { CompiledQuery, sql, type Transaction } from 'kysely';
import type { Store, Db } from './store.ts';
import type { DatabaseSchema, NodePatchStateTable, NodesTable, ResourceComplianceTable, PatchCounters, SeverityCounts } from './schema.ts';
import {
  COUNTER_COLUMN, COUNTER_NAMES, COMPLIANCE_SEVERITIES, groupContribution, complianceContribution,
  type ComplianceSummary, type Counters, type PatchRow, type ComplianceItemRecord,
} from '../domain/patch-state.ts';
import {
  readPatchRows, encodeJson, decodeJson, descriptorKey, descriptorOf, descriptorIdsInStates, installedTimesOf, type RowDescriptor,
} from '../domain/patch-rows.ts';
import { MISSING_STATES, isNonCompliantNode, setDelta } from '../domain/fleet.ts';
import { cveIdsIn, withScanTimes, type RowSet, type RowSetFacts } from '../domain/row-set.ts';
import { installedTimesById } from './scan-store.ts';
import { DescriptorDictionary } from './descriptors.ts';

export const SHARDS = 8;

export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

export function resourceTypeOf(instanceId: string): string {
  return instanceId.startsWith('mi-') ? 'ManagedInstance' : 'EC2Instance';
}

export interface PatchSummaryInput {
  patchGroup: string;
  baselineId: string;
  snapshotId?: string;
  ownerInformation?: string;
  installOverrideList?: string;
  counters: Counters;
  operation: 'Scan' | 'Install';
  /** Epoch ms. */
  operationStart: number;
  operationEnd: number;
  rebootOption?: string;
  lastNoRebootInstall?: number;
  captureTime?: string;
  summaryHash?: string;
  patchesHash?: string;
}

export interface ComplianceInput {
  type: string;
  /** Items as stored (AWS:ComplianceItem, PutComplianceItems); undefined = derived from the patch rows. */
  storedItems?: ComplianceItemRecord[];
  summary: ComplianceSummary;
  executionTime: number;
  executionId?: string;
  executionType?: string;
  itemsHash?: string;
}

export interface PatchReportWrite {
  instanceId: string;
  summary: PatchSummaryInput;
  /** The node's rows (sorted by KBId then Title), as a row set: rowSetOf(rows, ids from internRows). */
  rowSet: RowSet;
  source: 'inventory' | 'scan';
  compliance: ComplianceInput;
  now: number;
  /** Whether the write counts as contact from the node (last ping); false for server-side re-evaluation. */
  touch?: boolean;
  /** Node attributes learnt from the report (e.g. platform), applied to the node row. */
  nodeUpdate?: Partial<Pick<NodesTable, 'platform_type' | 'platform_name' | 'platform_version' | 'agent_version' | 'computer_name' | 'ip_address'>>;
}

const STATE_COLUMNS = [
  'report_seq', 'patch_group', 'baseline_id', 'snapshot_id', 'owner_information', 'install_override_list',
  ...COUNTER_NAMES.map((n) => COUNTER_COLUMN[n]), 'operation', 'operation_start', 'operation_end', 'reboot_option',
  'last_no_reboot_install', 'summary_hash', 'patches_hash', 'capture_time', 'source', 'reported_at', 'non_compliant',
] as const;
const COMPLIANCE_COLUMNS = [
  'status', 'overall_severity', ...COMPLIANCE_SEVERITIES.flatMap((s) => [`compliant_${s.toLowerCase()}`, `non_compliant_${s.toLowerCase()}`]),
  'execution_time', 'execution_id', 'execution_type', 'items_hash', 'updated_at',
] as const;
const GROUP_COLUMNS = ['instances', ...COUNTER_NAMES.map((n) => `with_${COUNTER_COLUMN[n]}` as const)] as const;
const SEVERITY_COLUMNS = COMPLIANCE_SEVERITIES.flatMap((s) => [`compliant_${s.toLowerCase()}`, `non_compliant_${s.toLowerCase()}`]);

function countersToColumns(c: Counters): PatchCounters {
  const out = {} as Record<string, number>;
  for (const n of COUNTER_NAMES) out[COUNTER_COLUMN[n]] = c[n];
  return out as unknown as PatchCounters;
}

export function countersFromState(row: PatchCounters): Counters {
  const c = {} as Counters;
  for (const n of COUNTER_NAMES) c[n] = Number(row[COUNTER_COLUMN[n]]);
  return c;
}

function groupVector(c: Counters, sign: 1 | -1): Record<string, number> {
  const contribution = groupContribution(c);
  const v: Record<string, number> = { instances: sign * contribution.instances };
  for (const n of COUNTER_NAMES) v[`with_${COUNTER_COLUMN[n]}`] = sign * contribution[n];
  return v;
}

function complianceVector(summary: { status: string; overallSeverity: string } | undefined, sign: 1 | -1): Record<string, number> {
  const v: Record<string, number> = {};
  for (const col of SEVERITY_COLUMNS) v[col] = 0;
  if (summary === undefined) return v;
  const { compliant, nonCompliant } = complianceContribution(summary as ComplianceSummary);
  for (const s of COMPLIANCE_SEVERITIES) {
    v[`compliant_${s.toLowerCase()}`] = sign * compliant[s];
    v[`non_compliant_${s.toLowerCase()}`] = sign * nonCompliant[s];
  }
  return v;
}

function addVectors(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const isZero = (v: Record<string, number>) => Object.values(v).every((x) => x === 0);

interface FleetDelta {
  nodes: number;
  non_compliant: number;
}

function fleetDelta(map: Map<number, FleetDelta>, shard: number): FleetDelta {
  let d = map.get(shard);
  if (d === undefined) map.set(shard, (d = { nodes: 0, non_compliant: 0 }));
  return d;
}

const addTo = (map: Map<string, number>, key: string, by: number) => map.set(key, (map.get(key) ?? 0) + by);

/** A bounded LRU map. Row sets never change, so what is cached by digest never goes stale. */
class Lru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (hit === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
}

/** Rows per multi-row insert of row sets (each carries kilobytes of encoded rows). */
const SET_CHUNK = 100;

const UNREFERENCED = sql<boolean>`not exists (select 1 from node_patches where node_patches.row_set = patch_row_sets.digest)`;

/**
 * Deletes the row sets among `digests` that no node refers to (their CVE entries cascade). PostgreSQL: the sets are
 * locked first, skipping any another transaction holds (a writer about to refer to it has it FOR KEY SHARE), and
 * checked in a second statement, whose snapshot sees every reference committed before the locks were taken. A set
 * skipped that way, or left behind when two transactions take away its last two references at once, is found by
 * sweepRowSets. SQLite writers are serial: one statement.
 */
async function deleteUnreferencedRowSets(db: Db, engine: Store['engine'], digests: readonly string[]): Promise<number> {
  if (digests.length === 0) return 0;
  let candidates = digests;
  if (engine === 'postgres') {
    candidates = (await db.selectFrom('patch_row_sets').select('digest').where('digest', 'in', digests).orderBy('digest').forUpdate().skipLocked().execute()).map((r) => r.digest);
    if (candidates.length === 0) return 0;
  }
  const r = await db.deleteFrom('patch_row_sets').where('digest', 'in', candidates).where(UNREFERENCED).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Deletes every row set no node refers to, in short transactions of up to 500 sets; returns how many went. */
export async function sweepRowSets(store: Store): Promise<number> {
  let total = 0;
  for (;;) {
    const found = (await store.db.selectFrom('patch_row_sets').select('digest').where(UNREFERENCED).orderBy('digest').limit(500).execute()).map((r) => r.digest);
    if (found.length === 0) return total;
    const deleted = await store.transaction((trx) => deleteUnreferencedRowSets(trx, store.engine, found));
    total += deleted;
    // Every one found is held by a writer right now: leave them to the next sweep.
    if (deleted === 0) return total;
  }
}

export class ReportingStore {
  readonly #store: Store;
  /** Decoded rows of row sets, shared by every node that refers to the set. */
  readonly #rows = new Lru<{ rows: PatchRow[]; timedPackages: Buffer | null }>(2048);
  /** Row sets' facts (Missing/Failed KBIds and CVE ids), for the counters a report moves. */
  readonly #facts = new Lru<RowSetFacts>(4096);
  /** Row sets' stored encodings, to tell whether a node's installed times are the set's. */
  readonly #setData = new Lru<Buffer>(1024);
  /** Decoded rows of nodes with installed times of their own, by node and report sequence. */
  readonly #nodeRows = new Lru<PatchRow[]>(1024);
  readonly descriptors: DescriptorDictionary<RowDescriptor>;
  #groupCountsSql: string | undefined;

  constructor(store: Store) {
    this.#store = store;
    this.descriptors = new DescriptorDictionary<RowDescriptor>(store.db);
  }

  /** Descriptor ids for rows; call before the transaction that writes them. */
  internRows(rows: readonly PatchRow[]): Promise<number[]> {
    return this.descriptors.intern(rows.map(descriptorKey), (i) => descriptorOf(rows[i]!));
  }

  get db() {
    return this.#store.db;
  }

  // ---- nodes ----------------------------------------------------------------------------------------------------

  async nodeExists(instanceId: string, db: Db = this.db): Promise<boolean> {
    return (await db.selectFrom('nodes').select('instance_id').where('instance_id', '=', instanceId).executeTakeFirst()) !== undefined;
  }

  getNode(instanceId: string, db: Db = this.db): Promise<NodesTable | undefined> {
    return db.selectFrom('nodes').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
  }

  /** Creates the node if it does not exist yet (a node exists once it registers or first reports). */
  async ensureNode(instanceId: string, now: number, db: Db = this.db): Promise<void> {
    const added = await db.insertInto('nodes').values({
      instance_id: instanceId, resource_type: resourceTypeOf(instanceId), name: null, computer_name: null, ip_address: null,
      platform_type: null, platform_name: null, platform_version: null, agent_version: null, activation_id: null, iam_role: null,
      registration_date: null, source_id: null, source_type: null, patch_group_tag: null, created_at: now, last_ping_at: now,
    }).onConflict((oc) => oc.column('instance_id').doNothing()).returning('instance_id').execute();
    await this.nodesAddedIn(db, added.map((r) => r.instance_id));
  }

  /** Counts newly created nodes in fleet_counts; every insert into nodes calls it in the same transaction. */
  async nodesAddedIn(db: Db, instanceIds: readonly string[]): Promise<void> {
    const deltas = new Map<number, FleetDelta>();
    for (const id of instanceIds) fleetDelta(deltas, shardOf(id)).nodes += 1;
    await this.#addFleetCounts(db, deltas);
  }

  /** PostgreSQL: locks the node row until the transaction ends, so one node's reports apply one at a time. */
  async lockNode(instanceId: string, db: Db): Promise<void> {
    if (this.#store.engine === 'postgres') await sql`select 1 from nodes where instance_id = ${instanceId} for update`.execute(db);
  }

  /** Recomputes a node's patch group from its tags: `Patch Group` wins over `PatchGroup` when both are set. */
  async refreshPatchGroupTag(instanceId: string, db: Db = this.db): Promise<string | null> {
    const tags = await db.selectFrom('tags').select(['tag_key', 'tag_value']).where('resource_type', '=', 'ManagedInstance')
      .where('resource_id', '=', instanceId).where('tag_key', 'in', ['Patch Group', 'PatchGroup']).execute();
    const value = tags.find((t) => t.tag_key === 'Patch Group')?.tag_value ?? tags.find((t) => t.tag_key === 'PatchGroup')?.tag_value ?? null;
    await this.setPatchGroupTag(instanceId, value, db);
    return value;
  }

  async touchNode(instanceId: string, now: number, update: PatchReportWrite['nodeUpdate'] = {}, db: Db = this.db): Promise<void> {
    await db.updateTable('nodes').set({ last_ping_at: now, ...update }).where('instance_id', '=', instanceId).execute();
  }

  async setPatchGroupTag(instanceId: string, patchGroup: string | null, db: Db = this.db): Promise<void> {
    await db.updateTable('nodes').set({ patch_group_tag: patchGroup }).where('instance_id', '=', instanceId).execute();
  }

  // ---- the report write ------------------------------------------------------------------------------------------

  /**
   * Replaces a node's patch report whole, in one transaction, moving every counter it affects. Returns the new
   * report sequence number.
   */
  async applyPatchReport(report: PatchReportWrite): Promise<number> {
    return this.#store.transaction((trx) => this.applyPatchReportIn(trx, report));
  }

  async applyPatchReportIn(trx: Transaction<DatabaseSchema>, report: PatchReportWrite): Promise<number> {
    return (await this.applyPatchReportsIn(trx, [report]))[0]!;
  }

  /**
   * Writes many nodes' reports in one transaction with a handful of multi-row statements (the re-evaluation path
   * writes hundreds of nodes at once). Locks and counter rows are always taken in sorted order, so concurrent
   * batches cannot deadlock. Returns each node's new report sequence number.
   */
  async applyPatchReportsIn(trx: Transaction<DatabaseSchema>, reports: readonly PatchReportWrite[]): Promise<number[]> {
    if (reports.length === 0) return [];
    const ids = reports.map((r) => r.instanceId);
    if (new Set(ids).size !== ids.length) throw new Error('one report per node per batch');
    const added = await trx.insertInto('nodes').values(reports.map((r) => ({
      instance_id: r.instanceId, resource_type: resourceTypeOf(r.instanceId), name: null, computer_name: null, ip_address: null,
      platform_type: null, platform_name: null, platform_version: null, agent_version: null, activation_id: null, iam_role: null,
      registration_date: null, source_id: null, source_type: null, patch_group_tag: null, created_at: r.now, last_ping_at: r.now,
    }))).onConflict((oc) => oc.column('instance_id').doNothing()).returning('instance_id').execute();
    const sortedIds = [...ids].sort();
    if (this.#store.engine === 'postgres') await sql`select 1 from nodes where instance_id in (${sql.join(sortedIds)}) order by instance_id for update`.execute(trx);
    for (const r of reports) if (r.touch !== false) await this.touchNode(r.instanceId, r.now, r.nodeUpdate, trx);

    const oldRows = await trx.selectFrom('node_patch_state').selectAll().where('instance_id', 'in', ids).execute();
    const old = new Map(oldRows.map((r) => [r.instance_id, r]));
    const oldSets = await this.#rowSetRefsIn(trx, ids);
    const oldFacts = await this.#factsIn(trx, new Set(oldSets.values()));
    const chosen = await this.#storeRowSetsIn(trx, reports.map((r) => r.rowSet), reports[0]!.now);
    const referenced = new Set([...chosen.values()].map((c) => c.digest));
    const fleetDeltas = new Map<number, FleetDelta>();
    for (const a of added) fleetDelta(fleetDeltas, shardOf(a.instance_id)).nodes += 1;
    const missingDeltas = new Map<string, number>(); // `${kb}\u0000${shard}`
    const cveDeltas = new Map<string, number>(); // `${cve}\u0000${shard}`
    const states: NodePatchStateTable[] = [];
    const seqs: number[] = [];
    const groupDeltas = new Map<string, Record<string, number>>(); // `${group}\u0000${shard}`
    const addGroupDelta = (group: string, shard: number, v: Record<string, number>) => {
      const key = `${group}\u0000${shard}`;
      groupDeltas.set(key, addVectors(groupDeltas.get(key) ?? {}, v));
    };
    for (const r of reports) {
      const previous = old.get(r.instanceId);
      // A node's first report (also after a deregistration removed the node) starts its sequence at the write time
      // (epoch ms), not at 1: rows are cached by (node, report_seq) in every process, so a node re-created under the
      // same id must not reuse a number its previous life had.
      const seq = previous === undefined ? Math.max(1, Math.floor(r.now)) : Number(previous.report_seq) + 1;
      seqs.push(seq);
      const s = r.summary;
      states.push({
        instance_id: r.instanceId,
        report_seq: seq,
        patch_group: s.patchGroup,
        baseline_id: s.baselineId,
        snapshot_id: s.snapshotId ?? null,
        owner_information: s.ownerInformation ?? null,
        install_override_list: s.installOverrideList ?? null,
        ...countersToColumns(s.counters),
        operation: s.operation,
        operation_start: s.operationStart,
        operation_end: s.operationEnd,
        reboot_option: s.rebootOption ?? null,
        last_no_reboot_install: s.lastNoRebootInstall ?? null,
        summary_hash: s.summaryHash ?? null,
        patches_hash: s.patchesHash ?? null,
        capture_time: s.captureTime ?? null,
        source: r.source,
        reported_at: r.now,
        non_compliant: isNonCompliantNode(s.counters) ? 1 : 0,
      });
      const shard = shardOf(r.instanceId);
      if (previous !== undefined) addGroupDelta(previous.patch_group, shard, groupVector(countersFromState(previous), -1));
      addGroupDelta(s.patchGroup, shard, groupVector(s.counters, 1));
      fleetDelta(fleetDeltas, shard).non_compliant += states[states.length - 1]!.non_compliant - Number(previous?.non_compliant ?? 0);
      const oldSet = oldSets.get(r.instanceId);
      if (oldSet !== chosen.get(r.rowSet.digest)!.digest) {
        const before = oldSet === undefined ? undefined : oldFacts.get(oldSet)!;
        for (const [kb, d] of setDelta(before?.missingKbIds, r.rowSet.missingKbIds)) addTo(missingDeltas, `${kb}\u0000${shard}`, d);
        for (const [cve, d] of setDelta(before?.cveIds, r.rowSet.cveIds)) addTo(cveDeltas, `${cve}\u0000${shard}`, d);
      }
    }
    await trx.insertInto('node_patch_state').values(states)
      .onConflict((oc) => oc.column('instance_id').doUpdateSet((eb) => Object.fromEntries(
        STATE_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}` as never)]),
      ) as never)).execute();
    await trx.insertInto('node_patches').values(reports.map((r, i) => ({
      instance_id: r.instanceId, report_seq: seqs[i]!, row_count: r.rowSet.rowCount, row_set: chosen.get(r.rowSet.digest)!.digest,
      // A scan-timed set's nodes read their times from their scans. A set stored from a report holds the installed
      // times of the node that stored it; a node whose times differ keeps its own.
      installed_times: r.rowSet.timedPackages !== undefined || r.rowSet.data.equals(chosen.get(r.rowSet.digest)!.data) ? null : installedTimesOf(r.rowSet.data),
    }))).onConflict((oc) => oc.column('instance_id').doUpdateSet((eb) => ({
      report_seq: eb.ref('excluded.report_seq'), row_count: eb.ref('excluded.row_count'), row_set: eb.ref('excluded.row_set'),
      installed_times: eb.ref('excluded.installed_times'),
    }))).execute();

    // Counter rows in (group, shard) order: concurrent writers take row locks in the same order (no deadlock).
    await this.#addFleetCounts(trx, fleetDeltas);
    for (const key of [...groupDeltas.keys()].sort()) {
      const [group, shard] = key.split('\u0000') as [string, string];
      await this.#addGroupCounts(trx, group, Number(shard), groupDeltas.get(key)!);
    }
    await this.writeCompliancesIn(trx, reports.map((r) => ({ instanceId: r.instanceId, compliance: r.compliance, now: r.now })));
    await this.#addKeyedCounts(trx, 'missing_patch_counts', missingDeltas);
    await this.#addKeyedCounts(trx, 'cve_counts', cveDeltas);
    await trx.insertInto('node_history').values(reports.map((r, i) => ({
      instance_id: r.instanceId,
      reported_at: r.now,
      report_seq: seqs[i]!,
      patch_group: r.summary.patchGroup,
      summary: JSON.stringify({ ...r.summary.counters, Operation: r.summary.operation, BaselineId: r.summary.baselineId, OperationEndTime: r.summary.operationEnd }),
    }))).execute();
    // Last: sets no node refers to any more go (the locks this takes are held for the shortest time).
    await this.#releaseRowSetsIn(trx, [...new Set(oldSets.values())].filter((d) => !referenced.has(d)));
    return seqs;
  }

  // ---- row sets --------------------------------------------------------------------------------------------------

  /** Each node's row set digest (nodes without rows are absent). */
  async #rowSetRefsIn(trx: Db, instanceIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let c = 0; c < instanceIds.length; c += 500) {
      const rows = await trx.selectFrom('node_patches').select(['instance_id', 'row_set']).where('instance_id', 'in', instanceIds.slice(c, c + 500)).execute();
      for (const r of rows) out.set(r.instance_id, r.row_set);
    }
    return out;
  }

  /** The facts of stored row sets, read from their rows (and cached: a set never changes). */
  async #factsIn(trx: Db, digests: Iterable<string>): Promise<Map<string, RowSetFacts>> {
    const out = new Map<string, RowSetFacts>();
    const unknown: string[] = [];
    for (const d of digests) {
      const hit = this.#facts.get(d);
      if (hit === undefined) unknown.push(d);
      else out.set(d, hit);
    }
    for (let c = 0; c < unknown.length; c += SET_CHUNK) {
      const sets = await trx.selectFrom('patch_row_sets').select(['digest', 'data']).where('digest', 'in', unknown.slice(c, c + SET_CHUNK)).execute();
      const perSet = sets.map((s) => [s.digest, descriptorIdsInStates(s.data, MISSING_STATES)] as const);
      await this.descriptors.load(perSet.flatMap(([, ids]) => ids), trx);
      for (const [digest, ids] of perSet) {
        const missingKbIds = new Set<string>();
        const cveIds = new Set<string>();
        for (const id of ids) {
          const d = this.descriptors.get(id);
          missingKbIds.add(d.KBId);
          cveIdsIn(d.CVEIds, cveIds);
        }
        const facts = { missingKbIds, cveIds };
        this.#facts.set(digest, facts);
        out.set(digest, facts);
      }
    }
    return out;
  }

  /**
   * Finds or stores, for each wanted set, the set its node will refer to: the set with the same content if one is
   * stored, else one with the same outcome (shape; the node then keeps its own installed times), else the wanted set
   * itself; returns, by wanted digest, the chosen set's digest and encoding. The chosen sets stay until the
   * transaction ends. PostgreSQL: existing sets are locked FOR KEY SHARE (a concurrent release skips them, and one
   * already releasing a set makes this wait, then find or store another); a set another transaction is inserting
   * makes the insert wait for it, then the next pass finds it.
   */
  async #storeRowSetsIn(trx: Db, sets: readonly RowSet[], now: number): Promise<Map<string, { digest: string; data: Buffer }>> {
    const chosen = new Map<string, { digest: string; data: Buffer }>();
    let pending = [...new Map(sets.map((s) => [s.digest, s])).values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 3) throw new Error(`row sets ${pending.slice(0, 3).map((s) => s.digest).join(', ')} could not be stored`);
      const byShape = new Map<string, string[]>(); // shape → stored digests, sorted
      const exact = new Set<string>();
      const shapes = [...new Set(pending.map((s) => s.shape))].sort();
      for (let c = 0; c < shapes.length; c += 500) {
        let q = trx.selectFrom('patch_row_sets').select(['digest', 'shape']).where('shape', 'in', shapes.slice(c, c + 500)).orderBy('digest');
        if (this.#store.engine === 'postgres') q = q.forKeyShare();
        for (const r of await q.execute()) {
          exact.add(r.digest);
          byShape.set(r.shape, [...(byShape.get(r.shape) ?? []), r.digest]);
        }
      }
      const toInsert = new Map<string, RowSet>(); // one per shape that has no stored set
      const resolved = new Map<string, string>();
      for (const s of pending) {
        const use = exact.has(s.digest) ? s.digest : byShape.get(s.shape)?.[0];
        if (use !== undefined) resolved.set(s.digest, use);
        else if (!toInsert.has(s.shape)) toInsert.set(s.shape, s);
      }
      const inserted = new Set<string>();
      const inserting = [...toInsert.values()];
      for (let c = 0; c < inserting.length; c += SET_CHUNK) {
        const rows = await trx.insertInto('patch_row_sets')
          .values(inserting.slice(c, c + SET_CHUNK).map((s) => ({ digest: s.digest, shape: s.shape, row_count: s.rowCount, data: s.data, timed_packages: s.timedPackages ?? null, created_at: now })))
          .onConflict((oc) => oc.column('digest').doNothing()).returning('digest').execute();
        for (const r of rows) inserted.add(r.digest);
      }
      const cves = inserting.filter((s) => inserted.has(s.digest)).flatMap((s) => [...s.cveIds].sort().map((cve_id) => ({ row_set: s.digest, cve_id })));
      for (let c = 0; c < cves.length; c += 1000) await trx.insertInto('patch_row_set_cves').values(cves.slice(c, c + 1000)).execute();
      const data = new Map<string, Buffer>();
      for (const s of inserting) {
        if (!inserted.has(s.digest)) continue;
        this.#facts.set(s.digest, s);
        this.#setData.set(s.digest, s.data);
        data.set(s.digest, s.data);
        resolved.set(s.digest, s.digest);
      }
      // Sets of the same outcome as one just inserted refer to it.
      for (const s of pending) if (!resolved.has(s.digest) && inserted.has(toInsert.get(s.shape)!.digest)) resolved.set(s.digest, toInsert.get(s.shape)!.digest);
      await this.#setDataIn(trx, [...new Set(resolved.values())].filter((d) => !data.has(d)), data);
      for (const [wanted, use] of resolved) chosen.set(wanted, { digest: use, data: data.get(use)! });
      // Inserted meanwhile by a concurrent transaction (PostgreSQL): the next pass finds and locks them.
      pending = pending.filter((s) => !resolved.has(s.digest));
    }
    return chosen;
  }

  /** Stored sets' encodings into `out` (cached: a set never changes). */
  async #setDataIn(trx: Db, digests: readonly string[], out: Map<string, Buffer>): Promise<void> {
    const unknown: string[] = [];
    for (const d of digests) {
      const hit = this.#setData.get(d);
      if (hit === undefined) unknown.push(d);
      else out.set(d, hit);
    }
    for (let c = 0; c < unknown.length; c += SET_CHUNK) {
      for (const r of await trx.selectFrom('patch_row_sets').select(['digest', 'data']).where('digest', 'in', unknown.slice(c, c + SET_CHUNK)).execute()) {
        const data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        this.#setData.set(r.digest, data);
        out.set(r.digest, data);
      }
    }
  }

  /** Deletes the sets among `digests` that no node refers to any more (their CVE entries go with them). */
  async #releaseRowSetsIn(trx: Db, digests: readonly string[]): Promise<void> {
    const sorted = [...digests].sort();
    for (let c = 0; c < sorted.length; c += 500) await deleteUnreferencedRowSets(trx, this.#store.engine, sorted.slice(c, c + 500));
  }

  /**
   * Removes a node and everything kept about it (deregistration), taking its contributions out of every
   * aggregate in the same transaction. The caller holds the node's lock.
   */
  async removeNodeIn(trx: Db, instanceId: string): Promise<void> {
    const shard = shardOf(instanceId);
    const old = await trx.selectFrom('node_patch_state').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
    if (await this.nodeExists(instanceId, trx)) {
      await this.#addFleetCounts(trx, new Map([[shard, { nodes: -1, non_compliant: -Number(old?.non_compliant ?? 0) }]]));
    }
    if (old !== undefined) await this.#addGroupCounts(trx, old.patch_group, shard, groupVector(countersFromState(old), -1));
    const compliance = await trx.selectFrom('resource_compliance').select(['compliance_type', 'status', 'overall_severity'])
      .where('instance_id', '=', instanceId).orderBy('compliance_type').execute();
    for (const c of compliance) {
      await this.#addComplianceCounts(trx, c.compliance_type, shard, complianceVector({ status: c.status, overallSeverity: c.overall_severity }, -1));
    }
    const rowSet = (await this.#rowSetRefsIn(trx, [instanceId])).get(instanceId);
    const facts = rowSet === undefined ? undefined : (await this.#factsIn(trx, [rowSet])).get(rowSet)!;
    await this.#addKeyedCounts(trx, 'missing_patch_counts', new Map([...facts?.missingKbIds ?? []].map((kb) => [`${kb}\u0000${shard}`, -1])));
    await this.#addKeyedCounts(trx, 'cve_counts', new Map([...facts?.cveIds ?? []].map((cve) => [`${cve}\u0000${shard}`, -1])));
    for (const table of ['node_patch_state', 'node_patches', 'resource_compliance', 'compliance_items', 'inventory_items', 'node_history', 'node_scans', 'node_scan_data'] as const) {
      await trx.deleteFrom(table).where('instance_id', '=', instanceId).execute();
    }
    if (rowSet !== undefined) await this.#releaseRowSetsIn(trx, [rowSet]);
    await trx.deleteFrom('tags').where('resource_type', '=', 'ManagedInstance').where('resource_id', '=', instanceId).execute();
    await trx.deleteFrom('nodes').where('instance_id', '=', instanceId).execute();
  }

  /** Moves fleet_counts (shards in order). */
  async #addFleetCounts(trx: Db, deltas: ReadonlyMap<number, FleetDelta>): Promise<void> {
    const rows = [...deltas].filter(([, d]) => d.nodes !== 0 || d.non_compliant !== 0).sort((a, b) => a[0] - b[0])
      .map(([shard, d]) => ({ shard, nodes: d.nodes, non_compliant: d.non_compliant }));
    if (rows.length === 0) return;
    await trx.insertInto('fleet_counts').values(rows).onConflict((oc) => oc.column('shard').doUpdateSet({
      nodes: sql`fleet_counts.nodes + excluded.nodes`,
      non_compliant: sql`fleet_counts.non_compliant + excluded.non_compliant`,
    })).execute();
  }

  /**
   * Moves per-(name, shard) node counts (missing_patch_counts, cve_counts) with multi-row upserts in sorted key
   * order, then deletes the rows this transaction brought to zero (already locked by it), so reads stay small.
   */
  async #addKeyedCounts(trx: Db, table: 'missing_patch_counts' | 'cve_counts', deltas: ReadonlyMap<string, number>): Promise<void> {
    const column = table === 'missing_patch_counts' ? 'kb_id' : 'cve_id';
    const rows = [...deltas.keys()].filter((k) => deltas.get(k) !== 0).sort().map((k) => {
      const cut = k.lastIndexOf('\u0000');
      return { name: k.slice(0, cut), shard: Number(k.slice(cut + 1)), nodes: deltas.get(k)! };
    });
    for (let c = 0; c < rows.length; c += 500) {
      await trx.insertInto(table).values(rows.slice(c, c + 500).map((r) => ({ [column]: r.name, shard: r.shard, nodes: r.nodes })) as never)
        .onConflict((oc) => oc.columns([column, 'shard'] as never).doUpdateSet({ nodes: sql`${sql.ref(`${table}.nodes`)} + excluded.nodes` } as never))
        .execute();
    }
    const lowered = new Map<number, string[]>();
    for (const r of rows) if (r.nodes < 0) lowered.set(r.shard, [...(lowered.get(r.shard) ?? []), r.name]);
    for (const shard of [...lowered.keys()].sort((a, b) => a - b)) {
      const names = lowered.get(shard)!;
      for (let c = 0; c < names.length; c += 500) {
        await trx.deleteFrom(table).where('shard', '=', shard).where(sql.ref(column), 'in', names.slice(c, c + 500)).where('nodes', '<=', 0).execute();
      }
    }
  }

  async #addGroupCounts(trx: Db, patchGroup: string, shard: number, delta: Record<string, number>): Promise<void> {
    if (isZero(delta)) return;
    const values: Record<string, unknown> = { patch_group: patchGroup, shard };
    for (const c of GROUP_COLUMNS) values[c] = delta[c] ?? 0;
    await trx.insertInto('patch_group_counts').values(values as never)
      .onConflict((oc) => oc.columns(['patch_group', 'shard']).doUpdateSet(Object.fromEntries(
        GROUP_COLUMNS.filter((c) => (delta[c] ?? 0) !== 0).map((c) => [c, sql`patch_group_counts.${sql.ref(c)} + ${delta[c]}`]),
      ) as never)).execute();
  }

  /** Replaces a node's compliance for one type (items and summary) and moves the per-type counters. */
  async writeComplianceIn(trx: Db, instanceId: string, c: ComplianceInput, now: number): Promise<void> {
    await this.writeCompliancesIn(trx, [{ instanceId, compliance: c, now }]);
  }

  /** The batch form: one (node, type) per entry; counter rows moved in sorted order. */
  async writeCompliancesIn(trx: Db, entries: ReadonlyArray<{ instanceId: string; compliance: ComplianceInput; now: number }>): Promise<void> {
    if (entries.length === 0) return;
    const byType = new Map<string, string[]>();
    for (const e of entries) byType.set(e.compliance.type, [...(byType.get(e.compliance.type) ?? []), e.instanceId]);
    const old = new Map<string, { status: string; overall_severity: string }>();
    for (const [type, ids] of byType) {
      const rows = await trx.selectFrom('resource_compliance').select(['instance_id', 'status', 'overall_severity'])
        .where('compliance_type', '=', type).where('instance_id', 'in', ids).execute();
      for (const r of rows) old.set(`${r.instance_id}\u0000${type}`, r);
    }
    const rows: ResourceComplianceTable[] = entries.map(({ instanceId, compliance: c, now }) => ({
      instance_id: instanceId,
      compliance_type: c.type,
      status: c.summary.status,
      overall_severity: c.summary.overallSeverity,
      ...(Object.fromEntries(COMPLIANCE_SEVERITIES.flatMap((s) => [
        [`compliant_${s.toLowerCase()}`, c.summary.compliant[s]], [`non_compliant_${s.toLowerCase()}`, c.summary.nonCompliant[s]],
      ])) as unknown as SeverityCounts),
      execution_time: c.executionTime,
      execution_id: c.executionId ?? null,
      execution_type: c.executionType ?? null,
      items_hash: c.itemsHash ?? null,
      updated_at: now,
    }));
    await trx.insertInto('resource_compliance').values(rows)
      .onConflict((oc) => oc.columns(['instance_id', 'compliance_type']).doUpdateSet((eb) => Object.fromEntries(
        COMPLIANCE_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}` as never)]),
      ) as never)).execute();
    const stored = entries.filter((e) => e.compliance.storedItems !== undefined);
    if (stored.length > 0) {
      await trx.insertInto('compliance_items').values(stored.map((e) => ({
        instance_id: e.instanceId, compliance_type: e.compliance.type, item_count: e.compliance.storedItems!.length, data: encodeJson(e.compliance.storedItems),
      }))).onConflict((oc) => oc.columns(['instance_id', 'compliance_type']).doUpdateSet((eb) => ({
        item_count: eb.ref('excluded.item_count'), data: eb.ref('excluded.data'),
      }))).execute();
    }
    for (const type of byType.keys()) {
      const derived = entries.filter((e) => e.compliance.type === type && e.compliance.storedItems === undefined).map((e) => e.instanceId);
      if (derived.length > 0) await trx.deleteFrom('compliance_items').where('compliance_type', '=', type).where('instance_id', 'in', derived).execute();
    }
    const deltas = new Map<string, Record<string, number>>();
    for (const { instanceId, compliance: c } of entries) {
      const previous = old.get(`${instanceId}\u0000${c.type}`);
      const key = `${c.type}\u0000${shardOf(instanceId)}`;
      const delta = addVectors(complianceVector(previous === undefined ? undefined : { status: previous.status, overallSeverity: previous.overall_severity }, -1), complianceVector(c.summary, 1));
      deltas.set(key, addVectors(deltas.get(key) ?? {}, delta));
    }
    for (const key of [...deltas.keys()].sort()) {
      const [type, shard] = key.split('\u0000') as [string, string];
      await this.#addComplianceCounts(trx, type, Number(shard), deltas.get(key)!);
    }
  }

  async #addComplianceCounts(trx: Db, type: string, shard: number, delta: Record<string, number>): Promise<void> {
    if (isZero(delta)) return;
    const values: Record<string, unknown> = { compliance_type: type, shard };
    for (const c of SEVERITY_COLUMNS) values[c] = delta[c] ?? 0;
    await trx.insertInto('compliance_type_counts').values(values as never)
      .onConflict((oc) => oc.columns(['compliance_type', 'shard']).doUpdateSet(Object.fromEntries(
        SEVERITY_COLUMNS.filter((c) => (delta[c] ?? 0) !== 0).map((c) => [c, sql`compliance_type_counts.${sql.ref(c)} + ${delta[c]}`]),
      ) as never)).execute();
  }

  // ---- reads -----------------------------------------------------------------------------------------------------

  getPatchState(instanceId: string, db: Db = this.db): Promise<NodePatchStateTable | undefined> {
    return db.selectFrom('node_patch_state').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
  }

  getPatchStates(instanceIds: string[], db: Db = this.db): Promise<NodePatchStateTable[]> {
    if (instanceIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('node_patch_state').selectAll().where('instance_id', 'in', instanceIds).orderBy('instance_id').execute();
  }

  /**
   * The node's patch rows (sorted by KBId, Title), or undefined if it never reported. Decoded rows are cached (by
   * row set, shared between nodes; by node and report for nodes with installed times of their own, kept with the
   * reference or read from the node's stored scan for a scan-timed set): callers must not modify them.
   */
  async getPatchRows(instanceId: string, db: Db = this.db): Promise<{ seq: number; rows: PatchRow[] } | undefined> {
    // The reference alone first: rows already decoded (the common case when paging) are not read again.
    const ref = await db.selectFrom('node_patches').select(['report_seq', 'row_set', 'installed_times']).where('instance_id', '=', instanceId).executeTakeFirst();
    if (ref === undefined) return undefined;
    const cached = this.#rows.get(ref.row_set);
    if (cached !== undefined) {
      if (cached.timedPackages === null && ref.installed_times === null) return { seq: Number(ref.report_seq), rows: cached.rows };
      const own = this.#nodeRows.get(`${instanceId}\u0000${Number(ref.report_seq)}`);
      if (own !== undefined) return { seq: Number(ref.report_seq), rows: own };
    }
    // One statement for the reference, the set and (for a scan-timed set) the node's scan: a report may have replaced
    // them since the first read.
    const row = await db.selectFrom('node_patches').innerJoin('patch_row_sets', 'patch_row_sets.digest', 'node_patches.row_set')
      .leftJoin('node_scan_data', 'node_scan_data.instance_id', 'node_patches.instance_id')
      .select(['node_patches.report_seq as report_seq', 'node_patches.row_set as row_set', 'node_patches.installed_times as installed_times',
        'patch_row_sets.data as data', 'patch_row_sets.timed_packages as timed_packages'])
      .select((eb) => eb.case().when('patch_row_sets.timed_packages', 'is not', null).then(eb.ref('node_scan_data.data')).else(null).end().as('scan'))
      .where('node_patches.instance_id', '=', instanceId).executeTakeFirst();
    if (row === undefined) return undefined;
    const seq = Number(row.report_seq);
    let set = this.#rows.get(row.row_set);
    if (set === undefined) {
      const encoded = readPatchRows(row.data);
      await this.descriptors.load(encoded.descriptorIds, db);
      const timedPackages = row.timed_packages === null ? null : Buffer.from(row.timed_packages.buffer, row.timed_packages.byteOffset, row.timed_packages.byteLength);
      set = { rows: encoded.decode((id) => this.descriptors.get(id)), timedPackages };
      this.#rows.set(row.row_set, set);
    }
    let own: PatchRow[];
    if (set.timedPackages !== null) {
      const times = row.scan === null ? new Map<number, number>() : installedTimesById(row.scan as Uint8Array);
      own = withScanTimes(set.rows, set.timedPackages, (id) => times.get(id));
    } else if (row.installed_times !== null) {
      const times = Buffer.from(row.installed_times.buffer, row.installed_times.byteOffset, row.installed_times.byteLength);
      own = set.rows.map((r, i) => ({ ...r, InstalledTime: times.readUInt32LE(i * 4) }));
    } else {
      return { seq, rows: set.rows };
    }
    this.#nodeRows.set(`${instanceId}\u0000${seq}`, own);
    return { seq, rows: own };
  }

  /** DescribePatchGroupState: the sum of the group's shards. */
  async groupCounts(patchGroup: string, db: Db = this.db): Promise<Record<string, number>> {
    // The hottest read of all (DescribePatchGroupState): its SQL is compiled once and reused with a new parameter.
    this.#groupCountsSql ??= db.selectFrom('patch_group_counts')
      .select(GROUP_COLUMNS.map((c) => sql<number>`coalesce(sum(${sql.ref(c)}), 0)`.as(c)))
      .where('patch_group', '=', '').compile().sql;
    const result = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(this.#groupCountsSql, [patchGroup]));
    const row = result.rows[0] ?? {};
    return Object.fromEntries(GROUP_COLUMNS.map((c) => [c, Number(row[c] ?? 0)]));
  }

  async complianceTypeCounts(db: Db = this.db): Promise<Array<Record<string, number | string>>> {
    const rows = await db.selectFrom('compliance_type_counts')
      .select(['compliance_type', ...SEVERITY_COLUMNS.map((c) => sql<number>`sum(${sql.ref(c)})`.as(c))])
      .groupBy('compliance_type').orderBy('compliance_type').execute();
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'compliance_type' ? String(v) : Number(v)])));
  }

  getStoredComplianceItems(instanceId: string, type: string, db: Db = this.db): Promise<ComplianceItemRecord[] | undefined> {
    return db.selectFrom('compliance_items').select('data').where('instance_id', '=', instanceId).where('compliance_type', '=', type)
      .executeTakeFirst().then((r) => (r === undefined ? undefined : decodeJson<ComplianceItemRecord[]>(r.data)));
  }

  getResourceCompliance(instanceId: string, type: string, db: Db = this.db): Promise<ResourceComplianceTable | undefined> {
    return db.selectFrom('resource_compliance').selectAll().where('instance_id', '=', instanceId).where('compliance_type', '=', type).executeTakeFirst();
  }

  listResourceComplianceTypes(instanceId: string, db: Db = this.db): Promise<string[]> {
    return db.selectFrom('resource_compliance').select('compliance_type').where('instance_id', '=', instanceId).execute().then((r) => r.map((x) => x.compliance_type));
  }
}
