// Raw scans kept per node (node_scans) so the server can re-evaluate any node at any time without a new scan.
// A scan is stored prepared (installed packages paired with their candidates, newest first) as ids into the
// shared package dictionary, so re-evaluation neither re-parses JSON nor re-compares versions:
//
//   [header length u32][header JSON][entry count u32] then per entry
//   [installed package id i32 (-1: none)][installed time u32][flags u8][candidate count u16][candidate ids u32…]
//
// The header holds the node-level facts (OS, product, operation, reboot pending, failed and pending-reboot
// packages, dependencies). Evaluation tracking (dirty_seq / evaluated_seq) lives beside the data.

import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Store, Db } from './store.ts';
import type { NodeScansTable, StoredScanRow } from './schema.ts';
import { DescriptorDictionary } from './descriptors.ts';
import { osFamily } from '../domain/baseline.ts';
import { packageKey } from '../domain/evaluation/decision-cache.ts';
import type { PackageIndex } from '../domain/evaluation/package-index.ts';
import type { PreparedScan } from '../domain/evaluation/prepare-scan.ts';
import type { NodeScan, ScanPackage } from '../domain/evaluation/types.ts';

const SEP = '\u001f';

/** The dictionary key of a package version (every field but the per-node installed time). */
export function scanPackageKey(pkg: ScanPackage): string {
  return `p${SEP}${packageKey(pkg)}${SEP}${pkg.title ?? ''}${SEP}${pkg.sourceName ?? ''}${SEP}${pkg.sourceVersion ?? ''}`;
}

function stripInstalledTime(pkg: ScanPackage): ScanPackage {
  if (pkg.installedTime === undefined) return pkg;
  const { installedTime: _t, ...rest } = pkg;
  return rest;
}

interface ScanHeader {
  operatingSystem: string;
  product: string;
  operation: 'Scan' | 'Install';
  rebootPending: boolean;
  failed: NodeScan['failed'];
  pendingReboot: NodeScan['pendingReboot'];
  dependsOn?: NodeScan['dependsOn'];
}

export interface StoredScan {
  prepared: PreparedScan;
  /** Installed time (epoch seconds) of each installed package object of this node. */
  installedTimes: Map<ScanPackage, number>;
  row: StoredScanRow;
}

export interface ScanFingerprint {
  /** Everything the evaluation depends on (header, packages, candidates, flags), installed times aside. */
  key: string;
}

/** A stored scan's installed times (epoch seconds) by package-dictionary id; the last entry of a package wins. */
export function installedTimesById(data: Uint8Array): Map<number, number> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let o = 4 + buf.readUInt32LE(0);
  const n = buf.readUInt32LE(o);
  o += 4;
  const times = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = buf.readInt32LE(o);
    if (id >= 0) times.set(id, buf.readUInt32LE(o + 4));
    o += 11 + 4 * buf.readUInt16LE(o + 9);
  }
  return times;
}

export class ScanStore {
  readonly #store: Store;
  readonly packages: DescriptorDictionary<ScanPackage>;

  constructor(store: Store) {
    this.#store = store;
    this.packages = new DescriptorDictionary<ScanPackage>(store.db);
  }

  /**
   * Replaces the scan's packages by the dictionary's shared objects (one per distinct package version in this
   * process), so decision caches keyed by object identity serve every node that has the package.
   */
  async canonicalize(scan: NodeScan, installedTimes: Map<number, number>): Promise<{ scan: NodeScan; installedTimes: Map<ScanPackage, number> }> {
    const all = [...scan.installed, ...scan.updates, ...(scan.notApplicable ?? [])].map(stripInstalledTime);
    const ids = await this.packages.intern(all.map(scanPackageKey), (i) => all[i]!);
    const shared = ids.map((id) => this.packages.get(id));
    const ni = scan.installed.length;
    const nu = scan.updates.length;
    const times = new Map<ScanPackage, number>();
    for (const [i, t] of installedTimes) times.set(shared[i]!, t);
    const out: NodeScan = { ...scan, installed: shared.slice(0, ni), updates: shared.slice(ni, ni + nu) };
    if (scan.notApplicable !== undefined) out.notApplicable = shared.slice(ni + nu);
    return { scan: out, installedTimes: times };
  }

