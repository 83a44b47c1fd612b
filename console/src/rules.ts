// Baselines in plain words, and why a patch is approved: the patch rows the API shows (Classification, Severity,
// KBId, Title, CVEIds) are matched against the baseline's approved list and rules here, in the browser, the way
// Patch Manager reads them: every filter of a rule must match, any value of a filter may (case-insensitive, `*`
// wildcards). Filters on properties the rows do not carry (PRODUCT, SECTION, REPOSITORY, …) cannot be checked
// here; the explanation says so rather than guess.

import { enumLabel, orList } from './format.ts';
import { FILTER_KEYS, osFamily, type OsFamily } from '../../src/domain/os-family.ts';

export { FILTER_KEYS, osFamily, type OsFamily };

export interface PatchFilter {
  Key: string;
  Values: string[];
}
export interface PatchRule {
  PatchFilterGroup: { PatchFilters: PatchFilter[] };
  ComplianceLevel?: string;
  ApproveAfterDays?: number;
  ApproveUntilDate?: string;
  EnableNonSecurity?: boolean;
}
export interface Baseline {
  BaselineId: string;
  Name: string;
  OperatingSystem: string;
  Description?: string;
  GlobalFilters?: { PatchFilters: PatchFilter[] };
  ApprovalRules?: { PatchRules: PatchRule[] };
  ApprovedPatches?: string[];
  ApprovedPatchesComplianceLevel?: string;
  ApprovedPatchesEnableNonSecurity?: boolean;
  RejectedPatches?: string[];
  RejectedPatchesAction?: string;
  Sources?: Array<{ Name: string; Products: string[]; Configuration: string }>;
  AvailableSecurityUpdatesComplianceStatus?: string;
  PatchGroups?: string[];
  CreatedDate?: number;
  ModifiedDate?: number;
}
export interface PatchRow {
  Title: string;
  KBId: string;
  Classification?: string;
  Severity?: string;
  State?: string;
  InstalledTime?: number;
  CVEIds?: string;
}

export const COMPLIANCE_LEVELS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNSPECIFIED'];
const LEVEL_RANK = new Map(COMPLIANCE_LEVELS.map((l, i) => [l, COMPLIANCE_LEVELS.length - i]));

const KEY_NOUN: Record<string, string> = {
  PRODUCT: 'product',
  PRODUCT_FAMILY: 'product family',
  CLASSIFICATION: 'classification',
  SEVERITY: 'severity',
  MSRC_SEVERITY: 'MSRC severity',
  PRIORITY: 'priority',
  SECTION: 'section',
  PATCH_SET: 'patch set',
  PATCH_ID: 'patch id',
  NAME: 'package name',
  ARCH: 'architecture',
  REPOSITORY: 'repository',
  EPOCH: 'epoch',
  VERSION: 'version',
  RELEASE: 'release',
  ADVISORY_ID: 'advisory',
  CVE_ID: 'CVE',
  BUGZILLA_ID: 'Bugzilla id',
  SECURITY: 'security flag',
};

const isAll = (values: readonly string[]) => values.length === 0 || values.includes('*');

/** One filter as a phrase: `with severity Critical or Important`. */
export function describeFilter(f: PatchFilter): string {
  const noun = KEY_NOUN[f.Key] ?? f.Key;
  if (isAll(f.Values)) return `of any ${noun}`;
  const list = orList(f.Values.map((v) => (f.Key === 'PATCH_SET' ? enumLabel(v) : v)));
  switch (f.Key) {
    case 'PRODUCT':
    case 'PRODUCT_FAMILY':
      return `for ${list}`;
    case 'SECTION':
    case 'REPOSITORY':
      return `from ${noun} ${list}`;
    case 'SECURITY':
      return f.Values.every((v) => v === 'SecurityUpdates') ? 'marked as security updates' : `with security flag ${list}`;
    case 'PATCH_SET':
      return `in the ${list} patch set`;
    default:
      return `with ${noun} ${list}`;
  }
}

