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
  encodePatchRows, readPatchRows, encodeJson, decodeJson, descriptorKey, descriptorOf, descriptorIdsInStates, type RowDescriptor,
} from '../domain/patch-rows.ts';
import { MISSING_STATES, missingKbIds, isNonCompliantNode, setDelta } from '../domain/fleet.ts';
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

const CVE_ID_RE = /^CVE-\d{4}-\d{4,}$/;

/** The CVE ids a node's Missing and Failed rows list (upper-cased; other tokens in CVEIds are ignored). */
export function cvesOfRows(rows: readonly PatchRow[]): Set<string> {
  const out = new Set<string>();
  for (const r of rows) {
    if (!r.CVEIds || (r.State !== 'Missing' && r.State !== 'Failed')) continue;
    for (const part of r.CVEIds.split(',')) {
      const id = part.trim().toUpperCase();
      if (CVE_ID_RE.test(id)) out.add(id);
    }
  }
  return out;
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
  /** The node's rows, sorted by KBId then Title (sortPatchRows). */
  rows: PatchRow[];
  /** Each row's descriptor id, from internRows (called before the report's transaction). */
  descriptorIds: readonly number[];
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

/** Bounded LRU of decoded patch rows, keyed by node and report sequence. */
class RowCache {
  readonly #max: number;
  readonly #map = new Map<string, { seq: number; rows: PatchRow[] }>();
  constructor(max: number) {
    this.#max = max;
  }
  get(id: string, seq: number): PatchRow[] | undefined {
    const hit = this.#map.get(id);
    if (hit === undefined || hit.seq !== seq) return undefined;
    this.#map.delete(id);
    this.#map.set(id, hit);
    return hit.rows;
  }
  set(id: string, seq: number, rows: PatchRow[]): void {
    this.#map.delete(id);
    this.#map.set(id, { seq, rows });
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
}

export class ReportingStore {
  readonly #store: Store;
  readonly #rows = new RowCache(2048);
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
    const oldMissing = await this.#missingKbIdsIn(trx, ids);
    const fleetDeltas = new Map<number, FleetDelta>();
    for (const a of added) fleetDelta(fleetDeltas, shardOf(a.instance_id)).nodes += 1;
    const missingDeltas = new Map<string, number>(); // `${kb}\u0000${shard}`
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
      for (const [kb, d] of setDelta(oldMissing.get(r.instanceId), missingKbIds(r.rows))) addTo(missingDeltas, `${kb}\u0000${shard}`, d);
    }
    await trx.insertInto('node_patch_state').values(states)
      .onConflict((oc) => oc.column('instance_id').doUpdateSet((eb) => Object.fromEntries(
        STATE_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}` as never)]),
      ) as never)).execute();
    await trx.insertInto('node_patches').values(reports.map((r, i) => ({
      instance_id: r.instanceId, report_seq: seqs[i]!, row_count: r.rows.length, data: encodePatchRows(r.rows, r.descriptorIds),
    }))).onConflict((oc) => oc.column('instance_id').doUpdateSet((eb) => ({
      report_seq: eb.ref('excluded.report_seq'), row_count: eb.ref('excluded.row_count'), data: eb.ref('excluded.data'),
    }))).execute();

    // Counter rows in (group, shard) order: concurrent writers take row locks in the same order (no deadlock).
    await this.#addFleetCounts(trx, fleetDeltas);
    for (const key of [...groupDeltas.keys()].sort()) {
      const [group, shard] = key.split('\u0000') as [string, string];
      await this.#addGroupCounts(trx, group, Number(shard), groupDeltas.get(key)!);
    }
    await this.writeCompliancesIn(trx, reports.map((r) => ({ instanceId: r.instanceId, compliance: r.compliance, now: r.now })));
    await this.#addKeyedCounts(trx, 'missing_patch_counts', missingDeltas);
    await trx.insertInto('node_history').values(reports.map((r, i) => ({
      instance_id: r.instanceId,
      reported_at: r.now,
      report_seq: seqs[i]!,
      patch_group: r.summary.patchGroup,
      summary: JSON.stringify({ ...r.summary.counters, Operation: r.summary.operation, BaselineId: r.summary.baselineId, OperationEndTime: r.summary.operationEnd }),
    }))).execute();
    await this.#writeNodeCvesIn(trx, reports);
    return seqs;
  }

  /**
   * The CVE index (node_cves) follows the rows just written: the CVEs of each node's Missing and Failed rows.
   * Only nodes whose set changed are rewritten, so re-evaluations that change nothing write nothing here.
   */
  async #writeNodeCvesIn(trx: Transaction<DatabaseSchema>, reports: readonly PatchReportWrite[]): Promise<void> {
    const wanted = new Map<string, Set<string>>();
    for (const r of reports) wanted.set(r.instanceId, cvesOfRows(r.rows));
    const current = new Map<string, Set<string>>();
    const ids = [...wanted.keys()];
    for (let c = 0; c < ids.length; c += 500) {
      const rows = await trx.selectFrom('node_cves').select(['instance_id', 'cve_id']).where('instance_id', 'in', ids.slice(c, c + 500)).execute();
      for (const row of rows) {
        let set = current.get(row.instance_id);
        if (set === undefined) current.set(row.instance_id, (set = new Set()));
        set.add(row.cve_id);
      }
    }
    const rewrite: string[] = [];
    const insert: Array<{ cve_id: string; instance_id: string }> = [];
    const counts = new Map<string, number>(); // cve_counts moves: `${cve}\u0000${shard}`
    for (const [id, cves] of wanted) {
      const had = current.get(id);
      if ((had?.size ?? 0) === cves.size && [...cves].every((c) => had!.has(c))) continue;
      if (had !== undefined) rewrite.push(id);
      for (const cve of cves) insert.push({ cve_id: cve, instance_id: id });
      const shard = shardOf(id);
      for (const [cve, d] of setDelta(had, cves)) addTo(counts, `${cve}\u0000${shard}`, d);
    }
    for (let c = 0; c < rewrite.length; c += 500) await trx.deleteFrom('node_cves').where('instance_id', 'in', rewrite.slice(c, c + 500)).execute();
    for (let c = 0; c < insert.length; c += 1000) await trx.insertInto('node_cves').values(insert.slice(c, c + 1000)).execute();
    await this.#addKeyedCounts(trx, 'cve_counts', counts);
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
    const missing = (await this.#missingKbIdsIn(trx, [instanceId])).get(instanceId) ?? new Set<string>();
    await this.#addKeyedCounts(trx, 'missing_patch_counts', new Map([...missing].map((kb) => [`${kb}\u0000${shard}`, -1])));
    const cves = await trx.selectFrom('node_cves').select('cve_id').where('instance_id', '=', instanceId).execute();
    await this.#addKeyedCounts(trx, 'cve_counts', new Map(cves.map((c) => [`${c.cve_id}\u0000${shard}`, -1])));
    for (const table of ['node_patch_state', 'node_patches', 'resource_compliance', 'compliance_items', 'inventory_items', 'node_history', 'node_scans', 'node_scan_data', 'node_cves'] as const) {
      await trx.deleteFrom(table).where('instance_id', '=', instanceId).execute();
    }
    await trx.deleteFrom('tags').where('resource_type', '=', 'ManagedInstance').where('resource_id', '=', instanceId).execute();
    await trx.deleteFrom('nodes').where('instance_id', '=', instanceId).execute();
  }

  /** The KBIds of each node's stored Missing/Failed rows (its previous report), read from the encoded rows. */
  async #missingKbIdsIn(trx: Db, instanceIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    const perNode: Array<[string, number[]]> = [];
    for (let c = 0; c < instanceIds.length; c += 500) {
      const rows = await trx.selectFrom('node_patches').select(['instance_id', 'data']).where('instance_id', 'in', instanceIds.slice(c, c + 500)).execute();
      for (const r of rows) perNode.push([r.instance_id, descriptorIdsInStates(r.data, MISSING_STATES)]);
    }
    await this.descriptors.load(perNode.flatMap(([, d]) => d), trx);
    for (const [id, descriptors] of perNode) out.set(id, new Set(descriptors.map((d) => this.descriptors.get(d).KBId)));
    return out;
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

  /** The node's patch rows (sorted by KBId, Title), or undefined if it never reported. Decoded rows are cached. */
  async getPatchRows(instanceId: string, db: Db = this.db): Promise<{ seq: number; rows: PatchRow[] } | undefined> {
    // The sequence number alone first: a cached node (the common case when paging) skips reading its rows.
    const head = await db.selectFrom('node_patches').select('report_seq').where('instance_id', '=', instanceId).executeTakeFirst();
    if (head === undefined) return undefined;
    const seq = Number(head.report_seq);
    const cached = this.#rows.get(instanceId, seq);
    if (cached !== undefined) return { seq, rows: cached };
    const row = await db.selectFrom('node_patches').select(['report_seq', 'data']).where('instance_id', '=', instanceId).executeTakeFirst();
    if (row === undefined) return undefined;
    const encoded = readPatchRows(row.data);
    await this.descriptors.load(encoded.descriptorIds);
    const rows = encoded.decode((id) => this.descriptors.get(id));
    this.#rows.set(instanceId, Number(row.report_seq), rows);
    return { seq: Number(row.report_seq), rows };
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
