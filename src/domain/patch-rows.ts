// The compact encoding of a node's patch rows: one database value per node (a 500-patch report is one write and
// one read), in which each row refers to a shared descriptor (Title, KBId, Classification, Severity, CVEIds) by
// id — a fleet repeats the same few thousand descriptors on every node — and keeps only what is per node: state,
// compliance level and installed time. Rows are kept sorted by KBId then Title, the order DescribeInstancePatches
// pages in. Generic JSON values (compliance items, inventory entries) are stored deflated.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PATCH_STATES, COMPLIANCE_SEVERITIES, type PatchRow, type PatchState } from './patch-state.ts';

/** What rows of many nodes share. */
export interface RowDescriptor {
  Title: string;
  KBId: string;
  Classification: string;
  Severity: string;
  CVEIds: string;
}

const STATE_CODE = new Map<PatchState, number>(PATCH_STATES.map((s, i) => [s, i]));
/** Level codes: 0 = none recorded, then COMPLIANCE_SEVERITIES in order. */
const LEVEL_CODE = new Map<string, number>(COMPLIANCE_SEVERITIES.map((s, i) => [s, i + 1]));
const FORMAT = 2;
const HEADER = 5;
const ROW = 10;

/** The dictionary key of a row's descriptor (unit separators cannot occur in the fields' meaning). */
export function descriptorKey(r: Pick<PatchRow, 'Title' | 'KBId' | 'Classification' | 'Severity' | 'CVEIds'>): string {
  return `r\u001f${r.Title}\u001f${r.KBId}\u001f${r.Classification}\u001f${r.Severity}\u001f${r.CVEIds ?? ''}`;
}

export function descriptorOf(r: PatchRow): RowDescriptor {
  return { Title: r.Title, KBId: r.KBId, Classification: r.Classification, Severity: r.Severity, CVEIds: r.CVEIds ?? '' };
}

export function sortPatchRows<T extends Pick<PatchRow, 'KBId' | 'Title'>>(rows: T[]): T[] {
  return rows.sort((a, b) => (a.KBId < b.KBId ? -1 : a.KBId > b.KBId ? 1 : a.Title < b.Title ? -1 : a.Title > b.Title ? 1 : 0));
}

/** Rows (sorted) and their descriptor ids → bytes: [format u8][count u32] then per row [id u32][state u8][level u8][installed u32]. */
export function encodePatchRows(rows: readonly PatchRow[], descriptorIds: readonly number[]): Buffer {
  if (rows.length !== descriptorIds.length) throw new Error('one descriptor id per row is required');
  const buf = Buffer.allocUnsafe(HEADER + rows.length * ROW);
  buf.writeUInt8(FORMAT, 0);
  buf.writeUInt32LE(rows.length, 1);
  let o = HEADER;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    buf.writeUInt32LE(descriptorIds[i]!, o);
    buf.writeUInt8(STATE_CODE.get(r.State)!, o + 4);
    buf.writeUInt8(LEVEL_CODE.get(r.ComplianceLevel ?? '') ?? 0, o + 5);
    buf.writeUInt32LE(Math.max(0, Math.min(0xffffffff, Math.floor(r.InstalledTime))), o + 6);
    o += ROW;
  }
  return buf;
}

/** Every row's installed time (epoch seconds), in row order, as 4 bytes each (little-endian). */
export function installedTimesOf(data: Uint8Array): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const count = buf.readUInt32LE(1);
  const out = Buffer.allocUnsafe(count * 4);
  for (let i = 0; i < count; i++) out.writeUInt32LE(buf.readUInt32LE(HEADER + i * ROW + 6), i * 4);
  return out;
}

/** A copy of encoded rows with every installed time 0: what nodes with the same outcome share. */
export function withoutInstalledTimes(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.byteLength);
  out.set(data);
  const count = out.readUInt32LE(1);
  for (let i = 0; i < count; i++) out.writeUInt32LE(0, HEADER + i * ROW + 6);
  return out;
}

export interface EncodedRows {
  descriptorIds: Uint32Array;
  decode(descriptors: (id: number) => RowDescriptor): PatchRow[];
}

export function readPatchRows(data: Uint8Array): EncodedRows {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.readUInt8(0) !== FORMAT) throw new Error(`unknown patch-row encoding ${buf.readUInt8(0)}`);
  const count = buf.readUInt32LE(1);
  const ids = new Uint32Array(count);
  for (let i = 0; i < count; i++) ids[i] = buf.readUInt32LE(HEADER + i * ROW);
  return {
    descriptorIds: ids,
    decode(descriptors) {
      const rows: PatchRow[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const o = HEADER + i * ROW;
        const d = descriptors(ids[i]!);
        const row: PatchRow = {
          Title: d.Title, KBId: d.KBId, Classification: d.Classification, Severity: d.Severity,
          State: PATCH_STATES[buf.readUInt8(o + 4)]!, InstalledTime: buf.readUInt32LE(o + 6),
        };
        if (d.CVEIds !== '') row.CVEIds = d.CVEIds;
        const level = buf.readUInt8(o + 5);
        if (level > 0) row.ComplianceLevel = COMPLIANCE_SEVERITIES[level - 1]!;
        rows[i] = row;
      }
      return rows;
    },
  };
}

/**
 * The descriptor ids of the rows whose state is one of `states`, read straight from the bytes (no descriptor
 * lookups): what a node's previous report contributed to the fleet counters (src/store/reporting-store.ts).
 */
export function descriptorIdsInStates(data: Uint8Array, states: ReadonlySet<PatchState>): number[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.readUInt8(0) !== FORMAT) throw new Error(`unknown patch-row encoding ${buf.readUInt8(0)}`);
  const codes = new Set<number>();
  for (const s of states) codes.add(STATE_CODE.get(s)!);
  const count = buf.readUInt32LE(1);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const o = HEADER + i * ROW;
    if (codes.has(buf.readUInt8(o + 4))) out.push(buf.readUInt32LE(o));
  }
  return out;
}

/** Generic JSON values (compliance items, inventory entries), deflated. */
export function encodeJson(value: unknown): Buffer {
  return deflateRawSync(JSON.stringify(value), { level: 1 });
}

export function decodeJson<T>(data: Uint8Array): T {
  return JSON.parse(inflateRawSync(data).toString('utf8')) as T;
}
