// Patchline.PutScanReport's raw scan → the engine's NodeScan: semantic checks the model cannot express (versions
// valid in the OS's package scheme, no duplicate packages), the node's product name, and the reboot-pending set
// carried from earlier Install operations. Pure. Shape: docs/api.md ("Patchline.PutScanReport").

import { osFamily } from './baseline.ts';
import { validateVersion } from './versions/index.ts';
import { versionScheme } from './evaluation/prepare-scan.ts';
import type { NodeScan, ScanPackage } from './evaluation/types.ts';
import type {
  PatchlineInstalledPackage, PatchlinePackageRef, PatchlinePutScanReportRequest, PatchlineUpdatePackage,
} from '../generated/ssm-types.ts';

/** Product names as AWS's agents report them, from the OS and its version (Platform.Product overrides). */
export function productName(os: string, version: string, given?: string): string {
  if (given !== undefined && given !== '') return given;
  const major = version.split('.')[0] ?? version;
  switch (os) {
    case 'AMAZON_LINUX': return `AmazonLinux${version}`;
    case 'AMAZON_LINUX_2': return 'AmazonLinux2';
    case 'AMAZON_LINUX_2022': return 'AmazonLinux2022';
    case 'AMAZON_LINUX_2023': return 'AmazonLinux2023';
    case 'UBUNTU': return `Ubuntu${version}`;
    case 'DEBIAN': return `Debian${major}`;
    case 'RASPBIAN': return `Raspbian${major}`;
    case 'REDHAT_ENTERPRISE_LINUX': return `RedhatEnterpriseLinux${version}`;
    case 'CENTOS': return `CentOS${version}`;
    case 'ORACLE_LINUX': return `OracleLinux${version}`;
    case 'ROCKY_LINUX': return `RockyLinux${version}`;
    case 'ALMA_LINUX': return `AlmaLinux${version}`;
    case 'SUSE': return `Suse${version}`;
    case 'MACOS': return `MacOS${version}`;
    default: return `WindowsServer${major}`;
  }
}

export type ScanCheck = { ok: true; scan: NodeScan; installedTimes: Map<number, number> } | { ok: false; message: string };

function installedPackage(p: PatchlineInstalledPackage, family: string): ScanPackage {
  const pkg: ScanPackage = { name: p.Name, arch: p.Architecture, version: p.Version };
  if (p.SourceName) pkg.sourceName = p.SourceName;
  if (p.SourceVersion) pkg.sourceVersion = p.SourceVersion;
  if (p.Repository) pkg.repository = p.Repository;
  if (p.Security !== undefined) pkg.security = p.Security;
  if (p.Priority) pkg.priority = p.Priority;
  if (p.Section) pkg.section = p.Section;
  if (p.Classification) pkg.classification = p.Classification;
  if (p.Severity) pkg.severity = p.Severity;
  // Windows: the installed shape has no MsrcSeverity member; an installed update's Severity is its MSRC severity
  // (what MSRC_SEVERITY filters test and the row's Severity shows), so AWS-DefaultPatchBaseline can approve it.
  if (p.Severity && family === 'windows') pkg.msrcSeverity = p.Severity;
  if (p.KBId) pkg.kbId = p.KBId;
  if (p.Title) pkg.title = p.Title;
  return pkg;
}

function updatePackage(p: PatchlineUpdatePackage): ScanPackage {
  const pkg: ScanPackage = { name: p.Name, arch: p.Architecture, version: p.Version, security: p.Security };
  if (p.SourceName) pkg.sourceName = p.SourceName;
  if (p.SourceVersion) pkg.sourceVersion = p.SourceVersion;
  if (p.Repository) pkg.repository = p.Repository;
  if (p.Classification) pkg.classification = p.Classification;
  if (p.Severity) pkg.severity = p.Severity;
  if (p.Priority) pkg.priority = p.Priority;
  if (p.Section) pkg.section = p.Section;
  if (p.ReleaseTime !== undefined) pkg.releaseTime = Math.floor(p.ReleaseTime);
  if (p.AdvisoryIds?.length) pkg.advisoryIds = [...p.AdvisoryIds];
  if (p.CVEIds?.length) pkg.cveIds = [...p.CVEIds];
  if (p.BugzillaIds?.length) pkg.bugzillaIds = [...p.BugzillaIds];
  if (p.KBId) pkg.kbId = p.KBId;
  if (p.Title) pkg.title = p.Title;
  if (p.Product) pkg.product = p.Product;
  if (p.ProductFamily) pkg.productFamily = p.ProductFamily;
  if (p.PatchSet) pkg.patchSet = p.PatchSet;
  if (p.MsrcSeverity) pkg.msrcSeverity = p.MsrcSeverity;
  return pkg;
}

