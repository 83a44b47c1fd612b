// The CVE-centric view (Patchline's own operations, docs/api.md): Patchline.DescribeInstancesForCve (the nodes that
// miss the fix for a CVE: a Missing or Failed row lists it) and Patchline.DescribeCvesForInstance (the CVEs a node
// is exposed to, with the patches that fix each). The first is answered from the CVE index of the row sets
// (patch_row_set_cves, written with each set) and the nodes that refer to them, one page of nodes at a time; the
// patches come from each listed node's rows.

import { Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import type { PatchRow } from '../domain/patch-state.ts';
import { compareCveIds, cveSortKey } from '../domain/advisories/labels.ts';
import { cveIdsIn } from '../domain/row-set.ts';
import { Pager, pageByKey } from './pagination.ts';
import type { PatchlineDescribeCvesForInstanceRequest, PatchlineDescribeInstancesForCveRequest } from '../generated/ssm-types.ts';

const EXPOSED = new Set(['Missing', 'Failed']);

/** The CVE ids a Missing or Failed row lists (upper-cased, as patch_row_set_cves keeps them). */
function rowCves(r: PatchRow): Set<string> {
  return EXPOSED.has(r.State) ? cveIdsIn(r.CVEIds) : new Set();
}

function patchOutput(r: PatchRow): Record<string, string> {
  return { KBId: r.KBId, Title: r.Title, State: r.State, Classification: r.Classification, Severity: r.Severity };
}

export const cveOperations = defineOperations({
  async 'Patchline.DescribeInstancesForCve'(input: PatchlineDescribeInstancesForCveRequest, ctx) {
    const { app } = ctx;
    const cve = input.CveId.toUpperCase();
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 50);
    // The CVE's row sets, then the nodes that refer to them.
    let q = app.store.db.selectFrom('patch_row_set_cves')
      .innerJoin('node_patches', 'node_patches.row_set', 'patch_row_set_cves.row_set')
      .innerJoin('node_patch_state', 'node_patch_state.instance_id', 'node_patches.instance_id')
      .select(['node_patches.instance_id as instance_id', 'node_patch_state.patch_group as patch_group'])
      .where('patch_row_set_cves.cve_id', '=', cve);
    if (input.PatchGroup !== undefined) q = q.where('node_patch_state.patch_group', '=', input.PatchGroup);
    if (pager.cursor !== undefined) q = q.where('node_patches.instance_id', '>', pager.cursor);
    const found = await q.orderBy('node_patches.instance_id').limit(pager.limit + 1).execute();
    const page = found.slice(0, pager.limit);
    const Instances: Array<Record<string, unknown>> = [];
    for (const n of page) {
      const rows = (await app.reports.getPatchRows(n.instance_id))?.rows ?? [];
      const Patches = rows.filter((r) => rowCves(r).has(cve)).map(patchOutput);
      // A report that landed between the two reads may no longer list the CVE: the node has left the answer.
      if (Patches.length > 0) Instances.push({ InstanceId: n.instance_id, PatchGroup: n.patch_group, Patches });
    }
    const out: Record<string, unknown> = { CveId: cve, Instances };
    if (found.length > pager.limit) out.NextToken = pager.next(page[page.length - 1]!.instance_id);
    return out;
  },

  async 'Patchline.DescribeCvesForInstance'(input: PatchlineDescribeCvesForInstanceRequest, ctx) {
    const { app } = ctx;
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 50);
    const stored = await app.reports.getPatchRows(input.InstanceId);
    if (stored === undefined && !(await app.reports.nodeExists(input.InstanceId))) {
      throw Errors.invalidInstanceId(`Instance ${input.InstanceId} is not a managed node known to Patchline.`);
    }
    const byCve = new Map<string, PatchRow[]>();
    for (const r of stored?.rows ?? []) {
      for (const cve of rowCves(r)) {
        const list = byCve.get(cve);
        if (list === undefined) byCve.set(cve, [r]);
        else if (!list.includes(r)) list.push(r);
      }
    }
    const cves = [...byCve.keys()].sort(compareCveIds);
    const { page, nextToken } = pageByKey(pager, cves, cveSortKey);
    const out: Record<string, unknown> = {
      InstanceId: input.InstanceId,
      Cves: page.map((cve) => ({ CveId: cve, Patches: byCve.get(cve)!.map(patchOutput) })),
    };
    if (nextToken !== undefined) out.NextToken = nextToken;
    return out;
  },
});
