// The console's reads (docs/console.md): the fleet summary from counters kept on write, and the node table — a
// join of nodes and node_patch_state with filters, sorts and keyset pagination that stay index-driven at 100,000
// nodes.
//
// Node table plan. Reported nodes (a node_patch_state row) and never-reported nodes are read as two "phases", so
// each phase walks one index in sort order and stops after a page: reported nodes by (sort column, instance_id)
// on node_patch_state, never-reported nodes by nodes.instance_id. A never-reported node has no sort value and
// counts as the smallest: first in Ascending order, last in Descending. Ties are broken by instance id in the
// same direction as the sort. SortBy InstanceId reads both kinds in one pass over nodes (LEFT JOIN).

import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from './store.ts';
import { PING_ONLINE_WINDOW_MS } from '../api/nodes.ts';

const DAY_MS = 86_400_000;
/** ComplianceStatus STALE: no report for this long. */
export const STALE_AFTER_MS = 7 * DAY_MS;

// ---- fleet totals and summary ------------------------------------------------------------------------------------

export interface FleetTotals {
  nodes: number;
  reported: number;
  nonCompliant: number;
}

/** Registered, reported and non-compliant nodes: sums over a handful of counter rows. */
export async function fleetTotals(db: Db): Promise<FleetTotals> {
  const fleet = await db.selectFrom('fleet_counts')
    .select([sql<number>`coalesce(sum(nodes), 0)`.as('nodes'), sql<number>`coalesce(sum(non_compliant), 0)`.as('non_compliant')])
    .executeTakeFirst();
  const groups = await db.selectFrom('patch_group_counts').select(sql<number>`coalesce(sum(instances), 0)`.as('instances')).executeTakeFirst();
  return { nodes: Number(fleet?.nodes ?? 0), reported: Number(groups?.instances ?? 0), nonCompliant: Number(fleet?.non_compliant ?? 0) };
}

export interface FleetSummary {
  Nodes: number;
  Reported: number;
  NeverReported: number;
  Stale: number;
  Compliant: number;
  NonCompliant: number;
  NonCompliantByLevel: { Critical: number; Security: number; Other: number };
  PingStatus: { Online: number; ConnectionLost: number };
  PatchGroups: Array<Record<string, number | string>>;
  MostMissingPatches: Array<{ KBId: string; Nodes: number }>;
  MostExposedCves: Array<{ CveId: string; Nodes: number }>;
  GeneratedAt: number;
}

const GROUP_MEMBERS = {
  InstancesWithMissingPatches: 'with_missing',
  InstancesWithFailedPatches: 'with_failed',
  InstancesWithCriticalNonCompliantPatches: 'with_critical_non_compliant',
  InstancesWithSecurityNonCompliantPatches: 'with_security_non_compliant',
  InstancesWithOtherNonCompliantPatches: 'with_other_non_compliant',
} as const;

/**
 * Patchline.GetFleetSummary. Counters: fleet_counts, patch_group_counts (sum per group over its shards),
 * missing_patch_counts and cve_counts (sum per name over shards; rows exist only for names some node misses).
 * Indexed counts (time-dependent, so no counter can hold them): Stale on node_patch_state(reported_at) and Online
 * on nodes(last_ping_at).
 */
