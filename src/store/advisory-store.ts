// The advisory catalogue in the store (tables advisories, advisory_packages; migration 0006-advisories): batched
// upserts for the importer (an advisory is keyed by Advisory.key, so a re-import updates it in place and an
// unchanged record writes nothing), the catalogue version kept in `meta`, and the reads the labeller builds its
// in-memory index from (src/services/advisory-labels.ts).

import { createHash } from 'node:crypto';
import type { Advisory, AdvisoryPackage, PackageFamily } from '../domain/advisories/advisory.ts';
import type { CatalogueFix, LabelAdvisory } from '../domain/advisories/labels.ts';
import type { Store, Db } from './store.ts';
import type { AdvisoriesTable, AdvisoryPackagesTable } from './schema.ts';

/** `meta` key of the catalogue version: a new value whenever an import changes the catalogue. */
export const CATALOGUE_VERSION_KEY = 'advisory_catalogue_version';

const KEY_CHUNK = 500;
const PACKAGE_CHUNK = 1000;
const PAGE = 20_000;

export interface BatchResult {
  added: number;
  updated: number;
  unchanged: number;
  /** Fixed-package rows written. */
  packages: number;
  /** Families of the advisories added or updated. */
  families: Set<PackageFamily>;
}

function advisoryRow(a: Advisory, hash: string, now: number): AdvisoriesTable {
  const rest: Record<string, unknown> = {};
  if (a.description !== undefined) rest.description = a.description;
  if (a.vendorSeverity !== undefined) rest.vendorSeverity = a.vendorSeverity;
  if (a.references !== undefined && a.references.length > 0) rest.references = a.references;
  if (a.unfixedPackages !== undefined && a.unfixedPackages.length > 0) rest.unfixedPackages = a.unfixedPackages;
  if (a.rebootSuggested !== undefined) rest.rebootSuggested = a.rebootSuggested;
  return {
    key: a.key,
    id: a.id,
    source: a.source,
    family: a.family,
    distribution: a.distribution ?? null,
    classification: a.classification,
    severity: a.severity ?? null,
    title: a.title ?? null,
    issued: a.issued === undefined ? null : a.issued * 1000,
    updated: a.updated === undefined ? null : a.updated * 1000,
    cve_ids: a.cveIds.join(','),
    bugzilla_ids: a.bugzillaIds.join(','),
    data: JSON.stringify(rest),
    content_hash: hash,
    imported_at: now,
  };
}

function packageRow(a: Advisory, p: AdvisoryPackage): AdvisoryPackagesTable {
  const rest: Record<string, string> = {};
  for (const k of ['epoch', 'version', 'release', 'ecosystem', 'module', 'filename'] as const) {
    const v = p[k];
    if (v !== undefined) rest[k] = v;
  }
  return {
    advisory_key: a.key,
    family: a.family,
    name: p.name,
    source_name: p.sourceName ?? null,
    distribution: p.distribution ?? a.distribution ?? null,
    fixed_version: p.fixedVersion,
    introduced_version: p.introducedVersion ?? null,
    arch: p.arch ?? null,
    data: Object.keys(rest).length === 0 ? null : JSON.stringify(rest),
  };
}

/** A stable hash of a whole record (what decides whether a re-import rewrites it). */
export function advisoryHash(a: Advisory): string {
  return createHash('sha256').update(JSON.stringify(a)).digest('base64url');
}

const splitIds = (s: string): string[] => (s === '' ? [] : s.split(','));

