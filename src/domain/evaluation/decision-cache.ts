// A ready-made DecisionCache: one decision per (baseline, product, package) shared by every node that has
// that package, reused for as long as it stays valid (from the moment it was computed until its
// pendingUntil). Two keyings:
//   'identity' — the ScanPackage object itself. Fastest; right when the caller interns packages (one object
//                per distinct package version across its fleet), as a server that keeps 100,000 scans in
//                memory should. The table is a Map (twice as fast as a WeakMap here), so it holds the package
//                objects it has seen until the memo is dropped, cleared, or reaches `maxEntries`.
//   'content'  — every field a decision or a row label reads (not installedTime), compared field by field
//                (ContentTable). Works on freshly parsed scans.
// Besides the decision, each entry keeps the rows built from it (one per state), so nodes that share a package
// object also share its row object: evaluateNode's fast path allocates nothing per unchanged package.
// In-memory only; pure apart from its own memo tables.

import type { PatchState } from '../patch-state.ts';
import { ContentTable } from './content-table.ts';
import type { PackageIndex } from './package-index.ts';
import type { CompiledBaseline, DecisionCache, EvaluatedRow, InstalledDecision, ScanPackage, UpdateDecision } from './types.ts';

export type DecisionCacheKeying = 'identity' | 'content';

const SEP = '\u0001';
const list = (a: readonly string[] | undefined): string => (a === undefined ? '' : a.join(','));

/**
 * Everything a decision may depend on, in one string: two packages with the same key get the same decision
 * from any baseline (for one product and moment). installedTime, title, sourceName/sourceVersion are left out.
 * (A utility for callers that key their own caches; the built-in memo compares fields instead.)
 */
export function packageKey(pkg: ScanPackage): string {
  return (
    pkg.name + SEP + pkg.arch + SEP + pkg.version + SEP + (pkg.repository ?? '') + SEP + (pkg.security === true ? '1' : pkg.security === false ? '0' : '') +
    SEP + (pkg.classification ?? '') + SEP + (pkg.severity ?? '') + SEP + (pkg.priority ?? '') + SEP + (pkg.section ?? '') +
    SEP + (pkg.releaseTime ?? '') + SEP + list(pkg.advisoryIds) + SEP + list(pkg.cveIds) + SEP + list(pkg.bugzillaIds) +
    SEP + (pkg.kbId ?? '') + SEP + (pkg.product ?? '') + SEP + (pkg.productFamily ?? '') + SEP + (pkg.patchSet ?? '') + SEP + (pkg.msrcSeverity ?? '')
  );
}

/** Row states by code; the code is also the slot in {@link MemoEntry.rows}. */
export const STATE_BY_CODE: readonly PatchState[] = [
  'Installed', 'InstalledOther', 'InstalledPendingReboot', 'InstalledRejected', 'Missing', 'Failed', 'NotApplicable', 'AvailableSecurityUpdate',
];
export const S_INSTALLED = 0;
export const S_INSTALLED_OTHER = 1;
export const S_INSTALLED_PENDING_REBOOT = 2;
export const S_INSTALLED_REJECTED = 3;
export const S_MISSING = 4;
export const S_FAILED = 5;
export const S_NOT_APPLICABLE = 6;
export const S_AVAILABLE_SECURITY_UPDATE = 7;

/** Installed decision → its state code before any pending-reboot override. */
export function installedStateCode(d: InstalledDecision, blockRejected: boolean): number {
  return d.rejected && blockRejected ? S_INSTALLED_REJECTED : d.approved ? S_INSTALLED : S_INSTALLED_OTHER;
}

/**
 * Memo times are kept as offsets from this moment (2020-09-13T12:26:40Z) so that they stay small integers
 * (V8 Smis, read without unboxing) for decades either side; the evaluation loop compares them per row.
 */
export const TIME_BASE = 1_600_000_000;

/** One decision as the evaluation loop reads it (a monomorphic class, so property reads stay fast). */
export class MemoEntry<D extends UpdateDecision | InstalledDecision> {
  readonly decision: D;
  /** `now` when computed, minus TIME_BASE: the decision is known to hold from then … */
  readonly from: number;
  /** … until decision.pendingUntil (minus TIME_BASE), or forever. */
  readonly until: number;
  readonly forever: boolean;
  /** Installed entries: the state code before any pending-reboot override (Installed, InstalledOther or InstalledRejected). */
  readonly state: number;
  /**
   * The row built from this decision (shared by every node whose package has this content) and its counter
   * bits (bit i ↔ COUNTER_NAMES[i]), for the state it was first needed in — almost always the only one.
   */
  rowCode = -1;
  row: EvaluatedRow | undefined = undefined;
  rowMask = 0;
  /** Rows and counter bits for further states (Failed, InstalledPendingReboot, …), by state code. */
  more: Array<EvaluatedRow | number | undefined> | undefined = undefined;

