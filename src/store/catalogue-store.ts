// The patch catalogue (catalogue_patches): every update candidate the nodes' scans reported, per product, as ids
// into the shared package dictionary (ScanStore.packages). Patchline.PutScanReport records a scan's candidates in
// its own transaction; DescribeAvailablePatches and DescribeEffectivePatchesForPatchBaseline read it in key order
// (product, package_id), a chunk at a time.
//
// Writes are kept rare: an entry is inserted once and its last_seen refreshed at most once an hour, so the many
// scans of one product mostly read the catalogue and write nothing (on PostgreSQL an upsert locks its rows until
// commit; rows are written in key order, so concurrent scans cannot deadlock on them).

import type { Db } from './store.ts';
import type { CataloguePatchesTable } from './schema.ts';
import type { DescriptorDictionary } from './descriptors.ts';
import type { PreparedScan } from '../domain/evaluation/prepare-scan.ts';
import type { ScanPackage } from '../domain/evaluation/types.ts';

/** How stale last_seen may get before a scan that reports the entry again refreshes it. */
export const CATALOGUE_TOUCH_MS = 3_600_000;
const CHUNK = 500;

export interface CatalogueEntry {
  product: string;
  operatingSystem: string;
  packageId: number;
  firstSeen: number;
  lastSeen: number;
}

/**
 * The catalogue entries of a prepared scan: the dictionary ids of every candidate the engine weighs (Linux/macOS:
 * newer versions of installed packages; Windows: applicable and not-applicable updates), unique, ascending.
 */
export function catalogueCandidateIds(prepared: PreparedScan, packages: DescriptorDictionary<ScanPackage>): number[] {
  const ids = new Set<number>();
  for (const list of prepared.candidates) {
    if (list === undefined) continue;
    for (const pkg of list) {
      const id = packages.idOf(pkg);
      if (id !== undefined) ids.add(id);
    }
  }
  return [...ids].sort((a, b) => a - b);
}

/** Inserts the scan's candidates into the catalogue, or refreshes their last_seen (hourly at most). */
export async function recordCatalogueIn(trx: Db, product: string, operatingSystem: string, packageIds: readonly number[], now: number): Promise<number> {
  if (packageIds.length === 0) return 0;
  const fresh = new Set<number>();
  for (let c = 0; c < packageIds.length; c += CHUNK) {
    const rows = await trx.selectFrom('catalogue_patches').select(['package_id', 'last_seen'])
      .where('product', '=', product).where('package_id', 'in', packageIds.slice(c, c + CHUNK)).execute();
    for (const r of rows) if (Number(r.last_seen) > now - CATALOGUE_TOUCH_MS) fresh.add(Number(r.package_id));
  }
  const write = packageIds.filter((id) => !fresh.has(id));
  for (let c = 0; c < write.length; c += CHUNK) {
    const values: CataloguePatchesTable[] = write.slice(c, c + CHUNK)
      .map((id) => ({ product, package_id: id, operating_system: operatingSystem, first_seen: now, last_seen: now }));
    await trx.insertInto('catalogue_patches').values(values)
      .onConflict((oc) => oc.columns(['product', 'package_id'])
        .doUpdateSet((eb) => ({ last_seen: eb.ref('excluded.last_seen') }))
        .where('catalogue_patches.last_seen', '<', now))
      .execute();
  }
  return write.length;
}

export interface CatalogueQuery {
  /** Only these operating systems (undefined: all). */
  operatingSystems?: readonly string[];
  /** Leave these operating systems out. */
  excludeOperatingSystems?: readonly string[];
  /** Only these products (names compared case-insensitively; undefined: all). */
  products?: readonly string[];
  /** Entries after this key (product, package id). */
  after?: readonly [string, number];
  limit: number;
}

/** One chunk of catalogue entries in key order (product, package id). */
export async function catalogueChunk(db: Db, query: CatalogueQuery): Promise<CatalogueEntry[]> {
  let q = db.selectFrom('catalogue_patches').selectAll();
  if (query.operatingSystems !== undefined) {
    if (query.operatingSystems.length === 0) return [];
    q = q.where('operating_system', 'in', [...query.operatingSystems]);
  }
  if (query.excludeOperatingSystems !== undefined && query.excludeOperatingSystems.length > 0) {
    q = q.where('operating_system', 'not in', [...query.excludeOperatingSystems]);
  }
  if (query.products !== undefined) {
    if (query.products.length === 0) return [];
    const lowered = query.products.map((p) => p.toLowerCase());
    q = q.where((eb) => eb(eb.fn<string>('lower', [eb.ref('product')]), 'in', lowered));
  }
  const after = query.after;
  if (after !== undefined) {
    q = q.where((eb) => eb.or([eb('product', '>', after[0]), eb.and([eb('product', '=', after[0]), eb('package_id', '>', after[1])])]));
  }
  const rows = await q.orderBy('product').orderBy('package_id').limit(query.limit).execute();
  return rows.map((r) => ({
    product: r.product,
    operatingSystem: r.operating_system,
    packageId: Number(r.package_id),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
  }));
}

/**
 * Walks the catalogue in key order from `query.after`, a chunk at a time, handing each entry (with its package
 * loaded from the dictionary) to `take` until it returns false or the catalogue ends.
 */
export async function walkCatalogue(
  db: Db, packages: DescriptorDictionary<ScanPackage>, query: Omit<CatalogueQuery, 'limit'>,
  take: (entry: CatalogueEntry, pkg: ScanPackage) => boolean,
): Promise<void> {
  let after = query.after;
  for (;;) {
    const chunk = await catalogueChunk(db, { ...query, after, limit: CHUNK });
    if (chunk.length === 0) return;
    await packages.load(chunk.map((e) => e.packageId));
    for (const e of chunk) if (!take(e, packages.get(e.packageId))) return;
    if (chunk.length < CHUNK) return;
    const last = chunk[chunk.length - 1]!;
    after = [last.product, last.packageId];
  }
}
