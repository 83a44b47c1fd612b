// Server-side evaluation: a node's raw scan + its baseline → rows, summary, compliance and counters, written
// together. PutScanReport evaluates at once; changes (a baseline, a patch-group registration, a default, a node's
// patch-group tag, the advisory catalogue, a delayed approval coming due) mark the affected nodes dirty, and a
// background loop re-evaluates them in batches — coalesced, never inside an API call.
//
// What nodes share is evaluated once: scans refer to shared package objects, each baseline is compiled once per
// version, decisions are memoised per (baseline, package), and the rows the engine builds for a package are
// shared, so their descriptor ids are found without building strings.

import type { App } from '../app.ts';
import { Errors } from '../server/errors.ts';
import { findBaseline } from '../api/baseline-lookup.ts';
import type { Baseline } from '../domain/baseline.ts';
import { compileBaseline, createDecisionCache, evaluateNode, PackageIndex, type DecisionMemo } from '../domain/evaluation/index.ts';
import type { CompiledBaseline, EvaluatedRow } from '../domain/evaluation/types.ts';
import type { PreparedScan } from '../domain/evaluation/prepare-scan.ts';
import { summarizePatchRows, type ComplianceSummary, type Counters, type PatchRow } from '../domain/patch-state.ts';
import { sortPatchRows } from '../domain/patch-rows.ts';
import { scanRowSetOf, type RowSet } from '../domain/row-set.ts';
import type { PatchReportWrite } from '../store/reporting-store.ts';
import type { NodeScansTable, StoredScanRow } from '../store/schema.ts';
import type { Db, Store } from '../store/store.ts';
import type { ScanFingerprint, ScanStore } from '../store/scan-store.ts';
import { AdvisoryStore } from '../store/advisory-store.ts';
import { AdvisoryLabeller } from './advisory-labels.ts';

export interface Resolution {
  registrations: Map<string, string>;
  defaults: Map<string, string>;
}

export interface NodeEvaluationResult {
  baseline: Baseline;
  compiled: CompiledBaseline;
  /** The rows as stored: a scan-timed set, shared by every node whose scan evaluates to it (scanRowSetOf). */
  rowSet: RowSet;
  /** The derived Patch compliance summary (states and levels only: shared by nodes with the same scan). */
  compliance: ComplianceSummary;
  counters: Counters;
  nextChangeAt: number | undefined;
}

/** What changed, and so which nodes need re-evaluation. */
export interface ChangeNotice {
  baselineIds?: string[];
  operatingSystems?: string[];
  patchGroupTags?: string[];
  instanceIds?: string[];
  all?: boolean;
}

const INSTALLED_STATES = new Set(['Installed', 'InstalledOther', 'InstalledRejected', 'InstalledPendingReboot']);
const EPOCH_KEY = 'evaluation_epoch';

/**
 * Marks the nodes a change affects and moves the evaluation epoch, from any process on the store (the server's
 * background loop picks the nodes up). `patchline advisories import` calls it without a running server.
 */
