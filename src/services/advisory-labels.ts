// Advisory labels at evaluation time: the in-memory index of the advisory catalogue (one FixIndex per package
// family, loaded from the store on first need and dropped when the catalogue version changes) and the labelled
// candidate objects the engine evaluates instead of a scan's bare candidates.
//
// Stored scans stay unlabelled; labels are applied to a copy of a prepared scan just before it is evaluated, so a
// re-import relabels every node. A labelled candidate depends on the candidate, the node's installed version and
// distribution and the catalogue version, and it is shared by every node with that combination: the engine memoises
// decisions and rows per package object (PackageIndex id), so labelled nodes stay on its fast path. Per candidate the
// cost is one typed-array read when no fix can apply to it (most candidates), and one small-integer Map lookup
// otherwise; an entry of one labelled candidate reuses a shared one-element list, so labelling allocates only the
// node's two outer arrays.

import { AdvisoryStore } from '../store/advisory-store.ts';
import type { PackageFamily } from '../domain/advisories/advisory.ts';
import { FixIndex, advisoryFamilyOf, applyLabels, candidateAdvisories, hasAdvisoryData, labelCandidate, labelsOf, nodeDistribution, type LabelAdvisory } from '../domain/advisories/labels.ts';
import type { PackageIndex } from '../domain/evaluation/package-index.ts';
import type { PreparedScan } from '../domain/evaluation/prepare-scan.ts';
import type { ScanPackage } from '../domain/evaluation/types.ts';

/** A labelled candidate and its id in the PackageIndex of the scans it was made for. */
interface Labelled {
  pkg: ScanPackage;
  id: number;
  /** The advisories it was labelled from (installed versions that select the same ones share the object). */
  advisories: readonly LabelAdvisory[];
  /** The entry's candidate list and ids when it is this one candidate (most entries): shared, read-only. */
  list: readonly ScanPackage[];
  ids: Int32Array;
}

/** What a candidate id needs before the pair table (0: not yet known). */
const NEVER = 1; // advisory data of its own, or no fix names it or its own source
const NAMED = 2; // a fix names it or its own source: look the (candidate, installed) pair up
const BY_INSTALLED = 3; // no fix names it and it has no source name: the installed package's source decides

/** Per (PackageIndex, distribution): the state of each candidate id, and the labelled (candidate, installed) pairs. */
interface PairCache {
  state: Uint8Array;
  /** By candidate id, then installed id + 1 (small integers, so no key is boxed): the labelled candidate, or null. */
  pairs: Array<Map<number, Labelled | null> | undefined>;
  /** By candidate id: its labelled variants (usually one), shared by every installed version that selects the same advisories. */
  variants: Array<Labelled[] | undefined>;
  size: number;
}

/** A pair table that grows past this is emptied (memory safety valve; entries are rebuilt on demand). */
const MAX_PAIRS = 2_000_000;

export class AdvisoryLabeller {
  readonly #advisories: AdvisoryStore;
  /** The catalogue version the indexes below belong to (undefined until first read). */
  #version: string | undefined;
  #indexes = new Map<PackageFamily, Promise<FixIndex>>();
  #caches = new WeakMap<PackageIndex, Map<string, PairCache>>();
  #unindexed = new Map<string, WeakMap<ScanPackage, Map<ScanPackage | undefined, ScanPackage | null>>>();
  /** Labelled candidates made since the last reset (for the measurements in docs/advisories.md). */
  made = 0;

  constructor(advisories: AdvisoryStore) {
    this.#advisories = advisories;
  }

  get version(): string | undefined {
    return this.#version;
  }

