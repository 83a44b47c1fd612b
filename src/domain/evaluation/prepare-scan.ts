// The baseline-independent half of a node's evaluation, done once per scan: pair every installed package
// (one per name+arch, the newest when a name+arch is installed twice, e.g. several kernels) with its
// candidate updates (newest first), and flag Install failures and pending reboots. A server that keeps
// scans in memory keeps PreparedScans, so re-evaluating after a baseline change is a flat loop.
// Pure: no I/O.

import { osFamily, type OsFamily } from '../baseline.ts';
import { compareVersions, type VersionScheme } from '../versions/index.ts';
import type { PackageIndex } from './package-index.ts';
import { normalizeKb } from './patch-lists.ts';
import type { NodeScan, ScanPackage } from './types.ts';

/** Entry flags. */
export const FAILED = 1;
export const PENDING_REBOOT = 2;
/** Windows: the entry is a reported not-applicable update. */
export const NOT_APPLICABLE = 4;

export interface PreparedScan {
  readonly prepared: true;
  readonly scan: NodeScan;
  readonly family: OsFamily;
  /**
   * Parallel arrays, one slot per entry. Linux/macOS: an installed name+arch and its candidates.
   * Windows: each installed update (no candidates), then each applicable update and each not-applicable
   * update (one candidate, no installed package).
   */
  readonly installed: ReadonlyArray<ScanPackage | undefined>;
  readonly candidates: ReadonlyArray<readonly ScanPackage[] | undefined>;
  readonly flags: Uint8Array;
  /** Linux/macOS: name → first entry with that name (others chained through `sameName`). */
  readonly byName: ReadonlyMap<string, number>;
  readonly sameName: readonly number[];
  /** Set when prepared with a PackageIndex: the ids of `installed` (-1 where none) and of each candidate list. */
  readonly index: PackageIndex | undefined;
  readonly installedIds: Int32Array | undefined;
  readonly candidateIds: ReadonlyArray<Int32Array | undefined> | undefined;
}

export function isPreparedScan(value: NodeScan | PreparedScan): value is PreparedScan {
  return (value as PreparedScan).prepared === true;
}

export function versionScheme(family: OsFamily): VersionScheme | undefined {
  return family === 'apt' ? 'dpkg' : family === 'yum' || family === 'suse' ? 'rpm' : undefined;
}

/** compareVersions that never throws (a version dpkg refuses keeps the scan's order). */
function safeCompare(scheme: VersionScheme | undefined, a: string, b: string): number {
  if (scheme === undefined || a === b) return 0;
  try {
    return compareVersions(scheme, a, b);
  } catch {
    return 0;
  }
}

/** The entry for name+arch, or -1. */
export function findEntry(p: Pick<PreparedScan, 'installed' | 'byName' | 'sameName'>, name: string, arch: string): number {
  let i = p.byName.get(name);
  while (i !== undefined && i >= 0) {
    if (p.installed[i]!.arch === arch) return i;
    i = p.sameName[i];
  }
  return -1;
}

/** Adds the PackageIndex ids to a prepared scan. */
function withIds(p: Omit<PreparedScan, 'index' | 'installedIds' | 'candidateIds'>, index: PackageIndex | undefined): PreparedScan {
  if (index === undefined) return { ...p, index: undefined, installedIds: undefined, candidateIds: undefined };
  const installedIds = new Int32Array(p.installed.length);
  for (let i = 0; i < p.installed.length; i++) {
    const pkg = p.installed[i];
    installedIds[i] = pkg === undefined ? -1 : index.idOf(pkg);
  }
  const candidateIds = p.candidates.map((list) => (list === undefined ? undefined : Int32Array.from(list, (c) => index.idOf(c))));
  return { ...p, index, installedIds, candidateIds };
}

function prepareWindows(scan: NodeScan, index: PackageIndex | undefined): PreparedScan {
  const installed: Array<ScanPackage | undefined> = [];
  const candidates: Array<ScanPackage[] | undefined> = [];
  const flagList: number[] = [];
  const failed = scan.failed.length > 0 ? new Set(scan.failed.map((f) => normalizeKb(f.name))) : undefined;
  const rebooting = scan.pendingReboot.length > 0 ? new Set(scan.pendingReboot.map((f) => normalizeKb(f.name))) : undefined;
  for (const pkg of scan.installed) {
    installed.push(pkg);
    candidates.push(undefined);
    flagList.push(rebooting?.has(normalizeKb(pkg.kbId ?? pkg.name)) ? PENDING_REBOOT : 0);
  }
  for (const pkg of scan.updates) {
    installed.push(undefined);
    candidates.push([pkg]);
    flagList.push(failed?.has(normalizeKb(pkg.kbId ?? pkg.name)) ? FAILED : 0);
  }
  for (const pkg of scan.notApplicable ?? []) {
    installed.push(undefined);
    candidates.push([pkg]);
    flagList.push(NOT_APPLICABLE);
  }
  return withIds({ prepared: true, scan, family: 'windows', installed, candidates, flags: Uint8Array.from(flagList), byName: new Map(), sameName: [] }, index);
}

/**
 * Pairs installed packages with their candidates (see the module comment). With a PackageIndex (one per
 * fleet), every package also gets its dense id, which lets a DecisionMemo skip hashing during evaluation.
 */
export function prepareScan(scan: NodeScan, index?: PackageIndex): PreparedScan {
  const family = osFamily(scan.operatingSystem);
  if (family === 'windows') return prepareWindows(scan, index);
  const scheme = versionScheme(family);
  const installed: ScanPackage[] = [];
  const candidates: Array<ScanPackage[] | undefined> = [];
  const sameName: number[] = [];
  const byName = new Map<string, number>();
  const p = { installed, byName, sameName };

  for (const pkg of scan.installed) {
    const first = byName.get(pkg.name);
    if (first !== undefined) {
      const i = findEntry(p, pkg.name, pkg.arch);
      if (i >= 0) {
        // The same name+arch installed twice (install-only packages such as kernels): the newest one counts.
        if (safeCompare(scheme, pkg.version, installed[i]!.version) > 0) installed[i] = pkg;
        continue;
      }
      // Another architecture of an installed name: chain it after the first entry of that name.
      let last = first;
      while (sameName[last]! >= 0) last = sameName[last]!;
      sameName[last] = installed.length;
    } else {
      byName.set(pkg.name, installed.length);
    }
    installed.push(pkg);
    candidates.push(undefined);
    sameName.push(-1);
  }

  for (const pkg of scan.updates) {
    const i = byName.has(pkg.name) ? findEntry(p, pkg.name, pkg.arch) : -1;
    if (i < 0) continue; // a package that is not installed: a new dependency, not a patch
    if (pkg.version === installed[i]!.version) continue; // already installed: not a candidate
    const list = candidates[i];
    if (list === undefined) candidates[i] = [pkg];
    else list.push(pkg);
  }
  for (const list of candidates) {
    if (list !== undefined && list.length > 1) list.sort((a, b) => safeCompare(scheme, b.version, a.version));
  }

  const flags = new Uint8Array(installed.length);
  for (const f of scan.failed) {
    const i = byName.has(f.name) ? findEntry(p, f.name, f.arch) : -1;
    if (i >= 0) flags[i]! |= FAILED;
  }
  for (const r of scan.pendingReboot) {
    const i = byName.has(r.name) ? findEntry(p, r.name, r.arch) : -1;
    if (i >= 0) flags[i]! |= PENDING_REBOOT;
  }
  return withIds({ prepared: true, scan, family, installed, candidates, flags, byName, sameName }, index);
}