  encode(prepared: PreparedScan, installedTimes: Map<ScanPackage, number>): Buffer {
    const s = prepared.scan;
    const header: ScanHeader = { operatingSystem: s.operatingSystem, product: s.product, operation: s.operation, rebootPending: s.rebootPending, failed: s.failed, pendingReboot: s.pendingReboot };
    if (s.dependsOn !== undefined) header.dependsOn = s.dependsOn;
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const n = prepared.installed.length;
    let size = 4 + headerBytes.length + 4;
    for (let i = 0; i < n; i++) size += 11 + 4 * (prepared.candidates[i]?.length ?? 0);
    const buf = Buffer.allocUnsafe(size);
    let o = buf.writeUInt32LE(headerBytes.length, 0);
    o += headerBytes.copy(buf, o);
    o = buf.writeUInt32LE(n, o);
    const idOf = (pkg: ScanPackage) => {
      const id = this.packages.idOf(pkg);
      if (id === undefined) throw new Error(`package ${pkg.name} ${pkg.version} is not from the dictionary`);
      return id;
    };
    for (let i = 0; i < n; i++) {
      const inst = prepared.installed[i];
      o = buf.writeInt32LE(inst === undefined ? -1 : idOf(inst), o);
      o = buf.writeUInt32LE(inst === undefined ? 0 : Math.max(0, Math.min(0xffffffff, installedTimes.get(inst) ?? 0)), o);
      o = buf.writeUInt8(prepared.flags[i]!, o);
      const cands = prepared.candidates[i] ?? [];
      o = buf.writeUInt16LE(cands.length, o);
      for (const c of cands) o = buf.writeUInt32LE(idOf(c), o);
    }
    return buf;
  }

  /**
   * A stored scan's identity apart from its installed times: two nodes with the same fingerprint evaluate to the
   * same rows under the same baseline version (each shows its own installed times, read by installedTimesById).
   */
  fingerprint(data: Uint8Array): ScanFingerprint {
    const buf = Buffer.allocUnsafe(data.byteLength); // a copy whose time fields are zeroed before hashing
    buf.set(data);
    let o = 4 + buf.readUInt32LE(0);
    const n = buf.readUInt32LE(o);
    o += 4;
    for (let i = 0; i < n; i++) {
      buf.writeUInt32LE(0, o + 4);
      o += 11 + 4 * buf.readUInt16LE(o + 9);
    }
    return { key: createHash('sha1').update(buf).digest('base64') };
  }

