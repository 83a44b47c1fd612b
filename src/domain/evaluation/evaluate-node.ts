// A node's scan + its compiled baseline → one DescribeInstancePatches row per package name+arch (Windows:
// per update), the node's counters, and when the answer will next change by itself (semantics §2–§4,
// docs/evaluation.md "States"). Per package the work is one decision lookup (memoised, with its row, by the
// built-in DecisionMemo) and a push; nothing is parsed, serialised or compiled here. Pure: `now` is an argument.

import type { OsFamily } from '../baseline.ts';
import { COUNTER_NAMES, countersFromRows, type Counters } from '../patch-state.ts';
import {
  DecisionMemo, S_AVAILABLE_SECURITY_UPDATE, S_FAILED, S_INSTALLED_PENDING_REBOOT, S_INSTALLED_REJECTED, S_MISSING, S_NOT_APPLICABLE, STATE_BY_CODE, UnsharedSource,
  type EntrySource, type MemoEntry,
} from './decision-cache.ts';
import { findEntry, FAILED, isPreparedScan, NOT_APPLICABLE, PENDING_REBOOT, prepareScan, type PreparedScan } from './prepare-scan.ts';
import { patchClassification, patchKbId, patchSeverity, patchTitle } from './row-format.ts';
import type { CompiledBaseline, DecisionCache, EvaluatedRow, InstalledDecision, NodeEvaluation, NodeScan, ScanPackage, UpdateDecision } from './types.ts';

/** Installed states carry the package's install time; the others 0 (AWS shows epoch 0 when not installed). */
function buildRow(family: OsFamily, pkg: ScanPackage, code: number, level: string, cves: string | undefined): EvaluatedRow {
  const State = STATE_BY_CODE[code]!;
  const installedTime = code <= S_INSTALLED_REJECTED ? pkg.installedTime ?? 0 : 0;
  if (cves === undefined || cves === '') {
    return {
      Title: patchTitle(family, pkg),
      KBId: patchKbId(family, pkg),
      Classification: patchClassification(family, pkg),
      Severity: patchSeverity(family, pkg),
      State,
      InstalledTime: installedTime,
      ComplianceLevel: level,
      package: pkg,
    };
  }
  return {
    Title: patchTitle(family, pkg),
    KBId: patchKbId(family, pkg),
    Classification: patchClassification(family, pkg),
    Severity: patchSeverity(family, pkg),
    State,
    InstalledTime: installedTime,
    CVEIds: cves,
    ComplianceLevel: level,
    package: pkg,
  };
}

/** CVEs a Missing/Failed row names: those of the chosen candidate and of every older candidate it supersedes. */
function cvesFrom(candidates: readonly ScanPackage[], from: number): string | undefined {
  const chosen = candidates[from]!;
  if (from === candidates.length - 1) return chosen.cveIds === undefined || chosen.cveIds.length === 0 ? undefined : chosen.cveIds.join(',');
  const all = new Set<string>();
  for (let j = from; j < candidates.length; j++) for (const c of candidates[j]!.cveIds ?? []) all.add(c);
  return all.size === 0 ? undefined : [...all].join(',');
}

/**
 * One row's contribution to the node's counters as a bit set over COUNTER_NAMES, computed by countersFromRows
 * itself (so the counting rules live in one place); rows are summed by their bits.
 */
function rowMask(row: EvaluatedRow, availableSecurityUpdatesNonCompliant: boolean): number {
  const c = countersFromRows([row], { availableSecurityUpdatesNonCompliant });
  let mask = 0;
  for (let i = 0; i < COUNTER_NAMES.length; i++) if (c[COUNTER_NAMES[i]!] !== 0) mask |= 1 << i;
  return mask;
}

/** Set by {@link sharedRow}: the returned row's counter bits. */
let lastMask = 0;

/**
 * The row for `pkg` in state `code` from a shared entry: reused from the entry's slots when the slot describes
 * this very package object, else built (and kept when the slot is free). Leaves the row's counter bits in
 * `lastMask`. `candidates`/`chosen` give the CVE list of update rows; installed rows carry none.
 */
