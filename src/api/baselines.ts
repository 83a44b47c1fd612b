// Patch baseline operations: CreatePatchBaseline, GetPatchBaseline, UpdatePatchBaseline, DeletePatchBaseline,
// DescribePatchBaselines, RegisterDefaultPatchBaseline, GetDefaultPatchBaseline.
// Behaviour: ../shared/reference/patch-manager-api.md §1; choices where AWS is silent: docs/aws-compatibility.md.

import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations, type RequestContext } from '../server/operation.ts';
import { stableJson } from '../server/next-token.ts';
import { applyDefinitionInput, checkDefinition, emptyDefinition, DEFINITION_MEMBERS, ruleMembers, type Baseline } from '../domain/baseline.ts';
import {
  baselineFromRow, defaultBaselineIds, definitionDocument, loadBaseline, newBaselineId, parseBaselineId, sha256, toEpochSeconds,
} from './baseline-lookup.ts';
import { Pager, pageByKey } from './pagination.ts';
import { checkTagsForCreate } from './tags.ts';
import type {
  CreatePatchBaselineRequest, DeletePatchBaselineRequest, DescribePatchBaselinesRequest, GetDefaultPatchBaselineRequest,
  GetPatchBaselineRequest, PatchBaselineIdentity, RegisterDefaultPatchBaselineRequest, UpdatePatchBaselineRequest,
} from '../generated/ssm-types.ts';

/** Upper bound on the operator's own baselines (AWS's quota is not published; ours is generous). */
export const MAX_CUSTOM_BASELINES = 1000;

function definitionOutput(b: Baseline): Record<string, unknown> {
  return {
    BaselineId: b.BaselineId,
    Name: b.Name,
    OperatingSystem: b.OperatingSystem,
    ...ruleMembers(b),
    CreatedDate: toEpochSeconds(b.CreatedDate),
    ModifiedDate: toEpochSeconds(b.ModifiedDate),
    ...(b.Description !== undefined ? { Description: b.Description } : {}),
  };
}

function refuseAwsBaseline(id: string, action: string): never {
  throw Errors.validation(`Patch baseline ${id} is provided by AWS and cannot be ${action}. Create your own baseline instead.`);
}

function assertDefinitionValid(problems: string[]): void {
  if (problems.length > 0) throw Errors.validation(problems.join('; '));
}

/** Notifies the rest of the server that baselines changed (re-evaluation hooks attach here). */
function baselinesChanged(ctx: RequestContext, ids: string[]): Promise<void> {
  return ctx.app.evaluator.notify({ baselineIds: ids });
}