  /**
   * Reads the catalogue version (one small query); when it moved, forgets the index and every labelled object.
   * Returns whether it moved (the first read counts as a move).
   */
  async refresh(): Promise<boolean> {
    const version = await this.#advisories.version();
    if (version === this.#version) return false;
    this.#version = version;
    this.#indexes = new Map();
    this.#caches = new WeakMap();
    this.#unindexed = new Map();
    this.made = 0;
    return true;
  }

  /** The family's fixes, loaded once per catalogue version. */
  index(family: PackageFamily): Promise<FixIndex> {
    let p = this.#indexes.get(family);
    if (p === undefined) {
      const indexes = this.#indexes;
      p = this.#advisories.loadFixes(family).then((fixes) => new FixIndex(family, fixes));
      p.catch(() => {
        if (indexes.get(family) === p) indexes.delete(family); // a failed load is retried next time
      });
      indexes.set(family, p);
    }
    return p;
  }

  /**
   * The scan with its candidates labelled from the catalogue: the same object when nothing applies, else a copy
   * whose `candidates` / `candidateIds` point at shared labelled objects. Never modifies `prepared`.
   */
  async label(prepared: PreparedScan): Promise<PreparedScan> {
    const family = advisoryFamilyOf(prepared.scan.operatingSystem);
    if (family === undefined) return prepared;
    if (this.#version === undefined) await this.refresh();
    const index = await this.index(family);
    if (index.size === 0) return prepared;
    const distribution = nodeDistribution(prepared.scan.operatingSystem, prepared.scan.product);
    return labelPrepared(prepared, index, distribution, this);
  }

  /** @internal The pair cache of (PackageIndex, distribution). */
  cacheFor(index: PackageIndex, distribution: string | undefined): PairCache {
    let byDist = this.#caches.get(index);
    if (byDist === undefined) {
      byDist = new Map();
      this.#caches.set(index, byDist);
    }
    const key = distribution ?? '';
    let cache = byDist.get(key);
    if (cache === undefined || cache.size > MAX_PAIRS) {
      cache = { state: new Uint8Array(Math.max(1024, index.size * 2)), pairs: [], variants: [], size: 0 };
      byDist.set(key, cache);
    }
    return cache;
  }

  /** @internal Labelled candidates of scans prepared without a PackageIndex, shared by object identity. */
  unindexedFor(distribution: string | undefined): WeakMap<ScanPackage, Map<ScanPackage | undefined, ScanPackage | null>> {
    const key = distribution ?? '';
    let m = this.#unindexed.get(key);
    if (m === undefined) {
      m = new WeakMap();
      this.#unindexed.set(key, m);
    }
    return m;
  }
}

function grow(cache: PairCache, id: number): void {
  let size = cache.state.length;
  while (size <= id) size *= 2;
  const next = new Uint8Array(size);
  next.set(cache.state);
  cache.state = next;
}

/** Whether no fix names the candidate, by its binary name or its source (its own, else the installed package's). */
function unnamed(index: FixIndex, c: ScanPackage, installed: ScanPackage | undefined): boolean {
  if (index.names(c.name)) return false;
  const source = c.sourceName ?? installed?.sourceName;
  return source === undefined || !index.names(source);
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function candidateState(index: FixIndex, c: ScanPackage): number {
  if (hasAdvisoryData(c)) return NEVER;
  if (index.names(c.name)) return NAMED;
  if (c.sourceName !== undefined) return index.names(c.sourceName) ? NAMED : NEVER;
  return BY_INSTALLED;
}

/** The labelled candidate for (candidate id, installed), made once per cache. */
function pair(cache: PairCache, index: FixIndex, pidx: PackageIndex, cid: number, c: ScanPackage, installed: ScanPackage | undefined, instKey: number,
  distribution: string | undefined, labeller: AdvisoryLabeller): Labelled | null {
  let byInstalled = cache.pairs[cid];
  if (byInstalled === undefined) cache.pairs[cid] = byInstalled = new Map();
  let hit = byInstalled.get(instKey);
  if (hit === undefined) {
    const advisories = candidateAdvisories(index, c, installed, distribution);
    if (advisories.length === 0) hit = null;
    else {
      // One object per distinct label set: fewer objects keep the engine's memo and rows small and shared.
      const variants = cache.variants[cid] ?? (cache.variants[cid] = []);
      hit = variants.find((v) => sameList(v.advisories, advisories)) ?? null;
      if (hit === null) {
        const pkg = applyLabels(c, labelsOf(advisories));
        const id = pidx.idOf(pkg);
        hit = { pkg, id, advisories, list: [pkg], ids: Int32Array.of(id) };
        variants.push(hit);
        labeller.made++;
      }
    }
    byInstalled.set(instKey, hit);
    cache.size++;
  }
  return hit;
}

function labelPrepared(prepared: PreparedScan, index: FixIndex, distribution: string | undefined, labeller: AdvisoryLabeller): PreparedScan {
  const pidx = prepared.index;
  const cids = prepared.candidateIds;
  const iids = prepared.installedIds;
  if (pidx === undefined || cids === undefined || iids === undefined) return labelUnindexed(prepared, index, distribution, labeller);
  const cache = labeller.cacheFor(pidx, distribution);
  const source = prepared.candidates;
  let candidates: Array<readonly ScanPackage[] | undefined> | undefined;
  let candidateIds: Array<Int32Array | undefined> | undefined;
  for (let i = 0; i < source.length; i++) {
    const list = source[i];
    if (list === undefined) continue;
    const ids = cids[i]!;
    const installed = prepared.installed[i];
    let newList: ScanPackage[] | undefined;
    let newIds: Int32Array | undefined;
    for (let j = 0; j < list.length; j++) {
      const cid = ids[j]!;
      if (cid >= cache.state.length) grow(cache, cid);
      let state = cache.state[cid]!;
      if (state === 0) cache.state[cid] = state = candidateState(index, list[j]!);
      if (state === NEVER) continue;
      if (state === BY_INSTALLED) {
        const src = installed?.sourceName;
        if (src === undefined || !index.names(src)) continue;
      }
      const hit = pair(cache, index, pidx, cid, list[j]!, installed, iids[i]! + 1, distribution, labeller);
      if (hit === null) continue;
      if (list.length === 1) {
        // The usual entry, one candidate: the shared one-element list and ids, nothing allocated.
        candidates ??= source.slice();
        candidateIds ??= cids.slice();
        candidates[i] = hit.list;
        candidateIds[i] = hit.ids;
        continue;
      }
      newList ??= list.slice();
      newIds ??= ids.slice();
      newList[j] = hit.pkg;
      newIds[j] = hit.id;
    }
    if (newList !== undefined) {
      candidates ??= source.slice();
      candidateIds ??= cids.slice();
      candidates[i] = newList;
      candidateIds[i] = newIds;
    }
  }
  if (candidates === undefined) return prepared;
  return { ...prepared, candidates, candidateIds };
}

function labelUnindexed(prepared: PreparedScan, index: FixIndex, distribution: string | undefined, labeller: AdvisoryLabeller): PreparedScan {
  const shared = labeller.unindexedFor(distribution);
  let candidates: Array<readonly ScanPackage[] | undefined> | undefined;
  for (let i = 0; i < prepared.candidates.length; i++) {
    const list = prepared.candidates[i];
    if (list === undefined) continue;
    const installed = prepared.installed[i];
    let newList: ScanPackage[] | undefined;
    for (let j = 0; j < list.length; j++) {
      const c = list[j]!;
      if (hasAdvisoryData(c) || unnamed(index, c, installed)) continue;
      let byInstalled = shared.get(c);
      if (byInstalled === undefined) {
        byInstalled = new Map();
        shared.set(c, byInstalled);
      }
      let hit = byInstalled.get(installed);
      if (hit === undefined) {
        hit = labelCandidate(index, c, installed, distribution) ?? null;
        if (hit !== null) labeller.made++;
        byInstalled.set(installed, hit);
      }
      if (hit === null) continue;
      newList ??= list.slice();
      newList[j] = hit;
    }
    if (newList !== undefined) {
      candidates ??= prepared.candidates.slice();
      candidates[i] = newList;
    }
  }
  return candidates === undefined ? prepared : { ...prepared, candidates };
}
