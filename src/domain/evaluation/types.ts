// The shapes of Patchline's own patch evaluation: a node's raw package scan in, per-patch decisions and
// DescribeInstancePatches rows out. Times are epoch SECONDS throughout (releaseTime, installedTime, `now`,
// approvalTime, pendingUntil, nextChangeAt). See docs/evaluation.md. Pure types, no code.

import type { OsFamily } from '../baseline.ts';
import type { Counters, PatchRow } from '../patch-state.ts';

/** One installed package or one candidate update as a scan reports it (versions are the package manager's full strings). */
export interface ScanPackage {
  name: string;
  arch: string;
  /** dpkg `[epoch:]upstream[-revision]`, rpm `[epoch:]version-release`, macOS/Windows as reported. */
  version: string;
  sourceName?: string;
  sourceVersion?: string;
  /** Origin: Debian/Ubuntu suite ('bookworm-security'), RPM repo id. */
  repository?: string;
  /**
   * Candidate from a security source (Debian/Ubuntu security pocket; RPM security notice). On an INSTALLED
   * package: the installed version is itself published in a security source (apt: the version's origins
   * include a security pocket), which is what lets an installed package count as approved under a baseline
   * whose rules leave EnableNonSecurity false.
   */
  security?: boolean;
  /** RPM notice type as AWS spells it (Security, Bugfix, Enhancement, Recommended, Newpackage); SUSE category; Windows (CriticalUpdates, SecurityUpdates, …); macOS package manager. */
  classification?: string;
  /** RPM/SUSE notice severity; Windows MSRC severity goes in msrcSeverity. */
  severity?: string;
  /** Debian/Ubuntu: Required, Important, Standard, Optional, Extra (any case). */
  priority?: string;
  /** Debian/Ubuntu section. */
  section?: string;
  /** Epoch seconds: RPM notice issued (AL1/AL2: updated) date, Windows release date; undefined = unknown. */
  releaseTime?: number;
  /** RPM advisory ids (ALAS-…, RHSA-…); SUSE patch names; Windows MS bulletin ids (MS17-001). */
  advisoryIds?: string[];
  cveIds?: string[];
  bugzillaIds?: string[];
  /** Windows: KB id ('KB3213986'; a bare number is accepted too). */
  kbId?: string;
  /** Windows: the update's title. */
  title?: string;
  /** Windows: the product the update applies to (WindowsServer2019, 'Office 2016'); used by the PRODUCT filter instead of the node's product. */
  product?: string;
  /** Windows: PRODUCT_FAMILY (Windows, Office, …). */
  productFamily?: string;
  /** Windows: PATCH_SET; undefined = 'OS'. */
  patchSet?: 'OS' | 'APPLICATION';
  /** Windows: MSRC severity (Critical, Important, Moderate, Low); undefined = 'Unspecified'. */
  msrcSeverity?: string;
  /** Epoch seconds, installed packages only. */
  installedTime?: number;
}

export interface NodeScan {
  /** The model's OperatingSystem enum (WINDOWS, DEBIAN, AMAZON_LINUX_2023, …). */
  operatingSystem: string;
  /** e.g. Debian12, Ubuntu22.04, AmazonLinux2023, RedhatEnterpriseLinux9.4, WindowsServer2022. */
  product: string;
  operation: 'Scan' | 'Install';
  /** The node has not rebooted since a Patch Manager install that needs one. */
  rebootPending: boolean;
  installed: ScanPackage[];
  /**
   * What the package manager would install (candidates); Windows: applicable updates not installed.
   * Linux/macOS: several versions of one name+arch may be listed (e.g. apt's candidate from the main
   * suite AND the older version in the security pocket); the newest APPROVED one becomes the row.
   * Candidates whose name+arch is not installed are new packages, not patches, and are ignored.
   */
  updates: ScanPackage[];
  /** An Install operation failed on these. */
  failed: Array<{ name: string; arch: string; version?: string }>;
  /** Installed by Patch-Manager installs since the last reboot. */
  pendingReboot: Array<{ name: string; arch: string }>;
  /** Windows: reported not-applicable updates. */
  notApplicable?: ScanPackage[];
  /** Optional: update name → names of packages that upgrading it installs/upgrades (for BLOCK). */
  dependsOn?: Record<string, string[]>;
}

