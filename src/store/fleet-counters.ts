// The fleet-wide counters behind Patchline.GetFleetSummary, recomputed from the per-node rows. ReportingStore keeps
// them on write (applyPatchReportsIn, removeNodeIn, nodesAddedIn); this module rebuilds them from scratch, for
// `patchline verify` (src/services/verify.ts) and for the migration that introduced them.
//
//   fleet_counts(shard, nodes, non_compliant)   registered nodes; reported nodes whose report is non-compliant
//   missing_patch_counts(kb_id, shard, nodes)   nodes with a Missing or Failed row for the KBId
//   cve_counts(cve_id, shard, nodes)            nodes with a Missing or Failed row listing the CVE
//
// Shards follow shardOf(instance_id), like the per-group counters. Rows at zero are not kept. Both per-row counts
// come from each node's row set (node_patches → patch_row_sets), whose facts are worked out once per set; the same
// pass checks what is kept per set: its CVE index (patch_row_set_cves) and that some node still refers to it.

import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { shardOf, countersFromState } from './reporting-store.ts';
import { descriptorIdsInStates } from '../domain/patch-rows.ts';
import { MISSING_STATES, isNonCompliantNode } from '../domain/fleet.ts';
import { cveIdsIn } from '../domain/row-set.ts';

const PAGE = 1000;
const CHUNK = 500;
/** Row sets read per query (each holds kilobytes of encoded rows). */
const SET_CHUNK = 100;

export interface FleetCounterValues {
  /** shard → counts. */
  fleet: Map<number, { nodes: number; non_compliant: number }>;
  /** `${kb_id}\u0000${shard}` → nodes. */
  missing: Map<string, number>;
  /** `${cve_id}\u0000${shard}` → nodes. */
  cves: Map<string, number>;
  /** Reported nodes whose stored non_compliant flag disagrees with their counters: instance id → expected flag. */
  flags: Map<string, number>;
  /** Row sets whose CVE index disagrees with their rows: digest → the CVE ids their rows list (sorted). */
  setCves: Map<string, { expected: string[]; stored: number }>;
  /** Row sets no node refers to (PostgreSQL: left behind by concurrent releases until sweepRowSets runs). */
  unreferencedSets: number;
}

const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/** Recomputes every fleet counter from nodes, node_patch_state, node_patches (+ patch_descriptors) and node_cves. */
export async function computeFleetCounters(db: Kysely<DatabaseSchema>): Promise<FleetCounterValues> {
  const out: FleetCounterValues = { fleet: new Map(), missing: new Map(), cves: new Map(), flags: new Map(), setCves: new Map(), unreferencedSets: 0 };
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

  // Missing patches and CVEs: each node's row set, whose Missing/Failed rows are read once per set.
  const facts = new Map<string, { kbs: string[]; cves: string[] }>();
  const described = new Map<number, { KBId: string; CVEIds: string }>();
  for (let after = ''; ;) {
    const rows = await db.selectFrom('node_patches').select(['instance_id', 'row_set']).where('instance_id', '>', after).orderBy('instance_id').limit(PAGE).execute();
    const unknown = [...new Set(rows.map((r) => r.row_set))].filter((d) => !facts.has(d));
    for (let c = 0; c < unknown.length; c += SET_CHUNK) {
      const sets = (await db.selectFrom('patch_row_sets').select(['digest', 'data']).where('digest', 'in', unknown.slice(c, c + SET_CHUNK)).execute())
        .map((s) => ({ digest: s.digest, ids: descriptorIdsInStates(s.data, MISSING_STATES) }));
      const wanted = [...new Set(sets.flatMap((s) => s.ids))].filter((id) => !described.has(id));
      for (let k = 0; k < wanted.length; k += CHUNK) {
        const found = await db.selectFrom('patch_descriptors').select(['id', 'data']).where('id', 'in', wanted.slice(k, k + CHUNK)).execute();
        for (const d of found) {
          const v = JSON.parse(d.data) as { KBId?: unknown; CVEIds?: unknown };
          described.set(Number(d.id), { KBId: String(v.KBId ?? ''), CVEIds: String(v.CVEIds ?? '') });
        }
      }
      for (const set of sets) {
        const cves = new Set<string>();
        for (const id of set.ids) cveIdsIn(described.get(id)?.CVEIds, cves);
        const kbs = new Set(set.ids.map((id) => described.get(id)?.KBId).filter((kb): kb is string => kb !== undefined));
        facts.set(set.digest, { kbs: [...kbs], cves: [...cves].sort() });
      }
    }
    for (const r of rows) {
      const shard = shardOf(r.instance_id);
      const f = facts.get(r.row_set);
      for (const kb of f?.kbs ?? []) bump(out.missing, `${kb}\u0000${shard}`);
      for (const cve of f?.cves ?? []) bump(out.cves, `${cve}\u0000${shard}`);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.instance_id;
  }

  // What is kept per set: its CVE index, and sets that no node refers to any more.
  const indexed = new Map<string, string[]>();
  for (let after: [string, string] = ['', '']; ;) {
    const rows = await db.selectFrom('patch_row_set_cves').select(['row_set', 'cve_id'])
      // A row-value comparison, so both engines walk the primary key instead of re-scanning the table per page.
      .where(sql<boolean>`(row_set, cve_id) > (${after[0]}, ${after[1]})`)
      .orderBy('row_set').orderBy('cve_id').limit(PAGE).execute();
    for (const r of rows) {
      const list = indexed.get(r.row_set);
      if (list === undefined) indexed.set(r.row_set, [r.cve_id]);
      else list.push(r.cve_id);
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    after = [last.row_set, last.cve_id];
  }
  for (const [digest, f] of facts) {
    const stored = indexed.get(digest) ?? [];
    if (stored.length !== f.cves.length || stored.some((c, i) => c !== f.cves[i])) out.setCves.set(digest, { expected: f.cves, stored: stored.length });
  }
  for (let after = ''; ;) {
    const rows = await db.selectFrom('patch_row_sets').select('digest').where('digest', '>', after).orderBy('digest').limit(PAGE).execute();
    for (const r of rows) if (!facts.has(r.digest)) out.unreferencedSets += 1;
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.digest;
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
  for (const [digest, { expected }] of values.setCves) {
    await db.deleteFrom('patch_row_set_cves').where('row_set', '=', digest).execute();
    if (expected.length > 0) await db.insertInto('patch_row_set_cves').values(expected.map((cve_id) => ({ row_set: digest, cve_id }))).execute();
  }
}

/** `${name}\u0000${shard}` → count entries as sorted [name, shard, count] rows, zeros left out. */
export function keyedRows(map: ReadonlyMap<string, number>): Array<[string, number, number]> {
  return [...map.keys()].sort().filter((k) => map.get(k) !== 0).map((k) => {
    const cut = k.lastIndexOf('\u0000');
    return [k.slice(0, cut), Number(k.slice(cut + 1)), map.get(k)!];
  });
}
