// Compliance operations: PutComplianceItems, ListComplianceItems, ListResourceComplianceSummaries,
// ListComplianceSummaries. Patch compliance comes from patch reports (stored AWS:ComplianceItem entries, or
// items derived from the node's patch rows); other types from PutComplianceItems / AWS:ComplianceItem.

import { sql, type SelectQueryBuilder } from 'kysely';
import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations, type RequestContext } from '../server/operation.ts';
import { availableSecurityUpdatesCountedNonCompliant, COMPLIANCE_SEVERITIES, patchComplianceItems, summarizeCompliance, type ComplianceItemRecord } from '../domain/patch-state.ts';
import { COMPLIANCE_ITEM_ATTRIBUTES } from '../domain/inventory-schemas.ts';
import type { ComplianceInput } from '../store/reporting-store.ts';
import { Pager } from './pagination.ts';
import type {
  ComplianceStringFilter, ListComplianceItemsRequest, ListComplianceSummariesRequest, ListResourceComplianceSummariesRequest,
  PutComplianceItemsRequest,
} from '../generated/ssm-types.ts';
import type { ResourceComplianceTable } from '../store/schema.ts';

export const MAX_CUSTOM_COMPLIANCE_TYPES = 10;
const MAX_ITEM_BYTES = 800 * 1024;
const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

function itemSize(item: ComplianceItemRecord): number {
  let n = (item.Id?.length ?? 0) + (item.Title?.length ?? 0) + item.Status.length + item.Severity.length;
  for (const k in item.Details ?? {}) n += k.length + (item.Details![k]?.length ?? 0);
  return n;
}

async function requireManagedNode(ctx: RequestContext, resourceType: string, resourceId: string): Promise<void> {
  if (resourceType !== 'ManagedInstance') throw Errors.invalidResourceType(`Compliance is kept for ManagedInstance resources, not ${resourceType}.`);
  if (!(await ctx.app.nodes.exists(resourceId))) throw Errors.invalidResourceId(`Managed node ${resourceId} does not exist.`);
}

/** A node's items of one type: stored ones, or for Patch without stored items, derived from its patch rows. */
async function itemsOf(ctx: RequestContext, instanceId: string, type: string): Promise<ComplianceItemRecord[]> {
  const stored = await ctx.app.reports.getStoredComplianceItems(instanceId, type);
  if (stored !== undefined || type !== 'Patch') return stored ?? [];
  const state = await ctx.app.reports.getPatchState(instanceId);
  const rows = (await ctx.app.reports.getPatchRows(instanceId))?.rows ?? [];
  const asu = availableSecurityUpdatesCountedNonCompliant(rows, await ctx.app.reports.getResourceCompliance(instanceId, 'Patch'));
  return patchComplianceItems(rows, { baselineId: state?.baseline_id ?? '', patchGroup: state?.patch_group ?? '', availableSecurityUpdatesNonCompliant: asu });
}

// ---- string filters (ComplianceStringFilter) --------------------------------------------------------------------

type Operator = 'EQUAL' | 'NOT_EQUAL' | 'BEGIN_WITH' | 'LESS_THAN' | 'GREATER_THAN';

function matches(value: string | undefined, f: ComplianceStringFilter): boolean {
  const values = f.Values ?? [];
  const v = value ?? '';
  switch ((f.Type ?? 'EQUAL') as Operator) {
    case 'EQUAL': return values.includes(v);
    case 'NOT_EQUAL': return !values.includes(v);
    case 'BEGIN_WITH': return values.some((x) => v.startsWith(x));
    case 'LESS_THAN': return values.some((x) => compare(v, x) < 0);
    case 'GREATER_THAN': return values.some((x) => compare(v, x) > 0);
  }
}

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

const ITEM_FILTER_KEYS = new Set(['ComplianceType', 'Status', 'Severity', 'Id', 'Title', 'ExecutionId', 'ExecutionType', 'ExecutionTime', ...COMPLIANCE_ITEM_ATTRIBUTES]);

/** Columns of resource_compliance (and joined tables) that summary filters can address. */
const SUMMARY_FILTER_COLUMNS: Record<string, string> = {
  ComplianceType: 'rc.compliance_type',
  OverallSeverity: 'rc.overall_severity',
  Status: 'rc.status',
  ExecutionType: 'rc.execution_type',
  ExecutionId: 'rc.execution_id',
  InstanceId: 'rc.instance_id',
  ResourceId: 'rc.instance_id',
  PatchGroup: 'ps.patch_group',
  'AWS:InstanceInformation.PlatformType': 'n.platform_type',
  'AWS:InstanceInformation.PlatformName': 'n.platform_name',
};

