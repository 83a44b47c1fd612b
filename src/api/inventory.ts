// Inventory operations: PutInventory (the SSM agent's reporting channel: AWS:PatchSummary, AWS:PatchCompliance,
// AWS:ComplianceItem, AWS:InstanceInformation, Custom:… types) and ListInventoryEntries.
// A PutInventory call is applied in one transaction: it is stored whole or not at all.

import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations, type RequestContext } from '../server/operation.ts';
import {
  COMPLIANCE_ITEM, INSTANCE_INFORMATION, INSTANCE_INFORMATION_ATTRIBUTES, KNOWN_AWS_TYPES, PATCH_COMPLIANCE, PATCH_SUMMARY,
  formatIsoUtc, parseComplianceContext, parseComplianceItems, parsePatchCompliance, parsePatchSummary,
  renderComplianceItems, renderPatchCompliance, renderPatchSummary, type ComplianceItemContext, type PatchSummaryRecord,
} from '../domain/inventory-schemas.ts';
import { availableSecurityUpdatesCountedNonCompliant, patchComplianceItems, summarizeCompliance, summarizePatchRows, type ComplianceItemRecord, type ComplianceSummary, type PatchRow } from '../domain/patch-state.ts';
import { sortPatchRows, encodeJson, decodeJson } from '../domain/patch-rows.ts';
import { rowSetOf } from '../domain/row-set.ts';
import { countersFromState, type ComplianceInput } from '../store/reporting-store.ts';
import { Pager } from './pagination.ts';
import type { InventoryItem, ListInventoryEntriesRequest, PutInventoryRequest } from '../generated/ssm-types.ts';
import type { NodePatchStateTable } from '../store/schema.ts';

/** Largest accepted inventory item (sum of its attribute names and values), and largest request in total. */
export const MAX_ITEM_BYTES = 8 * 1024 * 1024;
export const MAX_TOTAL_BYTES = 32 * 1024 * 1024;
/** Distinct Custom: inventory types per node. */
export const MAX_CUSTOM_TYPES = 20;

type Entry = Record<string, string>;

function itemError(code: string, typeName: string, message: string): ServiceError {
  return new ServiceError(code, message, { members: { TypeName: typeName } });
}

function entriesSize(entries: Entry[] | undefined): number {
  let size = 0;
  for (const e of entries ?? []) for (const k in e) size += k.length + (e[k]?.length ?? 0);
  return size;
}

interface ParsedReport {
  summary?: { record: PatchSummaryRecord; hash?: string; captureTime: string };
  rows?: { rows: PatchRow[]; hash?: string };
  compliance: Array<{ context: ComplianceItemContext; items: ComplianceItemRecord[]; hash?: string }>;
  instanceInformation?: Entry;
  generic: InventoryItem[];
}