export async function fleetSummary(db: Db, now: number, staleDays: number, top: number): Promise<FleetSummary> {
  const totals = await fleetTotals(db);
  const groups = await db.selectFrom('patch_group_counts')
    .select(['patch_group', sql<number>`sum(instances)`.as('instances'), ...Object.values(GROUP_MEMBERS).map((c) => sql<number>`sum(${sql.ref(c)})`.as(c))])
    .groupBy('patch_group').orderBy('patch_group').execute();
  const stale = await db.selectFrom('node_patch_state').select(sql<number>`count(*)`.as('n')).where('reported_at', '<', now - staleDays * DAY_MS).executeTakeFirst();
  const online = await db.selectFrom('nodes').select(sql<number>`count(*)`.as('n')).where('last_ping_at', '>=', now - PING_ONLINE_WINDOW_MS).executeTakeFirst();
  const missing = await db.selectFrom('missing_patch_counts').select(['kb_id', sql<number>`sum(nodes)`.as('n')])
    .groupBy('kb_id').having(sql`sum(nodes)`, '>', 0).orderBy(sql`sum(nodes)`, 'desc').orderBy('kb_id').limit(top).execute();
  const cves = await db.selectFrom('cve_counts').select(['cve_id', sql<number>`sum(nodes)`.as('n')])
    .groupBy('cve_id').having(sql`sum(nodes)`, '>', 0).orderBy(sql`sum(nodes)`, 'desc').orderBy('cve_id').limit(top).execute();

  const level = { Critical: 0, Security: 0, Other: 0 };
  const patchGroups: FleetSummary['PatchGroups'] = [];
  for (const g of groups) {
    const row = g as unknown as Record<string, number | string>;
    level.Critical += Number(row.with_critical_non_compliant);
    level.Security += Number(row.with_security_non_compliant);
    level.Other += Number(row.with_other_non_compliant);
    if (Number(row.instances) === 0) continue;
    const entry: Record<string, number | string> = { PatchGroup: g.patch_group, Instances: Number(row.instances) };
    for (const [member, column] of Object.entries(GROUP_MEMBERS)) entry[member] = Number(row[column]);
    patchGroups.push(entry);
  }
  const onlineCount = Number(online?.n ?? 0);
  return {
    Nodes: totals.nodes,
    Reported: totals.reported,
    NeverReported: totals.nodes - totals.reported,
    Stale: Number(stale?.n ?? 0),
    Compliant: totals.reported - totals.nonCompliant,
    NonCompliant: totals.nonCompliant,
    NonCompliantByLevel: level,
    PingStatus: { Online: onlineCount, ConnectionLost: totals.nodes - onlineCount },
    PatchGroups: patchGroups,
    MostMissingPatches: missing.map((m) => ({ KBId: m.kb_id, Nodes: Number(m.n) })),
    MostExposedCves: cves.map((c) => ({ CveId: c.cve_id, Nodes: Number(c.n) })),
    GeneratedAt: now / 1000,
  };
}

// ---- the node table ----------------------------------------------------------------------------------------------

export type NodeSortBy = 'InstanceId' | 'LastReportTime' | 'MissingCount' | 'CriticalNonCompliantCount';

const SORT_COLUMN: Record<Exclude<NodeSortBy, 'InstanceId'>, string> = {
  LastReportTime: 'reported_at',
  MissingCount: 'missing',
  CriticalNonCompliantCount: 'critical_non_compliant',
};

/** A condition for one phase: always true, never true, or SQL over `n` (nodes) and, for reported nodes, `s`. */
export type Condition = boolean | { sql: RawBuilder<SqlBool>; usesNode: boolean };

/** What one filter requires of a reported node (`reported`) and of a never-reported one (`unreported`). */
export interface NodeCondition {
  reported: Condition;
  unreported: Condition;
}

export interface NodeListQuery {
  conditions: NodeCondition[];
  sortBy: NodeSortBy;
  descending: boolean;
  limit: number;
  cursor: NodeCursor | undefined;
}

/** Where a page starts: after this node. `p` is the phase ('i' one pass by id, 'r' reported, 'u' never reported). */
export type NodeCursor = { p: 'i'; id: string } | { p: 'r'; v: number; id: string } | { p: 'u'; id: string };

export interface NodeRow {
  instance_id: string;
  name: string | null;
  computer_name: string | null;
  ip_address: string | null;
  platform_name: string | null;
  platform_version: string | null;
  patch_group_tag: string | null;
  last_ping_at: number | null;
  /** Null for a node that never reported; the columns below are null then too. */
  reported_id: string | null;
  patch_group: string | null;
  baseline_id: string | null;
  operation: string | null;
  reported_at: number | null;
  non_compliant: number | null;
  installed: number | null;
  missing: number | null;
  failed: number | null;
  installed_pending_reboot: number | null;
  installed_rejected: number | null;
  critical_non_compliant: number | null;
  security_non_compliant: number | null;
  other_non_compliant: number | null;
}

const NODE_COLUMNS = sql.raw(
  'n.instance_id, n.name, n.computer_name, n.ip_address, n.platform_name, n.platform_version, n.patch_group_tag, n.last_ping_at',
);
const STATE_COLUMNS = sql.raw(
  's.instance_id as reported_id, s.patch_group, s.baseline_id, s.operation, s.reported_at, s.non_compliant, s.installed, s.missing, ' +
    's.failed, s.installed_pending_reboot, s.installed_rejected, s.critical_non_compliant, s.security_non_compliant, s.other_non_compliant',
);
const NO_STATE_COLUMNS = sql.raw(
  'null as reported_id, null as patch_group, null as baseline_id, null as operation, null as reported_at, null as non_compliant, ' +
    'null as installed, null as missing, null as failed, null as installed_pending_reboot, null as installed_rejected, ' +
    'null as critical_non_compliant, null as security_non_compliant, null as other_non_compliant',
);

