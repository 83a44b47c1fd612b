// The AWS inventory types the SSM agent reports patching results with (AWS:PatchSummary, AWS:PatchCompliance,
// AWS:ComplianceItem) and AWS:InstanceInformation: attribute sets, parsing of their string values into typed
// records, and the reverse rendering for ListInventoryEntries. Pure; errors are returned as messages.

import { parseState, type PatchRow, type Counters, COUNTER_NAMES, type ComplianceItemRecord } from './patch-state.ts';

export const PATCH_SUMMARY = 'AWS:PatchSummary';
export const PATCH_COMPLIANCE = 'AWS:PatchCompliance';
export const COMPLIANCE_ITEM = 'AWS:ComplianceItem';
export const INSTANCE_INFORMATION = 'AWS:InstanceInformation';

/** AWS inventory types Patchline accepts. The patch types have meaning; the others are stored and listed back. */
export const KNOWN_AWS_TYPES = new Set([
  PATCH_SUMMARY, PATCH_COMPLIANCE, COMPLIANCE_ITEM, INSTANCE_INFORMATION, 'AWS:ComplianceSummary', 'AWS:Application', 'AWS:AWSComponent',
  'AWS:Network', 'AWS:WindowsUpdate', 'AWS:Service', 'AWS:WindowsRole', 'AWS:Tag', 'AWS:File', 'AWS:Registry', 'AWS:BillingInfo',
  'AWS:InstanceDetailedInformation', 'AWS:Resource',
]);

export const PATCH_SUMMARY_ATTRIBUTES = [
  'PatchGroup', 'BaselineId', 'SnapshotId', 'OwnerInformation', 'ExecutionId', 'NonCompliantSeverity', ...COUNTER_NAMES,
  'OperationType', 'OperationStartTime', 'OperationEndTime', 'RebootOption', 'InstallOverrideList', 'LastNoRebootInstallOperationTime',
] as const;
export const PATCH_COMPLIANCE_ATTRIBUTES = ['Title', 'KBId', 'Classification', 'Severity', 'State', 'InstalledTime', 'CVEIds'] as const;
export const COMPLIANCE_ITEM_ATTRIBUTES = [
  'Id', 'Title', 'Status', 'Severity', 'DocumentName', 'DocumentVersion', 'Classification', 'PatchBaselineId', 'PatchSeverity', 'PatchState',
  'PatchGroup', 'InstalledTime', 'InstallOverrideList', 'DetailedText', 'DetailedLink', 'CVEIds',
] as const;
export const COMPLIANCE_ITEM_CONTEXT = ['ComplianceType', 'ExecutionId', 'ExecutionType', 'ExecutionTime'] as const;
export const INSTANCE_INFORMATION_ATTRIBUTES = [
  'AgentType', 'AgentVersion', 'ComputerName', 'InstanceId', 'IpAddress', 'PlatformName', 'PlatformType', 'PlatformVersion', 'ResourceType', 'InstanceStatus',
] as const;

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

/** ISO-8601 UTC (`2026-11-20T10:00:00Z`, fractions allowed) → epoch ms; NaN when malformed or not a real date. */
export function parseIsoUtc(value: string): number {
  const m = ISO_UTC.exec(value);
  if (!m) return Number.NaN;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + (m[7] ? Math.round(Number(m[7]) * 1000) : 0);
  const d = new Date(ms);
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]! && +m[4]! < 24 && +m[5]! < 60 && +m[6]! < 60 ? ms : Number.NaN;
}

export function formatIsoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

type Entry = Record<string, string>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function unknownAttributes(entry: Entry, allowed: readonly string[], typeName: string): string | undefined {
  const extra = Object.keys(entry).filter((k) => !allowed.includes(k));
  return extra.length === 0 ? undefined : `Attribute(s) ${extra.map((k) => `'${k}'`).join(', ')} are not part of the ${typeName} schema.`;
}

const BASELINE_ID = /^[a-zA-Z0-9_\-:/]{20,128}$/;
const SNAPSHOT_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PATCH_GROUP = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const OVERRIDE_LIST = /^https:\/\/.+$|^s3:\/\/([^/]+)\/(.*?([^/]+))$/;

export interface PatchSummaryRecord {
  patchGroup: string;
  baselineId: string;
  snapshotId?: string;
  ownerInformation?: string;
  installOverrideList?: string;
  counters: Counters;
  operation: 'Scan' | 'Install';
  operationStart: number;
  operationEnd: number;
  rebootOption?: string;
  lastNoRebootInstall?: number;
}

