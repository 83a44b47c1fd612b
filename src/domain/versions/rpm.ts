// RPM versions: rpmvercmp (rpm 4.18, rpmio/rpmvercmp.c), full `[epoch:]version[-release]` ordering with
// the semantics of rpm's `rpm.ver` objects (rpmio/rpmver.c), and the validity rules rpmbuild applies to
// Epoch, Version and Release. See docs/versions.md for the rules in prose.

/** A checked EVR. `epoch` is undefined when the string has no `epoch:`; `release` when it has no `-`. */
export interface RpmEvr {
  readonly epoch: number | undefined;
  readonly version: string;
  readonly release: string | undefined;
}

export type RpmEvrProblem =
  | 'empty'
  | 'epoch-empty'
  | 'epoch-not-number'
  | 'epoch-too-big'
  | 'version-empty'
  | 'release-empty'
  | 'invalid-character'
  | 'double-dot';

export type RpmParseResult =
  | { readonly ok: true; readonly evr: RpmEvr }
  | { readonly ok: false; readonly problem: RpmEvrProblem; readonly message: string };

/** rpmbuild reads Epoch as an unsigned 32-bit number. */
const MAX_EPOCH = 4294967295;

const MESSAGES: Record<RpmEvrProblem, string> = {
  'empty': 'version string is empty',
  'epoch-empty': 'epoch before ":" is empty',
  'epoch-not-number': 'epoch before ":" is not a number (digits only)',
  'epoch-too-big': `epoch is larger than ${MAX_EPOCH}`,
  'version-empty': 'version is empty',
  'release-empty': 'release after "-" is empty',
  'invalid-character': 'version and release may only contain letters, digits and . _ + ~ ^ % { } (one "-" separates the release)',
  'double-dot': 'version and release may not contain ".."',
};

const fail = (problem: RpmEvrProblem): RpmParseResult => ({ ok: false, problem, message: MESSAGES[problem] });

/** rpmbuild's ALLOWED_CHARS_VERREL plus ASCII letters and digits. */
const VERREL_CHARS = /^[A-Za-z0-9._+~^%{}]*$/;

/**
 * Checks a `[epoch:]version[-release]` string against the rules rpmbuild enforces on the Epoch, Version and
 * Release tags: epoch plain digits up to 2^32-1, version and release non-empty, only letters, digits and
 * `._+~^%{}`, and no `..`. (`%{}` is allowed because rpmbuild only warns about unexpanded macros.)
 */
export function parseRpmEvr(s: string): RpmParseResult {
  if (s === '') return fail('empty');
  let epoch: number | undefined;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const epochText = s.slice(0, colon);
    if (epochText === '') return fail('epoch-empty');
    if (!/^\d+$/.test(epochText)) return fail('epoch-not-number');
    const digits = epochText.replace(/^0+/, '');
    if (digits.length > 10 || Number(digits) > MAX_EPOCH) return fail('epoch-too-big');
    epoch = Number(digits);
    rest = s.slice(colon + 1);
  }
  let version = rest;
  let release: string | undefined;
  const hyphen = rest.lastIndexOf('-');
  if (hyphen >= 0) {
    version = rest.slice(0, hyphen);
    release = rest.slice(hyphen + 1);
  }
  if (version === '') return fail('version-empty');
  if (release === '') return fail('release-empty');
  for (const part of release === undefined ? [version] : [version, release]) {
    if (!VERREL_CHARS.test(part)) return fail('invalid-character');
    if (part.includes('..')) return fail('double-dot');
  }
  return { ok: true, evr: { epoch, version, release } };
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const TILDE = 0x7e;
const CARET = 0x5e;

/**
 * rpm's segment comparison. Anything that is not an ASCII letter, digit, `~` or `^` only separates
 * segments (non-ASCII characters included). `~` sorts before everything, even the end of the string; `^`
 * sorts after the end of the string but before any further segment. Segments are maximal runs of digits or
 * of letters: a digit run beats a letter run, digit runs compare as numbers of any length, letter runs
 * compare as ASCII. When one side runs out of segments, the side with something left is newer.
 */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  // Past the end of a string reads as 0, like the C terminator.
  const ca = (k: number): number => (k < a.length ? a.charCodeAt(k) : 0);
  const cb = (k: number): number => (k < b.length ? b.charCodeAt(k) : 0);
  const isSegmentChar = (c: number): boolean => isDigit(c) || isAlpha(c) || c === TILDE || c === CARET;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isSegmentChar(ca(i))) i++;
    while (j < b.length && !isSegmentChar(cb(j))) j++;

    if (ca(i) === TILDE || cb(j) === TILDE) {
      if (ca(i) !== TILDE) return 1;
      if (cb(j) !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca(i) === CARET || cb(j) === CARET) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (ca(i) !== CARET) return 1;
      if (cb(j) !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigit(ca(i));
    const inSegment = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && inSegment(ca(ei))) ei++;
    while (ej < b.length && inSegment(cb(ej))) ej++;
    // b holds the other kind of segment here: a number is newer than letters.
    if (ej === j) return numeric ? 1 : -1;

    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    // Plain ASCII code-unit order, which is strcmp's byte order for these characters.
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i < a.length ? 1 : -1;
}

/** The raw pieces rpm sees in an EVR string; any string splits (this never fails). */
export interface RpmEvrParts {
  readonly epoch: string | undefined;
  readonly version: string;
  readonly release: string | undefined;
}

/**
 * rpm's own split (rpmver.c parseEVR): an epoch only when everything before the first `:` is digits (an
 * empty epoch reads as "0"), the release after the last `-` that follows those digits.
 */
export function splitRpmEvr(s: string): RpmEvrParts {
  let k = 0;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  const hyphen = s.lastIndexOf('-');
  const releaseStart = hyphen >= k ? hyphen : -1;
  const versionEnd = releaseStart >= 0 ? releaseStart : s.length;
  const release = releaseStart >= 0 ? s.slice(releaseStart + 1) : undefined;
  if (s.charAt(k) === ':') {
    return { epoch: k === 0 ? '0' : s.slice(0, k), version: s.slice(k + 1, versionEnd), release };
  }
  return { epoch: undefined, version: s.slice(0, versionEnd), release };
}

function toParts(v: string | RpmEvr): RpmEvrParts {
  if (typeof v === 'string') return splitRpmEvr(v);
  return { epoch: v.epoch === undefined ? undefined : String(v.epoch), version: v.version, release: v.release };
}

/**
 * Orders two EVRs like rpm 4.18's `rpm.ver(a) < rpm.ver(b)` / `==` (rpmverCmp): epoch (missing = 0), then
 * version, then release, each with {@link rpmvercmp}; a missing release sorts before any release, so
 * `1.0` < `1.0-1`. This is the ordering of installed and candidate packages, not rpm's dependency-range
 * matching, where a missing release matches every release.
 */
export function compareRpmEvr(a: string | RpmEvr, b: string | RpmEvr): -1 | 0 | 1 {
  const pa = toParts(a);
  const pb = toParts(b);
  const byEpoch = rpmvercmp(pa.epoch ?? '0', pb.epoch ?? '0');
  if (byEpoch !== 0) return byEpoch;
  const byVersion = rpmvercmp(pa.version, pb.version);
  if (byVersion !== 0) return byVersion;
  if (pa.release === undefined || pb.release === undefined) {
    if (pa.release === pb.release) return 0;
    return pa.release === undefined ? -1 : 1;
  }
  return rpmvercmp(pa.release, pb.release);
}
