// Patch baselines as the domain sees them: the definition, its defaults, and the semantic checks that the AWS
// model cannot express (approval dates per rule, filter keys and values per operating system, list formats).
// Pure: no I/O. Wire shapes follow the model's member names so handlers pass them through unchanged.

import { patchPropertyValues, productLooksValid } from './patch-properties.ts';
import { FILTER_KEYS, osFamily, type OsFamily } from './os-family.ts';

export { FILTER_KEYS, osFamily, type OsFamily };

export interface PatchFilter {
  Key: string;
  Values: string[];
}
export interface PatchFilterGroup {
  PatchFilters: PatchFilter[];
}
export interface PatchRule {
  PatchFilterGroup: PatchFilterGroup;
  ComplianceLevel?: string;
  ApproveAfterDays?: number;
  ApproveUntilDate?: string;
  EnableNonSecurity?: boolean;
}
export interface PatchSource {
  Name: string;
  Products: string[];
  Configuration: string;
}

/** Everything that defines a baseline's behaviour, with every default materialised. */
export interface BaselineDefinition {
  Name: string;
  OperatingSystem: string;
  Description?: string;
  GlobalFilters: PatchFilterGroup;
  ApprovalRules: { PatchRules: PatchRule[] };
  ApprovedPatches: string[];
  ApprovedPatchesComplianceLevel: string;
  ApprovedPatchesEnableNonSecurity: boolean;
  RejectedPatches: string[];
  RejectedPatchesAction: string;
  Sources: PatchSource[];
  AvailableSecurityUpdatesComplianceStatus?: string;
}

/** The members that decide approval, as GetPatchBaseline and snapshot documents show them. */
export type BaselineRuleMembers = Pick<BaselineDefinition, 'GlobalFilters' | 'ApprovalRules' | 'ApprovedPatches' | 'ApprovedPatchesComplianceLevel'
  | 'ApprovedPatchesEnableNonSecurity' | 'RejectedPatches' | 'RejectedPatchesAction' | 'Sources' | 'AvailableSecurityUpdatesComplianceStatus'>;

export function ruleMembers(b: BaselineDefinition): BaselineRuleMembers {
  const out: BaselineRuleMembers = {
    GlobalFilters: b.GlobalFilters,
    ApprovalRules: b.ApprovalRules,
    ApprovedPatches: b.ApprovedPatches,
    ApprovedPatchesComplianceLevel: b.ApprovedPatchesComplianceLevel,
    ApprovedPatchesEnableNonSecurity: b.ApprovedPatchesEnableNonSecurity,
    RejectedPatches: b.RejectedPatches,
    RejectedPatchesAction: b.RejectedPatchesAction,
    Sources: b.Sources,
  };
  if (b.AvailableSecurityUpdatesComplianceStatus !== undefined) out.AvailableSecurityUpdatesComplianceStatus = b.AvailableSecurityUpdatesComplianceStatus;
  return out;
}

export interface Baseline extends BaselineDefinition {
  BaselineId: string;
  /** 'AWS' for the predefined baselines, 'Self' for the operator's own. */
  owner: 'AWS' | 'Self';
  /** Epoch milliseconds. */
  CreatedDate: number;
  ModifiedDate: number;
}

/** The members of a baseline that CreatePatchBaseline / UpdatePatchBaseline may carry. */
export const DEFINITION_MEMBERS = [
  'Name', 'Description', 'GlobalFilters', 'ApprovalRules', 'ApprovedPatches', 'ApprovedPatchesComplianceLevel',
  'ApprovedPatchesEnableNonSecurity', 'RejectedPatches', 'RejectedPatchesAction', 'Sources', 'AvailableSecurityUpdatesComplianceStatus',
] as const;

/** Keys whose values come from a closed list (DescribePatchProperties), checked strictly. */
const ENUMERATED_KEYS = new Set(['CLASSIFICATION', 'SEVERITY', 'MSRC_SEVERITY', 'PRIORITY', 'PATCH_SET']);

export function emptyDefinition(name: string, os: string): BaselineDefinition {
  return {
    Name: name,
    OperatingSystem: os,
    GlobalFilters: { PatchFilters: [] },
    ApprovalRules: { PatchRules: [] },
    ApprovedPatches: [],
    ApprovedPatchesComplianceLevel: 'UNSPECIFIED',
    ApprovedPatchesEnableNonSecurity: false,
    RejectedPatches: [],
    RejectedPatchesAction: 'ALLOW_AS_DEPENDENCY',
    Sources: [],
  };
}