/** AND of conditions: false if any is false, true if all are true, else the SQL of the others. */
function conjunction(conditions: Condition[]): Condition {
  if (conditions.some((c) => c === false)) return false;
  const parts = conditions.filter((c): c is Exclude<Condition, boolean> => c !== true);
  if (parts.length === 0) return true;
  return { sql: sql<SqlBool>`(${sql.join(parts.map((p) => p.sql), sql` and `)})`, usesNode: parts.some((p) => p.usesNode) };
}

const where = (c: Condition): RawBuilder<unknown> => (c === true ? sql`1 = 1` : c === false ? sql`1 = 0` : c.sql);

/** One page of nodes (limit + 1 rows when there are more) in the query's order. */
export async function listNodesPage(db: Db, query: NodeListQuery, totals: FleetTotals): Promise<NodeRow[]> {
  const reported = conjunction(query.conditions.map((c) => c.reported));
  const unreported = totals.nodes > totals.reported ? conjunction(query.conditions.map((c) => c.unreported)) : false;
  const want = query.limit + 1;
  const dir = sql.raw(query.descending ? 'desc' : 'asc');
  const cmp = sql.raw(query.descending ? '<' : '>');

  if (query.sortBy === 'InstanceId') {
    if (reported === false && unreported === false) return [];
    const after = query.cursor?.p === 'i' ? sql`n.instance_id ${cmp} ${query.cursor.id}` : sql`1 = 1`;
    const filter = unreported === false ? sql`s.instance_id is not null and ${where(reported)}`
      : reported === false ? sql`s.instance_id is null and ${where(unreported)}`
      : sql`((s.instance_id is not null and ${where(reported)}) or (s.instance_id is null and ${where(unreported)}))`;
    const r = await sql<NodeRow>`select ${NODE_COLUMNS}, ${STATE_COLUMNS} from nodes n left join node_patch_state s on s.instance_id = n.instance_id
      where ${filter} and ${after} order by n.instance_id ${dir} limit ${want}`.execute(db);
    return r.rows;
  }

  const column = sql.ref(`s.${SORT_COLUMN[query.sortBy]}`);
  const phases: Array<'r' | 'u'> = query.descending ? ['r', 'u'] : ['u', 'r'];
  const start = query.cursor === undefined || query.cursor.p === 'i' ? 0 : phases.indexOf(query.cursor.p);
  const rows: NodeRow[] = [];
  for (let i = start; i < phases.length && rows.length < want; i++) {
    const phase = phases[i]!;
    const cursor = i === start ? query.cursor : undefined;
    if (phase === 'r') {
      if (reported === false) continue;
      const after = cursor?.p === 'r' ? sql`(${column}, s.instance_id) ${cmp} (${cursor.v}, ${cursor.id})` : sql`1 = 1`;
      // nodes is joined after the walk down the sort index (CROSS JOIN fixes that order for SQLite's planner).
      const r = await sql<NodeRow>`select ${NODE_COLUMNS}, ${STATE_COLUMNS} from node_patch_state s cross join nodes n
        where n.instance_id = s.instance_id and ${where(reported)} and ${after}
        order by ${column} ${dir}, s.instance_id ${dir} limit ${want - rows.length}`.execute(db);
      rows.push(...r.rows);
    } else {
      if (unreported === false) continue;
      const after = cursor?.p === 'u' ? sql`n.instance_id ${cmp} ${cursor.id}` : sql`1 = 1`;
      const r = await sql<NodeRow>`select ${NODE_COLUMNS}, ${NO_STATE_COLUMNS} from nodes n
        where not exists (select 1 from node_patch_state s where s.instance_id = n.instance_id) and ${where(unreported)} and ${after}
        order by n.instance_id ${dir} limit ${want - rows.length}`.execute(db);
      rows.push(...r.rows);
    }
  }
  return rows;
}

/** The cursor that continues after `row` in the query's order. */
export function cursorAfter(query: NodeListQuery, row: NodeRow): NodeCursor {
  if (query.sortBy === 'InstanceId') return { p: 'i', id: row.instance_id };
  if (row.reported_id === null) return { p: 'u', id: row.instance_id };
  return { p: 'r', v: Number(row[SORT_COLUMN[query.sortBy] as keyof NodeRow]), id: row.instance_id };
}