/** AWS:PatchSummary's single entry → a summary; counts are decimal strings ("-1" only for UnreportedNotApplicableCount). */
export function parsePatchSummary(entry: Entry): Parsed<PatchSummaryRecord> {
  const bad = (message: string): Parsed<PatchSummaryRecord> => ({ ok: false, message: `${PATCH_SUMMARY}: ${message}` });
  const unknown = unknownAttributes(entry, PATCH_SUMMARY_ATTRIBUTES, PATCH_SUMMARY);
  if (unknown) return { ok: false, message: unknown };
  const baselineId = entry.BaselineId ?? '';
  if (!BASELINE_ID.test(baselineId)) return bad(`BaselineId '${baselineId}' must match ^[a-zA-Z0-9_\\-:/]{20,128}$.`);
  const patchGroup = entry.PatchGroup ?? '';
  if (patchGroup.length > 256 || !PATCH_GROUP.test(patchGroup)) return bad(`PatchGroup '${patchGroup}' is not a valid patch group name.`);
  const operation = entry.OperationType;
  if (operation !== 'Scan' && operation !== 'Install') return bad(`OperationType must be Scan or Install, got '${operation ?? ''}'.`);
  const start = parseIsoUtc(entry.OperationStartTime ?? '');
  const end = parseIsoUtc(entry.OperationEndTime ?? '');
  if (Number.isNaN(start)) return bad(`OperationStartTime '${entry.OperationStartTime ?? ''}' must be an ISO-8601 UTC time such as 2026-11-20T10:00:00Z.`);
  if (Number.isNaN(end)) return bad(`OperationEndTime '${entry.OperationEndTime ?? ''}' must be an ISO-8601 UTC time such as 2026-11-20T10:00:00Z.`);
  if (end < start) return bad('OperationEndTime is earlier than OperationStartTime.');
  const counters = {} as Counters;
  for (const name of COUNTER_NAMES) {
    const raw = entry[name];
    if (raw === undefined || raw === '') {
      counters[name] = name === 'UnreportedNotApplicableCount' ? -1 : 0;
      continue;
    }
    const allowNegative = name === 'UnreportedNotApplicableCount';
    if (!(allowNegative ? /^(-1|\d{1,9})$/ : /^\d{1,9}$/).test(raw)) return bad(`${name} must be a non-negative decimal integer string, got '${raw}'.`);
    counters[name] = Number(raw);
  }
  const out: PatchSummaryRecord = { patchGroup, baselineId, counters, operation, operationStart: start, operationEnd: end };
  if (entry.SnapshotId) {
    if (!SNAPSHOT_ID.test(entry.SnapshotId)) return bad(`SnapshotId '${entry.SnapshotId}' must be a UUID.`);
    out.snapshotId = entry.SnapshotId;
  }
  if (entry.OwnerInformation) out.ownerInformation = entry.OwnerInformation;
  if (entry.InstallOverrideList) {
    if (!OVERRIDE_LIST.test(entry.InstallOverrideList)) return bad('InstallOverrideList must be an https:// or s3:// URL.');
    out.installOverrideList = entry.InstallOverrideList;
  }
  if (entry.RebootOption) {
    if (entry.RebootOption !== 'RebootIfNeeded' && entry.RebootOption !== 'NoReboot') return bad(`RebootOption must be RebootIfNeeded or NoReboot, got '${entry.RebootOption}'.`);
    out.rebootOption = entry.RebootOption;
  }
  if (entry.LastNoRebootInstallOperationTime) {
    const t = parseIsoUtc(entry.LastNoRebootInstallOperationTime);
    if (Number.isNaN(t)) return bad(`LastNoRebootInstallOperationTime '${entry.LastNoRebootInstallOperationTime}' must be an ISO-8601 UTC time.`);
    out.lastNoRebootInstall = t;
  }
  return { ok: true, value: out };
}

/** AWS:PatchCompliance entries → patch rows. State in either spelling; InstalledTime ISO-8601 or empty. */
export function parsePatchCompliance(entries: Entry[]): Parsed<PatchRow[]> {
  const rows: PatchRow[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const where = `${PATCH_COMPLIANCE} entry ${i + 1}`;
    const unknown = unknownAttributes(e, PATCH_COMPLIANCE_ATTRIBUTES, PATCH_COMPLIANCE);
    if (unknown) return { ok: false, message: `${where}: ${unknown}` };
    const state = parseState(e.State ?? '');
    if (state === undefined) return { ok: false, message: `${where}: State '${e.State ?? ''}' is not a patch state (Installed, InstalledOther, InstalledPendingReboot, InstalledRejected, Missing, Failed, NotApplicable, AvailableSecurityUpdate, or the INSTALLED… spelling).` };
    if (!e.KBId) return { ok: false, message: `${where}: KBId is required.` };
    let installed = 0;
    if (e.InstalledTime) {
      const t = parseIsoUtc(e.InstalledTime);
      if (Number.isNaN(t)) return { ok: false, message: `${where}: InstalledTime '${e.InstalledTime}' must be an ISO-8601 UTC time or empty.` };
      installed = t / 1000;
    }
    const row: PatchRow = { Title: e.Title ?? '', KBId: e.KBId, Classification: e.Classification ?? '', Severity: e.Severity ?? '', State: state, InstalledTime: installed };
    if (e.CVEIds) row.CVEIds = e.CVEIds;
    rows[i] = row;
  }
  return { ok: true, value: rows };
}

