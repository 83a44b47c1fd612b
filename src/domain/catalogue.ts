// The patch catalogue as the AWS API shows it (patch-manager-api.md §4, §1; semantics §4): a catalogue entry
// (a package version some node's scan offered, and the product of that node) → an AWS `Patch`; the
// DescribeAvailablePatches filters; and an engine decision → an `EffectivePatch` status. Pure: no I/O, no clock.
//
// Spellings follow the evaluation rows (src/domain/evaluation/row-format.ts), so a catalogue patch and a
// DescribeInstancePatches row of the same package read alike: Linux Id and Title `name.arch:epoch:version-release`
// (apt: the Debian version as is), Windows Id and KbNumber the KB id and Title the update's title.

import { osFamily } from './baseline.ts';
import { normalizeKb } from './evaluation/patch-lists.ts';
import { patchClassification, patchKbId, patchSeverity, patchTitle } from './evaluation/row-format.ts';
import { ValueMatcher } from './evaluation/value-matcher.ts';
import { splitRpmEvr } from './versions/rpm.ts';
import type { ScanPackage, UpdateDecision } from './evaluation/types.ts';
import type { Patch, PatchOrchestratorFilter, PatchStatus } from '../generated/ssm-types.ts';

const MS_BULLETIN = /^MS\d{2}-\d{3}$/i;

/** The AWS `Patch` of a catalogue entry: `product` is the product of the node(s) whose scans offered it. */
export function cataloguePatch(product: string, operatingSystem: string, pkg: ScanPackage): Patch {
  const family = osFamily(operatingSystem);
  const patch: Patch = {};
  if (family === 'windows') {
    const kb = patchKbId('windows', pkg);
    patch.Id = kb;
    patch.Title = patchTitle('windows', pkg);
    patch.KbNumber = kb;
    patch.Product = pkg.product ?? product;
    if (pkg.productFamily !== undefined) patch.ProductFamily = pkg.productFamily;
    if (pkg.classification !== undefined) patch.Classification = pkg.classification;
    patch.MsrcSeverity = pkg.msrcSeverity ?? 'Unspecified';
    const bulletin = pkg.advisoryIds?.find((a) => MS_BULLETIN.test(a));
    if (bulletin !== undefined) patch.MsrcNumber = bulletin.toUpperCase();
    if (pkg.cveIds?.length) patch.CVEIds = [...pkg.cveIds];
  } else {
    const title = patchTitle(family, pkg);
    patch.Id = title;
    patch.Title = title;
    patch.Product = product;
    patch.Name = pkg.name;
    patch.Arch = pkg.arch;
    const evr = splitRpmEvr(pkg.version);
    const epoch = Number(evr.epoch ?? '0');
    if (Number.isSafeInteger(epoch)) patch.Epoch = epoch;
    patch.Version = evr.version;
    if (evr.release !== undefined) patch.Release = evr.release;
    const classification = patchClassification(family, pkg);
    if (classification !== '') patch.Classification = classification;
    const severity = patchSeverity(family, pkg);
    if (severity !== '') patch.Severity = severity;
    if (pkg.repository !== undefined) patch.Repository = pkg.repository;
    if (pkg.advisoryIds?.length) patch.AdvisoryIds = [...pkg.advisoryIds];
    if (pkg.cveIds?.length) patch.CVEIds = [...pkg.cveIds];
    if (pkg.bugzillaIds?.length) patch.BugzillaIds = [...pkg.bugzillaIds];
  }
  if (pkg.releaseTime !== undefined) patch.ReleaseDate = pkg.releaseTime;
  return patch;
}

// ---- DescribeAvailablePatches filters ----------------------------------------------------------------------------

/** Filter keys of Windows patches only, of Linux/macOS patches only, and of both. */
export const WINDOWS_CATALOGUE_KEYS = ['PATCH_SET', 'PRODUCT_FAMILY', 'MSRC_SEVERITY', 'PATCH_ID'] as const;
export const LINUX_CATALOGUE_KEYS = ['NAME', 'SEVERITY', 'EPOCH', 'VERSION', 'RELEASE', 'ARCH', 'REPOSITORY', 'ADVISORY_ID', 'CVE_ID', 'BUGZILLA_ID'] as const;
export const SHARED_CATALOGUE_KEYS = ['PRODUCT', 'CLASSIFICATION'] as const;
const ALL_KEYS: readonly string[] = [...SHARED_CATALOGUE_KEYS, ...WINDOWS_CATALOGUE_KEYS, ...LINUX_CATALOGUE_KEYS];

type PatchTest = (patch: Patch, pkg: ScanPackage) => boolean;

export interface CatalogueFilter {
  /** Which patches the keys can match: Windows-only keys → 'windows', Linux-only keys → 'linux', else 'any'. */
  scope: 'windows' | 'linux' | 'any';
  /** Exact PRODUCT values every match has (compared case-insensitively); undefined when PRODUCT is not narrowed. */
  products: string[] | undefined;
  test: PatchTest;
}

export type CatalogueFilterResult = { ok: true; filter: CatalogueFilter } | { ok: false; message: string };

