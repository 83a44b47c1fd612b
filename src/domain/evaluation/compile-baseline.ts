// Compiles a patch baseline into a decision function for one package at a time, in AWS's order
// (semantics §4–§6, docs/evaluation.md): GlobalFilters (all must match) → ApprovalRules (any rule; all
// filters of a rule; any value of a filter; `*`; the rule's security gate; its date condition in UTC) →
// ApprovedPatches (even when filters/rules exclude the patch) → RejectedPatches (removes; wins over
// everything). Everything that can be prepared — value sets, wildcard RegExps, list spellings, date cut-offs,
// compliance ranks — is prepared here, so a decision costs a few Set lookups. Pure: no I/O, no clock.

import { FILTER_KEYS, osFamily, type BaselineDefinition, type OsFamily, type PatchFilter } from '../baseline.ts';
import { splitRpmEvr } from '../versions/rpm.ts';
import { compilePatchList, normalizeKb, type PatchListMatcher } from './patch-lists.ts';
import type { CompiledBaseline, InstalledDecision, ScanPackage, UpdateDecision } from './types.ts';
import { ValueMatcher } from './value-matcher.ts';

const DAY = 86_400;

// Compliance levels by rank (semantics §3.2); unknown strings rank as UNSPECIFIED.
const LEVEL_BY_RANK = ['UNSPECIFIED', 'UNSPECIFIED', 'INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
const RANK: Record<string, number> = { CRITICAL: 6, HIGH: 5, MEDIUM: 4, LOW: 3, INFORMATIONAL: 2, UNSPECIFIED: 1 };
const rankOf = (level: string | undefined): number => RANK[(level ?? 'UNSPECIFIED').toUpperCase()] ?? 1;
const levelOf = (rank: number): string => LEVEL_BY_RANK[rank] ?? 'UNSPECIFIED';

/** The higher of two compliance levels (CRITICAL > HIGH > MEDIUM > LOW > INFORMATIONAL > UNSPECIFIED). */
export function higherComplianceLevel(a: string, b: string): string {
  return levelOf(Math.max(rankOf(a), rankOf(b)));
}

type FilterTest = (pkg: ScanPackage, product: string) => boolean;

interface CompiledRule {
  readonly filters: readonly FilterTest[];
  readonly rank: number;
  readonly enableNonSecurity: boolean;
  /** ApproveAfterDays in seconds (0 when the rule has neither date member). */
  readonly afterSeconds: number;
  /** First second NOT covered by ApproveUntilDate (the day after the date, 00:00:00Z). */
  readonly untilExclusive: number | undefined;
}

const WINDOWS_SECURITY_CLASSES = new Set(['securityupdates', 'criticalupdates']);
const hasText = (s: string | undefined): boolean => s !== undefined && s !== '';
const hasItems = (a: readonly string[] | undefined): boolean => a !== undefined && a.length > 0;

/** A security update by each OS family's own definition (docs/evaluation.md "Security"). */
function securityTest(family: OsFamily): (pkg: ScanPackage) => boolean {
  switch (family) {
    case 'apt':
    case 'macos':
      return (pkg) => pkg.security === true;
    case 'yum':
    case 'suse':
      return (pkg) => pkg.security === true || (pkg.classification !== undefined && pkg.classification.toLowerCase() === 'security');
    case 'windows':
      return (pkg) => pkg.security === true || (pkg.classification !== undefined && WINDOWS_SECURITY_CLASSES.has(pkg.classification.toLowerCase()));
  }
}

/** An RPM package that belongs to an update notice (updateinfo.xml): it has notice metadata. */
const inRpmNotice = (pkg: ScanPackage): boolean => pkg.security === true || hasText(pkg.classification) || hasItems(pkg.advisoryIds);

/**
 * What a rule with EnableNonSecurity=false (and the approved list without ApprovedPatchesEnableNonSecurity)
 * demands of a package. apt: a security-pocket version. yum family: the package is covered by an update notice
 * of any type (AWS: "packages outside any notice can only be approved via EnableNonSecurity"; the default
 * baselines' Bugfix rules depend on this). SUSE and Windows: nothing. macOS: the security flag.
 */
function securityGate(family: OsFamily, isSecurity: (pkg: ScanPackage) => boolean): ((pkg: ScanPackage) => boolean) | undefined {
  switch (family) {
    case 'apt':
    case 'macos':
      return isSecurity;
    case 'yum':
      return inRpmNotice;
    case 'suse':
    case 'windows':
      return undefined;
  }
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 'YYYY-MM-DD' → the first epoch second of the NEXT UTC day (the whole day is inclusive). */
export function untilDateExclusive(date: string): number | undefined {
  const m = ISO_DAY.exec(date.trim());
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000 + DAY;
}

function compileFilter(filter: PatchFilter, family: OsFamily, os: string): FilterTest {
  if (!FILTER_KEYS[family].includes(filter.Key)) return () => false;
  const key = filter.Key;
  const m = key === 'PATCH_ID' ? new ValueMatcher(filter.Values.map((v) => (v === '*' ? v : normalizeKb(v)))) : new ValueMatcher(filter.Values);
  if (key === 'SEVERITY' && (os === 'AMAZON_LINUX_2022' || os === 'AMAZON_LINUX_2023')) m.withSynonym('Medium', 'Moderate');
  if (m.any) return () => true;
  switch (key) {
    case 'PRODUCT':
      return family === 'windows' ? (pkg, product) => m.test(pkg.product ?? product) : (_pkg, product) => m.test(product);
    case 'CLASSIFICATION':
      return (pkg) => m.test(pkg.classification);
    case 'SEVERITY':
      // AWS's yum code reads a notice without severity as "None" (AL2022/2023 list None as a value).
      return family === 'yum' ? (pkg) => m.test(pkg.severity ?? (inRpmNotice(pkg) ? 'None' : undefined)) : (pkg) => m.test(pkg.severity);
    case 'MSRC_SEVERITY':
      return (pkg) => m.test(pkg.msrcSeverity ?? 'Unspecified');
    case 'PRODUCT_FAMILY':
      return (pkg) => m.test(pkg.productFamily);
    case 'PATCH_SET':
      return (pkg) => m.test(pkg.patchSet ?? 'OS');
    case 'PATCH_ID':
      return (pkg) => m.test(normalizeKb(pkg.kbId ?? pkg.name));
    case 'PRIORITY':
      return (pkg) => m.test(pkg.priority);
    case 'SECTION':
      return (pkg) => m.test(pkg.section);
    case 'NAME':
      return (pkg) => m.test(pkg.name);
    case 'ARCH':
      return (pkg) => m.test(pkg.arch);
    case 'REPOSITORY':
      return (pkg) => m.test(pkg.repository);
    case 'EPOCH':
      return (pkg) => m.test(splitRpmEvr(pkg.version).epoch ?? '0');
    case 'VERSION':
      return (pkg) => m.test(splitRpmEvr(pkg.version).version);
    case 'RELEASE':
      return (pkg) => m.test(splitRpmEvr(pkg.version).release);
    case 'ADVISORY_ID':
      return (pkg) => m.testAny(pkg.advisoryIds);
    case 'CVE_ID':
      return (pkg) => m.testAny(pkg.cveIds);
    case 'BUGZILLA_ID':
      return (pkg) => m.testAny(pkg.bugzillaIds);
    case 'SECURITY': {
      const isSecurity = securityTest(family);
      return (pkg) => m.test(isSecurity(pkg) ? 'SecurityUpdates' : 'NonSecurityUpdates');
    }
    default:
      return () => false;
  }
}

const matchAll = (filters: readonly FilterTest[], pkg: ScanPackage, product: string): boolean => {
  for (const f of filters) if (!f(pkg, product)) return false;
  return true;
};

const usesRealProduct = (filters: readonly PatchFilter[]): boolean => filters.some((f) => f.Key === 'PRODUCT' && !f.Values.some((v) => v.trim() === '*'));

/** The outcome of the pipeline before it is shaped into an UpdateDecision or InstalledDecision. */
interface Outcome {
  approved: boolean;
  rejected: boolean;
  explicitApproved: boolean;
  rank: number;
  approvalTime: number | undefined;
  pendingUntil: number | undefined;
  security: boolean;
}

class Compiled implements CompiledBaseline {
  readonly baselineId: string;
  readonly operatingSystem: string;
  readonly family: OsFamily;
  readonly blockRejected: boolean;
  readonly availableSecurityUpdatesNonCompliant: boolean;
  readonly usesProduct: boolean;

  readonly #global: readonly FilterTest[];
  readonly #rules: readonly CompiledRule[];
  readonly #approved: PatchListMatcher;
  readonly #rejected: PatchListMatcher;
  readonly #approvedRank: number;
  readonly #approvedNeedsGate: boolean;
  readonly #isSecurity: (pkg: ScanPackage) => boolean;
  readonly #gate: ((pkg: ScanPackage) => boolean) | undefined;
  /** UBUNTU/DEBIAN/RASPBIAN: no approval delay or cut-off, whatever the rule says. */
  readonly #immediate: boolean;

  constructor(baseline: BaselineDefinition & { BaselineId: string }) {
    const os = baseline.OperatingSystem;
    const family = osFamily(os);
    this.baselineId = baseline.BaselineId;
    this.operatingSystem = os;
    this.family = family;
    this.blockRejected = (baseline.RejectedPatchesAction ?? '').toUpperCase() === 'BLOCK';
    this.availableSecurityUpdatesNonCompliant = family === 'windows' && baseline.AvailableSecurityUpdatesComplianceStatus === 'NON_COMPLIANT';
    this.#immediate = family === 'apt';
    this.#isSecurity = securityTest(family);
    this.#gate = securityGate(family, this.#isSecurity);

    const globalFilters = baseline.GlobalFilters?.PatchFilters ?? [];
    this.#global = globalFilters.map((f) => compileFilter(f, family, os));
    let usesProduct = usesRealProduct(globalFilters);
    this.#rules = (baseline.ApprovalRules?.PatchRules ?? []).map((rule) => {
      const filters = [...rule.PatchFilterGroup.PatchFilters];
      usesProduct ||= usesRealProduct(filters);
      // Windows: a rule without PATCH_SET covers the OS patch set only (PATCH_SET defaults to OS).
      if (family === 'windows' && !filters.some((f) => f.Key === 'PATCH_SET')) filters.push({ Key: 'PATCH_SET', Values: ['OS'] });
      const until = rule.ApproveUntilDate === undefined ? undefined : untilDateExclusive(rule.ApproveUntilDate);
      // A cut-off that is not a date (CreatePatchBaseline refuses those) approves nothing rather than everything.
      const unusable = rule.ApproveUntilDate !== undefined && until === undefined;
      return {
        filters: unusable ? [() => false] : filters.map((f) => compileFilter(f, family, os)),
        rank: rankOf(rule.ComplianceLevel),
        enableNonSecurity: rule.EnableNonSecurity === true,
        afterSeconds: Math.max(0, rule.ApproveAfterDays ?? 0) * DAY,
        untilExclusive: until,
      };
    });
    this.usesProduct = usesProduct;
    this.#approved = compilePatchList(family, baseline.ApprovedPatches ?? [], 'approved');
    this.#rejected = compilePatchList(family, baseline.RejectedPatches ?? [], 'rejected');
    this.#approvedRank = rankOf(baseline.ApprovedPatchesComplianceLevel);
    this.#approvedNeedsGate = this.#gate !== undefined && baseline.ApprovedPatchesEnableNonSecurity !== true;
  }

  isRejected(pkg: ScanPackage): boolean {
    return this.#rejected.matches(pkg);
  }

  isRejectedName(name: string): boolean {
    return this.#rejected.matchesName(name);
  }

  #run(pkg: ScanPackage, product: string, now: number): Outcome {
    const security = this.#isSecurity(pkg);
    if (this.#rejected.matches(pkg)) {
      return { approved: false, rejected: true, explicitApproved: false, rank: 1, approvalTime: undefined, pendingUntil: undefined, security };
    }
    const gate = this.#gate;
    let gateOk: boolean | undefined;
    let approved = false;
    let explicitApproved = false;
    let rank = 0;
    let approvalTime: number | undefined;
    // Rules that are not due yet: [due, rank] pairs (rare; allocated only when present).
    let pending: number[] | undefined;

    if (!this.#approved.empty && this.#approved.matches(pkg)) {
      if (!this.#approvedNeedsGate || (gateOk ??= gate!(pkg))) {
        approved = explicitApproved = true;
        rank = this.#approvedRank;
      }
    }
    if (this.#rules.length > 0 && matchAll(this.#global, pkg, product)) {
      const release = pkg.releaseTime;
      for (const rule of this.#rules) {
        if (!rule.enableNonSecurity && gate !== undefined && !(gateOk ??= gate(pkg))) continue;
        if (!matchAll(rule.filters, pkg, product)) continue;
        let at: number | undefined;
        if (this.#immediate || release === undefined) {
          at = release; // apt approves at once; an unknown release time means a delay of 0 (docs)
        } else if (rule.untilExclusive !== undefined) {
          if (release >= rule.untilExclusive) continue; // released after the cut-off day: never by this rule
          at = release;
        } else {
          at = release + rule.afterSeconds;
          if (now < at) {
            (pending ??= []).push(at, rule.rank);
            continue;
          }
        }
        approved = true;
        if (rule.rank > rank) rank = rule.rank;
        if (at !== undefined && (approvalTime === undefined || at < approvalTime)) approvalTime = at;
      }
    }

    let pendingUntil: number | undefined;
    let pendingRank = 0;
    if (pending !== undefined) {
      // A pending rule changes the decision when it comes due if nothing approves the patch yet, or if it
      // brings a higher compliance level than the rules already due.
      for (let i = 0; i < pending.length; i += 2) {
        const due = pending[i]!;
        const r = pending[i + 1]!;
        if (approved && r <= rank) continue;
        if (pendingUntil === undefined || due < pendingUntil) pendingUntil = due;
        if (r > pendingRank) pendingRank = r;
      }
    }
    return { approved, rejected: false, explicitApproved, rank: approved ? rank : pendingRank, approvalTime, pendingUntil, security };
  }

  decideUpdate(pkg: ScanPackage, product: string, now: number): UpdateDecision {
    const o = this.#run(pkg, product, now);
    const d: UpdateDecision = {
      approved: o.approved,
      explicit: o.rejected ? 'rejected' : o.explicitApproved ? 'approved' : undefined,
      complianceLevel: levelOf(o.rank),
      security: o.security,
    };
    if (o.approvalTime !== undefined && o.approved) d.approvalTime = o.approvalTime;
    if (o.pendingUntil !== undefined) d.pendingUntil = o.pendingUntil;
    return d;
  }

  decideInstalled(pkg: ScanPackage, product: string, now: number): InstalledDecision {
    const o = this.#run(pkg, product, now);
    const d: InstalledDecision = { approved: o.approved, rejected: o.rejected, complianceLevel: o.approved ? levelOf(o.rank) : 'UNSPECIFIED', security: o.security };
    if (o.pendingUntil !== undefined) d.pendingUntil = o.pendingUntil;
    return d;
  }
}

/** Compiles a baseline (defaults materialised, as BaselineDefinition holds them) for evaluation. */
export function compileBaseline(baseline: BaselineDefinition & { BaselineId: string }): CompiledBaseline {
  return new Compiled(baseline);
}