function applySummaryFilters<O>(q: SelectQueryBuilder<any, any, O>, filters: ComplianceStringFilter[] | undefined): SelectQueryBuilder<any, any, O> {
  for (const f of filters ?? []) {
    const column = SUMMARY_FILTER_COLUMNS[f.Key ?? ''];
    if (column === undefined) throw Errors.invalidFilter(`The filter key '${f.Key}' is not valid. Valid keys are: ${Object.keys(SUMMARY_FILTER_COLUMNS).join(', ')}.`);
    const values = f.Values ?? [];
    if (values.length === 0) throw Errors.invalidFilter(`The filter ${f.Key} needs at least one value.`);
    const ref = sql.ref(column);
    switch ((f.Type ?? 'EQUAL') as Operator) {
      case 'EQUAL': q = q.where(ref, 'in', values); break;
      case 'NOT_EQUAL': q = q.where((eb) => eb.or([eb(ref, 'not in', values), eb(ref, 'is', null)])); break;
      case 'BEGIN_WITH': q = q.where((eb) => eb.or(values.map((v) => eb(ref, 'like', `${v.replace(/[\\%_]/g, '\\$&')}%`)))); break;
      case 'LESS_THAN': q = q.where(ref, '<', values[0]!); break;
      case 'GREATER_THAN': q = q.where(ref, '>', values[0]!); break;
    }
  }
  return q;
}

function summaryQuery(ctx: RequestContext) {
  return ctx.app.store.db.selectFrom('resource_compliance as rc')
    .leftJoin('node_patch_state as ps', 'ps.instance_id', 'rc.instance_id')
    .leftJoin('nodes as n', 'n.instance_id', 'rc.instance_id');
}

function severitySummary(counts: Record<string, number>, prefix: 'compliant_' | 'non_compliant_') {
  const get = (s: string) => Number(counts[`${prefix}${s}`] ?? 0);
  return { CriticalCount: get('critical'), HighCount: get('high'), MediumCount: get('medium'), LowCount: get('low'), InformationalCount: get('informational'), UnspecifiedCount: get('unspecified') };
}

function total(counts: Record<string, number>, prefix: string): number {
  return COMPLIANCE_SEVERITIES.reduce((n, s) => n + Number(counts[`${prefix}${s.toLowerCase()}`] ?? 0), 0);
}

function resourceSummaryOutput(r: ResourceComplianceTable) {
  const counts = r as unknown as Record<string, number>;
  const execution: Record<string, unknown> = { ExecutionTime: Number(r.execution_time) / 1000 };
  if (r.execution_id !== null) execution.ExecutionId = r.execution_id;
  if (r.execution_type !== null) execution.ExecutionType = r.execution_type;
  return {
    ComplianceType: r.compliance_type,
    ResourceType: 'ManagedInstance',
    ResourceId: r.instance_id,
    Status: r.status,
    OverallSeverity: r.overall_severity,
    ExecutionSummary: execution,
    CompliantSummary: { CompliantCount: total(counts, 'compliant_'), SeveritySummary: severitySummary(counts, 'compliant_') },
    NonCompliantSummary: { NonCompliantCount: total(counts, 'non_compliant_'), SeveritySummary: severitySummary(counts, 'non_compliant_') },
  };
}

