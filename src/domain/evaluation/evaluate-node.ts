// A node's scan + its compiled baseline → one DescribeInstancePatches row per package name+arch (Windows:
// per update), the node's counters, and when the answer will next change by itself (semantics §2–§4,
// docs/evaluation.md "States"). Per package the work is one decision lookup (memoised, with its row, by the
// built-in DecisionMemo) and a push; nothing is parsed, serialised or compiled here. Pure: `now` is an argument.

import type { OsFamily } from '../baseline.ts';
import { COUNTER_NAMES, countersFromRows, type Counters } from '../patch-state.ts';
import {
  DecisionMemo, TIME_BASE, S_AVAILABLE_SECURITY_UPDATE, S_FAILED, S_INSTALLED_PENDING_REBOOT, S_INSTALLED_REJECTED, S_MISSING, S_NOT_APPLICABLE, STATE_BY_CODE, UnsharedSource,
  type EntrySource, type MemoEntry,
} from './decision-cache.ts';
import { FAILED, isPreparedScan, NOT_APPLICABLE, PENDING_REBOOT, prepareScan, type PreparedScan } from './prepare-scan.ts';
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

/**
 * A cached row re-pointed at another package object of equal content (same decision, same labels): only the
 * package reference and, for installed states, the install time differ.
 */
function rebind(row: EvaluatedRow, pkg: ScanPackage, code: number): EvaluatedRow {
  const installedTime = code <= S_INSTALLED_REJECTED ? pkg.installedTime ?? 0 : 0;
  if (row.CVEIds === undefined) {
    return {
      Title: row.Title, KBId: row.KBId, Classification: row.Classification, Severity: row.Severity, State: row.State,
      InstalledTime: installedTime, ComplianceLevel: row.ComplianceLevel, package: pkg,
    };
  }
  return {
    Title: row.Title, KBId: row.KBId, Classification: row.Classification, Severity: row.Severity, State: row.State,
    InstalledTime: installedTime, CVEIds: row.CVEIds, ComplianceLevel: row.ComplianceLevel, package: pkg,
  };
}

function unsharedRow(
  entry: MemoEntry<UpdateDecision | InstalledDecision>, family: OsFamily, pkg: ScanPackage, code: number,
  candidates: readonly ScanPackage[] | undefined, chosen: number,
): EvaluatedRow {
  return buildRow(family, pkg, code, entry.decision.complianceLevel, candidates === undefined ? undefined : cvesFrom(candidates, chosen));
}

/** A synchronous out-parameter of {@link rowFromEntry} (the returned row's counter bits), to avoid allocating a pair. */
let scratchMask = 0;

/**
 * The slow path of a shared entry's row: the first row built from it (kept as its primary row), a row in a
 * further state (kept in `more`), or an unshareable one (several candidates: the CVE list is the node's own).
 */
function rowFromEntry(
  e: MemoEntry<UpdateDecision | InstalledDecision>, family: OsFamily, pkg: ScanPackage, code: number,
  candidates: readonly ScanPackage[] | undefined, chosen: number, share: boolean, asu: boolean,
): EvaluatedRow {
  if (e.rowCode === code) {
    // Only reached for an unshareable row (the shared case is the caller's fast path): same bits, own row.
    scratchMask = e.rowMask;
    return unsharedRow(e, family, pkg, code, candidates, chosen);
  }
  if (e.rowCode < 0) {
    const row = unsharedRow(e, family, pkg, code, candidates, chosen);
    scratchMask = rowMask(row, asu);
    if (share) {
      e.rowCode = code;
      e.row = row;
      e.rowMask = scratchMask;
    }
    return row;
  }
  // Further states: slots [code] = row, [8 + code] = counter bits.
  const more = e.more ?? (e.more = new Array<EvaluatedRow | number | undefined>(16).fill(undefined));
  const cached = more[code] as EvaluatedRow | undefined;
  const known = more[8 + code] as number | undefined;
  let row: EvaluatedRow;
  if (share && cached !== undefined) row = cached.package === pkg ? cached : rebind(cached, pkg, code);
  else {
    row = unsharedRow(e, family, pkg, code, candidates, chosen);
    if (share) more[code] = row;
  }
  scratchMask = known ?? (more[8 + code] = rowMask(row, asu));
  return row;
}

/** BLOCK: upgrading `pkg` would install or upgrade a rejected package (NodeScan.dependsOn). */
function needsRejectedDependency(p: PreparedScan, compiled: CompiledBaseline, pkg: ScanPackage): boolean {
  const deps = p.scan.dependsOn;
  if (deps === undefined || !Object.hasOwn(deps, pkg.name)) return false;
  for (const name of deps[pkg.name] ?? []) {
    // Judge the version that would be installed (the newest candidate of that name) when the scan lists one,
    // else the name alone.
    const i = p.byName.get(name);
    const incoming = i === undefined ? undefined : p.candidates[i]?.[0];
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
  // Indexed scans: memoised entries by package id, read inline (a hit costs two array loads).
  const idInstalled = installedIds === undefined ? undefined : source.ids?.installed;
  const idUpdate = candidateIds === undefined ? undefined : source.ids?.update;
  const shared = source.shared;
  const asu = compiled.availableSecurityUpdatesNonCompliant;
  const n = p.installed.length;
  const rows = new Array<EvaluatedRow>(n);
  let count = 0;
  // Shared rows: counter bits summed per counter (counts[i] ↔ COUNTER_NAMES[i]).
  const counts = shared ? new Array<number>(COUNTER_NAMES.length).fill(0) : undefined;
  // Times in the loop are offsets from TIME_BASE (small integers); nextRel is the earliest future change.
  const nowRel = now - TIME_BASE;
  let nextRel = Infinity;

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
      if (!u.forever && u.until < nextRel && u.until > nowRel) nextRel = u.until;
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
          const id = ids === undefined ? -1 : ids[j]!;
          let u = idUpdate?.[id];
          if (u === undefined || !u.validAt(nowRel)) u = source.update(c, id);
          if (!u.forever && u.until < nextRel && u.until > nowRel) nextRel = u.until;
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
        const id = installedIds === undefined ? -1 : installedIds[i]!;
        let ie = idInstalled?.[id];
        if (ie === undefined || !ie.validAt(nowRel)) ie = source.installed(pkg, id);
        if (!ie.forever && ie.until < nextRel && ie.until > nowRel) nextRel = ie.until;
        code = rebooting && (flags & PENDING_REBOOT) !== 0 ? S_INSTALLED_PENDING_REBOOT : ie.state;
        e = ie;
      }
    }

    if (counts === undefined) {
      rows[count++] = unsharedRow(e, family, pkg, code, rowCandidates, chosen);
      continue;
    }
    // Shared entry: reuse its row for this state (re-pointed when the node holds an equal but distinct package
    // object) and its counter bits, computed once per entry and state by countersFromRows itself.
    let row: EvaluatedRow;
    let mask: number;
    if (share && e.rowCode === code) {
      const cached = e.row!;
      row = cached.package === pkg ? cached : rebind(cached, pkg, code);
      mask = e.rowMask;
    } else {
      row = rowFromEntry(e, family, pkg, code, rowCandidates, chosen, share, asu);
      mask = scratchMask;
    }
    rows[count++] = row;
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
  return nextRel === Infinity ? { rows, counters } : { rows, counters, nextChangeAt: nextRel + TIME_BASE };
}