export class AdvisoryStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Writes a batch of parsed advisories inside the caller's transaction: new keys are inserted, changed records
   * replace the stored one (and its packages), unchanged ones are left alone. A key repeated within the batch
   * keeps its last record.
   */
  async writeBatchIn(trx: Db, advisories: readonly Advisory[], now: number): Promise<BatchResult> {
    const result: BatchResult = { added: 0, updated: 0, unchanged: 0, packages: 0, families: new Set() };
    if (advisories.length === 0) return result;
    const latest = new Map<string, Advisory>();
    for (const a of advisories) latest.set(a.key, a);
    const keys = [...latest.keys()];
    const stored = new Map<string, string>();
    for (let c = 0; c < keys.length; c += KEY_CHUNK) {
      const rows = await trx.selectFrom('advisories').select(['key', 'content_hash']).where('key', 'in', keys.slice(c, c + KEY_CHUNK)).execute();
      for (const r of rows) stored.set(r.key, r.content_hash);
    }
    const write: AdvisoriesTable[] = [];
    const replaced: string[] = [];
    const packages: AdvisoryPackagesTable[] = [];
    for (const a of latest.values()) {
      const hash = advisoryHash(a);
      const old = stored.get(a.key);
      if (old === hash) {
        result.unchanged++;
        continue;
      }
      if (old === undefined) result.added++;
      else {
        result.updated++;
        replaced.push(a.key);
      }
      result.families.add(a.family);
      write.push(advisoryRow(a, hash, now));
      for (const p of a.packages) packages.push(packageRow(a, p));
    }
    for (let c = 0; c < replaced.length; c += KEY_CHUNK) {
      await trx.deleteFrom('advisory_packages').where('advisory_key', 'in', replaced.slice(c, c + KEY_CHUNK)).execute();
    }
    for (let c = 0; c < write.length; c += KEY_CHUNK) {
      await trx.insertInto('advisories').values(write.slice(c, c + KEY_CHUNK))
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({
          id: eb.ref('excluded.id'), source: eb.ref('excluded.source'), family: eb.ref('excluded.family'),
          distribution: eb.ref('excluded.distribution'), classification: eb.ref('excluded.classification'),
          severity: eb.ref('excluded.severity'), title: eb.ref('excluded.title'), issued: eb.ref('excluded.issued'),
          updated: eb.ref('excluded.updated'), cve_ids: eb.ref('excluded.cve_ids'), bugzilla_ids: eb.ref('excluded.bugzilla_ids'),
          data: eb.ref('excluded.data'), content_hash: eb.ref('excluded.content_hash'), imported_at: eb.ref('excluded.imported_at'),
        }))).execute();
    }
    for (let c = 0; c < packages.length; c += PACKAGE_CHUNK) {
      await trx.insertInto('advisory_packages').values(packages.slice(c, c + PACKAGE_CHUNK)).execute();
    }
    result.packages = packages.length;
    return result;
  }

  /** Gives the catalogue a new version (inside the transaction that changed it). */
  async bumpVersionIn(trx: Db): Promise<string> {
    const version = `${Date.now().toString(36)}-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 12)}`;
    await this.#store.setMeta(CATALOGUE_VERSION_KEY, version, trx);
    return version;
  }

  /** The catalogue version ('' before the first import). */
  async version(db: Db = this.#store.db): Promise<string> {
    return (await this.#store.getMeta(CATALOGUE_VERSION_KEY, db)) ?? '';
  }

  /** Rows per table, and advisories per family (for the import summary). */
  async counts(db: Db = this.#store.db): Promise<{ advisories: number; packages: number; byFamily: Record<string, number> }> {
    const fam = await db.selectFrom('advisories').select((eb) => ['family', eb.fn.countAll<number>().as('n')]).groupBy('family').orderBy('family').execute();
    const p = await db.selectFrom('advisory_packages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const byFamily: Record<string, number> = {};
    let total = 0;
    for (const r of fam) {
      byFamily[r.family] = Number(r.n);
      total += Number(r.n);
    }
    return { advisories: total, packages: Number(p.n), byFamily };
  }

  /**
   * Every fixed package of one family with its advisory's labelling facts, read a page at a time (advisories
   * shared by their fixes). What the labeller's in-memory index is built from.
   */
  async loadFixes(family: PackageFamily, db: Db = this.#store.db): Promise<CatalogueFix[]> {
    const advisories = new Map<string, LabelAdvisory>();
    let after = '';
    for (;;) {
      const rows = await db.selectFrom('advisories').select(['key', 'id', 'classification', 'severity', 'issued', 'cve_ids', 'bugzilla_ids'])
        .where('family', '=', family).where('key', '>', after).orderBy('key').limit(PAGE).execute();
      for (const r of rows) {
        const a: LabelAdvisory = { id: r.id, classification: r.classification, cveIds: splitIds(r.cve_ids), bugzillaIds: splitIds(r.bugzilla_ids) };
        if (r.severity !== null) a.severity = r.severity;
        if (r.issued !== null) a.issued = Math.floor(Number(r.issued) / 1000);
        advisories.set(r.key, a);
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.key;
    }
    const fixes: CatalogueFix[] = [];
    // Packages are read per page of advisory keys (the advisory_packages_advisory index), in key order.
    const keys = [...advisories.keys()];
    for (let c = 0; c < keys.length; c += KEY_CHUNK) {
      const rows = await db.selectFrom('advisory_packages')
        .select(['advisory_key', 'name', 'source_name', 'distribution', 'fixed_version', 'introduced_version', 'arch'])
        .where('advisory_key', 'in', keys.slice(c, c + KEY_CHUNK)).execute();
      for (const r of rows) {
        const advisory = advisories.get(r.advisory_key);
        if (advisory === undefined) continue;
        const fix: CatalogueFix = { advisory, name: r.name, fixedVersion: r.fixed_version };
        if (r.source_name !== null) fix.sourceName = r.source_name;
        if (r.distribution !== null) fix.distribution = r.distribution;
        if (r.introduced_version !== null) fix.introducedVersion = r.introduced_version;
        if (r.arch !== null) fix.arch = r.arch;
        fixes.push(fix);
      }
    }
    return fixes;
  }
}