/** How many nodes match, every page (counters when no condition narrows a phase, else indexed counts). */
export async function countNodes(db: Db, query: NodeListQuery, totals: FleetTotals): Promise<number> {
  const reported = conjunction(query.conditions.map((c) => c.reported));
  const unreported = totals.nodes > totals.reported ? conjunction(query.conditions.map((c) => c.unreported)) : false;
  let total = 0;
  if (reported === true) total += totals.reported;
  else if (reported !== false) {
    const from = reported.usesNode ? sql`node_patch_state s cross join nodes n where n.instance_id = s.instance_id and` : sql`node_patch_state s where`;
    const r = await sql<{ n: number }>`select count(*) as n from ${from} ${reported.sql}`.execute(db);
    total += Number(r.rows[0]?.n ?? 0);
  }
  if (unreported === true) total += totals.nodes - totals.reported;
  else if (unreported !== false) {
    const r = await sql<{ n: number }>`select count(*) as n from nodes n
      where not exists (select 1 from node_patch_state s where s.instance_id = n.instance_id) and ${unreported.sql}`.execute(db);
    total += Number(r.rows[0]?.n ?? 0);
  }
  return total;
}

// ---- filters → conditions ----------------------------------------------------------------------------------------

const nodeCondition = (text: RawBuilder<SqlBool>): Condition => ({ sql: text, usesNode: true });
const stateCondition = (text: RawBuilder<SqlBool>): Condition => ({ sql: text, usesNode: false });
const any = (parts: Condition[]): Condition => {
  if (parts.some((p) => p === true)) return true;
  const sqlParts = parts.filter((p): p is Exclude<Condition, boolean> => p !== false);
  if (sqlParts.length === 0) return false;
  return { sql: sql<SqlBool>`(${sql.join(sqlParts.map((p) => p.sql), sql` or `)})`, usesNode: sqlParts.some((p) => p.usesNode) };
};

/** LIKE pattern for a substring, with ! escaping the wildcards. */
function containsPattern(value: string): string {
  return `%${value.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export function searchCondition(value: string): NodeCondition {
  const p = containsPattern(value);
  const c = nodeCondition(sql<SqlBool>`(lower(n.instance_id) like ${p} escape '!' or lower(n.name) like ${p} escape '!' or lower(n.computer_name) like ${p} escape '!' or lower(n.ip_address) like ${p} escape '!')`);
  return { reported: c, unreported: c };
}

export function patchGroupCondition(values: string[]): NodeCondition {
  return {
    reported: stateCondition(sql<SqlBool>`s.patch_group in (${sql.join(values)})`),
    unreported: nodeCondition(sql<SqlBool>`n.patch_group_tag in (${sql.join(values)})`),
  };
}

export function platformNameCondition(values: string[]): NodeCondition {
  const c = nodeCondition(sql<SqlBool>`n.platform_name in (${sql.join(values)})`);
  return { reported: c, unreported: c };
}

export function complianceCondition(values: string[], now: number): NodeCondition {
  const set = new Set(values);
  const reported = any([
    set.has('COMPLIANT') && set.has('NON_COMPLIANT') ? true : false,
    set.has('COMPLIANT') ? stateCondition(sql<SqlBool>`s.non_compliant = 0`) : false,
    set.has('NON_COMPLIANT') ? stateCondition(sql<SqlBool>`s.non_compliant = 1`) : false,
    set.has('STALE') ? stateCondition(sql<SqlBool>`s.reported_at < ${now - STALE_AFTER_MS}`) : false,
  ]);
  return { reported, unreported: set.has('NOT_REPORTED') };
}

export function pingCondition(values: string[], now: number): NodeCondition {
  const cutoff = now - PING_ONLINE_WINDOW_MS;
  const c = any([
    values.includes('Online') ? nodeCondition(sql<SqlBool>`n.last_ping_at >= ${cutoff}`) : false,
    values.includes('ConnectionLost') ? nodeCondition(sql<SqlBool>`(n.last_ping_at < ${cutoff} or n.last_ping_at is null)`) : false,
  ]);
  return { reported: c, unreported: c };
}

export function levelCondition(values: string[]): NodeCondition {
  const column = { Critical: 's.critical_non_compliant', Security: 's.security_non_compliant', Other: 's.other_non_compliant' } as Record<string, string>;
  return { reported: any(values.map((v) => stateCondition(sql<SqlBool>`${sql.raw(column[v]!)} > 0`))), unreported: false };
}