/** How one baseline treats one candidate update. */
export interface UpdateDecision {
  /** Approved now (rule, or explicit list) and not rejected. */
  approved: boolean;
  /** On ApprovedPatches (and not rejected) / on RejectedPatches (wins over everything). */
  explicit: 'approved' | 'rejected' | undefined;
  /**
   * Approved: the highest level among everything that approves it (rules now due, ApprovedPatchesComplianceLevel).
   * Not approved but pending: the highest level among the rules that will approve it later. Otherwise UNSPECIFIED.
   */
  complianceLevel: string;
  /** When a rule approves it (release + ApproveAfterDays, or release for ApproveUntilDate / apt); the earliest if several. Undefined when only the explicit list approves it or the release time is unknown. */
  approvalTime?: number;
  /**
   * The earliest FUTURE moment (> now) at which a matching rule's date condition becomes true: when a pending
   * patch gets approved, or when an already approved one gains a higher compliance level. The decision is
   * constant from `now` until then (used by caches and by `nextChangeAt`). PENDING_APPROVAL ⇔ !approved && pendingUntil !== undefined.
   */
  pendingUntil?: number;
  /** A security update by its OS's definition (apt: security pocket; RPM/SUSE: Security notice; Windows: SecurityUpdates/CriticalUpdates). */
  security: boolean;
}

/** How one baseline treats one installed package version. */
export interface InstalledDecision {
  /** The installed version counts as approved (→ Installed) rather than not (→ InstalledOther). */
  approved: boolean;
  /** On RejectedPatches, whatever RejectedPatchesAction says (BLOCK turns this into InstalledRejected). */
  rejected: boolean;
  complianceLevel: string;
  /** As in {@link UpdateDecision.pendingUntil}. */
  pendingUntil?: number;
  security: boolean;
}

/** A baseline compiled for evaluation: build once, call millions of times. */
export interface CompiledBaseline {
  readonly baselineId: string;
  readonly operatingSystem: string;
  readonly family: OsFamily;
  /** RejectedPatchesAction is BLOCK. */
  readonly blockRejected: boolean;
  /** AvailableSecurityUpdatesComplianceStatus is NON_COMPLIANT (Windows; default COMPLIANT). */
  readonly availableSecurityUpdatesNonCompliant: boolean;
  /** Some filter tests PRODUCT with something other than `*`: decisions depend on the node's product. */
  readonly usesProduct: boolean;
  decideUpdate(pkg: ScanPackage, product: string, now: number): UpdateDecision;
  decideInstalled(pkg: ScanPackage, product: string, now: number): InstalledDecision;
  /** On RejectedPatches (any action). */
  isRejected(pkg: ScanPackage): boolean;
  /** On RejectedPatches by bare name (name patterns only), for dependencies known only by name. */
  isRejectedName(name: string): boolean;
}

/**
 * Memoises decisions per package. `compute` is the uncached decision for this node's product and `now`;
 * an implementation may return an earlier result only if it was computed for the same baseline and product
 * and is still valid at `now` (see {@link UpdateDecision.pendingUntil}). `compiled`, when set, lets
 * evaluateNode refuse a cache built for another baseline.
 */
export interface DecisionCache {
  readonly compiled?: CompiledBaseline;
  update(pkg: ScanPackage, product: string, now: number, compute: (pkg: ScanPackage) => UpdateDecision): UpdateDecision;
  installed(pkg: ScanPackage, product: string, now: number, compute: (pkg: ScanPackage) => InstalledDecision): InstalledDecision;
}

/** One DescribeInstancePatches row plus the scanned package it describes (the candidate for Missing/Failed/AvailableSecurityUpdate/NotApplicable, the installed version otherwise). */
export interface EvaluatedRow extends PatchRow {
  package: ScanPackage;
}

export interface NodeEvaluation {
  rows: EvaluatedRow[];
  counters: Counters;
  /** The earliest future pendingUntil among the node's decisions: re-evaluate then. */
  nextChangeAt?: number;
}