/** What a group of filters selects: `Security updates with severity Critical or Important, for AmazonLinux2023`. */
export function describeFilters(filters: readonly PatchFilter[]): string {
  const classification = filters.find((f) => f.Key === 'CLASSIFICATION');
  let head = 'All updates';
  if (classification !== undefined && !isAll(classification.Values)) head = `${orList(classification.Values)} updates`;
  const rest = filters.filter((f) => f !== classification && !(f.Key !== 'PRODUCT' && isAll(f.Values))).map(describeFilter);
  return rest.length === 0 ? head : `${head} ${rest.join(', ')}`;
}

export function describeApproval(rule: PatchRule, family: OsFamily): string {
  if (rule.ApproveUntilDate !== undefined) return `released on or before ${rule.ApproveUntilDate}`;
  if (rule.ApproveAfterDays !== undefined) {
    if (rule.ApproveAfterDays === 0) return 'as soon as they are released';
    return `after ${rule.ApproveAfterDays} ${rule.ApproveAfterDays === 1 ? 'day' : 'days'}`;
  }
  return family === 'apt' ? 'as soon as they are available' : 'with no approval delay set';
}

/** `Security updates with severity Critical or Important, after 7 days` (+ compliance level, non-security). */
export function describeRule(rule: PatchRule, os: string, options: { details?: boolean } = {}): string {
  const family = osFamily(os);
  let text = `${describeFilters(rule.PatchFilterGroup.PatchFilters)}, ${describeApproval(rule, family)}`;
  if (options.details !== false) {
    const level = rule.ComplianceLevel ?? 'UNSPECIFIED';
    if (level !== 'UNSPECIFIED') text += `; reported as ${enumLabel(level)} when missing`;
    if (rule.EnableNonSecurity) text += '; non-security updates from all repositories included';
  }
  return text;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function anyMatch(values: readonly string[], actual: string | undefined): boolean {
  if (isAll(values)) return true;
  if (actual === undefined || actual === '') return false;
  return values.some((v) => wildcard(v).test(actual));
}

/** The package name of a Linux row (`openssl.x86_64` → `openssl`; Debian KBIds are already names). */
function packageName(row: PatchRow): string {
  const base = row.KBId || row.Title;
  return base.replace(/\.(x86_64|aarch64|i686|noarch|amd64|arm64|all|armhf|ppc64le|s390x)$/, '');
}

/** The row's value for a filter key, or undefined when the row does not carry that property. */
function rowValue(row: PatchRow, key: string, family: OsFamily): string[] | undefined {
  switch (key) {
    case 'CLASSIFICATION':
      return [row.Classification ?? ''];
    case 'SEVERITY':
    case 'MSRC_SEVERITY':
      return [row.Severity ?? ''];
    case 'PRIORITY':
      return family === 'apt' ? [row.Severity ?? ''] : undefined;
    case 'NAME':
      return family === 'windows' ? undefined : [packageName(row)];
    case 'PATCH_ID':
      return [row.KBId];
    case 'CVE_ID':
      return (row.CVEIds ?? '').split(/[,\s]+/).filter((c) => c !== '');
    case 'SECURITY':
      if (row.Classification === undefined || row.Classification === '') return undefined;
      return [row.Classification.toLowerCase() === 'security' ? 'SecurityUpdates' : 'NonSecurityUpdates'];
    default:
      return undefined;
  }
}

export interface FilterCheck {
  matches: boolean;
  /** Keys this page could not check (the rows do not carry them); assumed to match. */
  unchecked: string[];
  /** The first filter that did not match, as words. */
  failed?: string;
}

export function checkFilters(row: PatchRow, filters: readonly PatchFilter[], family: OsFamily): FilterCheck {
  const unchecked: string[] = [];
  for (const f of filters) {
    if (isAll(f.Values)) continue;
    const actual = rowValue(row, f.Key, family);
    if (actual === undefined) {
      unchecked.push(f.Key);
      continue;
    }
    const ok = actual.length === 0 ? false : actual.some((a) => anyMatch(f.Values, a));
    if (!ok) return { matches: false, unchecked, failed: describeFilter(f) };
  }
  return { matches: true, unchecked };
}

function listMatches(list: readonly string[] | undefined, row: PatchRow, family: OsFamily): string | undefined {
  if (!list) return undefined;
  const candidates = family === 'windows' ? [row.KBId] : [row.KBId, row.Title, packageName(row)];
  return list.find((entry) => candidates.some((c) => c !== '' && wildcard(entry).test(c)));
}

export interface Reason {
  kind: 'rejected' | 'explicit' | 'rule' | 'global' | 'none';
  /** 1-based rule number for `rule`. */
  rule?: number;
  /** Other rules that also approve it. */
  alsoRules?: number[];
  complianceLevel?: string;
  text: string;
  /** Filter keys assumed to match because the row does not carry them. */
  unchecked: string[];
}

/** Why the baseline approves (or rejects) a patch row, in words. */
export function explainPatch(row: PatchRow, baseline: Baseline): Reason {
  const family = osFamily(baseline.OperatingSystem);
  const rejected = listMatches(baseline.RejectedPatches, row, family);
  if (rejected !== undefined) {
    return { kind: 'rejected', text: `rejected: on the baseline's rejected list ('${rejected}')`, unchecked: [] };
  }
  const explicit = listMatches(baseline.ApprovedPatches, row, family);
  const global = checkFilters(row, baseline.GlobalFilters?.PatchFilters ?? [], family);
  const rules = baseline.ApprovalRules?.PatchRules ?? [];
  const matching: Array<{ index: number; rule: PatchRule; check: FilterCheck }> = [];
  if (global.matches) {
    rules.forEach((rule, index) => {
      const check = checkFilters(row, rule.PatchFilterGroup.PatchFilters, family);
      if (check.matches) matching.push({ index, rule, check });
    });
  }
  const highest = (levels: string[]) => levels.reduce((a, b) => ((LEVEL_RANK.get(b) ?? 0) > (LEVEL_RANK.get(a) ?? 0) ? b : a), 'UNSPECIFIED');
  if (explicit !== undefined) {
    const level = highest([baseline.ApprovedPatchesComplianceLevel ?? 'UNSPECIFIED', ...matching.map((m) => m.rule.ComplianceLevel ?? 'UNSPECIFIED')]);
    return {
      kind: 'explicit',
      complianceLevel: level,
      text: `approved explicitly: on the baseline's approved list ('${explicit}')${level !== 'UNSPECIFIED' ? `, reported as ${enumLabel(level)}` : ''}`,
      unchecked: [],
    };
  }
  const first = matching[0];
  if (first !== undefined) {
    const level = highest(matching.map((m) => m.rule.ComplianceLevel ?? 'UNSPECIFIED'));
    const unchecked = [...new Set([...global.unchecked, ...first.check.unchecked])];
    const also = matching.slice(1).map((m) => m.index + 1);
    let text = `approved by rule ${first.index + 1}: ${describeRule(first.rule, baseline.OperatingSystem, { details: false })}`;
    if (level !== 'UNSPECIFIED') text += `; reported as ${enumLabel(level)}`;
    if (also.length > 0) text += ` (rule${also.length > 1 ? 's' : ''} ${orList(also.map(String), 'and')} also match${also.length > 1 ? '' : 'es'})`;
    return { kind: 'rule', rule: first.index + 1, alsoRules: also, complianceLevel: level, text, unchecked };
  }
  if (!global.matches) {
    return { kind: 'global', text: `left out by the baseline's global filters (not ${global.failed ?? 'matching'})`, unchecked: global.unchecked };
  }
  return {
    kind: 'none',
    text: 'no rule of this baseline matches the patch as this page sees it (it may have been approved on a property not shown here, or reported against another baseline)',
    unchecked: [],
  };
}
