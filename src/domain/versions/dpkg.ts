// Debian package versions (`[epoch:]upstream[-revision]`): parsing with dpkg's own validity rules and
// ordering exactly like `dpkg --compare-versions` (dpkg 1.21, lib/dpkg/parsehelp.c and lib/dpkg/version.c).
// See docs/versions.md for the rules in prose.

/** A parsed Debian version. `revision` is '' when the string has no `-`. */
export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/**
 * Why a string is not a dpkg version. The first group is refused by dpkg itself (it exits with an error);
 * the second group only makes dpkg warn, so they are failures in strict mode only.
 */
export type DpkgVersionProblem =
  | 'empty'
  | 'nul-character'
  | 'embedded-space'
  | 'epoch-empty'
  | 'epoch-not-number'
  | 'epoch-negative'
  | 'epoch-too-big'
  | 'nothing-after-colon'
  | 'revision-empty'
  | 'upstream-empty'
  // strict mode only:
  | 'surrounding-space'
  | 'upstream-not-digit-start'
  | 'upstream-invalid-character'
  | 'revision-invalid-character';

export type DpkgParseResult =
  | { readonly ok: true; readonly version: DpkgVersion }
  | { readonly ok: false; readonly problem: DpkgVersionProblem; readonly message: string };

export interface DpkgParseOptions {
  /**
   * true (the default): also refuse what dpkg only warns about — an upstream part that does not start with
   * a digit, characters outside dpkg's allowed sets, and leading/trailing blanks. This is what dpkg requires
   * of a `.deb` it installs without `--force-bad-version`. false: dpkg's lax parser (its status database
   * and `--compare-versions`), which only refuses hard errors.
   */
  readonly strict?: boolean;
}

/** Thrown by {@link compareDpkgVersions} for a string that dpkg itself refuses to parse. */
export class DpkgVersionError extends Error {
  override readonly name = 'DpkgVersionError';
  readonly value: string;
  readonly problem: DpkgVersionProblem;

  constructor(value: string, problem: DpkgVersionProblem, detail: string) {
    super(`invalid dpkg version ${JSON.stringify(value)}: ${detail}`);
    this.value = value;
    this.problem = problem;
  }
}

/** dpkg stores the epoch in an `int`; it refuses anything above INT_MAX. */
const MAX_EPOCH = 2147483647;

const MESSAGES: Record<DpkgVersionProblem, string> = {
  'empty': 'version string is empty',
  'nul-character': 'version string contains a NUL character',
  'embedded-space': 'version string has embedded spaces',
  'epoch-empty': 'epoch before ":" is empty',
  'epoch-not-number': 'epoch before ":" is not a number (digits only)',
  'epoch-negative': 'epoch is negative',
  'epoch-too-big': `epoch is larger than ${MAX_EPOCH}`,
  'nothing-after-colon': 'nothing after the epoch colon',
  'revision-empty': 'revision after the last "-" is empty',
  'upstream-empty': 'upstream version is empty',
  'surrounding-space': 'version has leading or trailing blanks',
  'upstream-not-digit-start': 'upstream version does not start with a digit',
  'upstream-invalid-character': 'upstream version may only contain letters, digits and . + ~ - :',
  'revision-invalid-character': 'revision may only contain letters, digits and . + ~',
};

const fail = (problem: DpkgVersionProblem): DpkgParseResult => ({ ok: false, problem, message: MESSAGES[problem] });

const isBlank = (c: string): boolean => c === ' ' || c === '\t';
const isDigitCode = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlphaCode = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

const UPSTREAM_CHARS = /^[A-Za-z0-9.+~:-]*$/;
const REVISION_CHARS = /^[A-Za-z0-9.+~]*$/;

