// An interning table for scanned packages: each distinct package gets a small dense id (0, 1, 2, …), once,
// when a scan is prepared. Evaluation then finds a package's memoised decision by array index instead of
// hashing the package again for every node and every baseline. Keyed by object identity, or by content
// (every field but installedTime, see ContentTable) so that equal packages parsed from different reports
// share one id. One index serves a whole
// fleet; it only grows (drop it and re-prepare to start over). Pure apart from its own table.

import { ContentTable } from './content-table.ts';
import type { ScanPackage } from './types.ts';

export type PackageIndexKeying = 'identity' | 'content';

export class PackageIndex {
  readonly keying: PackageIndexKeying;
  readonly #byIdentity = new Map<ScanPackage, number>();
  readonly #byContent = new ContentTable<number>();
  #size = 0;

  constructor(keying: PackageIndexKeying = 'content') {
    this.keying = keying;
  }

  /** Number of ids handed out. */
  get size(): number {
    return this.#size;
  }

  /** The package's id, assigning the next one on first sight. */
  idOf(pkg: ScanPackage): number {
    const table = this.keying === 'identity' ? this.#byIdentity : this.#byContent;
    let id = table.get(pkg);
    if (id === undefined) {
      id = this.#size++;
      table.set(pkg, id);
    }
    return id;
  }
}
