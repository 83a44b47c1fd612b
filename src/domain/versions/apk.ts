// Alpine package versions (`digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`): validity and ordering
// following apk-tools 3's src/version.c tokenizer. See docs/versions.md for the rules in prose.

/** Token kinds in the order apk allows them to follow each other; the order also decides comparisons. */
const Token = {
  InitialDigit: 0,
  Digit: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNumber: 4,
  CommitHash: 5,
  Revision: 6,
  End: 7,
  Invalid: 8,
} as const;
type Token = (typeof Token)[keyof typeof Token];

/** Suffix weights: the pre-release ones sort below "no suffix" (0), the post-release ones above. */
const SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['alpha', -4],
  ['beta', -3],
  ['pre', -2],
  ['rc', -1],
  ['cvs', 1],
  ['svn', 2],
  ['git', 3],
  ['hg', 4],
  ['p', 5],
]);

interface TokenState {
  token: Token;
  /** The token's text: digits, the letter, the suffix name or the hash. */
  text: string;
  /** Suffix weight, for Token.Suffix. */
  suffix: number;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isLowerHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66);

/** Walks a version string token by token; `pos` is where the next token starts. */
class Tokenizer {
  pos = 0;
  readonly state: TokenState = { token: Token.InitialDigit, text: '', suffix: 0 };
  private readonly s: string;

  constructor(s: string) {
    this.s = s;
    this.readDigits(Token.InitialDigit);
  }

  private span(from: number, accept: (c: number) => boolean): number {
    let k = from;
    while (k < this.s.length && accept(this.s.charCodeAt(k))) k++;
    return k;
  }

  private readDigits(token: Token): void {
    const end = this.span(this.pos, isDigit);
    this.state.text = this.s.slice(this.pos, end);
    this.state.token = end === this.pos ? Token.Invalid : token;
    this.pos = end;
  }

  private invalid(): void {
    this.state.token = Token.Invalid;
  }

  /** Advances to the next token, checking that it may follow the current one. */
  next(): void {
    const t = this.state;
    if (this.pos >= this.s.length) {
      t.token = Token.End;
      return;
    }
    const c = this.s.charCodeAt(this.pos);
    if (isLower(c)) {
      if (t.token > Token.Digit) return this.invalid();
      t.text = this.s.charAt(this.pos);
      t.token = Token.Letter;
      this.pos++;
    } else if (c === 0x2e /* . */ || isDigit(c)) {
      if (c === 0x2e) {
        if (t.token > Token.Digit) return this.invalid();
        this.pos++;
      }
      if (t.token === Token.InitialDigit || t.token === Token.Digit) this.readDigits(Token.Digit);
      else if (t.token === Token.Suffix) this.readDigits(Token.SuffixNumber);
      else this.invalid();
    } else if (c === 0x5f /* _ */) {
      if (t.token > Token.SuffixNumber) return this.invalid();
      const end = this.span(this.pos + 1, isLower);
      const name = this.s.slice(this.pos + 1, end);
      const weight = SUFFIXES.get(name);
      if (weight === undefined) return this.invalid();
      t.text = name;
      t.suffix = weight;
      t.token = Token.Suffix;
      this.pos = end;
    } else if (c === 0x7e /* ~ */) {
      if (t.token >= Token.CommitHash) return this.invalid();
      const end = this.span(this.pos + 1, isLowerHex);
      if (end === this.pos + 1) return this.invalid();
      t.text = this.s.slice(this.pos + 1, end);
      t.token = Token.CommitHash;
      this.pos = end;
    } else if (c === 0x2d /* - */) {
      if (t.token >= Token.Revision || this.s.charAt(this.pos + 1) !== 'r') return this.invalid();
      this.pos += 2;
      this.readDigits(Token.Revision);
    } else {
      this.invalid();
    }
  }
}

/** Compares digit strings as numbers of any length (apk uses uint64 here; see docs/versions.md). */
function compareNumbers(a: string, b: string): -1 | 0 | 1 {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Byte-wise comparison, shorter first on a common prefix (apk_blob_sort). */
function compareText(a: string, b: string): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1;
}

function compareTokens(a: TokenState, b: TokenState): -1 | 0 | 1 {
  switch (a.token) {
    case Token.Digit:
      // A later component with a leading zero compares as text, like Gentoo: 1.01 < 1.1, 1.0 < 1.00.
      if (a.text.startsWith('0') || b.text.startsWith('0')) return compareText(a.text, b.text);
      return compareNumbers(a.text, b.text);
    case Token.InitialDigit:
    case Token.SuffixNumber:
    case Token.Revision:
      return compareNumbers(a.text, b.text);
    case Token.Letter:
      return compareText(a.text, b.text);
    case Token.Suffix:
      return a.suffix === b.suffix ? 0 : a.suffix < b.suffix ? -1 : 1;
    default:
      return compareText(a.text, b.text);
  }
}

/** Where a string stops being a valid apk version, or undefined when it is valid. */
export function apkVersionInvalidAt(s: string): number | undefined {
  const t = new Tokenizer(s);
  let start = 0;
  while (t.state.token < Token.End) {
    start = t.pos;
    t.next();
  }
  return t.state.token === Token.End ? undefined : start;
}

/** True when apk-tools would accept `s` as a package version (apk_version_validate). */
export function isValidApkVersion(s: string): boolean {
  return apkVersionInvalidAt(s) === undefined;
}

/**
 * Orders two Alpine versions like apk-tools (apk_version_compare). Both strings are walked token by token
 * while the kinds agree; the first differing value decides. When the kinds differ, a pre-release suffix
 * (`_alpha _beta _pre _rc`) is older, otherwise the side that stopped (ended, or hit an invalid tail) is
 * older — an invalid tail sorts below the end of a string. Never throws: invalid strings compare too.
 */
export function compareApkVersions(a: string, b: string): -1 | 0 | 1 {
  const ta = new Tokenizer(a);
  const tb = new Tokenizer(b);
  const sa = ta.state;
  const sb = tb.state;
  while (sa.token === sb.token && sa.token < Token.End) {
    const r = compareTokens(sa, sb);
    if (r !== 0) return r;
    ta.next();
    tb.next();
  }
  if (sa.token === sb.token) return 0;
  if (sa.token === Token.Suffix && sa.suffix < 0) return -1;
  if (sb.token === Token.Suffix && sb.suffix < 0) return 1;
  return sa.token > sb.token ? -1 : 1;
}
