// The patch catalogue operations: DescribeAvailablePatches (the catalogue as AWS `Patch` objects, filtered) and
// DescribeEffectivePatchesForPatchBaseline (a baseline's verdict on every catalogue patch of its OS). Patchline's
// catalogue is what its nodes' scans reported as update candidates (src/store/catalogue-store.ts), so it holds the
// patches that matter to this fleet, for every OS that reports scans. Behaviour: docs/api.md "Patch catalogue".

import { Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { compileBaseline } from '../domain/evaluation/index.ts';
import { cataloguePatch, compileCatalogueFilters, effectivePatchStatus } from '../domain/catalogue.ts';
import { walkCatalogue, type CatalogueQuery } from '../store/catalogue-store.ts';
import { loadBaseline } from './baseline-lookup.ts';
import { Pager } from './pagination.ts';
import type {
  DescribeAvailablePatchesRequest, DescribeEffectivePatchesForPatchBaselineRequest, EffectivePatch, Patch,
} from '../generated/ssm-types.ts';

/** Page size when MaxResults is absent (the model allows 1–100). */
const DEFAULT_PAGE = 100;

type Cursor = [string, number];

export const catalogueOperations = defineOperations({
  async DescribeAvailablePatches(input: DescribeAvailablePatchesRequest, ctx) {
    const { app } = ctx;
    const compiled = compileCatalogueFilters(input.Filters ?? []);
    if (!compiled.ok) throw Errors.validation(compiled.message);
    const { scope, products, test } = compiled.filter;
    const pager = new Pager<Cursor>(ctx, input as unknown as Record<string, unknown>, DEFAULT_PAGE);
    const query: Omit<CatalogueQuery, 'limit'> = {};
    if (scope === 'windows') query.operatingSystems = ['WINDOWS'];
    if (scope === 'linux') query.excludeOperatingSystems = ['WINDOWS'];
    // Windows updates carry their own product (Office 2016 on a WindowsServer2016 node): narrow by the node's
    // product only when the query cannot match Windows patches.
    if (scope === 'linux' && products !== undefined) query.products = products;
    if (pager.cursor !== undefined) query.after = pager.cursor;

    const patches: Patch[] = [];
    let last: Cursor | undefined;
    let more = false;
    await walkCatalogue(app.store.db, app.scans.packages, query, (entry, pkg) => {
      const patch = cataloguePatch(entry.product, entry.operatingSystem, pkg);
      if (!test(patch, pkg)) return true;
      if (patches.length === pager.limit) {
        more = true;
        return false;
      }
      patches.push(patch);
      last = [entry.product, entry.packageId];
      return true;
    });
    return { Patches: patches, ...(more && last !== undefined ? { NextToken: pager.next(last) } : {}) };
  },

  async DescribeEffectivePatchesForPatchBaseline(input: DescribeEffectivePatchesForPatchBaselineRequest, ctx) {
    const { app } = ctx;
    const baseline = await loadBaseline(app, input.BaselineId);
    const compiled = compileBaseline(baseline);
    const now = Math.floor(ctx.now / 1000);
    const pager = new Pager<Cursor>(ctx, input as unknown as Record<string, unknown>, DEFAULT_PAGE);
    const query: Omit<CatalogueQuery, 'limit'> = { operatingSystems: [baseline.OperatingSystem] };
    if (pager.cursor !== undefined) query.after = pager.cursor;

    const effective: EffectivePatch[] = [];
    let last: Cursor | undefined;
    let more = false;
    await walkCatalogue(app.store.db, app.scans.packages, query, (entry, pkg) => {
      const status = effectivePatchStatus(compiled.decideUpdate(pkg, entry.product, now));
      if (status === undefined) return true;
      if (effective.length === pager.limit) {
        more = true;
        return false;
      }
      effective.push({ Patch: cataloguePatch(entry.product, entry.operatingSystem, pkg), PatchStatus: status });
      last = [entry.product, entry.packageId];
      return true;
    });
    return { EffectivePatches: effective, ...(more && last !== undefined ? { NextToken: pager.next(last) } : {}) };
  },
});
