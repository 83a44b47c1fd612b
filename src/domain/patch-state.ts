// Patch compliance states, per-node counters and compliance summaries (semantics §2, §3, §10). Pure.

/** AWS's wire spelling (CamelCase, as DescribeInstancePatches emits it) — Patchline's canonical form. */
export const PATCH_STATES = [
  'Installed', 'InstalledOther', 'InstalledPendingReboot', 'InstalledRejected', 'Missing', 'Failed', 'NotApplicable', 'AvailableSecurityUpdate',
] as const;
export type PatchState = (typeof PATCH_STATES)[number];

/** The model enum's spelling of each state (INSTALLED, …), accepted on input everywhere. */
export const MODEL_STATE: Record<PatchState, string> = {
  Installed: 'INSTALLED',
  InstalledOther: 'INSTALLED_OTHER',
  InstalledPendingReboot: 'INSTALLED_PENDING_REBOOT',
  InstalledRejected: 'INSTALLED_REJECTED',
  Missing: 'MISSING',
  Failed: 'FAILED',
  NotApplicable: 'NOT_APPLICABLE',
  AvailableSecurityUpdate: 'AVAILABLE_SECURITY_UPDATE',
};
const BY_SPELLING = new Map<string, PatchState>();
for (const s of PATCH_STATES) {
  BY_SPELLING.set(s, s);
  BY_SPELLING.set(MODEL_STATE[s], s);
}

/** Either spelling → the canonical state; undefined for anything else. */
export function parseState(value: string): PatchState | undefined {
  return BY_SPELLING.get(value);
}

/** States that make a node non-compliant (semantics §3.1). */
const NON_COMPLIANT = new Set<PatchState>(['Missing', 'Failed', 'InstalledRejected', 'InstalledPendingReboot']);

export function isNonCompliantState(state: PatchState, availableSecurityUpdatesNonCompliant = false): boolean {
  return NON_COMPLIANT.has(state) || (state === 'AvailableSecurityUpdate' && availableSecurityUpdatesNonCompliant);
}

/** One row of DescribeInstancePatches, plus the compliance level the baseline gave the patch. */
export interface PatchRow {
  Title: string;
  KBId: string;
  Classification: string;
  Severity: string;
  State: PatchState;
  /** Epoch seconds; 0 when not installed. */
  InstalledTime: number;
  /** Comma-separated CVE ids. */
  CVEIds?: string;
  /** The approving rule's ComplianceLevel (UNSPECIFIED when unknown). */
  ComplianceLevel?: string;
}