export async function markChanged(store: Store, scans: ScanStore, change: ChangeNotice): Promise<number> {
  await store.setMeta(EPOCH_KEY, `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  return scans.markDirty(change);
}

export class Evaluator {
  readonly #app: App;
  #index = new PackageIndex('identity');
  /** Advisory labels from the catalogue, applied to every scan just before it is evaluated. */
  readonly advisories: AdvisoryLabeller;
  readonly #compiled = new Map<string, { modified: number; compiled: CompiledBaseline; memo: DecisionMemo }>();
  /** Descriptor ids of engine rows (shared between nodes with the same package and decision). */
  readonly #rowIds = new WeakMap<PatchRow, number>();
  /**
   * Evaluations of identical stored scans (same header, packages, candidates and flags; installed times aside) under
   * one baseline version: nodes built from the same image and updated together evaluate once per batch loop, not
   * once each. Valid until the entry's nextChangeAt; dropped with the package index when the catalogue changes.
   */
  readonly #scanMemo = new Map<string, ScanEvaluation>();
  #wake: (() => void) | undefined;
  #running = false;

  constructor(app: App) {
    this.#app = app;
    this.advisories = new AdvisoryLabeller(new AdvisoryStore(app.store));
  }

  /** The fleet's package index (replaced, with the baseline memos, when the advisory catalogue changes). */
  get index(): PackageIndex {
    return this.#index;
  }

  /**
   * Follows the advisory catalogue: when its version moved, labelled objects of the old version are dropped, and
   * with them the package index and decision memos that refer to them.
   */
  async refreshAdvisories(): Promise<void> {
    if (await this.advisories.refresh()) {
      this.#index = new PackageIndex('identity');
      this.#compiled.clear();
      this.#scanMemo.clear();
    }
  }

  // ---- resolution ------------------------------------------------------------------------------------------------

  async resolution(db?: Db): Promise<Resolution> {
    const registrations = new Map<string, string>();
    for (const r of await this.#app.store.listPatchGroupBaselines(db)) registrations.set(`${r.patch_group}\u0000${r.operating_system}`, r.baseline_id);
    const defaults = await this.#app.store.getDefaultBaselineIds(db);
    return { registrations, defaults };
  }

  /** The node's baseline: the one registered for its patch group and OS, else the OS default (semantics §8). */
  async baselineFor(os: string, patchGroup: string | null, resolution: Resolution): Promise<Baseline> {
    const id = (patchGroup !== null ? resolution.registrations.get(`${patchGroup}\u0000${os}`) : undefined)
      ?? resolution.defaults.get(os) ?? this.#app.predefined.defaultFor(os).BaselineId;
    const baseline = await findBaseline(this.#app, id);
    if (baseline === undefined) throw Errors.internal(`baseline ${id} resolved for ${os} does not exist`);
    return baseline;
  }

  #compiledFor(baseline: Baseline): { compiled: CompiledBaseline; memo: DecisionMemo } {
    const cached = this.#compiled.get(baseline.BaselineId);
    if (cached !== undefined && cached.modified === baseline.ModifiedDate) return cached;
    const compiled = compileBaseline(baseline);
    const entry = { modified: baseline.ModifiedDate, compiled, memo: createDecisionCache(compiled, { keying: 'identity' }) };
    this.#compiled.set(baseline.BaselineId, entry);
    return entry;
  }

  // ---- evaluation ------------------------------------------------------------------------------------------------

  /**
   * Evaluates one prepared scan, its candidates labelled from the advisory catalogue; `now` in epoch ms.
   * `advisoriesChecked`: the caller has just called refreshAdvisories (a batch does it once).
   */
  async evaluate(prepared: PreparedScan, baseline: Baseline, now: number, advisoriesChecked = false): Promise<NodeEvaluationResult> {
    const e = await this.#evaluateScan(prepared, baseline, now, advisoriesChecked);
    return { baseline, compiled: e.compiled, rowSet: e.rowSet, compliance: e.compliance, counters: e.counters, nextChangeAt: e.nextChangeAt };
  }

  /**
   * An evaluation every node with this scan shares, installed times included: the rows are a scan-timed set (each
   * installed row names its package, and each node's time for it is read from the node's own stored scan).
   */
  async #evaluateScan(prepared: PreparedScan, baseline: Baseline, now: number, advisoriesChecked: boolean): Promise<ScanEvaluation> {
    if (!advisoriesChecked) await this.refreshAdvisories();
    const labelled = await this.advisories.label(prepared);
    const { compiled, memo } = this.#compiledFor(baseline);
    const result = evaluateNode(labelled, compiled, Math.floor(now / 1000), memo);
    const engineRows = sortPatchRows([...result.rows]);
    const descriptorIds = await this.descriptorIds(engineRows);
    const rows = engineRows.map(asPatchRow);
    const timedPackages = Int32Array.from(engineRows, (r) => (INSTALLED_STATES.has(r.State) ? this.#app.scans.packages.idOf(r.package) ?? -1 : -1));
    return {
      compiled, rowSet: scanRowSetOf(rows, descriptorIds, timedPackages), counters: result.counters,
      compliance: summarizePatchRows(rows, compiled.availableSecurityUpdatesNonCompliant),
      nextChangeAt: result.nextChangeAt === undefined ? undefined : result.nextChangeAt * 1000,
    };
  }

  async descriptorIds(rows: readonly EvaluatedRow[]): Promise<number[]> {
    const ids = new Array<number>(rows.length);
    const missing: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const id = this.#rowIds.get(rows[i]!);
      if (id === undefined) missing.push(i);
      else ids[i] = id;
    }
    if (missing.length > 0) {
      const interned = await this.#app.reports.internRows(missing.map((i) => rows[i]!));
      missing.forEach((i, k) => {
        ids[i] = interned[k]!;
        this.#rowIds.set(rows[i]!, interned[k]!);
      });
    }
    return ids;
  }

  /** The report write for an evaluated scan (rows, summary, derived Patch compliance). */
  reportWrite(instanceId: string, scan: Pick<NodeScansTable, 'operation' | 'operation_start' | 'operation_end' | 'snapshot_id' | 'reboot_option' | 'last_no_reboot_install'>, patchGroup: string | null, e: NodeEvaluationResult, now: number, touch: boolean): PatchReportWrite {
    const summary: PatchReportWrite['summary'] = {
      patchGroup: patchGroup ?? '',
      baselineId: e.baseline.BaselineId,
      counters: e.counters,
      operation: scan.operation as 'Scan' | 'Install',
      operationStart: Number(scan.operation_start),
      operationEnd: Number(scan.operation_end),
    };
    if (scan.snapshot_id !== null) summary.snapshotId = scan.snapshot_id;
    if (scan.reboot_option !== null) summary.rebootOption = scan.reboot_option;
    if (scan.last_no_reboot_install !== null) summary.lastNoRebootInstall = Number(scan.last_no_reboot_install);
    return {
      instanceId,
      summary,
      rowSet: e.rowSet,
      source: 'scan',
      compliance: {
        type: 'Patch',
        summary: e.compliance,
        executionTime: Number(scan.operation_end),
        executionType: 'Command',
      },
      now,
      touch,
    };
  }

  // ---- change notices and the background loop ---------------------------------------------------------------------

  /** The evaluation epoch: it moves with every change notice, so a scan evaluated across one can tell. */
  async epoch(): Promise<string> {
    return (await this.#app.store.getMeta(EPOCH_KEY)) ?? '0';
  }

  /** Marks the nodes a change affects (one UPDATE; awaited so status is exact when the API answers). */
  async notify(change: ChangeNotice): Promise<void> {
    const marked = await markChanged(this.#app.store, this.#app.scans, change);
    if (marked > 0) this.#wake?.();
  }

  /** Evaluates up to `limit` dirty nodes; returns how many were written. */
  async runBatch(limit = 500, now = Date.now()): Promise<number> {
    const { app } = { app: this.#app };
    const claimed = await app.scans.claimDirty(limit, now);
    if (claimed.length === 0) return 0;
    const ids = claimed.map((r) => r.instance_id);
    // After the claim: a catalogue change marked these nodes before it, so this batch sees that version.
    await this.refreshAdvisories();
    const resolution = await this.resolution();
    const tags = new Map((await app.store.db.selectFrom('nodes').select(['instance_id', 'patch_group_tag']).where('instance_id', 'in', ids).execute())
      .map((n) => [n.instance_id, n.patch_group_tag]));
    // Identical scans under the same baseline version are evaluated once (#scanMemo); only the others are decoded.
    // A node whose stored scan key names an evaluation already made needs no scan data (its installed times are
    // read from its scan when its rows are).
    if (this.#scanMemo.size > SCAN_MEMO_LIMIT) this.#scanMemo.clear();
    const memoKey = (baseline: Baseline, scanKey: string) => `${baseline.BaselineId}\u0000${baseline.ModifiedDate}\u0000${scanKey}`;
    const planned: Array<{ row: NodeScansTable; group: string | null; baseline: Baseline; shared?: ScanEvaluation; fingerprint?: ScanFingerprint }> = [];
    const baselines = new Map<string, Baseline>(); // by OS and patch group, for this batch
    for (const row of claimed) {
      const group = tags.get(row.instance_id) ?? null;
      const resolvedBy = `${row.operating_system}\u0000${group ?? ''}`;
      let baseline = baselines.get(resolvedBy);
      if (baseline === undefined) baselines.set(resolvedBy, (baseline = await this.baselineFor(row.operating_system, group, resolution)));
      const p: (typeof planned)[number] = { row, group, baseline };
      if (row.scan_key !== null) {
        const key = memoKey(baseline, row.scan_key);
        if (this.#memoFresh(key, now)) p.shared = this.#scanMemo.get(key);
      }
      planned.push(p);
    }
    const withData = await app.scans.withData(planned.filter((p) => p.shared === undefined).map((p) => p.row));
    const dataOf = new Map(withData.map((d) => [d.instance_id, d]));
    const toDecode: StoredScanRow[] = [];
    const decoding = new Set<string>(); // one scan decoded per evaluation to make
    for (const p of planned) {
      const d = dataOf.get(p.row.instance_id);
      if (d === undefined) continue;
      p.fingerprint = p.row.scan_key !== null ? { key: p.row.scan_key } : app.scans.fingerprint(d.data);
      const key = memoKey(p.baseline, p.fingerprint.key);
      if (!this.#memoFresh(key, now) && !decoding.has(key)) {
        decoding.add(key);
        toDecode.push(d);
      }
    }
    const decoded = new Map((await app.scans.decode(toDecode, this.index)).map((d) => [d.row.instance_id, d]));
    const work: Array<{ row: NodeScansTable; write: PatchReportWrite; e: NodeEvaluationResult; fingerprint?: ScanFingerprint }> = [];
    const madeNow = new Map<string, ScanEvaluation>(); // evaluations made in this batch (valid at `now`)
    let sinceYield = 0;
    for (const p of planned) {
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      let shared = p.shared;
      if (shared === undefined) {
        if (p.fingerprint === undefined) continue; // its scan is gone: the node was deleted meanwhile
        const key = memoKey(p.baseline, p.fingerprint.key);
        shared = madeNow.get(key) ?? (this.#memoFresh(key, now) ? this.#scanMemo.get(key) : undefined);
        if (shared === undefined) {
          // The first node of this key in the batch: its scan was decoded (later ones find the evaluation made).
          shared = await this.#evaluateScan(decoded.get(p.row.instance_id)!.prepared, p.baseline, now, true);
          this.#scanMemo.set(key, shared);
          madeNow.set(key, shared);
        }
      }
      const e: NodeEvaluationResult = {
        baseline: p.baseline, compiled: shared.compiled, rowSet: shared.rowSet, compliance: shared.compliance, counters: shared.counters, nextChangeAt: shared.nextChangeAt,
      };
      work.push({ row: p.row, write: this.reportWrite(p.row.instance_id, p.row, p.group, e, now, false), e, fingerprint: p.fingerprint });
    }
    await app.store.transaction(async (trx) => {
      // A node that sent a new scan since the claim was evaluated by that request: leave it alone.
      const current = new Map((await trx.selectFrom('node_scans').select(['instance_id', 'scan_seq']).where('instance_id', 'in', ids).execute())
        .map((r) => [r.instance_id, Number(r.scan_seq)]));
      const fresh = work.filter((w) => current.get(w.row.instance_id) === Number(w.row.scan_seq));
      await app.reports.applyPatchReportsIn(trx, fresh.map((w) => w.write));
      await app.scans.finishEvaluationsIn(trx, now, fresh.map((w) => ({
        instanceId: w.row.instance_id, evaluatedSeq: Number(w.row.dirty_seq), baselineId: w.e.baseline.BaselineId, nextChangeAt: w.e.nextChangeAt ?? null,
        ...(w.fingerprint !== undefined && w.row.scan_key === null ? { scanKey: w.fingerprint.key } : {}),
      })));
    });
    return claimed.length;
  }

  #memoFresh(key: string, now: number): boolean {
    const m = this.#scanMemo.get(key);
    return m !== undefined && (m.nextChangeAt === undefined || now < m.nextChangeAt);
  }

  /** Runs the background loop until the returned function is called. */
  start(options: { batch?: number; idleMs?: number; dueCheckMs?: number } = {}): () => void {
    const batch = options.batch ?? 500;
    const idleMs = options.idleMs ?? 250;
    const dueCheckMs = options.dueCheckMs ?? 10_000;
    let stopped = false;
    let lastDueCheck = 0;
    this.#running = true;
    const loop = async () => {
      while (!stopped) {
        try {
          if (Date.now() - lastDueCheck > dueCheckMs) {
            lastDueCheck = Date.now();
            await this.#app.scans.markDirty({ dueBy: Date.now() });
          }
          const n = await this.runBatch(batch);
          if (n > 0) {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
        } catch (err) {
          this.#app.log.error('re-evaluation batch failed', { error: err });
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idleMs);
          timer.unref();
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
      this.#running = false;
    };
    void loop();
    return () => {
      stopped = true;
      this.#wake?.();
    };
  }

  get running(): boolean {
    return this.#running;
  }
}

/** Nodes evaluated between yields to the event loop, so a batch in a serving process delays requests by ~10 ms at most. */
const YIELD_EVERY = 8;

/** Distinct scan evaluations kept (about 5 KB each with 500 packages). */
const SCAN_MEMO_LIMIT = 20_000;

interface ScanEvaluation {
  compiled: CompiledBaseline;
  /** The rows, stored once for every node with this scan (their installed times are read from each node's scan). */
  rowSet: RowSet;
  compliance: ComplianceSummary;
  counters: Counters;
  nextChangeAt: number | undefined;
}

/** An engine row as a stored row, its installed time left 0 (each node's is written into its copy of the set). */
function asPatchRow(r: EvaluatedRow): PatchRow {
  const row: PatchRow = { Title: r.Title, KBId: r.KBId, Classification: r.Classification, Severity: r.Severity, State: r.State, InstalledTime: 0 };
  if (r.CVEIds) row.CVEIds = r.CVEIds;
  if (r.ComplianceLevel !== undefined) row.ComplianceLevel = r.ComplianceLevel;
  return row;
}