function parseItems(items: InventoryItem[]): ParsedReport {
  const seen = new Set<string>();
  const out: ParsedReport = { compliance: [], generic: [] };
  let total = 0;
  for (const item of items) {
    const type = item.TypeName;
    if (seen.has(type)) throw itemError('InvalidItemContentException', type, `The type ${type} appears more than once in the request; send each type once.`);
    seen.add(type);
    if (type.startsWith('AWS:') && !KNOWN_AWS_TYPES.has(type)) throw new ServiceError('InvalidTypeNameException', `The type name ${type} is not valid.`);
    if (type.startsWith('Custom:') && !/^Custom:[A-Za-z0-9_.\-]{1,93}$/.test(type)) throw new ServiceError('InvalidTypeNameException', `The type name ${type} is not valid: Custom: followed by letters, digits, '_', '-' or '.'.`);
    if (type.startsWith('AWS:') && !/^1\.\d+$/.test(item.SchemaVersion)) {
      throw new ServiceError('UnsupportedInventorySchemaVersionException', `Schema version ${item.SchemaVersion} of ${type} is not supported; use 1.0.`);
    }
    const size = entriesSize(item.Content as Entry[] | undefined);
    if (size > MAX_ITEM_BYTES) throw itemError('ItemSizeLimitExceededException', type, `The inventory item ${type} is ${size} bytes, over the limit of ${MAX_ITEM_BYTES} bytes.`);
    total += size;
    if (item.Context !== undefined && Object.keys(item.Context).length > 0 && type !== COMPLIANCE_ITEM) {
      throw itemError('UnsupportedInventoryItemContextException', type, `Context is not supported for the type ${type}; only ${COMPLIANCE_ITEM} takes a Context.`);
    }
    const content = (item.Content ?? []) as Entry[];
    if (type === PATCH_SUMMARY) {
      if (content.length !== 1) throw itemError('InvalidItemContentException', type, `${PATCH_SUMMARY} must have exactly one entry, got ${content.length}.`);
      const parsed = parsePatchSummary(content[0]!);
      if (!parsed.ok) throw itemError('InvalidItemContentException', type, parsed.message);
      out.summary = { record: parsed.value, captureTime: item.CaptureTime, ...(item.ContentHash ? { hash: item.ContentHash } : {}) };
    } else if (type === PATCH_COMPLIANCE) {
      const parsed = parsePatchCompliance(content);
      if (!parsed.ok) throw itemError('InvalidItemContentException', type, parsed.message);
      out.rows = { rows: sortPatchRows(parsed.value), ...(item.ContentHash ? { hash: item.ContentHash } : {}) };
    } else if (type === COMPLIANCE_ITEM) {
      const context = parseComplianceContext(item.Context as Entry | undefined);
      if (!context.ok) throw itemError('InvalidInventoryItemContextException', type, context.message);
      const parsed = parseComplianceItems(content);
      if (!parsed.ok) throw itemError('InvalidItemContentException', type, parsed.message);
      out.compliance.push({ context: context.value, items: parsed.value, ...(item.ContentHash ? { hash: item.ContentHash } : {}) });
      out.generic.push(item);
    } else {
      if (type === INSTANCE_INFORMATION) {
        if (content.length !== 1) throw itemError('InvalidItemContentException', type, `${INSTANCE_INFORMATION} must have exactly one entry.`);
        const extra = Object.keys(content[0]!).filter((k) => !(INSTANCE_INFORMATION_ATTRIBUTES as readonly string[]).includes(k));
        if (extra.length > 0) throw itemError('InvalidItemContentException', type, `Attribute(s) ${extra.join(', ')} are not part of the ${INSTANCE_INFORMATION} schema.`);
        out.instanceInformation = content[0]!;
      }
      out.generic.push(item);
    }
  }
  if (total > MAX_TOTAL_BYTES) throw new ServiceError('TotalSizeLimitExceededException', `The inventory items total ${total} bytes, over the limit of ${MAX_TOTAL_BYTES} bytes.`);
  if (out.rows !== undefined && out.summary === undefined) {
    throw itemError('InvalidItemContentException', PATCH_COMPLIANCE, `${PATCH_COMPLIANCE} must be sent together with ${PATCH_SUMMARY}: a patch report is one unit.`);
  }
  return out;
}

/** Stored summary row → the record shape (for rendering and comparisons). */
export function summaryRecordFromState(s: NodePatchStateTable): PatchSummaryRecord {
  const r: PatchSummaryRecord = {
    patchGroup: s.patch_group, baselineId: s.baseline_id, counters: countersFromState(s), operation: s.operation as 'Scan' | 'Install',
    operationStart: Number(s.operation_start), operationEnd: Number(s.operation_end),
  };
  if (s.snapshot_id !== null) r.snapshotId = s.snapshot_id;
  if (s.owner_information !== null) r.ownerInformation = s.owner_information;
  if (s.install_override_list !== null) r.installOverrideList = s.install_override_list;
  if (s.reboot_option !== null) r.rebootOption = s.reboot_option;
  if (s.last_no_reboot_install !== null) r.lastNoRebootInstall = Number(s.last_no_reboot_install);
  return r;
}

/** Compliance of one type from items sent (stored as they are) or, for Patch, a summary derived from the rows. */
function complianceInput(context: ComplianceItemContext, items: ComplianceItemRecord[] | ComplianceSummary, fallbackTime: number, hash?: string): ComplianceInput {
  const stored = Array.isArray(items);
  const input: ComplianceInput = {
    type: context.complianceType,
    summary: stored ? summarizeCompliance(items) : items,
    executionTime: context.executionTime ?? fallbackTime,
  };
  if (stored) input.storedItems = items;
  if (context.executionId !== undefined) input.executionId = context.executionId;
  if (context.executionType !== undefined) input.executionType = context.executionType;
  if (hash !== undefined) input.itemsHash = hash;
  return input;
}

