// Request validation against the generated protocol model (src/generated/ssm-model.json), run before any handler.
//
// createRequestValidator() compiles one closure per shape once; validate() then walks a parsed JSON body:
//   - wrong JSON types (string for an integer, object for a list, 1.5 for an integer, ...) abort with
//     SerializationException naming the member path in wire form: `Expected Integer for 'Rules[0].Days' but got String`;
//   - constraint violations (required, length, range, pattern, enum) are all collected and reported as one
//     ValidationException in AWS's wording: `2 validation errors detected: Value 'ab' at 'name' failed to satisfy
//     constraint: Member must satisfy regular expression pattern: ...; Value 'ab' at 'name' failed to ...`.
// `null` counts as absent, unknown members are ignored, strings are measured in UTF-16 code units (Java length).
// The model's patterns are Java regexes; compileJavaPattern() translates them to full-match JavaScript RegExps.
// See docs/protocol-validation.md for the message formats and every choice made where AWS behaviour is uncertain.

import bundledModel from '../generated/ssm-model.json' with { type: 'json' };

export type ValidationOutcome = { ok: true } | { ok: false; code: 'ValidationException' | 'SerializationException'; message: string };

export type GeneratedModel = typeof import('../generated/ssm-model.json');

export interface RequestValidator {
  /** Validates `body` (a parsed JSON value) as the input of `operation`; throws if the operation is not in the model. */
  validate(operation: string, body: unknown): ValidationOutcome;
  /** True for every operation of the generated model (`CreatePatchBaseline`, `Patchline.<Name>`). */
  knows(operation: string): boolean;
  /** The AWS target prefix (`AmazonSSM`). */
  readonly targetPrefix: string;
  /** True for every operation of the AWS model, served or not (to tell "unsupported" from "unknown"). */
  isAwsOperation(name: string): boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// The slice of the generated model this module reads.

interface ModelRef {
  shape: string;
  locationName?: string;
}
interface ModelShape {
  type: string;
  members?: Record<string, ModelRef>;
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  member?: ModelRef;
  key?: ModelRef;
  value?: ModelRef;
  sensitive?: boolean;
}
interface ModelFile {
  metadata: { targetPrefix: string };
  allOperations: string[];
  operations: Record<string, { input?: string; output?: string; errors: string[] }>;
  shapes: Record<string, ModelShape>;
}

// ---------------------------------------------------------------------------------------------------------------
// Paths. A value's position is (parent node, own segment); nodes are only allocated for containers, and the
// strings are only built when an error is reported.

interface MemberSeg {
  /** Name on the wire (`MaxResults`). */
  readonly wire: string;
  /** Name in AWS messages (`maxResults`). */
  readonly aws: string;
}
/** A structure member, a 0-based list index, a map key, or null for the request itself. */
type Seg = MemberSeg | number | string | null;
interface PathNode {
  readonly up: PathNode | null;
  readonly seg: Seg;
}
const ROOT: PathNode = { up: null, seg: null };

function segments(up: PathNode | null, seg: Seg): Seg[] {
  const out: Seg[] = [seg];
  for (let node = up; node !== null; node = node.up) out.push(node.seg);
  return out.reverse().filter((s) => s !== null);
}

/** AWS form: `approvalRules.patchRules.1.member.patchFilterGroup` (lists 1-based with `.member`, map keys bare). */
function awsPath(up: PathNode | null, seg: Seg): string {
  return segments(up, seg)
    .map((s) => (typeof s === 'number' ? `${s + 1}.member` : typeof s === 'string' ? s : s!.aws))
    .join('.');
}

/** Wire form for SerializationException: `ApprovalRules.PatchRules[0].PatchFilterGroup`, map keys as `["key"]`. */
function wirePath(up: PathNode | null, seg: Seg): string {
  let out = '';
  for (const s of segments(up, seg)) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string') out += `[${JSON.stringify(s)}]`;
    else out += out === '' ? s!.wire : `.${s!.wire}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

class SerializationFailure {
  constructor(readonly message: string) {}
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'List';
  switch (typeof v) {
    case 'string':
      return 'String';
    case 'number':
      return 'Number';
    case 'boolean':
      return 'Boolean';
    case 'object':
      return 'Object';
    default:
      return typeof v;
  }
}

function typeFailure(expected: string, v: unknown, up: PathNode | null, seg: Seg, detail?: string): SerializationFailure {
  const got = detail ?? jsonKind(v);
  return new SerializationFailure(`Expected ${expected} for '${wirePath(up, seg)}' but got ${got}`);
}

/** Java `toString()` of the deserialized value, as AWS prints it: lists `[a, b]`, maps/structures `{K=v}`. */
function javaText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(javaText).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${javaText(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

function clauseText(v: unknown, sensitive: boolean, up: PathNode | null, seg: Seg, constraint: string): string {
  const shown = sensitive ? '' : v === null || v === undefined ? 'null ' : `'${javaText(v)}' `;
  return `Value ${shown}at '${awsPath(up, seg)}' failed to satisfy constraint: ${constraint}`;
}

const NOT_NULL = 'Member must not be null';
const lengthMax = (n: number): string => `Member must have length less than or equal to ${n}`;
const lengthMin = (n: number): string => `Member must have length greater than or equal to ${n}`;
const valueMax = (n: string): string => `Member must have value less than or equal to ${n}`;
const valueMin = (n: string): string => `Member must have value greater than or equal to ${n}`;
const patternText = (p: string): string => `Member must satisfy regular expression pattern: ${p}`;
const enumText = (values: readonly string[]): string => `Member must satisfy enum value set: [${values.join(', ')}]`;

// ---------------------------------------------------------------------------------------------------------------
// Java regex → JavaScript (u flag), full match like Java's Matcher.matches().

const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
const CLASS_SPECIAL = new Set(['\\', ']', '[', '^', '-']);
const MAX_CP = 0x10ffff;
type Ranges = Array<readonly [number, number]>;

/** Java's ASCII-only predefined and POSIX classes as code point ranges. */
const JAVA_SETS: Record<string, Ranges> = {
  s: [[0x09, 0x0d], [0x20, 0x20]],
  h: [[0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x180e, 0x180e], [0x2000, 0x200a], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000]],
  v: [[0x0a, 0x0d], [0x85, 0x85], [0x2028, 0x2029]],
  Lower: [[0x61, 0x7a]],
  Upper: [[0x41, 0x5a]],
  ASCII: [[0x00, 0x7f]],
  Alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  Digit: [[0x30, 0x39]],
  Alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  Punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  Graph: [[0x21, 0x7e]],
  Print: [[0x20, 0x7e]],
  Blank: [[0x09, 0x09], [0x20, 0x20]],
  Cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  XDigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
  Space: [[0x09, 0x0d], [0x20, 0x20]],
};
const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo LC M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Cn'.split(' '),
);
/** Java `\p{IsX}` binary properties and aliases → ECMAScript property (keys lower-case, without `_`/space). */
const BINARY_PROPERTIES: Record<string, string> = {
  alphabetic: 'Alphabetic',
  ideographic: 'Ideographic',
  letter: 'L',
  lowercase: 'Lowercase',
  uppercase: 'Uppercase',
  titlecase: 'Lt',
  punctuation: 'P',
  control: 'Cc',
  whitespace: 'White_Space',
  digit: 'Nd',
  hexdigit: 'Hex_Digit',
  joincontrol: 'Join_Control',
  noncharactercodepoint: 'Noncharacter_Code_Point',
  assigned: 'Assigned',
  emoji: 'Emoji',
};

function complement(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<readonly [number, number]> = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

function hexEscape(cp: number): string {
  return `\\u{${cp.toString(16).toUpperCase()}}`;
}

function rangesInClass(ranges: Ranges): string {
  return ranges.map(([lo, hi]) => (lo === hi ? hexEscape(lo) : `${hexEscape(lo)}-${hexEscape(hi)}`)).join('');
}

function needsHex(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp <= 0xdfff);
}

function literal(cp: number, inClass: boolean): string {
  if (needsHex(cp)) return hexEscape(cp);
  const ch = String.fromCodePoint(cp);
  if (inClass ? CLASS_SPECIAL.has(ch) : JS_SYNTAX.has(ch)) return `\\${ch}`;
  return ch;
}

/** A parsed escape: one code point, or a set already rendered for use inside / outside a class. */
type Atom = { kind: 'char'; cp: number } | { kind: 'set'; inClass: string; outside: string };

class JavaPatternTranslator {
  private i = 0;
  private readonly groups: number;
  private caseInsensitive = false;
  private dotAll = false;
  private multiline = false;
  /** Open groups at this.i (for the `$` rule). */
  private depth = 0;

  constructor(private readonly src: string) {
    this.groups = countGroups(src);
  }

  translate(): { source: string; flags: string } {
    this.leadingFlags();
    const body = this.sequence();
    const anchored = this.multiline ? `(?<![^])(?:${body})(?![^])` : `^(?:${body})$`;
    return { source: anchored, flags: `u${this.caseInsensitive ? 'i' : ''}${this.multiline ? 'm' : ''}` };
  }

  private unsupported(what: string): never {
    throw new SyntaxError(`unsupported Java regex construct ${what} at offset ${this.i} in ${this.src}`);
  }

  private leadingFlags(): void {
    for (;;) {
      const m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?\)/.exec(this.src.slice(this.i));
      if (m === null) return;
      for (const f of m[1]!) {
        if (f === 'i') this.caseInsensitive = true;
        else if (f === 's') this.dotAll = true;
        else if (f === 'm') this.multiline = true;
        else if (f !== 'u') this.unsupported(`(?${f})`);
      }
      for (const f of m[2] ?? '') {
        if (f === 'i') this.caseInsensitive = false;
        else if (f === 's') this.dotAll = false;
        else if (f === 'm') this.multiline = false;
        else if (f !== 'u') this.unsupported(`(?-${f})`);
      }
      this.i += m[0].length;
    }
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.i + offset];
  }

  private sequence(): string {
    let out = '';
    const src = this.src;
    while (this.i < src.length) {
      const c = src[this.i]!;
      switch (c) {
        case '\\':
          out += this.escapeOutside();
          break;
        case '[':
          out += this.charClass();
          break;
        case '.':
          this.i++;
          out += this.dotAll ? '[^]' : '[^\\n\\r\\u0085\\u2028\\u2029]';
          break;
        case '(':
          out += this.groupOpen();
          break;
        case '$': {
          this.i++;
          // Java's `$` also matches before a final line terminator. That only matters if something can follow it,
          // i.e. unless the rest is closing parentheses and then the end or a top-level alternative.
          let j = this.i;
          let d = this.depth;
          while (src[j] === ')') {
            j++;
            d--;
          }
          const last = j === src.length || (src[j] === '|' && d === 0);
          out += this.multiline || last ? '$' : '(?=(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])?(?![^]))';
          break;
        }
        case ')':
          this.depth--;
          this.i++;
          out += c;
          break;
        case '|':
        case '^':
          this.i++;
          out += c;
          break;
        case '*':
        case '+':
        case '?':
          this.i++;
          out += c + this.quantifierSuffix();
          break;
        case '{': {
          const m = /^\{\d+(?:,\d*)?\}/.exec(src.slice(this.i));
          if (m === null) this.unsupported("'{' that is not a quantifier");
          this.i += m[0].length;
          out += m[0] + this.quantifierSuffix();
          break;
        }
        default: {
          const cp = src.codePointAt(this.i)!;
          this.i += cp > 0xffff ? 2 : 1;
          out += literal(cp, false);
        }
      }
    }
    return out;
  }

  private quantifierSuffix(): string {
    const next = this.peek();
    if (next === '?') {
      this.i++;
      return '?';
    }
    if (next === '+') this.unsupported('possessive quantifier');
    return '';
  }

  private groupOpen(): string {
    this.depth++;
    const rest = this.src.slice(this.i);
    const m = /^\((\?(?::|=|!|<=|<!|<[A-Za-z][A-Za-z0-9]*>))?/.exec(rest)!;
    if (m[1] === undefined && rest.startsWith('(?')) this.unsupported(rest.startsWith('(?>') ? 'atomic group' : 'inline flag group');
    this.i += m[0].length;
    return m[0];
  }

  private escapeOutside(): string {
    const atom = this.escape(false);
    if (typeof atom === 'string') return atom;
    return atom.kind === 'char' ? literal(atom.cp, false) : atom.outside;
  }

  /** Parses `\...` at this.i; returns a rendered string for constructs only valid outside classes. */
  private escape(inClass: boolean): Atom | string {
    const src = this.src;
    this.i++; // the backslash
    const c = src[this.i];
    if (c === undefined) this.unsupported('trailing backslash');
    this.i++;
    const hexAt = (digits: string): number => {
      if (!/^[0-9a-fA-F]+$/.test(digits)) this.unsupported(`bad hex escape '${digits}'`);
      return parseInt(digits, 16);
    };
    switch (c) {
      case 't':
        return { kind: 'char', cp: 0x09 };
      case 'n':
        return { kind: 'char', cp: 0x0a };
      case 'r':
        return { kind: 'char', cp: 0x0d };
      case 'f':
        return { kind: 'char', cp: 0x0c };
      case 'a':
        return { kind: 'char', cp: 0x07 };
      case 'e':
        return { kind: 'char', cp: 0x1b };
      case 'c': {
        const x = src.charCodeAt(this.i);
        if (Number.isNaN(x)) this.unsupported('\\c at end');
        this.i++;
        return { kind: 'char', cp: x ^ 64 };
      }
      case 'x': {
        if (src[this.i] === '{') {
          const end = src.indexOf('}', this.i);
          if (end < 0) this.unsupported('unterminated \\x{');
          const cp = hexAt(src.slice(this.i + 1, end));
          this.i = end + 1;
          return { kind: 'char', cp };
        }
        const cp = hexAt(src.slice(this.i, this.i + 2));
        this.i += 2;
        return { kind: 'char', cp };
      }
      case 'u': {
        let cp = hexAt(src.slice(this.i, this.i + 4));
        this.i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && src.startsWith('\\u', this.i)) {
          const low = parseInt(src.slice(this.i + 2, this.i + 6), 16);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            this.i += 6;
          }
        }
        return { kind: 'char', cp };
      }
      case '0': {
        // Java octal: \0n, \0nn, \0mnn (m <= 3)
        const m = /^(?:[0-3][0-7]{2}|[0-7]{1,2})/.exec(src.slice(this.i));
        if (m === null) this.unsupported('\\0 without octal digits');
        this.i += m[0].length;
        return { kind: 'char', cp: parseInt(m[0], 8) };
      }
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        // Java's \d and \w are ASCII-only, exactly like ECMAScript's (without the i flag).
        return { kind: 'set', inClass: `\\${c}`, outside: `\\${c}` };
      case 's':
      case 'h':
      case 'v':
        return this.rangeSet(JAVA_SETS[c]!, false);
      case 'S':
      case 'H':
      case 'V':
        return this.rangeSet(JAVA_SETS[c.toLowerCase()]!, true);
      case 'p':
      case 'P':
        return this.property(c === 'P');
      case 'Q': {
        const end = src.indexOf('\\E', this.i);
        const text = src.slice(this.i, end < 0 ? src.length : end);
        this.i = end < 0 ? src.length : end + 2;
        if (inClass) {
          // Inside a class each quoted character is its own member; the caller reads them one by one.
          this.quotedInClass = [...text].map((ch) => ch.codePointAt(0)!);
          return { kind: 'set', inClass: '', outside: '' };
        }
        return [...text].map((ch) => literal(ch.codePointAt(0)!, false)).join('');
      }
      case 'b':
      case 'B':
        if (inClass || src[this.i] === '{') this.unsupported(`\\${c} here`);
        return `\\${c}`;
      case 'A':
        if (inClass) this.unsupported('\\A in a class');
        return '(?<![^])';
      case 'z':
        if (inClass) this.unsupported('\\z in a class');
        return '(?![^])';
      case 'Z':
        if (inClass) this.unsupported('\\Z in a class');
        return '(?=(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])?(?![^]))';
      case 'R':
        if (inClass) this.unsupported('\\R in a class');
        return '(?:\\r\\n|[\\n\\u000B\\f\\r\\u0085\\u2028\\u2029])';
      case 'k': {
        const m = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(src.slice(this.i));
        if (inClass || m === null) this.unsupported('\\k');
        this.i += m[0].length;
        return `\\k<${m[1]!}>`;
      }
      default:
        if (c >= '1' && c <= '9') {
          if (inClass) this.unsupported('back reference in a class');
          // Java takes further digits only while they still name an existing group.
          let n = c.charCodeAt(0) - 48;
          while (this.i < src.length && /[0-9]/.test(src[this.i]!) && n * 10 + (src.charCodeAt(this.i) - 48) <= this.groups) {
            n = n * 10 + (src.charCodeAt(this.i) - 48);
            this.i++;
          }
          if (n > this.groups) return '(?!)'; // Java: a reference to a missing group never matches
          return /[0-9]/.test(src[this.i] ?? '') ? `\\${n}(?:)` : `\\${n}`;
        }
        if (/[A-Za-z0-9]/.test(c)) this.unsupported(`\\${c}`);
        // Any other escaped character is itself (Java allows \: \_ \- \/ ..., the u flag does not).
        this.i--;
        {
          const cp = src.codePointAt(this.i)!;
          this.i += cp > 0xffff ? 2 : 1;
          return { kind: 'char', cp };
        }
    }
  }

  private quotedInClass: number[] | undefined;

  private rangeSet(ranges: Ranges, negated: boolean): Atom {
    const effective = negated ? complement(ranges) : ranges;
    return { kind: 'set', inClass: rangesInClass(effective), outside: `[${rangesInClass(effective)}]` };
  }

  private property(negated: boolean): Atom {
    const src = this.src;
    let name: string;
    if (src[this.i] === '{') {
      const end = src.indexOf('}', this.i);
      if (end < 0) this.unsupported('unterminated \\p{');
      name = src.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      name = src[this.i] ?? '';
      this.i++;
    }
    const posix = JAVA_SETS[name];
    if (posix !== undefined && name.length > 1) return this.rangeSet(posix, negated);
    let js: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      const key = name.slice(0, eq).toLowerCase();
      const value = name.slice(eq + 1);
      if (key === 'sc' || key === 'script') js = `Script=${scriptName(value)}`;
      else if (key === 'gc' || key === 'general_category') js = `General_Category=${value}`;
    } else if (GENERAL_CATEGORIES.has(name)) {
      js = name;
    } else if (name.startsWith('Is')) {
      const rest = name.slice(2);
      if (GENERAL_CATEGORIES.has(rest)) js = rest;
      else js = BINARY_PROPERTIES[rest.toLowerCase().replace(/[_ ]/g, '')] ?? `Script=${scriptName(rest)}`;
    }
    if (js === undefined) this.unsupported(`\\p{${name}}`);
    const text = `\\${negated ? 'P' : 'p'}{${js}}`;
    return { kind: 'set', inClass: text, outside: text };
  }

  private charClass(): string {
    const src = this.src;
    this.i++; // [
    let negated = false;
    if (src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    let out = '';
    let first = true;
    for (;;) {
      const c = src[this.i];
      if (c === undefined) this.unsupported('unclosed character class');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[') this.unsupported('nested character class');
      if (c === '&' && src[this.i + 1] === '&') this.unsupported('character class intersection');
      const atom = this.classAtom();
      if (atom.kind === 'set') {
        out += atom.inClass;
        continue;
      }
      // A range needs a single character on both sides; otherwise '-' is literal (as in Java).
      if (src[this.i] === '-' && src[this.i + 1] !== undefined && src[this.i + 1] !== ']') {
        const save = this.i;
        this.i++;
        const hi = this.classAtom();
        if (hi.kind === 'char') {
          if (hi.cp < atom.cp) this.unsupported('reversed range');
          out += `${literal(atom.cp, true)}-${literal(hi.cp, true)}`;
          continue;
        }
        this.unsupported(`range ending in a character set (${src.slice(save - 1, this.i)})`);
      }
      out += literal(atom.cp, true);
    }
    if (out === '' && !negated) this.unsupported('empty character class');
    return `[${negated ? '^' : ''}${out}]`;
  }

  /** One class member: a character or a set (several \Q...\E characters count as a set). */
  private classAtom(): Atom {
    const src = this.src;
    if (src[this.i] === '\\') {
      const atom = this.escape(true);
      if (typeof atom === 'string') this.unsupported('escape inside a class');
      if (this.quotedInClass !== undefined) {
        const chars = this.quotedInClass;
        this.quotedInClass = undefined;
        if (chars.length === 1) return { kind: 'char', cp: chars[0]! };
        return { kind: 'set', inClass: chars.map((cp) => literal(cp, true)).join(''), outside: '' };
      }
      return atom;
    }
    const cp = src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return { kind: 'char', cp };
  }
}

function scriptName(raw: string): string {
  return raw
    .split('_')
    .map((w) => (w === '' ? w : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('_');
}

/** Number of capturing groups, for Java's back-reference digit rule. */
function countGroups(src: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      if (src[i + 1] === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        i = end < 0 ? src.length : end + 1;
      } else {
        i++;
      }
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (src[i + 1] === '^') i++;
      if (src[i + 1] === ']') i++; // a leading ']' is literal in Java
    } else if (c === '(' && (src[i + 1] !== '?' || /^\(\?<[A-Za-z]/.test(src.slice(i)))) {
      n++;
    }
  }
  return n;
}

const patternCache = new Map<string, RegExp>();

/**
 * Translates a Java regex from the model to a JavaScript RegExp that matches the whole string (Java
 * `Matcher.matches()`), with the `u` flag so `\p{L}` and friends work. Throws SyntaxError for constructs it cannot
 * translate faithfully (possessive quantifiers, atomic groups, class intersections, Unicode blocks, ...).
 */
export function compileJavaPattern(pattern: string): RegExp {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  const { source, flags } = new JavaPatternTranslator(pattern).translate();
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch (err) {
    throw new SyntaxError(`Java pattern ${pattern} translated to /${source}/${flags}, which JavaScript rejects: ${(err as Error).message}`);
  }
  patternCache.set(pattern, re);
  return re;
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation

/** Validates a present (non-null) value whose position is (up, seg). Throws SerializationFailure on a type error. */
type Check = (v: unknown, up: PathNode | null, seg: Seg) => void;

interface Scalar {
  /** Java-side type name for serialization messages. */
  expected: string;
  /** Type check; returns a detail string ("Number 1.5, which is not an integer") or true. */
  typeOk(v: unknown): true | string;
  /** Constraint predicate; null when the shape has no constraints. */
  valid: ((v: never) => boolean) | null;
  /** One message per violated constraint, in clause order (pattern, enum, then length/range). */
  violations(v: never): string[];
  /** Every constraint of the shape, in AWS's bracket order (max, min, pattern, enum). */
  all: string[];
  sensitive: boolean;
}

const SCALAR_TYPES = new Set(['string', 'integer', 'long', 'float', 'double', 'boolean', 'timestamp', 'blob', 'bigdecimal', 'biginteger']);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_LIMIT = 2 ** 63;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function formatBound(n: number, type: string): string {
  // Java prints float/double bounds with a fraction ("1.0").
  return (type === 'float' || type === 'double') && Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function compileScalar(name: string, shape: ModelShape): Scalar {
  const type = shape.type;
  const sensitive = shape.sensitive === true;
  const min = shape.min;
  const max = shape.max;
  const all: string[] = [];
  if (type === 'string' || type === 'blob') {
    if (max !== undefined) all.push(lengthMax(max));
    if (min !== undefined) all.push(lengthMin(min));
  } else if (type !== 'boolean' && type !== 'timestamp') {
    if (max !== undefined) all.push(valueMax(formatBound(max, type)));
    if (min !== undefined) all.push(valueMin(formatBound(min, type)));
  }

  switch (type) {
    case 'string': {
      let re: RegExp | null = null;
      if (shape.pattern !== undefined) {
        try {
          re = compileJavaPattern(shape.pattern);
        } catch (err) {
          throw new Error(`shape ${name}: ${(err as Error).message}`);
        }
        all.push(patternText(shape.pattern));
      }
      const values = shape.enum;
      const enumSet = values === undefined ? null : new Set(values);
      if (values !== undefined) all.push(enumText(values));
      const lo = min ?? 0;
      const hi = max ?? Infinity;
      const pattern = shape.pattern ?? '';
      const unconstrained = re === null && enumSet === null && lo <= 0 && hi === Infinity;
      return {
        expected: 'String',
        typeOk: (v) => typeof v === 'string' || jsonKind(v),
        valid: unconstrained
          ? null
          : (v: string) => v.length >= lo && v.length <= hi && (re === null || re.test(v)) && (enumSet === null || enumSet.has(v)),
        violations: (v: string) => {
          const out: string[] = [];
          if (re !== null && !re.test(v)) out.push(patternText(pattern));
          if (enumSet !== null && !enumSet.has(v)) out.push(enumText(values!));
          if (v.length < lo) out.push(lengthMin(lo));
          if (v.length > hi) out.push(lengthMax(hi));
          return out;
        },
        all,
        sensitive,
      };
    }
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
    case 'bigdecimal':
    case 'biginteger': {
      const integral = type === 'integer' || type === 'long' || type === 'biginteger';
      const expected = { integer: 'Integer', long: 'Long', float: 'Float', double: 'Double', bigdecimal: 'BigDecimal', biginteger: 'BigInteger' }[type];
      const lo = min ?? -Infinity;
      const hi = max ?? Infinity;
      return {
        expected,
        typeOk: (v) => {
          if (typeof v !== 'number') return jsonKind(v);
          if (!Number.isFinite(v)) return `Number ${v}`;
          if (!integral) return true;
          if (!Number.isInteger(v)) return `Number ${v}, which is not an integer`;
          if (type === 'integer' && (v < INT32_MIN || v > INT32_MAX)) return `Number ${v}, which is outside the 32-bit integer range`;
          if (type === 'long' && (v < -INT64_LIMIT || v >= INT64_LIMIT)) return `Number ${v}, which is outside the 64-bit integer range`;
          return true;
        },
        valid: lo === -Infinity && hi === Infinity ? null : (v: number) => v >= lo && v <= hi,
        violations: (v: number) => (v < lo ? [valueMin(formatBound(lo, type))] : v > hi ? [valueMax(formatBound(hi, type))] : []),
        all,
        sensitive,
      };
    }
    case 'boolean':
      return { expected: 'Boolean', typeOk: (v) => typeof v === 'boolean' || jsonKind(v), valid: null, violations: () => [], all, sensitive };
    case 'timestamp':
      // AWS JSON 1.1 sends timestamps as epoch seconds (JSON numbers); strings are refused, see the docs.
      return {
        expected: 'Timestamp (epoch seconds)',
        typeOk: (v) => (typeof v === 'number' && Number.isFinite(v)) || jsonKind(v),
        valid: null,
        violations: () => [],
        all,
        sensitive,
      };
    case 'blob': {
      const lo = min ?? 0;
      const hi = max ?? Infinity;
      const size = (v: string): number => Math.floor((v.length * 3) / 4) - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0);
      return {
        expected: 'Blob (base64)',
        typeOk: (v) => (typeof v === 'string' ? BASE64.test(v) || 'a String that is not valid base64' : jsonKind(v)),
        valid: lo <= 0 && hi === Infinity ? null : (v: string) => size(v) >= lo && size(v) <= hi,
        violations: (v: string) => (size(v) < lo ? [lengthMin(lo)] : size(v) > hi ? [lengthMax(hi)] : []),
        all,
        sensitive,
      };
    }
    default:
      throw new Error(`shape ${name}: not a scalar type (${type})`);
  }
}

/** Compiles every shape of one model; `errors` is shared by all closures of this validator. */
function compileModel(model: ModelFile): { check(shape: string): Check; run(check: Check, body: unknown): ValidationOutcome } {
  const checks = new Map<string, Check>();
  const scalars = new Map<string, Scalar>();
  const inProgress = new Set<string>();
  let errors: string[] = [];

  const shapeOf = (name: string): ModelShape => {
    const shape = model.shapes[name];
    if (shape === undefined) throw new Error(`the model references shape ${name} but does not define it`);
    return shape;
  };
  const scalarOf = (name: string): Scalar | undefined => {
    const shape = shapeOf(name);
    if (!SCALAR_TYPES.has(shape.type)) return undefined;
    let s = scalars.get(name);
    if (s === undefined) {
      s = compileScalar(name, shape);
      scalars.set(name, s);
    }
    return s;
  };

  const addClause = (v: unknown, sensitive: boolean, up: PathNode | null, seg: Seg, constraint: string): void => {
    errors.push(clauseText(v, sensitive, up, seg, constraint));
  };

  const checkOf = (name: string): Check => {
    const done = checks.get(name);
    if (done !== undefined) return done;
    if (inProgress.has(name)) {
      // Recursive shape: delegate through a late-bound slot.
      return (v, up, seg) => checks.get(name)!(v, up, seg);
    }
    inProgress.add(name);
    const check = compileShape(name, shapeOf(name));
    inProgress.delete(name);
    checks.set(name, check);
    return check;
  };

  const scalarCheck = (s: Scalar): Check => {
    const { typeOk, valid, expected, sensitive } = s;
    const violations = s.violations as (v: unknown) => string[];
    const isValid = valid as ((v: unknown) => boolean) | null;
    if (isValid === null) {
      return (v, up, seg) => {
        const t = typeOk(v);
        if (t !== true) throw typeFailure(expected, v, up, seg, t);
      };
    }
    return (v, up, seg) => {
      const t = typeOk(v);
      if (t !== true) throw typeFailure(expected, v, up, seg, t);
      if (!isValid(v)) for (const c of violations(v)) addClause(v, sensitive, up, seg, c);
    };
  };

  /** String shapes are the bulk of every request: a dedicated closure with the checks inlined. */
  const stringCheck = (shape: ModelShape, s: Scalar): Check => {
    const lo = shape.min ?? 0;
    const hi = shape.max ?? Infinity;
    const re = shape.pattern === undefined ? null : compileJavaPattern(shape.pattern);
    const enumSet = shape.enum === undefined ? null : new Set(shape.enum);
    const { sensitive } = s;
    const violations = s.violations as (v: unknown) => string[];
    return (v, up, seg) => {
      if (typeof v !== 'string') throw typeFailure('String', v, up, seg);
      const n = v.length;
      if (n < lo || n > hi || (re !== null && !re.test(v)) || (enumSet !== null && !enumSet.has(v))) {
        for (const c of violations(v)) addClause(v, sensitive, up, seg, c);
      }
    };
  };

  const compileShape = (name: string, shape: ModelShape): Check => {
    switch (shape.type) {
      case 'structure':
        return structureCheck(name, shape);
      case 'list':
        return listCheck(name, shape);
      case 'map':
        return mapCheck(name, shape);
      case 'string':
        return stringCheck(shape, scalarOf(name)!);
      default: {
        const s = scalarOf(name);
        if (s === undefined) return () => {}; // document or unknown types: anything goes
        return scalarCheck(s);
      }
    }
  };

  const structureCheck = (name: string, shape: ModelShape): Check => {
    const entries = Object.entries(shape.members ?? {});
    const required = new Set(shape.required ?? []);
    const n = entries.length;
    const wires: string[] = [];
    const segs: MemberSeg[] = [];
    const subs: Check[] = [];
    const req: boolean[] = [];
    const own: boolean[] = [];
    const sens: boolean[] = [];
    for (const [memberName, ref] of entries) {
      const wire = ref.locationName ?? memberName;
      wires.push(wire);
      segs.push({ wire, aws: memberName.charAt(0).toLowerCase() + memberName.slice(1) });
      req.push(required.has(memberName));
      own.push(wire in Object.prototype);
      sens.push(shapeOf(ref.shape).sensitive === true);
    }
    // Compile members after registering the arrays so recursive references resolve.
    for (const [, ref] of entries) subs.push(checkOf(ref.shape));
    const anyOwn = own.includes(true);
    return (v, up, seg) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeFailure('Structure', v, up, seg);
      const obj = v as Record<string, unknown>;
      const here = up === null && seg === null ? ROOT : { up, seg };
      for (let i = 0; i < n; i++) {
        const x = anyOwn && own[i]! && !Object.hasOwn(obj, wires[i]!) ? undefined : obj[wires[i]!];
        if (x === undefined || x === null) {
          if (req[i]!) addClause(null, sens[i]!, here, segs[i]!, NOT_NULL);
          continue;
        }
        subs[i]!(x, here, segs[i]!);
      }
    };
  };

  const listCheck = (name: string, shape: ModelShape): Check => {
    if (shape.member === undefined) throw new Error(`list shape ${name} has no member`);
    const lo = shape.min ?? 0;
    const hi = shape.max ?? Infinity;
    const element = scalarOf(shape.member.shape);
    const sensitive = shape.sensitive === true;
    if (element !== undefined) {
      // Lists of scalars: AWS reports all element problems as one clause on the list.
      const { typeOk, expected, all } = element;
      const valid = element.valid as ((v: unknown) => boolean) | null;
      return (v, up, seg) => {
        if (!Array.isArray(v)) throw typeFailure('List', v, up, seg);
        const n = v.length;
        if (n < lo) addClause(v, sensitive, up, seg, lengthMin(lo));
        else if (n > hi) addClause(v, sensitive, up, seg, lengthMax(hi));
        let bad = false;
        let sawNull = false;
        for (let i = 0; i < n; i++) {
          const x: unknown = v[i];
          if (x === null || x === undefined) {
            sawNull = true;
            continue;
          }
          const t = typeOk(x);
          if (t !== true) throw typeFailure(expected, x, { up, seg }, i, t);
          if (valid !== null && !valid(x)) bad = true;
        }
        if (bad || sawNull) {
          const constraints = sawNull ? [...all, NOT_NULL] : all;
          addClause(v, sensitive || element.sensitive, up, seg, `Member must satisfy constraint: [${constraints.join(', ')}]`);
        }
      };
    }
    const sub = checkOf(shape.member.shape);
    return (v, up, seg) => {
      if (!Array.isArray(v)) throw typeFailure('List', v, up, seg);
      const n = v.length;
      if (n < lo) addClause(v, sensitive, up, seg, lengthMin(lo));
      else if (n > hi) addClause(v, sensitive, up, seg, lengthMax(hi));
      if (n === 0) return;
      const here: PathNode = { up, seg };
      for (let i = 0; i < n; i++) {
        const x: unknown = v[i];
        if (x === null || x === undefined) addClause(null, false, here, i, NOT_NULL);
        else sub(x, here, i);
      }
    };
  };

  const mapCheck = (name: string, shape: ModelShape): Check => {
    if (shape.key === undefined || shape.value === undefined) throw new Error(`map shape ${name} has no key or value`);
    const lo = shape.min ?? 0;
    const hi = shape.max ?? Infinity;
    const sensitive = shape.sensitive === true;
    const keyScalar = scalarOf(shape.key.shape);
    if (keyScalar === undefined || keyScalar.expected !== 'String') throw new Error(`map shape ${name} has a non-string key`);
    const keyValid = keyScalar.valid as ((v: unknown) => boolean) | null;
    const valueScalar = scalarOf(shape.value.shape);
    const valueValid = valueScalar === undefined ? null : (valueScalar.valid as ((v: unknown) => boolean) | null);
    const sub = valueScalar === undefined ? checkOf(shape.value.shape) : null;
    return (v, up, seg) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeFailure('Map', v, up, seg);
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj);
      const n = keys.length;
      if (n < lo) addClause(v, sensitive, up, seg, lengthMin(lo));
      else if (n > hi) addClause(v, sensitive, up, seg, lengthMax(hi));
      if (n === 0) return;
      let badKey = false;
      let badValue = false;
      let nullValue = false;
      const here: PathNode = { up, seg };
      for (const key of keys) {
        if (keyValid !== null && !keyValid(key)) badKey = true;
        const x = obj[key];
        if (x === null || x === undefined) {
          nullValue = true;
          continue;
        }
        if (valueScalar !== undefined) {
          const t = valueScalar.typeOk(x);
          if (t !== true) throw typeFailure(valueScalar.expected, x, here, key, t);
          if (valueValid !== null && !valueValid(x)) badValue = true;
        } else {
          sub!(x, here, key);
        }
      }
      if (badKey) addClause(v, sensitive, up, seg, `Map keys must satisfy constraint: [${keyScalar.all.join(', ')}]`);
      if (badValue || nullValue) {
        const constraints = valueScalar === undefined ? [] : valueScalar.all;
        addClause(v, sensitive, up, seg, `Map value must satisfy constraint: [${(nullValue ? [...constraints, NOT_NULL] : constraints).join(', ')}]`);
      }
    };
  };

  const run = (check: Check, body: unknown): ValidationOutcome => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, code: 'SerializationException', message: `Expected a JSON object as the request body but got ${body === undefined ? 'nothing' : jsonKind(body)}` };
    }
    if (errors.length > 0) errors = [];
    try {
      check(body, null, null);
    } catch (err) {
      if (err instanceof SerializationFailure) {
        errors = [];
        return { ok: false, code: 'SerializationException', message: err.message };
      }
      errors = [];
      throw err;
    }
    if (errors.length === 0) return OK;
    const found = errors;
    errors = [];
    return {
      ok: false,
      code: 'ValidationException',
      message: `${found.length} validation error${found.length === 1 ? '' : 's'} detected: ${found.join('; ')}`,
    };
  };

  return { check: checkOf, run };
}

const OK: ValidationOutcome = Object.freeze({ ok: true }) as ValidationOutcome;
const EMPTY_CHECK: Check = (v, up, seg) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeFailure('Structure', v, up, seg);
};

/**
 * Builds a validator for every operation of `model` (default: the generated model bundled with Patchline). All
 * shapes reachable from the operations' inputs are compiled here, so a bad model fails at start-up, not per request.
 */
export function createRequestValidator(model?: GeneratedModel): RequestValidator {
  const m = (model ?? bundledModel) as unknown as ModelFile;
  const compiled = compileModel(m);
  const byOperation = new Map<string, Check>();
  for (const [operation, op] of Object.entries(m.operations)) {
    byOperation.set(operation, op.input === undefined ? EMPTY_CHECK : compiled.check(op.input));
  }
  const awsOperations = new Set(m.allOperations);
  return {
    targetPrefix: m.metadata.targetPrefix,
    knows: (operation) => byOperation.has(operation),
    isAwsOperation: (name) => awsOperations.has(name),
    validate(operation, body) {
      const check = byOperation.get(operation);
      if (check === undefined) throw new Error(`validate: operation ${operation} is not in the model; check knows() first`);
      return compiled.run(check, body);
    },
  };
}
