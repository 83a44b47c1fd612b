// Precompiled string matching for baseline evaluation: a set of exact values plus compiled wildcard
// patterns, compared case-insensitively (AWS's agent lowercases both sides: "Service can't be trusted with
// case"). Built once per baseline; `test` does one lowercase, one Set lookup and, only when the list has
// wildcard entries, one RegExp test per pattern. Pure.

/** `*` → any run of characters, `?` → one character; everything else literal. Anchored, case-insensitive. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}

export const isGlob = (value: string): boolean => value.includes('*') || value.includes('?');

export class ValueMatcher {
  /** The bare `*`: matches anything, even a missing value. */
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly patterns: readonly RegExp[];

  constructor(values: readonly string[], options: { globs?: boolean } = {}) {
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    let any = false;
    for (const raw of values) {
      const value = raw.trim();
      if (value === '*') any = true;
      else if (options.globs !== false && isGlob(value)) patterns.push(globToRegExp(value));
      else exact.add(value.toLowerCase());
    }
    this.any = any;
    this.exact = exact;
    this.patterns = patterns;
  }

  /** Adds a synonym: whenever `a` is accepted, `b` is too (and the other way round). */
  withSynonym(a: string, b: string): this {
    const set = this.exact as Set<string>;
    const la = a.toLowerCase();
    const lb = b.toLowerCase();
    if (set.has(la)) set.add(lb);
    else if (set.has(lb)) set.add(la);
    return this;
  }

  test(value: string | undefined): boolean {
    if (this.any) return true;
    if (value === undefined) return false;
    const lower = value.toLowerCase();
    if (this.exact.has(lower)) return true;
    for (const p of this.patterns) if (p.test(lower)) return true;
    return false;
  }

  /** True when any of the values matches (multi-valued properties: advisory, CVE and Bugzilla ids). */
  testAny(values: readonly string[] | undefined): boolean {
    if (this.any) return true;
    if (values === undefined) return false;
    for (const v of values) if (this.test(v)) return true;
    return false;
  }
}