  /** Decodes stored scans (loading their packages into the dictionary) into prepared scans. */
  async decode(rows: StoredScanRow[], index: PackageIndex): Promise<StoredScan[]> {
    const parsed = rows.map((row) => {
      const buf = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
      const headerLength = buf.readUInt32LE(0);
      const header = JSON.parse(buf.toString('utf8', 4, 4 + headerLength)) as ScanHeader;
      return { row, buf, header, start: 4 + headerLength };
    });
    const ids = new Set<number>();
    for (const p of parsed) {
      let o = p.start;
      const n = p.buf.readUInt32LE(o);
      o += 4;
      for (let i = 0; i < n; i++) {
        const inst = p.buf.readInt32LE(o);
        if (inst >= 0) ids.add(inst);
        const count = p.buf.readUInt16LE(o + 9);
        o += 11;
        for (let c = 0; c < count; c++, o += 4) ids.add(p.buf.readUInt32LE(o));
      }
    }
    await this.packages.load(ids);
    return parsed.map(({ row, buf, header, start }) => {
      let o = start;
      const n = buf.readUInt32LE(o);
      o += 4;
      const installed = new Array<ScanPackage | undefined>(n);
      const candidates = new Array<ScanPackage[] | undefined>(n);
      const flags = new Uint8Array(n);
      const installedIds = new Int32Array(n);
      const candidateIds = new Array<Int32Array | undefined>(n);
      const times = new Map<ScanPackage, number>();
      for (let i = 0; i < n; i++) {
        const inst = buf.readInt32LE(o);
        const time = buf.readUInt32LE(o + 4);
        flags[i] = buf.readUInt8(o + 8);
        const count = buf.readUInt16LE(o + 9);
        o += 11;
        if (inst >= 0) {
          const pkg = this.packages.get(inst);
          installed[i] = pkg;
          installedIds[i] = index.idOf(pkg);
          if (time > 0) times.set(pkg, time);
        } else installedIds[i] = -1;
        if (count > 0) {
          const list: ScanPackage[] = new Array(count);
          const listIds = new Int32Array(count);
          for (let c = 0; c < count; c++, o += 4) {
            const pkg = this.packages.get(buf.readUInt32LE(o));
            list[c] = pkg;
            listIds[c] = index.idOf(pkg);
          }
          candidates[i] = list;
          candidateIds[i] = listIds;
        }
      }
      const byName = new Map<string, number>();
      const sameName: number[] = new Array(n).fill(-1);
      const family = osFamily(header.operatingSystem);
      if (family !== 'windows') {
        const last = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const pkg = installed[i];
          if (pkg === undefined) continue;
          const prev = last.get(pkg.name);
          if (prev === undefined) byName.set(pkg.name, i);
          else sameName[prev] = i;
          last.set(pkg.name, i);
        }
      }
      const scan: NodeScan = { ...header, installed: [], updates: [] };
      const prepared: PreparedScan = { prepared: true, scan, family, installed, candidates, flags, byName, sameName, index, installedIds, candidateIds };
      return { prepared, installedTimes: times, row };
    });
  }

  getScan(instanceId: string, db: Db = this.#store.db): Promise<StoredScanRow | undefined> {
    return db.selectFrom('node_scans').innerJoin('node_scan_data', 'node_scan_data.instance_id', 'node_scans.instance_id')
      .selectAll('node_scans').select('node_scan_data.data').where('node_scans.instance_id', '=', instanceId).executeTakeFirst();
  }

  getScans(instanceIds: string[], db: Db = this.#store.db): Promise<StoredScanRow[]> {
    if (instanceIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('node_scans').innerJoin('node_scan_data', 'node_scan_data.instance_id', 'node_scans.instance_id')
      .selectAll('node_scans').select('node_scan_data.data').where('node_scans.instance_id', 'in', instanceIds).execute();
  }

  /** Attaches each row's scan data (rows whose data is gone, a node deleted meanwhile, are left out). */
  async withData(rows: NodeScansTable[], db: Db = this.#store.db): Promise<StoredScanRow[]> {
    if (rows.length === 0) return [];
    const data = new Map((await db.selectFrom('node_scan_data').selectAll().where('instance_id', 'in', rows.map((r) => r.instance_id)).execute())
      .map((d) => [d.instance_id, d.data]));
    return rows.flatMap((r) => {
      const d = data.get(r.instance_id);
      return d === undefined ? [] : [{ ...r, data: d }];
    });
  }

  /**
   * Stores a node's new scan together with the evaluation just made of it. `observedDirtySeq` is the node's
   * dirty_seq read before evaluating: if a change marked it since, it stays dirty.
   */
  async putScanIn(trx: Db, row: Omit<StoredScanRow, 'scan_seq' | 'dirty' | 'dirty_seq' | 'evaluated_seq' | 'claimed_until'>, observedDirtySeq: number): Promise<number> {
    const old = await trx.selectFrom('node_scans').select(['scan_seq', 'dirty_seq']).where('instance_id', '=', row.instance_id).executeTakeFirst();
    const seq = (old === undefined ? 0 : Number(old.scan_seq)) + 1;
    const dirtySeq = old === undefined ? 0 : Number(old.dirty_seq);
    const { data, ...fields } = row;
    const full: NodeScansTable = { ...fields, scan_seq: seq, dirty: dirtySeq > observedDirtySeq ? 1 : 0, dirty_seq: dirtySeq, evaluated_seq: observedDirtySeq, claimed_until: null };
    const { instance_id: _i, ...update } = full;
    await trx.insertInto('node_scans').values(full).onConflict((oc) => oc.column('instance_id').doUpdateSet(update)).execute();
    await trx.insertInto('node_scan_data').values({ instance_id: row.instance_id, data })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet((eb) => ({ data: eb.ref('excluded.data') }))).execute();
    return seq;
  }

  /** The header of a stored scan (pending-reboot packages carry over between reports). */
  header(row: Pick<StoredScanRow, 'data'>): { pendingReboot: NodeScan['pendingReboot'] } {
    const buf = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    return JSON.parse(buf.toString('utf8', 4, 4 + buf.readUInt32LE(0))) as ScanHeader;
  }

  async deleteScanIn(trx: Db, instanceId: string): Promise<void> {
    await trx.deleteFrom('node_scans').where('instance_id', '=', instanceId).execute();
    await trx.deleteFrom('node_scan_data').where('instance_id', '=', instanceId).execute();
  }

  /** Marks nodes for re-evaluation. `where` narrows to the affected nodes; returns how many were marked. */
  async markDirty(where: { baselineIds?: string[]; operatingSystems?: string[]; patchGroupTags?: string[]; instanceIds?: string[]; dueBy?: number; all?: boolean }): Promise<number> {
    let q = this.#store.db.updateTable('node_scans').set((eb) => ({ dirty: 1, dirty_seq: eb('dirty_seq', '+', 1) }));
    if (where.all !== true) {
      q = q.where((eb) => {
        const ors = [];
        if (where.baselineIds?.length) ors.push(eb('evaluated_baseline_id', 'in', where.baselineIds));
        if (where.operatingSystems?.length) ors.push(eb('operating_system', 'in', where.operatingSystems));
        if (where.instanceIds?.length) ors.push(eb('instance_id', 'in', where.instanceIds));
        if (where.patchGroupTags?.length) {
          ors.push(eb('instance_id', 'in', eb.selectFrom('nodes').select('nodes.instance_id').where('nodes.patch_group_tag', 'in', where.patchGroupTags)));
        }
        if (where.dueBy !== undefined) ors.push(eb('next_change_at', '<=', where.dueBy));
        return ors.length === 0 ? sql<boolean>`1 = 0` : eb.or(ors);
      });
    }
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Claims up to `limit` out-of-date nodes for evaluation by this server for `leaseMs` (PostgreSQL: concurrent
   * servers skip each other's claims). Returns their rows.
   */
  /** Claims up to `limit` dirty nodes (their scan rows, without the scan data: withData reads what is needed). */
  async claimDirty(limit: number, now: number, leaseMs = 60_000): Promise<NodeScansTable[]> {
    if (this.#store.engine === 'postgres') {
      const result = await sql<NodeScansTable>`
        update node_scans set claimed_until = ${now + leaseMs}
        where instance_id in (
          select instance_id from node_scans
          where dirty = 1 and (claimed_until is null or claimed_until < ${now})
          order by instance_id limit ${limit} for update skip locked)
        returning *`.execute(this.#store.db);
      return result.rows;
    }
    const rows = await this.#store.transaction(async (trx) => {
      const rows = await trx.selectFrom('node_scans').selectAll().where('dirty', '=', 1)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)])).orderBy('instance_id').limit(limit).execute();
      if (rows.length > 0) await trx.updateTable('node_scans').set({ claimed_until: now + leaseMs }).where('instance_id', 'in', rows.map((r) => r.instance_id)).execute();
      return rows;
    });
    return rows;
  }

  /**
   * Records evaluations, one statement per 500 nodes; a node stays dirty if it was marked again meanwhile (its
   * dirty_seq moved past the sequence it was evaluated at). A scan key, when given, fills in that of a scan stored
   * before keys were kept.
   */
  async finishEvaluationsIn(trx: Db, now: number, done: ReadonlyArray<{ instanceId: string; evaluatedSeq: number; baselineId: string; nextChangeAt: number | null; scanKey?: string }>): Promise<void> {
    for (let c = 0; c < done.length; c += 500) {
      const values = sql.join(done.slice(c, c + 500).map((d) =>
        sql`(${d.instanceId}, cast(${d.evaluatedSeq} as bigint), ${d.baselineId}, cast(${d.nextChangeAt} as bigint), cast(${d.scanKey ?? null} as text))`));
      await sql`with v(instance_id, seq, baseline_id, next_change_at, scan_key) as (values ${values})
        update node_scans set evaluated_at = ${now}, evaluated_baseline_id = v.baseline_id, next_change_at = v.next_change_at,
          evaluated_seq = v.seq, dirty = case when node_scans.dirty_seq > v.seq then 1 else 0 end, claimed_until = null,
          scan_key = coalesce(v.scan_key, node_scans.scan_key)
        from v where node_scans.instance_id = v.instance_id`.execute(trx);
    }
  }

  /**
   * The evaluation status. Polled while a fleet is re-evaluated, so each part reads an index, not the table:
   * node_scans_dirty for the pending count (it shrinks as the fleet is evaluated), node_scans_evaluated for the last
   * evaluation (evaluation times only grow, so maintaining it touches the index's ends), node_scans_next_change.
   */
  async status(now: number): Promise<{ pending: number; scanned: number; lastEvaluation: number | null; nextChange: number | null }> {
    const r = (await sql<{ scanned: number; pending: number; last: number | null; next: number | null }>`select
        (select count(*) from node_scans) as scanned,
        (select count(*) from node_scans where dirty = 1) as pending,
        (select max(evaluated_at) from node_scans) as last,
        (select min(next_change_at) from node_scans where next_change_at > ${now}) as next`.execute(this.#store.db)).rows[0]!;
    return { pending: Number(r.pending ?? 0), scanned: Number(r.scanned), lastEvaluation: r.last === null ? null : Number(r.last), nextChange: r.next === null || r.next === undefined ? null : Number(r.next) };
  }
}
