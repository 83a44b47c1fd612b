// A node's patch rows as they are stored: the compact encoding of src/domain/patch-rows.ts, addressed by its
// content apart from the installed times. Nodes with the same outcome — the same patches in the same states and
// levels, evaluated under the same baseline — refer to one stored set, so writing a fleet's rows costs one set per
// distinct outcome plus a reference per node, and the facts the fleet counters need (the KBIds and CVE ids of the
// Missing and Failed rows) are worked out once per set. A set stored from a report is addressed by its whole
// content; a node whose rows differ from a stored set's only in installed times refers to that set and keeps its own
// times (4 bytes a row). A set evaluated from scans holds no times at all: it names the package each row is timed
// from, and its nodes read their times from their stored scans (scanRowSetOf).

import { createHash } from 'node:crypto';
import { encodePatchRows, withoutInstalledTimes } from './patch-rows.ts';
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
  /** The encoding, with this node's installed times (0 in a scan-timed set). */
  readonly data: Buffer;
  readonly rowCount: number;
  /** A scan-timed set (scanRowSetOf): per row, int32 LE, the package whose installed time the row shows. */
  readonly timedPackages?: Buffer;
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
 * The row set of a scan's evaluation, shared by every node whose scan evaluates to these rows: its installed times
 * are 0 and `timedPackages` names, per row, the scan-dictionary id of the installed package whose time the row
 * shows (-1: none). Each node's times are read from its own stored scan, so nodes differing only in installed
 * times refer to one set and a re-evaluation writes no per-node times. The set is addressed by its rows and those
 * packages together (its shape is its digest): sets stored from reports, which carry their own times, never stand
 * in for it.
 */
export function scanRowSetOf(rows: readonly PatchRow[], descriptorIds: readonly number[], timedPackages: Int32Array): RowSet {
  if (timedPackages.length !== rows.length) throw new Error('one timed package per row is required');
  const data = encodePatchRows(rows.map((r) => (r.InstalledTime === 0 ? r : { ...r, InstalledTime: 0 })), descriptorIds);
  const packages = Buffer.alloc(4 * timedPackages.length);
  timedPackages.forEach((id, i) => packages.writeInt32LE(id, 4 * i)); // little-endian whatever the machine
  const digest = createHash('sha256').update(data).update(SCAN_TIMED).update(packages).digest().subarray(0, 16).toString('base64url');
  return { digest, shape: digest, data, rowCount: rows.length, timedPackages: packages, ...rowSetFacts(rows) };
}

/**
 * Between a scan-timed set's rows and its packages in its digest. An encoding of rows is exactly as long as its count
 * says, so these bytes are never the encoding of a set stored from a report: the two kinds never share an address.
 */
const SCAN_TIMED = Buffer.from('\u0000scan-timed\u0000');

/** A scan-timed set's rows with each node's installed times: `timeOf(packageId)` from the node's stored scan. */
export function withScanTimes(rows: readonly PatchRow[], timedPackages: Buffer, timeOf: (packageId: number) => number | undefined): PatchRow[] {
  if (timedPackages.byteLength !== 4 * rows.length) throw new Error(`a scan-timed set names ${timedPackages.byteLength / 4} packages for ${rows.length} rows`);
  return rows.map((r, i) => {
    const id = timedPackages.readInt32LE(4 * i);
    return id < 0 ? r : { ...r, InstalledTime: timeOf(id) ?? 0 };
  });
}
