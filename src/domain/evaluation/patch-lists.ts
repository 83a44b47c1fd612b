// ApprovedPatches / RejectedPatches matchers, one per baseline list, in each package world's formats
// (semantics §4 "Approved/rejected list formats", docs/evaluation.md "Explicit lists"):
//   apt      bare package names (also `name.arch`), `*` wildcards tolerated;
//   yum      names and full names in every NEVRA spelling (name, name.arch, name-version-release.arch,
//            name-epoch:version-release.arch, epoch:name-version-release.arch, name.arch:epoch:version-release, …),
//            one `*`; the APPROVED list also takes advisory ids, CVE ids and Bugzilla ids;
//   suse     the same full names, plus patch names (carried in ScanPackage.advisoryIds);
//   macos    exact names (no wildcards);
//   windows  KB ids (KB3213986, or the bare number) and MS bulletin ids (MS17-001).
// Matching is case-insensitive, like AWS's agent. Pure.

import type { OsFamily } from '../baseline.ts';
import { splitRpmEvr } from '../versions/rpm.ts';
import type { ScanPackage } from './types.ts';
import { ValueMatcher } from './value-matcher.ts';

export interface PatchListMatcher {
  readonly empty: boolean;
  matches(pkg: ScanPackage): boolean;
  /** Name-only check (a dependency known by name alone): the bare-name spellings of the list. */
  matchesName(name: string): boolean;
}

const NONE: PatchListMatcher = { empty: true, matches: () => false, matchesName: () => false };

/** Every spelling of an RPM package that a list entry may use, lowercased. */
export function rpmSpellings(pkg: ScanPackage): string[] {
  const evr = splitRpmEvr(pkg.version);
  const n = pkg.name;
  const a = pkg.arch;
  const e = evr.epoch ?? '0';
  const vr = evr.release === undefined ? evr.version : `${evr.version}-${evr.release}`;
  const out = [
    n,
    `${n}.${a}`,
    `${n}-${evr.version}`,
    `${n}-${vr}`,
    `${n}-${vr}.${a}`,
    `${n}-${e}:${vr}`,
    `${n}-${e}:${vr}.${a}`,
    `${e}:${n}-${vr}.${a}`,
    `${n}.${a}:${e}:${vr}`,
  ];
  for (let i = 0; i < out.length; i++) out[i] = out[i]!.toLowerCase();
  return out;
}

const ALL_DIGITS = /^\d+$/;

/** 'KB3213986', '3213986', 'kb3213986' → 'KB3213986'. */
export function normalizeKb(id: string): string {
  const upper = id.trim().toUpperCase();
  return ALL_DIGITS.test(upper) ? `KB${upper}` : upper;
}

function anyOf(m: ValueMatcher, values: readonly string[]): boolean {
  for (const v of values) if (m.test(v)) return true;
  return false;
}

export function compilePatchList(family: OsFamily, entries: readonly string[], kind: 'approved' | 'rejected'): PatchListMatcher {
  const list = entries.map((e) => e.trim()).filter((e) => e !== '');
  if (list.length === 0) return NONE;
  switch (family) {
    case 'apt': {
      const names = new ValueMatcher(list);
      return {
        empty: false,
        matches: (pkg) => names.test(pkg.name) || names.test(`${pkg.name}.${pkg.arch}`),
        matchesName: (name) => names.test(name),
      };
    }
    case 'macos': {
      const names = new ValueMatcher(list, { globs: false });
      return { empty: false, matches: (pkg) => names.test(pkg.name), matchesName: (name) => names.test(name) };
    }
    case 'windows': {
      const ids = new Set(list.map(normalizeKb));
      const hit = (pkg: ScanPackage): boolean => {
        if (ids.has(normalizeKb(pkg.kbId ?? pkg.name))) return true;
        for (const a of pkg.advisoryIds ?? []) if (ids.has(a.toUpperCase())) return true;
        return false;
      };
      return { empty: false, matches: hit, matchesName: (name) => ids.has(normalizeKb(name)) };
    }
    case 'yum':
    case 'suse': {
      const names = new ValueMatcher(list);
      // Ids: yum's approved list (advisory, CVE, Bugzilla); SUSE patch names on both lists.
      const idMatcher = family === 'suse' || kind === 'approved' ? new ValueMatcher(list, { globs: family === 'suse' }) : undefined;
      return {
        empty: false,
        matches: (pkg) => {
          if (anyOf(names, rpmSpellings(pkg))) return true;
          if (idMatcher === undefined) return false;
          if (idMatcher.testAny(pkg.advisoryIds)) return true;
          return family === 'yum' && (idMatcher.testAny(pkg.cveIds) || idMatcher.testAny(pkg.bugzillaIds));
        },
        matchesName: (name) => names.test(name),
      };
    }
  }
}
