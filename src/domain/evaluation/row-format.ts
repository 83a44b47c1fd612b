// How a scanned package is spelled in a DescribeInstancePatches row (semantics §2, docs/evaluation.md
// "Row formats"): Title, KBId, Classification and Severity per OS family. Pure string work, no RegExps.

import type { OsFamily } from '../baseline.ts';
import { normalizeKb } from './patch-lists.ts';
import type { ScanPackage } from './types.ts';

/** `epoch:rest` as given when the version has a numeric epoch, else `0:version` (RPM EVR and dpkg alike). */
export function withEpoch(version: string): string {
  let i = 0;
  while (i < version.length) {
    const c = version.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i > 0 && version.charCodeAt(i) === 0x3a /* : */ ? version : `0:${version}`;
}

/**
 * Linux: `name.arch:epoch:version-release` (epoch 0 when absent; Debian `epoch:upstream-revision`).
 * Windows: the update's title (else its KB id). macOS: `name.version` (as AWS's agent spells it).
 */
export function patchTitle(family: OsFamily, pkg: ScanPackage): string {
  switch (family) {
    case 'windows':
      return pkg.title ?? normalizeKb(pkg.kbId ?? pkg.name);
    case 'macos':
      return `${pkg.name}.${pkg.version}`;
    case 'apt':
      // AWS's apt agent writes the Debian version as is: the epoch only when the version has one.
      return `${pkg.name}.${pkg.arch}:${pkg.version}`;
    default:
      return `${pkg.name}.${pkg.arch}:${withEpoch(pkg.version)}`;
  }
}

/** Linux: `name.arch`. Windows: the KB id. macOS: the name. */
export function patchKbId(family: OsFamily, pkg: ScanPackage): string {
  switch (family) {
    case 'windows':
      return normalizeKb(pkg.kbId ?? pkg.name);
    case 'macos':
      return pkg.name;
    default:
      return `${pkg.name}.${pkg.arch}`;
  }
}

/** apt: 'Security' for a security-pocket version, else ''. Others: the package's classification, else ''. */
export function patchClassification(family: OsFamily, pkg: ScanPackage): string {
  if (family === 'apt') return pkg.security === true ? 'Security' : '';
  return pkg.classification ?? '';
}

/** apt: the Debian priority (AWS's agent reports it as the patch severity). Windows: MSRC severity. Others: the notice severity. */
export function patchSeverity(family: OsFamily, pkg: ScanPackage): string {
  switch (family) {
    case 'apt':
      return pkg.priority ?? '';
    case 'windows':
      return pkg.msrcSeverity ?? '';
    default:
      return pkg.severity ?? '';
  }
}