const COMPLIANCE_STATUS = new Set(['COMPLIANT', 'NON_COMPLIANT', '']);
const COMPLIANCE_SEVERITY = new Set(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNSPECIFIED']);

export interface ComplianceItemContext {
  complianceType: string;
  executionId?: string;
  executionType?: string;
  executionTime?: number;
}

/** AWS:ComplianceItem's Context → compliance type and execution summary. */
export function parseComplianceContext(context: Entry | undefined): Parsed<ComplianceItemContext> {
  if (context === undefined) return { ok: false, message: `${COMPLIANCE_ITEM} requires a Context with ComplianceType.` };
  const unknown = Object.keys(context).filter((k) => !(COMPLIANCE_ITEM_CONTEXT as readonly string[]).includes(k));
  if (unknown.length > 0) return { ok: false, message: `Context key(s) ${unknown.join(', ')} are not valid for ${COMPLIANCE_ITEM}; valid keys: ${COMPLIANCE_ITEM_CONTEXT.join(', ')}.` };
  const type = context.ComplianceType ?? '';
  if (!/^([A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+)$/.test(type) || type.length > 100) return { ok: false, message: `Context ComplianceType '${type}' is not a valid compliance type (Patch, Association or Custom:<name>).` };
  const out: ComplianceItemContext = { complianceType: type };
  if (context.ExecutionId) out.executionId = context.ExecutionId;
  if (context.ExecutionType) out.executionType = context.ExecutionType;
  if (context.ExecutionTime) {
    const t = /^\d+(\.\d+)?$/.test(context.ExecutionTime) ? Math.round(Number(context.ExecutionTime) * 1000) : parseIsoUtc(context.ExecutionTime);
    if (Number.isNaN(t)) return { ok: false, message: `Context ExecutionTime '${context.ExecutionTime}' must be ISO-8601 UTC or epoch seconds.` };
    out.executionTime = t;
  }
  return { ok: true, value: out };
}

/** AWS:ComplianceItem entries → compliance items (Id, Title, Status, Severity; the rest become Details). */
export function parseComplianceItems(entries: Entry[]): Parsed<ComplianceItemRecord[]> {
  const items: ComplianceItemRecord[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const where = `${COMPLIANCE_ITEM} entry ${i + 1}`;
    const unknown = unknownAttributes(e, COMPLIANCE_ITEM_ATTRIBUTES, COMPLIANCE_ITEM);
    if (unknown) return { ok: false, message: `${where}: ${unknown}` };
    const status = e.Status ?? '';
    if (!COMPLIANCE_STATUS.has(status)) return { ok: false, message: `${where}: Status must be COMPLIANT, NON_COMPLIANT or empty, got '${status}'.` };
    const severity = e.Severity || 'UNSPECIFIED';
    if (!COMPLIANCE_SEVERITY.has(severity)) return { ok: false, message: `${where}: Severity must be one of ${[...COMPLIANCE_SEVERITY].join(', ')}, got '${severity}'.` };
    const { Id, Title, Status: _s, Severity: _v, ...details } = e;
    const item: ComplianceItemRecord = { Status: status, Severity: severity };
    if (Id !== undefined) item.Id = Id;
    if (Title !== undefined) item.Title = Title;
    if (Object.keys(details).length > 0) item.Details = details;
    items.push(item);
  }
  return { ok: true, value: items };
}

/** A stored summary → the AWS:PatchSummary entry ListInventoryEntries returns. */
export function renderPatchSummary(s: PatchSummaryRecord): Entry {
  const e: Entry = { PatchGroup: s.patchGroup, BaselineId: s.baselineId };
  if (s.snapshotId) e.SnapshotId = s.snapshotId;
  if (s.ownerInformation) e.OwnerInformation = s.ownerInformation;
  for (const n of COUNTER_NAMES) e[n] = String(s.counters[n]);
  e.OperationType = s.operation;
  e.OperationStartTime = formatIsoUtc(s.operationStart);
  e.OperationEndTime = formatIsoUtc(s.operationEnd);
  if (s.rebootOption) e.RebootOption = s.rebootOption;
  if (s.installOverrideList) e.InstallOverrideList = s.installOverrideList;
  if (s.lastNoRebootInstall !== undefined) e.LastNoRebootInstallOperationTime = formatIsoUtc(s.lastNoRebootInstall);
  return e;
}

/** Patch rows → AWS:PatchCompliance entries. */
export function renderPatchCompliance(rows: readonly PatchRow[]): Entry[] {
  return rows.map((r) => {
    const e: Entry = { Title: r.Title, KBId: r.KBId, Classification: r.Classification, Severity: r.Severity, State: r.State, InstalledTime: r.InstalledTime > 0 ? formatIsoUtc(r.InstalledTime * 1000) : '' };
    if (r.CVEIds) e.CVEIds = r.CVEIds;
    return e;
  });
}

/** Compliance items → AWS:ComplianceItem entries. */
export function renderComplianceItems(items: readonly ComplianceItemRecord[]): Entry[] {
  return items.map((i) => {
    const e: Entry = {};
    if (i.Id !== undefined) e.Id = i.Id;
    if (i.Title !== undefined) e.Title = i.Title;
    e.Status = i.Status;
    e.Severity = i.Severity;
    return { ...e, ...i.Details };
  });
}