/** Splits and checks a Debian version string. Never throws. */
export function parseDpkgVersion(input: string, options: DpkgParseOptions = {}): DpkgParseResult {
  const strict = options.strict ?? true;
  // dpkg reads C strings: a NUL would silently cut the version short.
  if (input.includes('\0')) return fail('nul-character');
  if (input === '') return fail('empty');

  let start = 0;
  let end = input.length;
  while (start < end && isBlank(input.charAt(start))) start++;
  while (end > start && isBlank(input.charAt(end - 1))) end--;
  if (start === end) return fail('empty');
  const s = input.slice(start, end);
  if (s.includes(' ') || s.includes('\t')) return fail('embedded-space');
  if (strict && s.length !== input.length) return fail('surrounding-space');

  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const epochText = s.slice(0, colon);
    if (epochText === '') return fail('epoch-empty');
    // dpkg parses the epoch with strtol, which would also take a sign; we only take plain digits.
    if (/^-\d+$/.test(epochText)) return fail('epoch-negative');
    if (!/^\d+$/.test(epochText)) return fail('epoch-not-number');
    const digits = epochText.replace(/^0+/, '');
    if (digits.length > 10 || Number(digits) > MAX_EPOCH) return fail('epoch-too-big');
    epoch = Number(digits);
    rest = s.slice(colon + 1);
    if (rest === '') return fail('nothing-after-colon');
  }

  let upstream = rest;
  let revision = '';
  const hyphen = rest.lastIndexOf('-');
  if (hyphen >= 0) {
    upstream = rest.slice(0, hyphen);
    revision = rest.slice(hyphen + 1);
    if (revision === '') return fail('revision-empty');
  }
  if (upstream === '') return fail('upstream-empty');

  if (strict) {
    if (!isDigitCode(upstream.charCodeAt(0))) return fail('upstream-not-digit-start');
    if (!UPSTREAM_CHARS.test(upstream)) return fail('upstream-invalid-character');
    if (!REVISION_CHARS.test(revision)) return fail('revision-invalid-character');
  }
  return { ok: true, version: { epoch, upstream, revision } };
}

/**
 * The weight dpkg gives a byte outside a digit run: `~` sorts before everything (even the end of the
 * string), then the end of the string and digits, then ASCII letters, then every other byte. dpkg passes
 * a plain `char`, which is signed on x86-64, so bytes >= 0x80 weigh their unsigned value (128..255) and
 * land between the letters and ASCII punctuation (c + 256). We reproduce the x86-64 build.
 */
function order(c: number): number {
  if (c === 0 || isDigitCode(c)) return 0;
  if (isAlphaCode(c)) return c;
  if (c === 0x7e) return -1;
  return c >= 0x80 ? c : c + 256;
}

const encoder = new TextEncoder();
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** The bytes dpkg would see: char codes for ASCII text, UTF-8 otherwise. */
function bytesOf(s: string): ArrayLike<number> {
  if (ASCII_ONLY.test(s)) {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  return encoder.encode(s);
}

/**
 * dpkg's verrevcmp: alternately compare a non-digit run (byte by byte with {@link order}) and a digit run
 * (numerically, of any length: leading zeros dropped, the longer run wins, else the first differing digit).
 */
function verrevcmp(aText: string, bText: string): number {
  const a = bytesOf(aText);
  const b = bytesOf(bText);
  const at = (i: number): number => (i < a.length ? (a[i] ?? 0) : 0);
  const bt = (j: number): number => (j < b.length ? (b[j] ?? 0) : 0);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigitCode(at(i))) || (j < b.length && !isDigitCode(bt(j)))) {
      const diff = order(at(i)) - order(bt(j));
      if (diff !== 0) return diff;
      i++;
      j++;
    }
    while (at(i) === 0x30) i++;
    while (bt(j) === 0x30) j++;
    let firstDiff = 0;
    while (isDigitCode(at(i)) && isDigitCode(bt(j))) {
      if (firstDiff === 0) firstDiff = at(i) - bt(j);
      i++;
      j++;
    }
    if (isDigitCode(at(i))) return 1;
    if (isDigitCode(bt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function toDpkgVersion(v: string | DpkgVersion): DpkgVersion {
  if (typeof v !== 'string') return v;
  const parsed = parseDpkgVersion(v, { strict: false });
  if (!parsed.ok) throw new DpkgVersionError(v, parsed.problem, parsed.message);
  return parsed.version;
}

/**
 * Orders two Debian versions like `dpkg --compare-versions`: epoch numerically, then upstream, then
 * revision with verrevcmp (a missing revision equals `0`). Strings are parsed leniently, as dpkg does when
 * comparing; a string dpkg refuses outright (see {@link DpkgVersionProblem}) throws {@link DpkgVersionError}.
 */
export function compareDpkgVersions(a: string | DpkgVersion, b: string | DpkgVersion): -1 | 0 | 1 {
  const va = toDpkgVersion(a);
  const vb = toDpkgVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  const rc = verrevcmp(va.upstream, vb.upstream) || verrevcmp(va.revision, vb.revision);
  return rc < 0 ? -1 : rc > 0 ? 1 : 0;
}