export const baselineOperations = defineOperations({
  async CreatePatchBaseline(input: CreatePatchBaselineRequest, ctx) {
    const os = input.OperatingSystem ?? 'WINDOWS';
    const def = applyDefinitionInput(emptyDefinition(input.Name, os), input as unknown as Record<string, unknown>, true);
    assertDefinitionValid(checkDefinition(def));
    const tags = input.Tags ?? [];
    checkTagsForCreate(tags);
    const requestHash = sha256(stableJson({ def, tags }));
    const { app } = ctx;

    const replay = async () => {
      const existing = input.ClientToken === undefined ? undefined : await app.store.getBaselineByClientToken(input.ClientToken);
      if (existing === undefined) return undefined;
      if (existing.request_hash !== requestHash) {
        throw new ServiceError('IdempotentParameterMismatch', `ClientToken ${input.ClientToken} was already used with different parameters.`);
      }
      return { BaselineId: existing.baseline_id };
    };
    const previous = await replay();
    if (previous) return previous;

    const now = ctx.now;
    const id = newBaselineId();
    try {
      await app.store.transaction(async (trx) => {
        if ((await app.store.countBaselines(trx)) >= MAX_CUSTOM_BASELINES) {
          throw Errors.resourceLimitExceeded(`You have reached the limit of ${MAX_CUSTOM_BASELINES} patch baselines. Delete baselines you no longer use.`);
        }
        await app.store.insertBaseline({
          baseline_id: id,
          name: def.Name,
          operating_system: os,
          description: def.Description ?? null,
          document: definitionDocument(def),
          created_at: now,
          modified_at: now,
          client_token: input.ClientToken ?? null,
          request_hash: requestHash,
        }, trx);
        await app.store.putTags('PatchBaseline', id, tags, trx);
      });
    } catch (err) {
      // Two requests with one ClientToken raced: the loser answers like a replay.
      if (!(err instanceof ServiceError) && input.ClientToken !== undefined) {
        const again = await replay();
        if (again) return again;
      }
      throw err;
    }
    return { BaselineId: id };
  },

  async GetPatchBaseline(input: GetPatchBaselineRequest, ctx) {
    const baseline = await loadBaseline(ctx.app, input.BaselineId);
    return { ...definitionOutput(baseline), PatchGroups: await ctx.app.store.patchGroupsOfBaseline(baseline.BaselineId) };
  },

  async UpdatePatchBaseline(input: UpdatePatchBaselineRequest, ctx) {
    const { app } = ctx;
    const ref = parseBaselineId(app, input.BaselineId);
    if (ref.owner === 'AWS') refuseAwsBaseline(input.BaselineId, 'modified');
    const replace = input.Replace === true;
    if (replace && input.Name === undefined) {
      throw Errors.validation('1 validation error detected: Value null at \'name\' failed to satisfy constraint: Member must not be null (Replace=true requires every member CreatePatchBaseline requires)');
    }
    const updated = await app.store.transaction(async (trx) => {
      const row = await app.store.getBaseline(ref.id, trx);
      if (row === undefined) throw Errors.doesNotExist(`Patch baseline ${input.BaselineId} does not exist.`);
      const current = baselineFromRow(row);
      const picked: Record<string, unknown> = {};
      for (const m of DEFINITION_MEMBERS) picked[m] = (input as unknown as Record<string, unknown>)[m];
      const def = applyDefinitionInput(current, picked, replace);
      assertDefinitionValid(checkDefinition(def));
      const modified = Math.max(ctx.now, row.modified_at + 1);
      await app.store.updateBaseline(ref.id, { name: def.Name, description: def.Description ?? null, document: definitionDocument(def), modified_at: modified }, trx);
      return { ...def, BaselineId: ref.id, owner: 'Self', CreatedDate: row.created_at, ModifiedDate: modified } satisfies Baseline;
    });
    await baselinesChanged(ctx, [updated.BaselineId]);
    return definitionOutput(updated);
  },

  async DeletePatchBaseline(input: DeletePatchBaselineRequest, ctx) {
    const { app } = ctx;
    const ref = parseBaselineId(app, input.BaselineId);
    if (ref.owner === 'AWS') refuseAwsBaseline(input.BaselineId, 'deleted');
    await app.store.transaction(async (trx) => {
      await app.store.lockBaseline(ref.id, trx);
      const groups = await app.store.patchGroupsOfBaseline(ref.id, trx);
      if (groups.length > 0) {
        throw Errors.resourceInUse(`Patch baseline ${ref.id} is registered to patch group(s) ${groups.map((g) => `'${g}'`).join(', ')}. Deregister it from them first.`);
      }
      const defaults = await app.store.getDefaultBaselineIds(trx);
      for (const [os, id] of defaults) {
        if (id === ref.id) {
          throw Errors.resourceInUse(`Patch baseline ${ref.id} is the default baseline for ${os}. Register another default for ${os} first.`);
        }
      }
      // Deleting a baseline that does not exist succeeds (idempotent), as the model lists no DoesNotExist here.
      await app.store.deleteBaseline(ref.id, trx);
    });
    return { BaselineId: input.BaselineId };
  },

  async DescribePatchBaselines(input: DescribePatchBaselinesRequest, ctx) {
    const { app } = ctx;
    let owner: 'All' | 'AWS' | 'Self' = 'All';
    const prefixes: string[] = [];
    const systems = new Set<string>();
    for (const f of input.Filters ?? []) {
      const values = f.Values ?? [];
      if (f.Key === 'NAME_PREFIX') prefixes.push(...values);
      else if (f.Key === 'OWNER') {
        const v = values[0];
        if (values.length !== 1 || (v !== 'AWS' && v !== 'Self' && v !== 'All')) {
          throw Errors.validation(`Invalid value for filter OWNER: expected exactly one of AWS, Self or All, got [${values.join(', ')}].`);
        }
        owner = v;
      } else if (f.Key === 'OPERATING_SYSTEM') values.forEach((v) => systems.add(v));
      else throw Errors.validation(`Invalid filter key '${f.Key}'. Valid keys are NAME_PREFIX, OWNER and OPERATING_SYSTEM.`);
    }
    const pager = new Pager<string>(ctx, input as unknown as Record<string, unknown>, 100);
    const defaults = await defaultBaselineIds(app);
    const isDefault = new Set(defaults.values());
    const candidates: Array<{ key: string; identity: PatchBaselineIdentity }> = [];
    const add = (b: Baseline, key: string) => {
      if (prefixes.length > 0 && !prefixes.some((p) => b.Name.startsWith(p))) return;
      if (systems.size > 0 && !systems.has(b.OperatingSystem)) return;
      const identity: PatchBaselineIdentity = { BaselineId: b.BaselineId, BaselineName: b.Name, OperatingSystem: b.OperatingSystem as PatchBaselineIdentity['OperatingSystem'], DefaultBaseline: isDefault.has(b.BaselineId) };
      if (b.Description !== undefined) identity.BaselineDescription = b.Description;
      candidates.push({ key, identity });
    };
    if (owner !== 'Self') app.predefined.all().forEach((b, i) => add(b, `0|${String(i).padStart(4, '0')}`));
    if (owner !== 'AWS') {
      for (const row of await app.store.listBaselines()) add(baselineFromRow(row), `1|${String(row.created_at).padStart(15, '0')}|${row.baseline_id}`);
    }
    const { page, nextToken } = pageByKey(pager, candidates, (c) => c.key);
    return { BaselineIdentities: page.map((c) => c.identity), ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  async RegisterDefaultPatchBaseline(input: RegisterDefaultPatchBaselineRequest, ctx) {
    const { app } = ctx;
    const baseline = await loadBaseline(app, input.BaselineId);
    const os = baseline.OperatingSystem;
    // Registering AWS's own default restores the initial state: no row means "AWS's default".
    const value = baseline.BaselineId === app.predefined.defaultFor(os).BaselineId ? null : baseline.BaselineId;
    await app.store.transaction(async (trx) => {
      if (baseline.owner === 'Self') await app.store.lockBaseline(baseline.BaselineId, trx);
      if (baseline.owner === 'Self' && (await app.store.getBaseline(baseline.BaselineId, trx)) === undefined) {
        throw Errors.doesNotExist(`Patch baseline ${input.BaselineId} does not exist.`);
      }
      await app.store.setDefaultBaseline(os, value, trx);
    });
    await ctx.app.evaluator.notify({ operatingSystems: [os] });
    return { BaselineId: baseline.BaselineId };
  },

  async GetDefaultPatchBaseline(input: GetDefaultPatchBaselineRequest, ctx) {
    const os = input.OperatingSystem ?? 'WINDOWS';
    const ids = await defaultBaselineIds(ctx.app);
    return { BaselineId: ids.get(os)!, OperatingSystem: os };
  },
});
