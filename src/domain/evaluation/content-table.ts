// A map keyed by a scanned package's CONTENT (every field a decision or a row label reads; not installedTime):
// buckets by name, then a field-by-field comparison. Cheaper than building a key string per lookup, and equal
// packages parsed from different reports land on the same entry. Pure apart from its own table.

import type { ScanPackage } from './types.ts';

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same name assumed (the bucket); every other field a decision or a row label reads must be equal. */
export function sameContent(a: ScanPackage, b: ScanPackage): boolean {
  return (
    a === b ||
    (a.arch === b.arch && a.version === b.version && a.repository === b.repository && a.security === b.security &&
      a.classification === b.classification && a.severity === b.severity && a.priority === b.priority && a.section === b.section &&
      a.releaseTime === b.releaseTime && a.kbId === b.kbId && a.title === b.title && a.product === b.product &&
      a.productFamily === b.productFamily && a.patchSet === b.patchSet && a.msrcSeverity === b.msrcSeverity &&
      sameList(a.advisoryIds, b.advisoryIds) && sameList(a.cveIds, b.cveIds) && sameList(a.bugzillaIds, b.bugzillaIds))
  );
}

export class ContentTable<V> {
  /** name → [package, value, package, value, …] */
  #buckets = new Map<string, Array<ScanPackage | V>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(pkg: ScanPackage): V | undefined {
    const bucket = this.#buckets.get(pkg.name);
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i += 2) if (sameContent(bucket[i] as ScanPackage, pkg)) return bucket[i + 1] as V;
    return undefined;
  }

  set(pkg: ScanPackage, value: V): void {
    const bucket = this.#buckets.get(pkg.name);
    if (bucket === undefined) {
      this.#buckets.set(pkg.name, [pkg, value]);
      this.#size++;
      return;
    }
    for (let i = 0; i < bucket.length; i += 2) {
      if (sameContent(bucket[i] as ScanPackage, pkg)) {
        bucket[i + 1] = value;
        return;
      }
    }
    bucket.push(pkg, value);
    this.#size++;
  }

  clear(): void {
    this.#buckets = new Map();
    this.#size = 0;
  }
}