async function putInventory(input: PutInventoryRequest, ctx: RequestContext): Promise<object> {
  const { app } = ctx;
  const parsed = parseItems(input.Items);
  const id = input.InstanceId;
  const now = ctx.now;
  const nodeUpdate: Record<string, string> = {};
  const info = parsed.instanceInformation;
  if (info) {
    if (info.AgentVersion) nodeUpdate.agent_version = info.AgentVersion;
    if (info.ComputerName) nodeUpdate.computer_name = info.ComputerName;
    if (info.IpAddress) nodeUpdate.ip_address = info.IpAddress;
    if (info.PlatformName) nodeUpdate.platform_name = info.PlatformName;
    if (info.PlatformType) nodeUpdate.platform_type = info.PlatformType;
    if (info.PlatformVersion) nodeUpdate.platform_version = info.PlatformVersion;
  }

  const descriptorIds = parsed.rows === undefined ? [] : await app.reports.internRows(parsed.rows.rows);
  await app.store.transaction(async (trx) => {
    await app.reports.ensureNode(id, now, trx);
    await app.reports.lockNode(id, trx);
    const customTypes = parsed.generic.filter((i) => i.TypeName.startsWith('Custom:')).map((i) => i.TypeName);
    if (customTypes.length > 0) {
      const existing = await trx.selectFrom('inventory_items').select('type_name').where('instance_id', '=', id).where('type_name', 'like', 'Custom:%').execute();
      const all = new Set([...existing.map((r) => r.type_name), ...customTypes]);
      if (all.size > MAX_CUSTOM_TYPES) throw new ServiceError('CustomSchemaCountLimitExceededException', `A node may hold at most ${MAX_CUSTOM_TYPES} Custom: inventory types.`);
    }

    const patchCompliance = parsed.compliance.find((c) => c.context.complianceType === 'Patch');
    let patchComplianceWritten = false;
    if (parsed.summary !== undefined) {
      const { record, hash, captureTime } = parsed.summary;
      const old = await app.reports.getPatchState(id, trx);
      const unchanged = old !== undefined && hash !== undefined && old.summary_hash === hash &&
        (parsed.rows === undefined ? old.patches_hash === null : parsed.rows.hash !== undefined && old.patches_hash === parsed.rows.hash);
      if (!unchanged) {
        const rows = parsed.rows?.rows ?? [];
        const compliance = patchCompliance !== undefined
          ? complianceInput(patchCompliance.context, patchCompliance.items, record.operationEnd, patchCompliance.hash)
          : complianceInput({ complianceType: 'Patch', executionType: 'Command' }, summarizePatchRows(rows), record.operationEnd);
        // The AWS agent's report replaces whatever Patchline evaluated from an earlier raw scan.
        await app.scans.deleteScanIn(trx, id);
        await app.reports.applyPatchReportIn(trx, {
          instanceId: id,
          summary: { ...record, captureTime, ...(hash ? { summaryHash: hash } : {}), ...(parsed.rows?.hash ? { patchesHash: parsed.rows.hash } : {}) },
          rowSet: rowSetOf(rows, descriptorIds),
          source: 'inventory',
          compliance,
          now,
          nodeUpdate,
        });
        patchComplianceWritten = true;
      }
    }
    for (const c of parsed.compliance) {
      if (c === patchCompliance && patchComplianceWritten) continue; // written with the patch report
      const old = await app.reports.getResourceCompliance(id, c.context.complianceType, trx);
      if (c.hash !== undefined && old?.items_hash === c.hash) continue;
      await app.reports.writeComplianceIn(trx, id, complianceInput(c.context, c.items, now, c.hash), now);
    }
    for (const item of parsed.generic) {
      if (item.TypeName === COMPLIANCE_ITEM) continue;
      const old = await trx.selectFrom('inventory_items').select('content_hash').where('instance_id', '=', id).where('type_name', '=', item.TypeName).executeTakeFirst();
      if (item.ContentHash !== undefined && old?.content_hash === item.ContentHash) continue;
      const row = {
        schema_version: item.SchemaVersion, capture_time: item.CaptureTime, content_hash: item.ContentHash ?? null,
        entry_count: item.Content?.length ?? 0, data: encodeJson(item.Content ?? []), context: null, updated_at: now,
      };
      await trx.insertInto('inventory_items').values({ instance_id: id, type_name: item.TypeName, ...row })
        .onConflict((oc) => oc.columns(['instance_id', 'type_name']).doUpdateSet(row)).execute();
    }
    await app.reports.touchNode(id, now, nodeUpdate, trx);
  });
  return {};
}

