// One entry point for package version comparison and validation across the three package formats
// Patchline understands: Debian (dpkg), RPM and Alpine (apk). See docs/versions.md.

import { apkVersionInvalidAt, compareApkVersions } from './apk.ts';
import { compareDpkgVersions, parseDpkgVersion } from './dpkg.ts';
import { compareRpmEvr, parseRpmEvr } from './rpm.ts';

export * from './apk.ts';
export * from './dpkg.ts';
export * from './rpm.ts';

export type VersionScheme = 'dpkg' | 'rpm' | 'apk';

export const VERSION_SCHEMES: readonly VersionScheme[] = ['dpkg', 'rpm', 'apk'];

export function isVersionScheme(value: string): value is VersionScheme {
  return (VERSION_SCHEMES as readonly string[]).includes(value);
}

/**
 * Orders two versions of the same package: -1 when a is older, 0 when the package manager treats them as
 * the same version, 1 when a is newer. dpkg strings that dpkg itself refuses throw a DpkgVersionError;
 * rpm and apk compare any string, as their tools do. Validate input with {@link validateVersion} first.
 */
export function compareVersions(scheme: VersionScheme, a: string, b: string): -1 | 0 | 1 {
  switch (scheme) {
    case 'dpkg':
      return compareDpkgVersions(a, b);
    case 'rpm':
      return compareRpmEvr(a, b);
    case 'apk':
      return compareApkVersions(a, b);
  }
}

/**
 * Whether a version string may appear in a scan report: undefined when it is well formed, else a short
 * human explanation (without the field name, which the caller adds). dpkg: strict parsing (what dpkg
 * installs without --force-bad-version); rpm: `[epoch:]version[-release]` under rpmbuild's rules;
 * apk: apk-tools' own validity check.
 */
export function validateVersion(scheme: VersionScheme, s: string): string | undefined {
  switch (scheme) {
    case 'dpkg': {
      const parsed = parseDpkgVersion(s, { strict: true });
      return parsed.ok ? undefined : `not a valid Debian version: ${parsed.message}`;
    }
    case 'rpm': {
      const parsed = parseRpmEvr(s);
      return parsed.ok ? undefined : `not a valid RPM version: ${parsed.message}`;
    }
    case 'apk': {
      if (s === '') return 'not a valid Alpine version: version string is empty';
      const at = apkVersionInvalidAt(s);
      if (at === undefined) return undefined;
      const found = `unexpected ${JSON.stringify(s.charAt(at))} at character ${at + 1}`;
      return `not a valid Alpine version: ${found}; expected digits{.digits}[letter]{_suffix[N]}[~hash][-rN]`;
    }
  }
}