function sharedRow(
  entry: MemoEntry<UpdateDecision | InstalledDecision>, family: OsFamily, pkg: ScanPackage, code: number,
  candidates: readonly ScanPackage[] | undefined, chosen: number, asuNonCompliant: boolean,
): EvaluatedRow {
  let slots = entry.rows;
  let masks = entry.masks;
  if (slots === undefined || masks === undefined) {
    slots = entry.rows = [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
    masks = entry.masks = new Int32Array(8);
  }
  const cached = slots[code];
  if (cached !== undefined && cached.package === pkg) {
    lastMask = masks[code]!;
    return cached;
  }
  const fresh = buildRow(family, pkg, code, entry.decision.complianceLevel, candidates === undefined ? undefined : cvesFrom(candidates, chosen));
  lastMask = rowMask(fresh, asuNonCompliant);
  if (cached === undefined) {
    slots[code] = fresh;
    masks[code] = lastMask;
  }
  return fresh;
}

function unsharedRow(
  entry: MemoEntry<UpdateDecision | InstalledDecision>, family: OsFamily, pkg: ScanPackage, code: number,
  candidates: readonly ScanPackage[] | undefined, chosen: number,
): EvaluatedRow {
  return buildRow(family, pkg, code, entry.decision.complianceLevel, candidates === undefined ? undefined : cvesFrom(candidates, chosen));
}

/** BLOCK: upgrading `pkg` would install or upgrade a rejected package (NodeScan.dependsOn). */
function needsRejectedDependency(p: PreparedScan, compiled: CompiledBaseline, pkg: ScanPackage): boolean {
  const deps = p.scan.dependsOn;
  if (deps === undefined || !Object.hasOwn(deps, pkg.name)) return false;
  for (const name of deps[pkg.name] ?? []) {
    // Judge the version that would be installed when the scan lists it, else the name alone.
    const i = p.byName.get(name);
    const incoming = i === undefined ? undefined : p.candidates[findEntry(p, name, p.installed[i]!.arch)]?.[0];
    if (incoming !== undefined ? compiled.isRejected(incoming) : compiled.isRejectedName(name)) return true;
  }
  return false;
}

/**
 * Evaluates one node. `scan` may be a raw NodeScan or a {@link prepareScan} result (cheaper when the same
 * scan is evaluated again, e.g. after every baseline change). `now` is epoch seconds. `decide`, when given,
 * memoises decisions across nodes; the built-in one (createDecisionCache) also shares row objects between
 * nodes, so treat rows as read-only.
 */
export function evaluateNode(scan: NodeScan | PreparedScan, compiled: CompiledBaseline, now: number, decide?: DecisionCache): NodeEvaluation {
  const p = isPreparedScan(scan) ? scan : prepareScan(scan);
  const family = compiled.family;
  if (p.family !== family) {
    throw new Error(`baseline ${compiled.baselineId} is for ${compiled.operatingSystem}; the scan is from ${p.scan.operatingSystem}`);
  }
  if (decide?.compiled !== undefined && decide.compiled !== compiled) {
    throw new Error(`the decision cache belongs to baseline ${decide.compiled.baselineId}, not ${compiled.baselineId}`);
  }
  const node = p.scan;
  const install = node.operation === 'Install';
  const rebooting = node.rebootPending;
  const block = compiled.blockRejected;
  const source: EntrySource = decide instanceof DecisionMemo ? decide.scope(node.product, now, p.index) : new UnsharedSource(compiled, decide, node.product, now);
  const installedIds = p.installedIds;
  const candidateIds = p.candidateIds;
  const shared = source.shared;
  const asu = compiled.availableSecurityUpdatesNonCompliant;
  const n = p.installed.length;
  const rows = new Array<EvaluatedRow>(n);
  let count = 0;
  // Shared rows: counter bits summed per counter (counts[i] ↔ COUNTER_NAMES[i]).
  const counts = shared ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] : undefined;
  let next = Infinity;

  for (let i = 0; i < n; i++) {
    const flags = p.flags[i]!;
    const candidates = p.candidates[i];
    // What this entry reports: decision entry, package, state code; for update rows the candidate list and
    // the chosen index (CVE list); whether the row may be shared between nodes.
    let e: MemoEntry<UpdateDecision | InstalledDecision>;
    let pkg: ScanPackage;
    let code: number;
    let rowCandidates: readonly ScanPackage[] | undefined;
    let chosen = 0;
    let share = shared;

    if (candidates !== undefined && family === 'windows') {
      pkg = candidates[0]!;
      const u = source.update(pkg, candidateIds === undefined ? -1 : candidateIds[i]![0]!);
      const d = u.decision;
      if (u.until < next && u.until > now) next = u.until;
      if ((flags & NOT_APPLICABLE) !== 0) {
        if (!d.approved) continue;
        code = S_NOT_APPLICABLE;
      } else if (d.approved) {
        code = install && (flags & FAILED) !== 0 ? S_FAILED : S_MISSING;
        rowCandidates = candidates;
      } else if (d.security && d.explicit === undefined && d.pendingUntil !== undefined) {
        code = S_AVAILABLE_SECURITY_UPDATE;
      } else {
        continue;
      }
      e = u;
    } else {
      // Linux/macOS: the newest approved candidate, if any, makes the row Missing (or Failed).
      let chosenEntry: MemoEntry<UpdateDecision> | undefined;
      if (candidates !== undefined) {
        const ids = candidateIds?.[i];
        for (let j = 0; j < candidates.length; j++) {
          const c = candidates[j]!;
          if (family === 'macos' && c.classification === 'installer') continue; // only reported, never Missing
          const u = source.update(c, ids === undefined ? -1 : ids[j]!);
          if (u.until < next && u.until > now) next = u.until;
          if (chosenEntry === undefined && u.decision.approved) {
            chosen = j;
            chosenEntry = u;
          }
        }
      }
      if (chosenEntry !== undefined) {
        e = chosenEntry;
        pkg = candidates![chosen]!;
        const failed = install && ((flags & FAILED) !== 0 || (block && needsRejectedDependency(p, compiled, pkg)));
        code = failed ? S_FAILED : S_MISSING;
        rowCandidates = candidates;
        // With several candidates the CVE list depends on the node's other candidates: not shareable.
        share &&= chosen === candidates!.length - 1;
      } else {
        const installed = p.installed[i];
        if (installed === undefined) continue;
        pkg = installed;
        const ie = source.installed(pkg, installedIds === undefined ? -1 : installedIds[i]!);
        if (ie.until < next && ie.until > now) next = ie.until;
        code = rebooting && (flags & PENDING_REBOOT) !== 0 ? S_INSTALLED_PENDING_REBOOT : ie.state;
        e = ie;
      }
    }

    if (counts === undefined) {
      rows[count++] = unsharedRow(e, family, pkg, code, rowCandidates, chosen);
      continue;
    }
    let mask: number;
    const slot = share ? e.rows?.[code] : undefined;
    if (slot !== undefined && slot.package === pkg) {
      // Fast path: the entry already holds this package's row in this state.
      rows[count++] = slot;
      mask = e.masks![code]!;
    } else if (share) {
      rows[count++] = sharedRow(e, family, pkg, code, rowCandidates, chosen, asu);
      mask = lastMask;
    } else {
      const r = unsharedRow(e, family, pkg, code, rowCandidates, chosen);
      rows[count++] = r;
      mask = rowMask(r, asu);
    }
    while (mask !== 0) {
      const bit = mask & -mask;
      counts[31 - Math.clz32(bit)]!++;
      mask ^= bit;
    }
  }
  rows.length = count;

  let counters: Counters;
  if (counts === undefined) {
    counters = countersFromRows(rows, { availableSecurityUpdatesNonCompliant: asu });
  } else {
    counters = {} as Counters;
    for (let i = 0; i < COUNTER_NAMES.length; i++) counters[COUNTER_NAMES[i]!] = counts[i]!;
  }
  return next === Infinity ? { rows, counters } : { rows, counters, nextChangeAt: next };
}