  constructor(decision: D, now: number, state: number) {
    this.decision = decision;
    this.from = now - TIME_BASE;
    const pending = decision.pendingUntil;
    this.forever = pending === undefined;
    this.until = pending === undefined ? 0 : pending - TIME_BASE;
    this.state = state;
  }

  /** Still the decision at `now - TIME_BASE`. */
  validAt(nowRel: number): boolean {
    return this.from <= nowRel && (this.forever || nowRel < this.until);
  }
}

/** A Map by package object (identity keying) or a ContentTable (content keying). */
interface Table<D extends UpdateDecision | InstalledDecision> {
  get(key: ScanPackage): MemoEntry<D> | undefined;
  set(key: ScanPackage, value: MemoEntry<D>): unknown;
  clear(): void;
  readonly size: number;
}

/** Entries of packages prepared with a PackageIndex, by package id. */
export interface IdTables {
  readonly update: Array<MemoEntry<UpdateDecision> | undefined>;
  readonly installed: Array<MemoEntry<InstalledDecision> | undefined>;
}

interface Tables {
  readonly update: Table<UpdateDecision>;
  readonly installed: Table<InstalledDecision>;
  readonly byIndex: Map<PackageIndex, IdTables>;
}

/**
 * Where evaluateNode gets one node's decisions from: entries shared between nodes (with their rows), or not.
 * `id` is the package's PackageIndex id, or -1.
 */
export interface EntrySource {
  readonly shared: boolean;
  /** The id-indexed entry arrays when the scan was prepared with a PackageIndex (read-only for callers). */
  readonly ids: IdTables | undefined;
  update(pkg: ScanPackage, id: number): MemoEntry<UpdateDecision>;
  installed(pkg: ScanPackage, id: number): MemoEntry<InstalledDecision>;
}

/** The built-in DecisionCache (see the module comment); create it with {@link createDecisionCache}. */
export class DecisionMemo implements DecisionCache {
  readonly compiled: CompiledBaseline;
  readonly identity: boolean;
  /** A table that grows past this many entries is emptied before the next insertion (memory safety valve). */
  readonly maxEntries: number;
  /** Decisions computed (cache misses) since creation or the last clear(). */
  misses = 0;
  #tables = new Map<string, Tables>();
  #lastProduct: string | undefined;
  #lastTables: Tables | undefined;

  constructor(compiled: CompiledBaseline, keying: DecisionCacheKeying, maxEntries: number) {
    this.compiled = compiled;
    this.identity = keying === 'identity';
    this.maxEntries = maxEntries;
  }

  /** Forgets everything (a new cache per compiled baseline is the usual way to start over). */
  clear(): void {
    this.#tables = new Map();
    this.#lastProduct = this.#lastTables = undefined;
    this.misses = 0;
  }

  #for(product: string): Tables {
    if (product === this.#lastProduct && this.#lastTables !== undefined) return this.#lastTables;
    // A baseline that never tests PRODUCT decides the same for every product: one table serves them all.
    const key = this.compiled.usesProduct ? product : '';
    let t = this.#tables.get(key);
    if (t === undefined) {
      const table = <D extends UpdateDecision | InstalledDecision>(): Table<D> => (this.identity ? new Map<ScanPackage, MemoEntry<D>>() : new ContentTable<MemoEntry<D>>());
      t = { update: table<UpdateDecision>(), installed: table<InstalledDecision>(), byIndex: new Map() };
      this.#tables.set(key, t);
    }
    this.#lastProduct = product;
    this.#lastTables = t;
    return t;
  }

  /** The memo seen from one node: the product's tables (and, for indexed scans, the index's arrays) resolved once. */
  scope(product: string, now: number, index?: PackageIndex): EntrySource {
    const tables = this.#for(product);
    let ids: IdTables | undefined;
    if (index !== undefined) {
      ids = tables.byIndex.get(index);
      if (ids === undefined) {
        ids = { update: [], installed: [] };
        tables.byIndex.set(index, ids);
      }
    }
    return new MemoScope(this, tables, ids, product, now);
  }

  update(pkg: ScanPackage, product: string, now: number, compute: (pkg: ScanPackage) => UpdateDecision): UpdateDecision {
    const table = this.#for(product).update;
    const hit = table.get(pkg);
    if (hit !== undefined && hit.validAt(now - TIME_BASE)) return hit.decision;
    const entry = new MemoEntry(compute(pkg), now, S_MISSING);
    this.store(table, pkg, entry);
    return entry.decision;
  }

  installed(pkg: ScanPackage, product: string, now: number, compute: (pkg: ScanPackage) => InstalledDecision): InstalledDecision {
    const table = this.#for(product).installed;
    const hit = table.get(pkg);
    if (hit !== undefined && hit.validAt(now - TIME_BASE)) return hit.decision;
    const decision = compute(pkg);
    this.store(table, pkg, new MemoEntry(decision, now, installedStateCode(decision, this.compiled.blockRejected)));
    return decision;
  }

