// A node's patch rows as they are stored: the compact encoding of src/domain/patch-rows.ts, addressed by its
// content apart from the installed times. Nodes with the same outcome — the same patches in the same states and
// levels, evaluated under the same baseline — refer to one stored set, so writing a fleet's rows costs one set per
// distinct outcome plus a reference per node, and the facts the fleet counters need (the KBIds and CVE ids of the
// Missing and Failed rows) are worked out once per set. A set is addressed by its whole content; a node whose rows
// differ from a stored set's only in installed times refers to that set and keeps its own times (4 bytes a row).

import { createHash } from 'node:crypto';
import { encodePatchRows, setInstalledTimes, withoutInstalledTimes } from './patch-rows.ts';
import { MISSING_STATES } from './fleet.ts';
import type { PatchRow } from './patch-state.ts';

const CVE_ID_RE = /^CVE-\d{4}-\d{4,}$/;

/** What the fleet counters and the CVE index take from a set: its Missing and Failed rows' KBIds and CVE ids. */
export interface RowSetFacts {
  readonly missingKbIds: ReadonlySet<string>;
  readonly cveIds: ReadonlySet<string>;
}

export interface RowSet extends RowSetFacts {
  /** The content address: the first 128 bits of the encoding's SHA-256, base64url (22 characters). */
  readonly digest: string;
  /**
   * The outcome's address: the same of the encoding with every installed time 0. Nodes whose rows differ only in
   * installed times share it, and can share one stored set.
   */
  readonly shape: string;
  /** The encoding, with this node's installed times. */
  readonly data: Buffer;
  readonly rowCount: number;
}

export function rowSetDigest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest().subarray(0, 16).toString('base64url');
}

/** The CVE ids a CVEIds value lists (upper-cased; tokens that are not CVE ids are left out). */
export function cveIdsIn(cveIds: string | undefined, into: Set<string> = new Set()): Set<string> {
  if (!cveIds) return into;
  for (const part of cveIds.split(',')) {
    const id = part.trim().toUpperCase();
    if (CVE_ID_RE.test(id)) into.add(id);
  }
  return into;
}

/** The facts of rows: the KBIds and CVE ids of those that are Missing or Failed. */
export function rowSetFacts(rows: ReadonlyArray<Pick<PatchRow, 'KBId' | 'State' | 'CVEIds'>>): RowSetFacts {
  const missingKbIds = new Set<string>();
  const cveIds = new Set<string>();
  for (const r of rows) {
    if (!MISSING_STATES.has(r.State)) continue;
    missingKbIds.add(r.KBId);
    cveIdsIn(r.CVEIds, cveIds);
  }
  return { missingKbIds, cveIds };
}

/** The row set of rows (sorted, as stored) and their descriptor ids. */
export function rowSetOf(rows: readonly PatchRow[], descriptorIds: readonly number[]): RowSet {
  const data = encodePatchRows(rows, descriptorIds);
  return { digest: rowSetDigest(data), shape: rowSetDigest(withoutInstalledTimes(data)), data, rowCount: rows.length, ...rowSetFacts(rows) };
}

/**
 * Rows many nodes share but for their installed times (one scan evaluated under one baseline): encoded once, with
 * every installed time 0; `withInstalledTimes` gives one node's set by writing its times into a copy.
 */
export class RowSetTemplate {
  readonly #data: Buffer;
  readonly #shape: string;
  readonly #facts: RowSetFacts;
  readonly #rowCount: number;
  /** Indexes of the rows whose state is an installed one (only they carry a time). */
  readonly timedRows: Int32Array;
  #last: { times: Uint32Array; set: RowSet } | undefined;

  constructor(rows: readonly PatchRow[], descriptorIds: readonly number[], timedStates: ReadonlySet<string>) {
    this.#data = encodePatchRows(rows.map((r) => (r.InstalledTime === 0 ? r : { ...r, InstalledTime: 0 })), descriptorIds);
    this.#shape = rowSetDigest(this.#data);
    this.#facts = rowSetFacts(rows);
    this.#rowCount = rows.length;
    const timed: number[] = [];
    rows.forEach((r, i) => {
      if (timedStates.has(r.State)) timed.push(i);
    });
    this.timedRows = Int32Array.from(timed);
  }

  /** `times[k]`: the installed time (epoch seconds, 0 = none) of row `timedRows[k]`. */
  withInstalledTimes(times: Uint32Array): RowSet {
    const last = this.#last;
    if (last !== undefined && last.times.length === times.length && last.times.every((t, k) => t === times[k])) return last.set;
    const data = Buffer.from(this.#data);
    setInstalledTimes(data, this.timedRows, times);
    const set: RowSet = { digest: rowSetDigest(data), shape: this.#shape, data, rowCount: this.#rowCount, ...this.#facts };
    this.#last = { times, set };
    return set;
  }
}