/** Materialises the defaults AWS shows on read: each rule's ComplianceLevel and EnableNonSecurity. */
export function normalizeRule(rule: PatchRule): PatchRule {
  const out: PatchRule = {
    PatchFilterGroup: { PatchFilters: rule.PatchFilterGroup.PatchFilters.map((f) => ({ Key: f.Key, Values: [...f.Values] })) },
    ComplianceLevel: rule.ComplianceLevel ?? 'UNSPECIFIED',
  };
  if (rule.ApproveAfterDays !== undefined) out.ApproveAfterDays = rule.ApproveAfterDays;
  if (rule.ApproveUntilDate !== undefined) out.ApproveUntilDate = rule.ApproveUntilDate;
  out.EnableNonSecurity = rule.EnableNonSecurity ?? false;
  return out;
}

/**
 * Applies request members to a definition. With `replace` (UpdatePatchBaseline Replace=true, and every
 * CreatePatchBaseline) members absent from the request fall back to their defaults; otherwise they are kept.
 */
export function applyDefinitionInput(base: BaselineDefinition, input: Partial<Record<(typeof DEFINITION_MEMBERS)[number], unknown>>, replace: boolean): BaselineDefinition {
  const start = replace ? { ...emptyDefinition(base.Name, base.OperatingSystem) } : { ...base };
  const out: BaselineDefinition = { ...start };
  const given = <K extends keyof typeof input>(k: K) => input[k] !== undefined && input[k] !== null;
  if (given('Name')) out.Name = input.Name as string;
  if (given('Description')) out.Description = input.Description as string;
  else if (replace) delete out.Description;
  if (given('GlobalFilters')) out.GlobalFilters = { PatchFilters: ((input.GlobalFilters as PatchFilterGroup).PatchFilters ?? []).map((f) => ({ Key: f.Key, Values: [...f.Values] })) };
  if (given('ApprovalRules')) out.ApprovalRules = { PatchRules: ((input.ApprovalRules as { PatchRules: PatchRule[] }).PatchRules ?? []).map(normalizeRule) };
  if (given('ApprovedPatches')) out.ApprovedPatches = [...(input.ApprovedPatches as string[])];
  if (given('ApprovedPatchesComplianceLevel')) out.ApprovedPatchesComplianceLevel = input.ApprovedPatchesComplianceLevel as string;
  if (given('ApprovedPatchesEnableNonSecurity')) out.ApprovedPatchesEnableNonSecurity = input.ApprovedPatchesEnableNonSecurity as boolean;
  if (given('RejectedPatches')) out.RejectedPatches = [...(input.RejectedPatches as string[])];
  if (given('RejectedPatchesAction')) out.RejectedPatchesAction = input.RejectedPatchesAction as string;
  if (given('Sources')) out.Sources = (input.Sources as PatchSource[]).map((s) => ({ Name: s.Name, Products: [...s.Products], Configuration: s.Configuration }));
  if (given('AvailableSecurityUpdatesComplianceStatus')) out.AvailableSecurityUpdatesComplianceStatus = input.AvailableSecurityUpdatesComplianceStatus as string;
  else if (replace) delete out.AvailableSecurityUpdatesComplianceStatus;
  return out;
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A YYYY-MM-DD date that exists on the calendar. */
export function isCalendarDate(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

/**
 * Checks what the model cannot: returns human-readable problems (empty when the definition is acceptable).
 * Messages follow AWS's observed style where one is known (`Invalid Filter Value: … for Key: …, valid values are: …`).
 */
export function checkDefinition(def: BaselineDefinition): string[] {
  const problems: string[] = [];
  const family = osFamily(def.OperatingSystem);
  const checkGroup = (group: PatchFilterGroup, where: string, global: boolean) => {
    const seen = new Set<string>();
    for (const filter of group.PatchFilters) {
      if (seen.has(filter.Key)) problems.push(`Duplicate filter key ${filter.Key} in ${where}; give each key once with all its values.`);
      seen.add(filter.Key);
      if (!FILTER_KEYS[family].includes(filter.Key) || (filter.Key === 'PATCH_ID' && !global)) {
        const keys = FILTER_KEYS[family].filter((k) => global || k !== 'PATCH_ID');
        problems.push(`Invalid Filter Key: ${filter.Key} for operating system ${def.OperatingSystem} in ${where}, valid keys are: ${keys.join(', ')}`);
        continue;
      }
      for (const value of filter.Values) {
        if (value === '*') continue;
        if (ENUMERATED_KEYS.has(filter.Key)) {
          const valid = filter.Key === 'PATCH_SET' ? ['OS', 'APPLICATION'] : patchPropertyValues(def.OperatingSystem, filter.Key);
          if (valid !== undefined && valid.length > 0 && !valid.includes(value)) {
            problems.push(`Invalid Filter Value: ${value} for Key: ${filter.Key}, valid values are: ${valid.join(', ')}`);
          }
        } else if (filter.Key === 'PRODUCT' && !productLooksValid(def.OperatingSystem, value)) {
          const known = patchPropertyValues(def.OperatingSystem, 'PRODUCT') ?? [];
          problems.push(`Invalid Filter Value: ${value} for Key: PRODUCT, valid values are: ${known.join(', ')}`);
        } else if (filter.Key === 'SECURITY' && value !== 'SecurityUpdates' && value !== 'NonSecurityUpdates') {
          problems.push(`Invalid Filter Value: ${value} for Key: SECURITY, valid values are: SecurityUpdates, NonSecurityUpdates`);
        }
      }
    }
  };
  checkGroup(def.GlobalFilters, 'GlobalFilters', true);
  def.ApprovalRules.PatchRules.forEach((rule, i) => {
    const where = `ApprovalRules.PatchRules[${i}]`;
    checkGroup(rule.PatchFilterGroup, where, false);
    const hasDays = rule.ApproveAfterDays !== undefined;
    const hasDate = rule.ApproveUntilDate !== undefined;
    if (hasDays && hasDate) problems.push(`${where}: specify either ApproveAfterDays or ApproveUntilDate, not both.`);
    if (!hasDays && !hasDate && family !== 'apt') problems.push(`${where}: your request must include a value for either ApproveAfterDays or ApproveUntilDate.`);
    if (hasDate && !isCalendarDate(rule.ApproveUntilDate!)) problems.push(`${where}: ApproveUntilDate '${rule.ApproveUntilDate}' must be a date in the format YYYY-MM-DD.`);
  });
  const listProblem = (list: string[], member: string) => {
    const seen = new Set<string>();
    for (const entry of list) {
      if (seen.has(entry)) problems.push(`Duplicate entry '${entry}' in ${member}.`);
      seen.add(entry);
      const why = patchListEntryProblem(family, entry, member === 'RejectedPatches');
      if (why !== undefined) problems.push(`Invalid entry '${entry}' in ${member}: ${why}`);
    }
  };
  listProblem(def.ApprovedPatches, 'ApprovedPatches');
  listProblem(def.RejectedPatches, 'RejectedPatches');
  if (family !== 'windows' && def.AvailableSecurityUpdatesComplianceStatus !== undefined) {
    problems.push('AvailableSecurityUpdatesComplianceStatus applies to WINDOWS baselines only.');
  }
  if ((family === 'windows' || family === 'macos') && def.Sources.length > 0) {
    problems.push(`Sources are supported for Linux operating systems only, not ${def.OperatingSystem}.`);
  }
  const sourceNames = new Set<string>();
  for (const s of def.Sources) {
    if (sourceNames.has(s.Name)) problems.push(`Duplicate source name '${s.Name}' in Sources.`);
    sourceNames.add(s.Name);
  }
  return problems;
}

/** Format rules for approved/rejected lists per package manager (semantics §4, "Approved/rejected list formats"). */
export function patchListEntryProblem(family: OsFamily, entry: string, rejected: boolean): string | undefined {
  if (/\s/.test(entry)) return 'entries may not contain white space';
  switch (family) {
    case 'windows':
      return /^(KB\d{4,8}|MS\d{2}-\d{3})$/i.test(entry) ? undefined : 'Windows lists take KB ids (KB2032276) or MS bulletin ids (MS10-048)';
    case 'apt':
      return /^[a-z0-9][a-z0-9+.\-]+$/.test(entry) ? undefined : 'Debian/Ubuntu lists take bare package names (no version or architecture), e.g. openssl';
    case 'macos':
      return entry.includes('*') ? 'macOS lists take exact package names, without wildcards' : undefined;
    case 'yum':
    case 'suse': {
      if ((entry.match(/\*/g) ?? []).length > 1) return 'a name may contain at most one wildcard (*)';
      if (family === 'yum' && !rejected) return undefined; // names, name-version-release.arch, advisory ids, CVE ids, Bugzilla ids
      if (family === 'yum' && rejected && /^(CVE-\d{4}-\d+|\d+)$/.test(entry)) return 'the rejected list takes package names only, not CVE or Bugzilla ids';
      return undefined;
    }
  }
}
