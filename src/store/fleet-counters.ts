// The fleet-wide counters behind Patchline.GetFleetSummary, recomputed from the per-node rows. ReportingStore keeps
// them on write (applyPatchReportsIn, removeNodeIn, nodesAddedIn); this module rebuilds them from scratch, for
// `patchline verify` (src/services/verify.ts) and for the migration that introduced them.
//
//   fleet_counts(shard, nodes, non_compliant)   registered nodes; reported nodes whose report is non-compliant
//   missing_patch_counts(kb_id, shard, nodes)   nodes with a Missing or Failed row for the KBId (from node_patches)
//   cve_counts(cve_id, shard, nodes)            nodes listing the CVE in node_cves
//
// Shards follow shardOf(instance_id), like the per-group counters. Rows at zero are not kept.

import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { shardOf, countersFromState } from './reporting-store.ts';
import { descriptorIdsInStates } from '../domain/patch-rows.ts';
import { MISSING_STATES, isNonCompliantNode } from '../domain/fleet.ts';

const PAGE = 1000;
const CHUNK = 500;

export interface FleetCounterValues {
  /** shard → counts. */
  fleet: Map<number, { nodes: number; non_compliant: number }>;
  /** `${kb_id}\u0000${shard}` → nodes. */
  missing: Map<string, number>;
  /** `${cve_id}\u0000${shard}` → nodes. */
  cves: Map<string, number>;
  /** Reported nodes whose stored non_compliant flag disagrees with their counters: instance id → expected flag. */
  flags: Map<string, number>;
}

const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/** Recomputes every fleet counter from nodes, node_patch_state, node_patches (+ patch_descriptors) and node_cves. */
export async function computeFleetCounters(db: Kysely<DatabaseSchema>): Promise<FleetCounterValues> {
  const out: FleetCounterValues = { fleet: new Map(), missing: new Map(), cves: new Map(), flags: new Map() };
  const fleet = (shard: number) => {
    let v = out.fleet.get(shard);
    if (v === undefined) out.fleet.set(shard, (v = { nodes: 0, non_compliant: 0 }));
    return v;
  };

  for (let after = ''; ;) {
    const rows = await db.selectFrom('nodes').select('instance_id').where('instance_id', '>', after).orderBy('instance_id').limit(PAGE).execute();
    for (const r of rows) fleet(shardOf(r.instance_id)).nodes++;
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.instance_id;
  }

  for (let after = ''; ;) {
    const rows = await db.selectFrom('node_patch_state').selectAll().where('instance_id', '>', after).orderBy('instance_id').limit(PAGE).execute();
    for (const r of rows) {
      const expected = isNonCompliantNode(countersFromState(r)) ? 1 : 0;
      if (expected === 1) fleet(shardOf(r.instance_id)).non_compliant++;
      if (Number(r.non_compliant) !== expected) out.flags.set(r.instance_id, expected);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.instance_id;
  }

  // Missing patches: the descriptor ids of each node's Missing/Failed rows, then their KBIds (shared descriptors).
  const kbOf = new Map<number, string>();
  for (let after = ''; ;) {
    const rows = await db.selectFrom('node_patches').select(['instance_id', 'data']).where('instance_id', '>', after).orderBy('instance_id').limit(PAGE).execute();
    const perNode = rows.map((r) => ({ id: r.instance_id, descriptors: descriptorIdsInStates(r.data, MISSING_STATES) }));
    const unknown = [...new Set(perNode.flatMap((n) => n.descriptors))].filter((id) => !kbOf.has(id));
    for (let c = 0; c < unknown.length; c += CHUNK) {
      const found = await db.selectFrom('patch_descriptors').select(['id', 'data']).where('id', 'in', unknown.slice(c, c + CHUNK)).execute();
      for (const d of found) kbOf.set(Number(d.id), String((JSON.parse(d.data) as { KBId?: unknown }).KBId ?? ''));
    }
    for (const n of perNode) {
      const shard = shardOf(n.id);
      const kbs = new Set(n.descriptors.map((id) => kbOf.get(id)).filter((kb): kb is string => kb !== undefined));
      for (const kb of kbs) bump(out.missing, `${kb}\u0000${shard}`);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.instance_id;
  }

  for (let after: [string, string] = ['', '']; ;) {
    const rows = await db.selectFrom('node_cves').select(['cve_id', 'instance_id'])
      // A row-value comparison, so both engines walk the primary key instead of re-scanning the table per page.
      .where(sql<boolean>`(cve_id, instance_id) > (${after[0]}, ${after[1]})`)
      .orderBy('cve_id').orderBy('instance_id').limit(PAGE).execute();
    for (const r of rows) bump(out.cves, `${r.cve_id}\u0000${shardOf(r.instance_id)}`);
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    after = [last.cve_id, last.instance_id];
  }
  return out;
}

/** Replaces the stored counters (and any wrong non_compliant flag) with `values`. Run inside a transaction. */
export async function writeFleetCounters(db: Kysely<DatabaseSchema>, values: FleetCounterValues): Promise<void> {
  await db.deleteFrom('fleet_counts').execute();
  const fleet = [...values.fleet].sort((a, b) => a[0] - b[0]).map(([shard, v]) => ({ shard, nodes: v.nodes, non_compliant: v.non_compliant }));
  if (fleet.length > 0) await db.insertInto('fleet_counts').values(fleet).execute();
  await db.deleteFrom('missing_patch_counts').execute();
  const missing = keyedRows(values.missing).map(([kb_id, shard, nodes]) => ({ kb_id, shard, nodes }));
  for (let c = 0; c < missing.length; c += CHUNK) await db.insertInto('missing_patch_counts').values(missing.slice(c, c + CHUNK)).execute();
  await db.deleteFrom('cve_counts').execute();
  const cves = keyedRows(values.cves).map(([cve_id, shard, nodes]) => ({ cve_id, shard, nodes }));
  for (let c = 0; c < cves.length; c += CHUNK) await db.insertInto('cve_counts').values(cves.slice(c, c + CHUNK)).execute();
  for (const [id, flag] of values.flags) await db.updateTable('node_patch_state').set({ non_compliant: flag }).where('instance_id', '=', id).execute();
}

/** `${name}\u0000${shard}` → count entries as sorted [name, shard, count] rows, zeros left out. */
export function keyedRows(map: ReadonlyMap<string, number>): Array<[string, number, number]> {
  return [...map.keys()].sort().filter((k) => map.get(k) !== 0).map((k) => {
    const cut = k.lastIndexOf('\u0000');
    return [k.slice(0, cut), Number(k.slice(cut + 1)), map.get(k)!];
  });
}