export const complianceOperations = defineOperations({
  async PutComplianceItems(input: PutComplianceItemsRequest, ctx) {
    const { app } = ctx;
    await requireManagedNode(ctx, input.ResourceType, input.ResourceId);
    const type = input.ComplianceType;
    const partial = input.UploadType === 'PARTIAL';
    if (partial && type !== 'Association') throw Errors.validation('UploadType PARTIAL is supported for the Association compliance type only.');
    let items: ComplianceItemRecord[] = input.Items.map((i) => {
      const r: ComplianceItemRecord = { Status: i.Status, Severity: i.Severity };
      if (i.Id !== undefined) r.Id = i.Id;
      if (i.Title !== undefined) r.Title = i.Title;
      if (i.Details !== undefined) r.Details = i.Details;
      return r;
    });
    let sum = 0;
    for (const item of items) {
      const size = itemSize(item);
      if (size > MAX_ITEM_BYTES) throw new ServiceError('ItemSizeLimitExceededException', `Compliance item ${item.Id ?? ''} is ${size} bytes, over the limit of ${MAX_ITEM_BYTES}.`);
      sum += size;
    }
    if (sum > MAX_TOTAL_BYTES) throw new ServiceError('TotalSizeLimitExceededException', `The compliance items total ${sum} bytes, over the limit of ${MAX_TOTAL_BYTES}.`);
    const ex = input.ExecutionSummary;
    await app.store.transaction(async (trx) => {
      await app.reports.lockNode(input.ResourceId, trx);
      const old = await app.reports.getResourceCompliance(input.ResourceId, type, trx);
      if (input.ItemContentHash !== undefined && old?.items_hash === input.ItemContentHash) return;
      if (old === undefined && type.startsWith('Custom:')) {
        const types = await app.reports.listResourceComplianceTypes(input.ResourceId, trx);
        if (types.filter((t) => t.startsWith('Custom:')).length >= MAX_CUSTOM_COMPLIANCE_TYPES) {
          throw new ServiceError('ComplianceTypeCountLimitExceededException', `A resource may have at most ${MAX_CUSTOM_COMPLIANCE_TYPES} custom compliance types.`);
        }
      }
      if (partial) {
        const previous = (await app.reports.getStoredComplianceItems(input.ResourceId, type, trx)) ?? [];
        const byId = new Map(previous.map((i) => [i.Id ?? '', i]));
        for (const i of items) byId.set(i.Id ?? '', i);
        items = [...byId.values()];
      }
      const write: ComplianceInput = { type, storedItems: items, summary: summarizeCompliance(items), executionTime: Math.round(ex.ExecutionTime * 1000) };
      if (ex.ExecutionId !== undefined) write.executionId = ex.ExecutionId;
      if (ex.ExecutionType !== undefined) write.executionType = ex.ExecutionType;
      if (input.ItemContentHash !== undefined) write.itemsHash = input.ItemContentHash;
      await app.reports.writeComplianceIn(trx, input.ResourceId, write, ctx.now);
    });
    return {};
  },

  async ListComplianceItems(input: ListComplianceItemsRequest, ctx) {
    const ids = input.ResourceIds ?? [];
    const types = input.ResourceTypes ?? ['ManagedInstance'];
    if (ids.length === 0) throw Errors.validation('ResourceIds must name at least one resource.');
    for (const t of types) if (t !== 'ManagedInstance') throw Errors.invalidResourceType(`Compliance is kept for ManagedInstance resources, not ${t}.`);
    for (const f of input.Filters ?? []) {
      if (!ITEM_FILTER_KEYS.has(f.Key ?? '')) throw Errors.invalidFilter(`The filter key '${f.Key}' is not valid. Valid keys are: ${[...ITEM_FILTER_KEYS].join(', ')}.`);
    }
    const pager = new Pager<number>(ctx, input as unknown as Record<string, unknown>, 50);
    const out: Array<Record<string, unknown>> = [];
    for (const id of ids) {
      if (!(await ctx.app.nodes.exists(id))) throw Errors.invalidResourceId(`Managed node ${id} does not exist.`);
      for (const type of (await ctx.app.reports.listResourceComplianceTypes(id)).sort()) {
        const summary = (await ctx.app.reports.getResourceCompliance(id, type))!;
        const execution: Record<string, unknown> = { ExecutionTime: Number(summary.execution_time) / 1000 };
        if (summary.execution_id !== null) execution.ExecutionId = summary.execution_id;
        if (summary.execution_type !== null) execution.ExecutionType = summary.execution_type;
        for (const item of await itemsOf(ctx, id, type)) {
          const fields: Record<string, string | undefined> = {
            ComplianceType: type, Status: item.Status, Severity: item.Severity, Id: item.Id, Title: item.Title,
            ExecutionId: summary.execution_id ?? undefined, ExecutionType: summary.execution_type ?? undefined,
            ExecutionTime: String(Number(summary.execution_time) / 1000), ...item.Details,
          };
          if (!(input.Filters ?? []).every((f) => matches(fields[f.Key!], f))) continue;
          const row: Record<string, unknown> = { ComplianceType: type, ResourceType: 'ManagedInstance', ResourceId: id };
          if (item.Id !== undefined) row.Id = item.Id;
          if (item.Title !== undefined) row.Title = item.Title;
          row.Status = item.Status;
          row.Severity = item.Severity;
          row.ExecutionSummary = execution;
          row.Details = item.Details ?? {};
          out.push(row);
        }
      }
    }
    const start = pager.cursor ?? 0;
    const page = out.slice(start, start + pager.limit);
    return { ComplianceItems: page, ...(start + pager.limit < out.length ? { NextToken: pager.next(start + pager.limit) } : {}) };
  },

  async ListResourceComplianceSummaries(input: ListResourceComplianceSummariesRequest, ctx) {
    const pager = new Pager<[string, string]>(ctx, input as unknown as Record<string, unknown>, 50);
    let q = applySummaryFilters(summaryQuery(ctx).selectAll('rc'), input.Filters);
    if (pager.cursor !== undefined) {
      const [id, type] = pager.cursor;
      q = q.where((eb) => eb.or([eb('rc.instance_id', '>', id), eb.and([eb('rc.instance_id', '=', id), eb('rc.compliance_type', '>', type)])]));
    }
    const rows = (await q.orderBy('rc.instance_id').orderBy('rc.compliance_type').limit(pager.limit + 1).execute()) as ResourceComplianceTable[];
    const page = rows.slice(0, pager.limit);
    const out: Record<string, unknown> = { ResourceComplianceSummaryItems: page.map(resourceSummaryOutput) };
    if (rows.length > pager.limit) {
      const last = page[page.length - 1]!;
      out.NextToken = pager.next([last.instance_id, last.compliance_type]);
    }
    return out;
  },

  async ListComplianceSummaries(input: ListComplianceSummariesRequest, ctx) {
    const filters = input.Filters ?? [];
    const pager = new Pager<number>(ctx, input as unknown as Record<string, unknown>, 50);
    let rows: Array<Record<string, number | string>>;
    if (filters.every((f) => f.Key === 'ComplianceType')) {
      // The common case reads the counters maintained on write: cost independent of fleet size.
      rows = (await ctx.app.reports.complianceTypeCounts()).filter((r) => filters.every((f) => matches(String(r.compliance_type), f)));
    } else {
      // Other filters (patch group, platform, …) need the resources themselves: aggregate the matching ones.
      const bucket = sql<string>`rc.status || '/' || rc.overall_severity`;
      const grouped = await applySummaryFilters(summaryQuery(ctx).select(['rc.compliance_type', bucket.as('bucket'), (eb) => eb.fn.countAll<number>().as('n')]), filters)
        .groupBy(['rc.compliance_type', 'rc.status', 'rc.overall_severity']).execute() as Array<{ compliance_type: string; bucket: string; n: number }>;
      const byType = new Map<string, Record<string, number | string>>();
      for (const g of grouped) {
        const r = byType.get(g.compliance_type) ?? { compliance_type: g.compliance_type };
        const [status, severity] = g.bucket.split('/') as [string, string];
        const key = `${status === 'COMPLIANT' ? 'compliant_' : 'non_compliant_'}${severity.toLowerCase()}`;
        r[key] = Number(r[key] ?? 0) + Number(g.n);
        byType.set(g.compliance_type, r);
      }
      rows = [...byType.values()].sort((a, b) => String(a.compliance_type).localeCompare(String(b.compliance_type)));
    }
    rows = rows.filter((r) => total(r as Record<string, number>, 'compliant_') + total(r as Record<string, number>, 'non_compliant_') > 0);
    const start = pager.cursor ?? 0;
    const page = rows.slice(start, start + pager.limit).map((r) => {
      const counts = r as Record<string, number>;
      return {
        ComplianceType: String(r.compliance_type),
        CompliantSummary: { CompliantCount: total(counts, 'compliant_'), SeveritySummary: severitySummary(counts, 'compliant_') },
        NonCompliantSummary: { NonCompliantCount: total(counts, 'non_compliant_'), SeveritySummary: severitySummary(counts, 'non_compliant_') },
      };
    });
    return { ComplianceSummaryItems: page, ...(start + pager.limit < rows.length ? { NextToken: pager.next(start + pager.limit) } : {}) };
  },
});