const ref = (r: PatchlinePackageRef) => ({ name: r.Name, arch: r.Architecture, ...(r.Version ? { version: r.Version } : {}) });

/**
 * Checks and converts a raw scan. `previousPendingReboot` is what earlier Install operations left pending a
 * reboot; it carries over while the node still reports RebootPending and clears once it does not.
 * `installedTimes` maps an index of `scan.installed` to the package's installed time (epoch seconds).
 */
export function toNodeScan(input: PatchlinePutScanReportRequest, previousPendingReboot: Array<{ name: string; arch: string }>): ScanCheck {
  const os = input.Platform.OperatingSystem;
  const family = osFamily(os);
  const scheme = versionScheme(family);
  const checkVersions = (list: ReadonlyArray<{ Version?: string; Name: string; Architecture: string }>, member: string): string | undefined => {
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (scheme !== undefined && p.Version !== undefined) {
        const problem = validateVersion(scheme, p.Version);
        if (problem !== undefined) return `${member}[${i}].Version '${p.Version}' is not a valid ${scheme} version: ${problem}`;
      }
      if (member === 'Installed') {
        const key = `${p.Name}\u0000${p.Architecture}\u0000${p.Version ?? ''}`;
        if (seen.has(key)) return `${member}[${i}] repeats ${p.Name} ${p.Version ?? ''} (${p.Architecture}).`;
        seen.add(key);
      }
    }
    return undefined;
  };
  if (input.OperationEndTime < input.OperationStartTime) return { ok: false, message: 'OperationEndTime is earlier than OperationStartTime.' };
  for (const [list, member] of [[input.Installed, 'Installed'], [input.Updates, 'Updates'], [input.NotApplicable ?? [], 'NotApplicable']] as const) {
    const problem = checkVersions(list, member);
    if (problem) return { ok: false, message: problem };
  }
  if (input.Operation === 'Scan' && (input.Failed?.length || input.InstalledByOperation?.length)) {
    return { ok: false, message: 'Failed and InstalledByOperation belong to Install operations; this report is a Scan.' };
  }
  const installedTimes = new Map<number, number>();
  const installed = input.Installed.map((p, i) => {
    if (p.InstalledTime !== undefined) installedTimes.set(i, Math.floor(p.InstalledTime));
    return withDefaults(family, installedPackage(p, family));
  });
  const dependsOn: Record<string, string[]> = {};
  for (const u of input.Updates) if (u.DependsOn?.length) dependsOn[u.Name] = [...u.DependsOn];
  const pending = input.RebootPending
    ? dedupe([...previousPendingReboot, ...(input.InstalledByOperation ?? []).map((r) => ({ name: r.Name, arch: r.Architecture }))])
    : [];
  const scan: NodeScan = {
    operatingSystem: os,
    product: productName(os, input.Platform.Version, input.Platform.Product),
    operation: input.Operation,
    rebootPending: input.RebootPending,
    installed,
    updates: input.Updates.map((u) => withDefaults(family, updatePackage(u))),
    failed: (input.Failed ?? []).map(ref),
    pendingReboot: pending,
  };
  if (input.NotApplicable?.length) scan.notApplicable = input.NotApplicable.map(updatePackage);
  if (Object.keys(dependsOn).length > 0) scan.dependsOn = dependsOn;
  return { ok: true, scan, installedTimes };
}

/** Debian policy: a package that declares no Priority is `optional` (so PRIORITY filters treat it as such). */
function withDefaults(family: string, pkg: ScanPackage): ScanPackage {
  if (family === 'apt' && pkg.priority === undefined) pkg.priority = 'optional';
  return pkg;
}

function dedupe(list: Array<{ name: string; arch: string }>): Array<{ name: string; arch: string }> {
  const seen = new Set<string>();
  return list.filter((r) => {
    const key = `${r.name}\u0000${r.arch}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