  /** @internal Inserts a freshly computed entry (counting the miss, honouring maxEntries). */
  store<D extends UpdateDecision | InstalledDecision>(table: Table<D>, key: ScanPackage, entry: MemoEntry<D>): void {
    this.misses++;
    if (table.size >= this.maxEntries) table.clear();
    table.set(key, entry);
  }
}

class MemoScope implements EntrySource {
  readonly shared = true;
  readonly ids: IdTables | undefined;
  readonly #memo: DecisionMemo;
  readonly #tables: Tables;
  readonly #ids: IdTables | undefined;
  readonly #compiled: CompiledBaseline;
  readonly #product: string;
  readonly #now: number;
  readonly #nowRel: number;

  constructor(memo: DecisionMemo, tables: Tables, ids: IdTables | undefined, product: string, now: number) {
    this.#memo = memo;
    this.#tables = tables;
    this.#ids = this.ids = ids;
    this.#compiled = memo.compiled;
    this.#product = product;
    this.#now = now;
    this.#nowRel = now - TIME_BASE;
  }

  update(pkg: ScanPackage, id: number): MemoEntry<UpdateDecision> {
    const now = this.#now;
    const ids = this.#ids;
    if (ids !== undefined && id >= 0) {
      const hit = ids.update[id];
      if (hit !== undefined && hit.validAt(this.#nowRel)) return hit;
      const entry = new MemoEntry(this.#compiled.decideUpdate(pkg, this.#product, now), now, S_MISSING);
      this.#memo.misses++;
      ids.update[id] = entry;
      return entry;
    }
    const hit = this.#tables.update.get(pkg);
    if (hit !== undefined && hit.validAt(this.#nowRel)) return hit;
    const entry = new MemoEntry(this.#compiled.decideUpdate(pkg, this.#product, now), now, S_MISSING);
    this.#memo.store(this.#tables.update, pkg, entry);
    return entry;
  }

  installed(pkg: ScanPackage, id: number): MemoEntry<InstalledDecision> {
    const now = this.#now;
    const ids = this.#ids;
    if (ids !== undefined && id >= 0) {
      const hit = ids.installed[id];
      if (hit !== undefined && hit.validAt(this.#nowRel)) return hit;
      const decision = this.#compiled.decideInstalled(pkg, this.#product, now);
      const entry = new MemoEntry(decision, now, installedStateCode(decision, this.#compiled.blockRejected));
      this.#memo.misses++;
      ids.installed[id] = entry;
      return entry;
    }
    const hit = this.#tables.installed.get(pkg);
    if (hit !== undefined && hit.validAt(this.#nowRel)) return hit;
    const decision = this.#compiled.decideInstalled(pkg, this.#product, now);
    const entry = new MemoEntry(decision, now, installedStateCode(decision, this.#compiled.blockRejected));
    this.#memo.store(this.#tables.installed, pkg, entry);
    return entry;
  }
}

/** Uncached decisions, or a caller-supplied DecisionCache's, wrapped in throw-away entries. */
export class UnsharedSource implements EntrySource {
  readonly shared = false;
  readonly ids = undefined;
  readonly #compiled: CompiledBaseline;
  readonly #cache: DecisionCache | undefined;
  readonly #product: string;
  readonly #now: number;
  readonly #computeUpdate: (pkg: ScanPackage) => UpdateDecision;
  readonly #computeInstalled: (pkg: ScanPackage) => InstalledDecision;

  constructor(compiled: CompiledBaseline, cache: DecisionCache | undefined, product: string, now: number) {
    this.#compiled = compiled;
    this.#cache = cache;
    this.#product = product;
    this.#now = now;
    this.#computeUpdate = (pkg) => compiled.decideUpdate(pkg, product, now);
    this.#computeInstalled = (pkg) => compiled.decideInstalled(pkg, product, now);
  }

  update(pkg: ScanPackage, _id: number): MemoEntry<UpdateDecision> {
    const c = this.#cache;
    const d = c === undefined ? this.#compiled.decideUpdate(pkg, this.#product, this.#now) : c.update(pkg, this.#product, this.#now, this.#computeUpdate);
    return new MemoEntry(d, this.#now, S_MISSING);
  }

  installed(pkg: ScanPackage, _id: number): MemoEntry<InstalledDecision> {
    const c = this.#cache;
    const d = c === undefined ? this.#compiled.decideInstalled(pkg, this.#product, this.#now) : c.installed(pkg, this.#product, this.#now, this.#computeInstalled);
    return new MemoEntry(d, this.#now, installedStateCode(d, this.#compiled.blockRejected));
  }
}

/** A memo for one compiled baseline (any number of products). Defaults: keying 'content', maxEntries 1,000,000 per table. */
export function createDecisionCache(compiled: CompiledBaseline, options: { keying?: DecisionCacheKeying; maxEntries?: number } = {}): DecisionMemo {
  return new DecisionMemo(compiled, options.keying ?? 'content', options.maxEntries ?? 1_000_000);
}
