// Compliance over time (Patchline's own operations, docs/api.md): Patchline.DescribeInstancePatchStateHistory
// (one point per report of a node) and Patchline.DescribePatchGroupStateHistory (one point per snapshot interval).

import { Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { COUNTER_COLUMN, COUNTER_NAMES, GROUP_STATE_MEMBER } from '../domain/patch-state.ts';
import { Pager } from './pagination.ts';
import type { PatchlineDescribeInstancePatchStateHistoryRequest, PatchlineDescribePatchGroupStateHistoryRequest } from '../generated/ssm-types.ts';

/**
 * Inclusive time bounds (epoch seconds, fractions allowed) → integer epoch ms for the bigint columns: the start
 * rounds up and the end down (after rounding away float noise at the microsecond), so a bound never widens.
 */
const startMs = (seconds: number) => Math.ceil(Math.round(seconds * 1e6) / 1000);
const endMs = (seconds: number) => Math.floor(Math.round(seconds * 1e6) / 1000);

export const historyOperations = defineOperations({
  async 'Patchline.DescribeInstancePatchStateHistory'(input: PatchlineDescribeInstancePatchStateHistoryRequest, ctx) {
    if (!(await ctx.app.nodes.exists(input.InstanceId))) throw Errors.invalidInstanceId(`Instance ${input.InstanceId} is not a managed node known to Patchline.`);
    const pager = new Pager<number>(ctx, input as unknown as Record<string, unknown>, 100);
    let q = ctx.app.store.db.selectFrom('node_history').selectAll().where('instance_id', '=', input.InstanceId);
    if (input.StartTime !== undefined) q = q.where('reported_at', '>=', startMs(input.StartTime));
    if (input.EndTime !== undefined) q = q.where('reported_at', '<=', endMs(input.EndTime));
    if (pager.cursor !== undefined) q = q.where('report_seq', '>', pager.cursor);
    const rows = await q.orderBy('report_seq').limit(pager.limit + 1).execute();
    const page = rows.slice(0, pager.limit);
    const History = page.map((r) => {
      const s = JSON.parse(r.summary) as Record<string, unknown>;
      const entry: Record<string, unknown> = { Time: Number(r.reported_at) / 1000, PatchGroup: r.patch_group, BaselineId: s.BaselineId, Operation: s.Operation };
      for (const n of COUNTER_NAMES) entry[n] = s[n];
      return entry;
    });
    return { History, ...(rows.length > pager.limit ? { NextToken: pager.next(Number(page[page.length - 1]!.report_seq)) } : {}) };
  },

  async 'Patchline.DescribePatchGroupStateHistory'(input: PatchlineDescribePatchGroupStateHistoryRequest, ctx) {
    const pager = new Pager<number>(ctx, input as unknown as Record<string, unknown>, 100);
    let q = ctx.app.store.db.selectFrom('patch_group_history').selectAll().where('patch_group', '=', input.PatchGroup);
    if (input.StartTime !== undefined) q = q.where('bucket', '>=', startMs(input.StartTime));
    if (input.EndTime !== undefined) q = q.where('bucket', '<=', endMs(input.EndTime));
    if (pager.cursor !== undefined) q = q.where('bucket', '>', pager.cursor);
    const rows = await q.orderBy('bucket').limit(pager.limit + 1).execute();
    const page = rows.slice(0, pager.limit);
    const History = page.map((r) => {
      const row = r as unknown as Record<string, number>;
      const entry: Record<string, unknown> = { Time: Number(r.bucket) / 1000, Instances: Number(r.instances) };
      for (const n of COUNTER_NAMES) entry[GROUP_STATE_MEMBER[n]] = Number(row[`with_${COUNTER_COLUMN[n]}`]);
      return entry;
    });
    return { History, ...(rows.length > pager.limit ? { NextToken: pager.next(Number(page[page.length - 1]!.bucket)) } : {}) };
  },
});
