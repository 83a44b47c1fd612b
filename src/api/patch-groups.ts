// Patch group operations: RegisterPatchBaselineForPatchGroup, DeregisterPatchBaselineForPatchGroup,
// GetPatchBaselineForPatchGroup, DescribePatchGroups. A group holds at most one baseline per operating system.

import { Errors, ServiceError } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { defaultBaselineIds, findBaseline, loadBaseline, parseBaselineId } from './baseline-lookup.ts';
import { Pager, pageByKey } from './pagination.ts';
import type {
  DeregisterPatchBaselineForPatchGroupRequest, DescribePatchGroupsRequest, GetPatchBaselineForPatchGroupRequest,
  PatchGroupPatchBaselineMapping, RegisterPatchBaselineForPatchGroupRequest,
} from '../generated/ssm-types.ts';

/** Upper bound on patch groups per baseline (AWS documents a quota without a public value). */
export const MAX_GROUPS_PER_BASELINE = 1000;

export const patchGroupOperations = defineOperations({
  async RegisterPatchBaselineForPatchGroup(input: RegisterPatchBaselineForPatchGroupRequest, ctx) {
    const { app } = ctx;
    const baseline = await loadBaseline(app, input.BaselineId);
    const os = baseline.OperatingSystem;
    await app.store.transaction(async (trx) => {
      if (baseline.owner === 'Self') await app.store.lockBaseline(baseline.BaselineId, trx);
      if (baseline.owner === 'Self' && (await app.store.getBaseline(baseline.BaselineId, trx)) === undefined) {
        throw Errors.doesNotExist(`Patch baseline ${input.BaselineId} does not exist.`);
      }
      const existing = await app.store.getPatchGroupBaseline(input.PatchGroup, os, trx);
      if (existing !== undefined) {
        if (existing.baseline_id === baseline.BaselineId) return; // the same registration again is a no-op
        throw Errors.alreadyExists(`Patch Group baseline already has a baseline registered for OperatingSystem ${os}.`);
      }
      if ((await app.store.patchGroupsOfBaseline(baseline.BaselineId, trx)).length >= MAX_GROUPS_PER_BASELINE) {
        throw Errors.resourceLimitExceeded(`Patch baseline ${baseline.BaselineId} is registered to ${MAX_GROUPS_PER_BASELINE} patch groups, the limit.`);
      }
      await app.store.registerPatchGroup(input.PatchGroup, os, baseline.BaselineId, ctx.now, trx);
    }).catch(async (err: unknown) => {
      if (err instanceof ServiceError) throw err;
      // A concurrent registration of the same (group, OS) won the primary-key race.
      const winner = await app.store.getPatchGroupBaseline(input.PatchGroup, os);
      if (winner?.baseline_id === baseline.BaselineId) return;
      if (winner !== undefined) throw Errors.alreadyExists(`Patch Group baseline already has a baseline registered for OperatingSystem ${os}.`);
      throw err;
    });
    await app.evaluator.notify({ patchGroupTags: [input.PatchGroup] });
    return { BaselineId: baseline.BaselineId, PatchGroup: input.PatchGroup };
  },

  async DeregisterPatchBaselineForPatchGroup(input: DeregisterPatchBaselineForPatchGroupRequest, ctx) {
    const ref = parseBaselineId(ctx.app, input.BaselineId);
    const id = ref.owner === 'AWS' ? ref.baseline.BaselineId : ref.id;
    // Deregistering a mapping that does not exist succeeds (idempotent; AWS's behaviour is unconfirmed).
    const removed = await ctx.app.store.deregisterPatchGroup(input.PatchGroup, id);
    if (removed > 0) await ctx.app.evaluator.notify({ patchGroupTags: [input.PatchGroup] });
    return { BaselineId: input.BaselineId, PatchGroup: input.PatchGroup };
  },

  async GetPatchBaselineForPatchGroup(input: GetPatchBaselineForPatchGroupRequest, ctx) {
    const os = input.OperatingSystem ?? 'WINDOWS';
    const registered = await ctx.app.store.getPatchGroupBaseline(input.PatchGroup, os);
    const id = registered?.baseline_id ?? (await defaultBaselineIds(ctx.app)).get(os)!;
    return { BaselineId: id, PatchGroup: input.PatchGroup, OperatingSystem: os };
  },

  async DescribePatchGroups(input: DescribePatchGroupsRequest, ctx) {
    const { app } = ctx;
    const prefixes: string[] = [];
    const systems = new Set<string>();
    for (const f of input.Filters ?? []) {
      if (f.Key === 'NAME_PREFIX') prefixes.push(...(f.Values ?? []));
      else if (f.Key === 'OPERATING_SYSTEM') (f.Values ?? []).forEach((v) => systems.add(v));
      else throw Errors.validation(`Invalid filter key '${f.Key}'. Valid keys are NAME_PREFIX and OPERATING_SYSTEM.`);
    }
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 100);
    const defaults = new Set((await defaultBaselineIds(app)).values());
    const rows = (await app.store.listPatchGroupBaselines()).filter((r) =>
      (prefixes.length === 0 || prefixes.some((p) => r.patch_group.startsWith(p))) && (systems.size === 0 || systems.has(r.operating_system)));
    const { page, nextToken } = pageByKey(pager, rows, (r) => `${r.patch_group}\u0000${r.operating_system}`);
    const mappings: PatchGroupPatchBaselineMapping[] = [];
    for (const r of page) {
      const b = await findBaseline(app, r.baseline_id);
      const identity: NonNullable<PatchGroupPatchBaselineMapping['BaselineIdentity']> = {
        BaselineId: r.baseline_id,
        BaselineName: b?.Name,
        OperatingSystem: r.operating_system as never,
        DefaultBaseline: defaults.has(r.baseline_id),
      };
      if (b?.Description !== undefined) identity.BaselineDescription = b.Description;
      mappings.push({ PatchGroup: r.patch_group, BaselineIdentity: identity });
    }
    return { Mappings: mappings, ...(nextToken ? { NextToken: nextToken } : {}) };
  },
});
