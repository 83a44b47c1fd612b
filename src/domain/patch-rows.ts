// The compact, compressed encoding of a node's patch rows (one database value per node instead of one row per
// patch: a 500-patch report is one write, and reading a node's patches is one read). Rows are kept sorted by
// KBId then Title, the order DescribeInstancePatches pages in.

import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import { PATCH_STATES, type PatchRow, type PatchState } from './patch-state.ts';

const STATE_CODE = new Map<PatchState, number>(PATCH_STATES.map((s, i) => [s, i]));
const FORMAT = 1;

export function sortPatchRows(rows: PatchRow[]): PatchRow[] {
  return rows.sort((a, b) => (a.KBId < b.KBId ? -1 : a.KBId > b.KBId ? 1 : a.Title < b.Title ? -1 : a.Title > b.Title ? 1 : 0));
}

/** Rows (already sorted) → bytes. Layout: JSON [format, [title, kb, class, sev, stateCode, installed, cves, level], …], raw deflate. */
export function encodePatchRows(rows: readonly PatchRow[]): Buffer {
  const packed: unknown[] = [FORMAT];
  for (const r of rows) {
    packed.push([r.Title, r.KBId, r.Classification, r.Severity, STATE_CODE.get(r.State), r.InstalledTime, r.CVEIds ?? '', r.ComplianceLevel ?? '']);
  }
  return deflateRawSync(JSON.stringify(packed), { level: 1, strategy: constants.Z_DEFAULT_STRATEGY });
}

export function decodePatchRows(data: Uint8Array): PatchRow[] {
  const packed = JSON.parse(inflateRawSync(data).toString('utf8')) as unknown[];
  if (packed[0] !== FORMAT) throw new Error(`unknown patch-row encoding ${String(packed[0])}`);
  const rows: PatchRow[] = new Array(packed.length - 1);
  for (let i = 1; i < packed.length; i++) {
    const [Title, KBId, Classification, Severity, code, InstalledTime, cves, level] = packed[i] as [string, string, string, string, number, number, string, string];
    const row: PatchRow = { Title, KBId, Classification, Severity, State: PATCH_STATES[code]!, InstalledTime };
    if (cves !== '') row.CVEIds = cves;
    if (level !== '') row.ComplianceLevel = level;
    rows[i - 1] = row;
  }
  return rows;
}

/** Generic JSON values (compliance items, inventory entries) compressed the same way. */
export function encodeJson(value: unknown): Buffer {
  return deflateRawSync(JSON.stringify(value), { level: 1 });
}

export function decodeJson<T>(data: Uint8Array): T {
  return JSON.parse(inflateRawSync(data).toString('utf8')) as T;
}