// ---- ListInventoryEntries -------------------------------------------------------------------------------------

const OPERATORS: Record<string, (value: string, wanted: string[]) => boolean> = {
  Equal: (v, w) => w.includes(v),
  NotEqual: (v, w) => !w.includes(v),
  BeginWith: (v, w) => w.some((x) => v.startsWith(x)),
  LessThan: (v, w) => compareLoose(v, w[0] ?? '') < 0,
  GreaterThan: (v, w) => compareLoose(v, w[0] ?? '') > 0,
  Exists: () => true,
};

function compareLoose(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

async function listInventoryEntries(input: ListInventoryEntriesRequest, ctx: RequestContext): Promise<object> {
  const { app } = ctx;
  const id = input.InstanceId;
  if (!(await app.reports.nodeExists(id))) throw Errors.invalidInstanceId(`Instance ${id} is not a managed node known to Patchline.`);
  const type = input.TypeName;
  if (type.startsWith('AWS:') && !KNOWN_AWS_TYPES.has(type)) throw new ServiceError('InvalidTypeNameException', `The type name ${type} is not valid.`);
  let entries: Entry[] = [];
  let schemaVersion: string | undefined;
  let captureTime: string | undefined;
  if (type === PATCH_SUMMARY || type === PATCH_COMPLIANCE) {
    const state = await app.reports.getPatchState(id);
    if (state !== undefined) {
      schemaVersion = '1.0';
      captureTime = state.capture_time ?? formatIsoUtc(Number(state.reported_at));
      entries = type === PATCH_SUMMARY ? [renderPatchSummary(summaryRecordFromState(state))] : renderPatchCompliance((await app.reports.getPatchRows(id))?.rows ?? []);
    }
  } else if (type === COMPLIANCE_ITEM) {
    const summary = await app.reports.getResourceCompliance(id, 'Patch');
    if (summary !== undefined) {
      schemaVersion = '1.0';
      captureTime = formatIsoUtc(Number(summary.execution_time));
      const stored = await app.reports.getStoredComplianceItems(id, 'Patch');
      const state = await app.reports.getPatchState(id);
      const rows = stored === undefined ? (await app.reports.getPatchRows(id))?.rows ?? [] : [];
      const asu = availableSecurityUpdatesCountedNonCompliant(rows, summary);
      const items = stored ?? patchComplianceItems(rows, { baselineId: state?.baseline_id ?? '', patchGroup: state?.patch_group ?? '', availableSecurityUpdatesNonCompliant: asu });
      entries = renderComplianceItems(items);
    }
  } else {
    const row = await app.store.db.selectFrom('inventory_items').selectAll().where('instance_id', '=', id).where('type_name', '=', type).executeTakeFirst();
    if (row !== undefined) {
      schemaVersion = row.schema_version;
      captureTime = row.capture_time;
      entries = decodeJson<Entry[]>(row.data);
    }
  }
  for (const f of input.Filters ?? []) {
    const key = f.Key.startsWith(`${type}.`) ? f.Key.slice(type.length + 1) : f.Key;
    const op = OPERATORS[f.Type ?? 'Equal']!;
    if (entries.length > 0 && !entries.some((e) => key in e)) {
      throw Errors.invalidFilter(`The filter key ${f.Key} is not an attribute of ${type}.`);
    }
    entries = entries.filter((e) => (f.Type === 'Exists' ? key in e : key in e && op(e[key]!, f.Values)));
  }
  const pager = new Pager<number>(ctx, input as unknown as Record<string, unknown>, 50);
  const start = pager.cursor ?? 0;
  const page = entries.slice(start, start + pager.limit);
  const out: Record<string, unknown> = { TypeName: type, InstanceId: id, Entries: page };
  if (schemaVersion !== undefined) out.SchemaVersion = schemaVersion;
  if (captureTime !== undefined) out.CaptureTime = captureTime;
  if (start + pager.limit < entries.length) out.NextToken = pager.next(start + pager.limit);
  return out;
}

export const inventoryOperations = defineOperations({
  PutInventory: putInventory,
  ListInventoryEntries: listInventoryEntries,
});