function keyTest(key: string, m: ValueMatcher): PatchTest {
  switch (key) {
    case 'PRODUCT': return (p) => m.test(p.Product);
    case 'CLASSIFICATION': return (p) => m.test(p.Classification);
    case 'PATCH_SET': return (_p, pkg) => m.test(pkg.patchSet ?? 'OS');
    case 'PRODUCT_FAMILY': return (p) => m.test(p.ProductFamily);
    case 'MSRC_SEVERITY': return (p) => m.test(p.MsrcSeverity);
    case 'PATCH_ID': return (p) => m.test(p.KbNumber) || m.test(p.MsrcNumber);
    case 'NAME': return (p) => m.test(p.Name);
    case 'SEVERITY': return (p) => m.test(p.Severity);
    case 'EPOCH': return (p) => m.test(p.Epoch === undefined ? undefined : String(p.Epoch));
    case 'VERSION': return (p) => m.test(p.Version);
    case 'RELEASE': return (p) => m.test(p.Release);
    case 'ARCH': return (p) => m.test(p.Arch);
    case 'REPOSITORY': return (p) => m.test(p.Repository);
    case 'ADVISORY_ID': return (p) => m.testAny(p.AdvisoryIds);
    case 'CVE_ID': return (p) => m.testAny(p.CVEIds);
    default: return (p) => m.testAny(p.BugzillaIds); // BUGZILLA_ID
  }
}

/**
 * Compiles DescribeAvailablePatches filters: every filter must match (AND), a filter matches when the patch's
 * member equals one of its values (OR), compared case-insensitively, with `*` and `?` wildcards. A patch that
 * lacks the member never matches (except `*`). Unknown keys, filters without values and queries that mix
 * Windows-only with Linux-only keys are refused.
 */
export function compileCatalogueFilters(filters: readonly PatchOrchestratorFilter[]): CatalogueFilterResult {
  const tests: PatchTest[] = [];
  let windows: string | undefined;
  let linux: string | undefined;
  let products: string[] | undefined;
  for (const f of filters) {
    const key = f.Key;
    if (key === undefined || !ALL_KEYS.includes(key)) {
      return { ok: false, message: `Invalid filter key '${key ?? ''}'. Valid keys are ${ALL_KEYS.join(', ')} (Windows: PATCH_SET, PRODUCT, PRODUCT_FAMILY, MSRC_SEVERITY, CLASSIFICATION, PATCH_ID; Linux: PRODUCT, NAME, SEVERITY, EPOCH, VERSION, RELEASE, ARCH, REPOSITORY, ADVISORY_ID, CVE_ID, BUGZILLA_ID, CLASSIFICATION).` };
    }
    const values = (f.Values ?? []).map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) return { ok: false, message: `Filter ${key} needs at least one value.` };
    if ((WINDOWS_CATALOGUE_KEYS as readonly string[]).includes(key)) windows ??= key;
    if ((LINUX_CATALOGUE_KEYS as readonly string[]).includes(key)) linux ??= key;
    const matcher = new ValueMatcher(key === 'PATCH_ID' ? values.map((v) => (v === '*' ? v : normalizeKb(v))) : values);
    if (key === 'PRODUCT' && !matcher.any && matcher.patterns.length === 0 && products === undefined) products = values;
    tests.push(keyTest(key, matcher));
  }
  if (windows !== undefined && linux !== undefined) {
    return { ok: false, message: `Filter keys ${windows} (Windows patches) and ${linux} (Linux patches) cannot be combined in one request.` };
  }
  const scope = windows !== undefined ? 'windows' : linux !== undefined ? 'linux' : 'any';
  const test: PatchTest = (patch, pkg) => {
    for (const t of tests) if (!t(patch, pkg)) return false;
    return true;
  };
  return { ok: true, filter: { scope, products, test } };
}

// ---- DescribeEffectivePatchesForPatchBaseline ----------------------------------------------------------------------

/**
 * A baseline's decision on a catalogue patch → its EffectivePatch status: EXPLICIT_REJECTED (on RejectedPatches),
 * EXPLICIT_APPROVED (on ApprovedPatches), APPROVED (a rule approves it now; ApprovalDate = release + the rule's
 * delay, or the release for a cut-off date), PENDING_APPROVAL (a rule will approve it at ApprovalDate), or
 * undefined when none applies (the patch is left out).
 */
export function effectivePatchStatus(d: UpdateDecision): PatchStatus | undefined {
  const level = d.complianceLevel as PatchStatus['ComplianceLevel'];
  if (d.explicit === 'rejected') return { DeploymentStatus: 'EXPLICIT_REJECTED', ComplianceLevel: 'UNSPECIFIED' };
  if (d.approved) {
    const status: PatchStatus = { DeploymentStatus: d.explicit === 'approved' ? 'EXPLICIT_APPROVED' : 'APPROVED', ComplianceLevel: level };
    if (d.approvalTime !== undefined) status.ApprovalDate = d.approvalTime;
    return status;
  }
  if (d.pendingUntil !== undefined) return { DeploymentStatus: 'PENDING_APPROVAL', ComplianceLevel: level, ApprovalDate: d.pendingUntil };
  return undefined;
}
