// Per-node patch state and per-group aggregates: DescribeInstancePatches, DescribeInstancePatchStates,
// DescribeInstancePatchStatesForPatchGroup, DescribePatchGroupState (semantics §2, §3, §10).

import { sql } from 'kysely';
import { Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { COUNTER_COLUMN, COUNTER_NAMES, GROUP_STATE_MEMBER, parseState, type CounterName, type PatchRow } from '../domain/patch-state.ts';
import { countersFromState } from '../store/reporting-store.ts';
import { Pager } from './pagination.ts';
import type {
  DescribeInstancePatchesRequest, DescribeInstancePatchStatesForPatchGroupRequest, DescribeInstancePatchStatesRequest,
  DescribePatchGroupStateRequest, InstancePatchState,
} from '../generated/ssm-types.ts';
import type { NodePatchStateTable } from '../store/schema.ts';

const PATCH_FILTER_KEYS = ['Classification', 'KBId', 'Severity', 'State'] as const;

/** Stored summary → the wire's InstancePatchState. */
export function instancePatchState(s: NodePatchStateTable): InstancePatchState {
  const counters = countersFromState(s);
  const out: InstancePatchState = {
    InstanceId: s.instance_id,
    PatchGroup: s.patch_group,
    BaselineId: s.baseline_id,
    OperationStartTime: Number(s.operation_start) / 1000,
    OperationEndTime: Number(s.operation_end) / 1000,
    Operation: s.operation as InstancePatchState['Operation'],
  };
  if (s.snapshot_id !== null) out.SnapshotId = s.snapshot_id;
  if (s.install_override_list !== null) out.InstallOverrideList = s.install_override_list;
  if (s.owner_information !== null) out.OwnerInformation = s.owner_information;
  for (const n of COUNTER_NAMES) (out as unknown as Record<string, unknown>)[n] = counters[n];
  if (s.last_no_reboot_install !== null) out.LastNoRebootInstallOperationTime = Number(s.last_no_reboot_install) / 1000;
  if (s.reboot_option !== null) out.RebootOption = s.reboot_option as InstancePatchState['RebootOption'];
  return out;
}

function patchRowOutput(r: PatchRow): Record<string, unknown> {
  const out: Record<string, unknown> = { Title: r.Title, KBId: r.KBId, Classification: r.Classification, Severity: r.Severity, State: r.State, InstalledTime: r.InstalledTime };
  if (r.CVEIds) out.CVEIds = r.CVEIds;
  return out;
}

/** A node's rows after DescribeInstancePatches filters, cached per (node, report, filters) while paging. */
const filteredCache = new Map<string, PatchRow[]>();
const FILTERED_CACHE_SIZE = 4096;

function filteredRows(instanceId: string, seq: number, rows: PatchRow[], wanted: Map<string, Set<string>>): PatchRow[] {
  if (wanted.size === 0) return rows;
  const key = `${instanceId}\u0000${seq}\u0000${[...wanted].map(([k, v]) => `${k}=${[...v].sort().join(',')}`).sort().join('&')}`;
  const hit = filteredCache.get(key);
  if (hit !== undefined) return hit;
  const filters = [...wanted];
  const out = rows.filter((r) => {
    for (const [key, values] of filters) {
      const v = key === 'State' ? r.State : key === 'KBId' ? r.KBId : key === 'Classification' ? r.Classification : r.Severity;
      if (!values.has(v)) return false;
    }
    return true;
  });
  if (filteredCache.size >= FILTERED_CACHE_SIZE) filteredCache.delete(filteredCache.keys().next().value!);
  filteredCache.set(key, out);
  return out;
}

/** Filters for DescribeInstancePatchStatesForPatchGroup: counter names → columns, four comparison types. */
const STATE_FILTER_KEYS = new Map<string, string>(COUNTER_NAMES.map((n) => [n, COUNTER_COLUMN[n as CounterName]]));
const STATE_FILTER_OPS = { Equal: '=', NotEqual: '<>', LessThan: '<', GreaterThan: '>' } as const;

export const patchStateOperations = defineOperations({
  async DescribeInstancePatches(input: DescribeInstancePatchesRequest, ctx) {
    const { app } = ctx;
    const wanted = new Map<string, Set<string>>();
    for (const f of input.Filters ?? []) {
      if (!(PATCH_FILTER_KEYS as readonly string[]).includes(f.Key ?? '')) {
        throw Errors.invalidFilter(`The filter key '${f.Key}' is not valid. Valid keys are: ${PATCH_FILTER_KEYS.join(', ')}.`);
      }
      const values = f.Values ?? [];
      if (values.length === 0) throw Errors.invalidFilter(`The filter ${f.Key} needs at least one value.`);
      const set = wanted.get(f.Key!) ?? new Set<string>();
      for (const v of values) {
        if (f.Key === 'State') {
          const state = parseState(v);
          if (state === undefined) throw Errors.invalidFilter(`'${v}' is not a patch state. Valid values: Installed, InstalledOther, InstalledPendingReboot, InstalledRejected, Missing, Failed, NotApplicable, AvailableSecurityUpdate (or the INSTALLED… spelling).`);
          set.add(state);
        } else set.add(v);
      }
      // Two filters with one key: both must hold (filters are ANDed), so keep the intersection.
      const previous = wanted.get(f.Key!);
      wanted.set(f.Key!, previous === undefined ? set : new Set([...previous].filter((v) => set.has(v))));
    }
    const pager = new Pager<{ k: string; t: string }>(ctx, input as unknown as Record<string, unknown>, 50);
    const stored = await app.reports.getPatchRows(input.InstanceId);
    if (stored === undefined) {
      if (!(await app.reports.nodeExists(input.InstanceId))) {
        throw Errors.invalidInstanceId(`Instance ${input.InstanceId} is not a managed node known to Patchline.`);
      }
      return { Patches: [] };
    }
    const rows = filteredRows(input.InstanceId, stored.seq, stored.rows, wanted);
    // Rows are sorted by (KBId, Title); the cursor is the last key returned, so a newer report between pages
    // neither repeats nor skips patches that are in both.
    let i = 0;
    const c = pager.cursor;
    if (c !== undefined) {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const r = rows[mid]!;
        if (r.KBId < c.k || (r.KBId === c.k && r.Title <= c.t)) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    const page = rows.slice(i, i + pager.limit);
    const out: Record<string, unknown> = { Patches: page.map(patchRowOutput) };
    if (i + pager.limit < rows.length) {
      const last = page[page.length - 1]!;
      out.NextToken = pager.next({ k: last.KBId, t: last.Title });
    }
    return out;
  },

  async DescribeInstancePatchStates(input: DescribeInstancePatchStatesRequest, ctx) {
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 50);
    const ids = [...new Set(input.InstanceIds)].sort().filter((id) => pager.cursor === undefined || id > pager.cursor);
    const states = await ctx.app.reports.getPatchStates(ids);
    const page = states.slice(0, pager.limit);
    const out: Record<string, unknown> = { InstancePatchStates: page.map(instancePatchState) };
    if (states.length > pager.limit) out.NextToken = pager.next(page[page.length - 1]!.instance_id);
    return out;
  },

  async DescribeInstancePatchStatesForPatchGroup(input: DescribeInstancePatchStatesForPatchGroupRequest, ctx) {
    const conditions: Array<{ column: string; op: string; value: number }> = [];
    for (const f of input.Filters ?? []) {
      const column = STATE_FILTER_KEYS.get(f.Key);
      if (column === undefined) throw Errors.invalidFilter(`The filter key '${f.Key}' is not valid. Valid keys are: ${COUNTER_NAMES.join(', ')}.`);
      const raw = f.Values[0] ?? '';
      if (!/^-?\d{1,9}$/.test(raw)) throw Errors.invalidFilter(`The value '${raw}' of filter ${f.Key} must be an integer.`);
      conditions.push({ column, op: STATE_FILTER_OPS[f.Type], value: Number(raw) });
    }
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 50);
    let q = ctx.app.store.db.selectFrom('node_patch_state').selectAll().where('patch_group', '=', input.PatchGroup);
    for (const c of conditions) q = q.where(sql.ref(c.column), c.op as '=', c.value);
    if (pager.cursor !== undefined) q = q.where('instance_id', '>', pager.cursor);
    const rows = await q.orderBy('instance_id').limit(pager.limit + 1).execute();
    const page = rows.slice(0, pager.limit);
    const out: Record<string, unknown> = { InstancePatchStates: page.map(instancePatchState) };
    if (rows.length > pager.limit) out.NextToken = pager.next(page[page.length - 1]!.instance_id);
    return out;
  },

  async DescribePatchGroupState(input: DescribePatchGroupStateRequest, ctx) {
    const counts = await ctx.app.reports.groupCounts(input.PatchGroup);
    const out: Record<string, number> = { Instances: counts.instances ?? 0 };
    for (const n of COUNTER_NAMES) out[GROUP_STATE_MEMBER[n]] = counts[`with_${COUNTER_COLUMN[n]}`] ?? 0;
    return out;
  },
});