export const COUNTER_NAMES = [
  'InstalledCount', 'InstalledOtherCount', 'InstalledPendingRebootCount', 'InstalledRejectedCount', 'MissingCount', 'FailedCount',
  'NotApplicableCount', 'UnreportedNotApplicableCount', 'AvailableSecurityUpdateCount', 'CriticalNonCompliantCount',
  'SecurityNonCompliantCount', 'OtherNonCompliantCount',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

/** Store column for each counter. */
export const COUNTER_COLUMN = {
  InstalledCount: 'installed',
  InstalledOtherCount: 'installed_other',
  InstalledPendingRebootCount: 'installed_pending_reboot',
  InstalledRejectedCount: 'installed_rejected',
  MissingCount: 'missing',
  FailedCount: 'failed',
  NotApplicableCount: 'not_applicable',
  UnreportedNotApplicableCount: 'unreported_not_applicable',
  AvailableSecurityUpdateCount: 'available_security_update',
  CriticalNonCompliantCount: 'critical_non_compliant',
  SecurityNonCompliantCount: 'security_non_compliant',
  OtherNonCompliantCount: 'other_non_compliant',
} as const satisfies Record<CounterName, string>;

/** DescribePatchGroupState member for each counter (nodes with that counter > 0). */
export const GROUP_STATE_MEMBER = {
  InstalledCount: 'InstancesWithInstalledPatches',
  InstalledOtherCount: 'InstancesWithInstalledOtherPatches',
  InstalledPendingRebootCount: 'InstancesWithInstalledPendingRebootPatches',
  InstalledRejectedCount: 'InstancesWithInstalledRejectedPatches',
  MissingCount: 'InstancesWithMissingPatches',
  FailedCount: 'InstancesWithFailedPatches',
  NotApplicableCount: 'InstancesWithNotApplicablePatches',
  UnreportedNotApplicableCount: 'InstancesWithUnreportedNotApplicablePatches',
  AvailableSecurityUpdateCount: 'InstancesWithAvailableSecurityUpdates',
  CriticalNonCompliantCount: 'InstancesWithCriticalNonCompliantPatches',
  SecurityNonCompliantCount: 'InstancesWithSecurityNonCompliantPatches',
  OtherNonCompliantCount: 'InstancesWithOtherNonCompliantPatches',
} as const satisfies Record<CounterName, string>;

export function zeroCounters(): Counters {
  const c = {} as Counters;
  for (const n of COUNTER_NAMES) c[n] = 0;
  return c;
}

const SECURITY_CLASSIFICATIONS = new Set(['Security', 'SecurityUpdates', 'security']);

/**
 * Counters from rows (for reports Patchline evaluates itself). Critical = non-compliant with level CRITICAL;
 * Security = non-compliant with a security classification; Other = non-compliant and neither (semantics §3.1).
 */
export function countersFromRows(rows: readonly PatchRow[], options: { unreportedNotApplicable?: number; availableSecurityUpdatesNonCompliant?: boolean } = {}): Counters {
  const c = zeroCounters();
  for (const r of rows) {
    switch (r.State) {
      case 'Installed': c.InstalledCount++; break;
      case 'InstalledOther': c.InstalledOtherCount++; break;
      case 'InstalledPendingReboot': c.InstalledPendingRebootCount++; break;
      case 'InstalledRejected': c.InstalledRejectedCount++; break;
      case 'Missing': c.MissingCount++; break;
      case 'Failed': c.FailedCount++; break;
      case 'NotApplicable': c.NotApplicableCount++; break;
      case 'AvailableSecurityUpdate': c.AvailableSecurityUpdateCount++; break;
    }
    if (isNonCompliantState(r.State, options.availableSecurityUpdatesNonCompliant)) {
      const critical = r.ComplianceLevel === 'CRITICAL';
      const security = SECURITY_CLASSIFICATIONS.has(r.Classification);
      if (critical) c.CriticalNonCompliantCount++;
      if (security) c.SecurityNonCompliantCount++;
      if (!critical && !security) c.OtherNonCompliantCount++;
    }
  }
  c.UnreportedNotApplicableCount = options.unreportedNotApplicable ?? 0;
  return c;
}

/** A node's contribution to its group's DescribePatchGroupState: 1 instance, and 1 for each counter > 0. */
export function groupContribution(c: Counters): { instances: number } & Record<CounterName, number> {
  const out = { instances: 1 } as { instances: number } & Record<CounterName, number>;
  for (const n of COUNTER_NAMES) out[n] = c[n] > 0 ? 1 : 0;
  return out;
}

// ---- compliance ------------------------------------------------------------------------------------------------

export const COMPLIANCE_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNSPECIFIED'] as const;
export type ComplianceSeverity = (typeof COMPLIANCE_SEVERITIES)[number];
const SEVERITY_RANK: Record<string, number> = { CRITICAL: 6, HIGH: 5, MEDIUM: 4, LOW: 3, INFORMATIONAL: 2, UNSPECIFIED: 1 };

export interface ComplianceItemRecord {
  Id?: string;
  Title?: string;
  /** COMPLIANT, NON_COMPLIANT, or '' (not applicable). */
  Status: string;
  Severity: string;
  Details?: Record<string, string>;
}

export interface ComplianceSummary {
  status: 'COMPLIANT' | 'NON_COMPLIANT';
  overallSeverity: ComplianceSeverity;
  compliant: Record<ComplianceSeverity, number>;
  nonCompliant: Record<ComplianceSeverity, number>;
}

const zeroSeverities = (): Record<ComplianceSeverity, number> => ({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNSPECIFIED: 0 });

/**
 * One resource's summary for one compliance type: item counts by status and severity; NON_COMPLIANT if any item
 * is; the overall severity is the highest severity among non-compliant items, or among all items when compliant.
 */
export function summarizeCompliance(items: readonly ComplianceItemRecord[]): ComplianceSummary {
  const compliant = zeroSeverities();
  const nonCompliant = zeroSeverities();
  let worstNc = 0;
  let worstAll = 0;
  for (const item of items) {
    const sev = (item.Severity in SEVERITY_RANK ? item.Severity : 'UNSPECIFIED') as ComplianceSeverity;
    const rank = SEVERITY_RANK[sev]!;
    if (item.Status === 'NON_COMPLIANT') {
      nonCompliant[sev]++;
      worstNc = Math.max(worstNc, rank);
    } else if (item.Status === 'COMPLIANT') {
      compliant[sev]++;
    }
    if (item.Status !== '') worstAll = Math.max(worstAll, rank);
  }
  const rankToSeverity = (r: number): ComplianceSeverity => COMPLIANCE_SEVERITIES.find((s) => SEVERITY_RANK[s] === r) ?? 'UNSPECIFIED';
  const status = worstNc > 0 ? 'NON_COMPLIANT' : 'COMPLIANT';
  return { status, overallSeverity: rankToSeverity(status === 'NON_COMPLIANT' ? worstNc : worstAll), compliant, nonCompliant };
}

/**
 * Patch rows → compliance items of type Patch (semantics §3.2). AvailableSecurityUpdate items are NON_COMPLIANT when
 * the baseline said so (`availableSecurityUpdatesNonCompliant`, see availableSecurityUpdatesCountedNonCompliant).
 */
export function patchComplianceItems(rows: readonly PatchRow[], context: { baselineId: string; patchGroup: string; availableSecurityUpdatesNonCompliant?: boolean }): ComplianceItemRecord[] {
  return rows.map((r) => {
    const status = r.State === 'NotApplicable' ? '' : isNonCompliantState(r.State, context.availableSecurityUpdatesNonCompliant) ? 'NON_COMPLIANT' : 'COMPLIANT';
    const details: Record<string, string> = {
      Classification: r.Classification,
      PatchSeverity: r.Severity,
      PatchState: r.State,
      PatchBaselineId: context.baselineId,
      PatchGroup: context.patchGroup,
      InstalledTime: r.InstalledTime > 0 ? new Date(r.InstalledTime * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : '',
      DocumentName: 'AWS-RunPatchBaseline',
    };
    if (r.CVEIds) details.CVEIds = r.CVEIds;
    return { Id: r.KBId, Title: r.Title, Status: status, Severity: r.ComplianceLevel ?? 'UNSPECIFIED', Details: details };
  });
}

/**
 * Whether a node's stored Patch compliance summary (its `non_compliant_<severity>` item counts, written with the rows)
 * counted the AvailableSecurityUpdate rows as non-compliant, i.e. the baseline's AvailableSecurityUpdatesComplianceStatus
 * was NON_COMPLIANT when the rows were evaluated. Readers that derive the items from the rows pass it to
 * patchComplianceItems, so each item's Status agrees with the summary.
 */
export function availableSecurityUpdatesCountedNonCompliant(rows: readonly PatchRow[], summary: object | undefined): boolean {
  if (summary === undefined) return false;
  let nonCompliantRows = 0;
  let available = 0;
  for (const r of rows) {
    if (isNonCompliantState(r.State)) nonCompliantRows++;
    else if (r.State === 'AvailableSecurityUpdate') available++;
  }
  if (available === 0) return false;
  const counts = summary as Record<string, unknown>;
  const counted = COMPLIANCE_SEVERITIES.reduce((n, s) => n + Number(counts[`non_compliant_${s.toLowerCase()}`] ?? 0), 0);
  return counted > nonCompliantRows;
}

/** A resource's contribution to ListComplianceSummaries: 1 in the bucket of its status and overall severity. */
export function complianceContribution(summary: ComplianceSummary): { compliant: Record<ComplianceSeverity, number>; nonCompliant: Record<ComplianceSeverity, number> } {
  const compliant = zeroSeverities();
  const nonCompliant = zeroSeverities();
  (summary.status === 'COMPLIANT' ? compliant : nonCompliant)[summary.overallSeverity] = 1;
  return { compliant, nonCompliant };
}

/** summarizeCompliance(patchComplianceItems(rows)) without building the items (the re-evaluation hot path). */
export function summarizePatchRows(rows: readonly PatchRow[], availableSecurityUpdatesNonCompliant = false): ComplianceSummary {
  const compliant = zeroSeverities();
  const nonCompliant = zeroSeverities();
  let worstNc = 0;
  let worstAll = 0;
  for (const r of rows) {
    if (r.State === 'NotApplicable') continue;
    const sev = (r.ComplianceLevel !== undefined && r.ComplianceLevel in SEVERITY_RANK ? r.ComplianceLevel : 'UNSPECIFIED') as ComplianceSeverity;
    const rank = SEVERITY_RANK[sev]!;
    if (isNonCompliantState(r.State, availableSecurityUpdatesNonCompliant)) {
      nonCompliant[sev]++;
      if (rank > worstNc) worstNc = rank;
    } else compliant[sev]++;
    if (rank > worstAll) worstAll = rank;
  }
  const rankToSeverity = (r: number): ComplianceSeverity => COMPLIANCE_SEVERITIES.find((s) => SEVERITY_RANK[s] === r) ?? 'UNSPECIFIED';
  const status = worstNc > 0 ? 'NON_COMPLIANT' : 'COMPLIANT';
  return { status, overallSeverity: rankToSeverity(status === 'NON_COMPLIANT' ? worstNc : worstAll), compliant, nonCompliant };
}
