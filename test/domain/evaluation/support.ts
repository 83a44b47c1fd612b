// Shared helpers for the evaluation-engine tests: baselines (AWS's predefined ones and custom ones with
// defaults materialised), scan builders, UTC time helpers, row lookups, and readers for the real Debian 12
// host snapshot in ../shared/fixtures/hosts (tests skip when it is absent).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { emptyDefinition, normalizeRule, type BaselineDefinition, type PatchRule } from '../../../src/domain/baseline.ts';
import type { EvaluatedRow, NodeEvaluation, NodeScan, ScanPackage } from '../../../src/domain/evaluation/index.ts';
import { PredefinedBaselines } from '../../../src/domain/predefined-baselines.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** ../shared/fixtures/hosts relative to the repository root, or undefined in a clone without it. */
export const hostFixturesDir: string | undefined = (() => {
  const dir = join(repoRoot, '..', 'shared', 'fixtures', 'hosts');
  return existsSync(join(dir, 'apt-list-upgradable.txt')) && existsSync(join(dir, 'dpkg-query.tsv')) ? dir : undefined;
})();
export const NO_HOST_FIXTURES = 'fixtures not found: ../shared/fixtures/hosts (relative to the repository root) is absent';

export type Baseline = BaselineDefinition & { BaselineId: string };

const predefined = new PredefinedBaselines('us-east-1');

/** An AWS-provided baseline by name (e.g. AWS-DebianDefaultPatchBaseline). */
export function awsBaseline(name: string): Baseline {
  const b = predefined.all().find((x) => x.Name === name);
  if (b === undefined) throw new Error(`no predefined baseline ${name}`);
  return b;
}

/** A custom baseline with AWS's defaults for every member not given; rules are normalised like CreatePatchBaseline. */
export function customBaseline(os: string, members: Partial<Omit<BaselineDefinition, 'ApprovalRules'>> & { rules?: PatchRule[] } = {}): Baseline {
  const { rules, ...rest } = members;
  return {
    ...emptyDefinition('custom-test', os),
    ...rest,
    ApprovalRules: { PatchRules: (rules ?? []).map(normalizeRule) },
    BaselineId: 'pb-0123456789abcdef0',
  };
}

/** A rule from its filters (key → values) and options. */
export function rule(filters: Record<string, string[]>, options: Omit<PatchRule, 'PatchFilterGroup'> = {}): PatchRule {
  return { PatchFilterGroup: { PatchFilters: Object.entries(filters).map(([Key, Values]) => ({ Key, Values })) }, ...options };
}

/** '2025-11-09T18:00:00Z' → epoch seconds. */
export function utc(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad date ${iso}`);
  return ms / 1000;
}

export function nodeScan(operatingSystem: string, product: string, parts: Partial<NodeScan> = {}): NodeScan {
  return { operatingSystem, product, operation: 'Scan', rebootPending: false, installed: [], updates: [], failed: [], pendingReboot: [], ...parts };
}

/** The row whose KBId is `kbId` (exactly one). */
export function rowOf(result: NodeEvaluation, kbId: string): EvaluatedRow {
  const found = result.rows.filter((r) => r.KBId === kbId);
  if (found.length !== 1) throw new Error(`expected one row ${kbId}, found ${found.length}: ${result.rows.map((r) => r.KBId).join(', ')}`);
  return found[0]!;
}

export const stateOf = (result: NodeEvaluation, kbId: string): string => rowOf(result, kbId).State;

/** Rows without the package reference, for deepEqual against hand-written expectations. */
export function plain(row: EvaluatedRow): Omit<EvaluatedRow, 'package'> {
  const { package: _pkg, ...rest } = row;
  return rest;
}

export function statesByKb(result: NodeEvaluation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of result.rows) out[r.KBId] = r.State;
  return out;
}

// ---- the Debian 12 host snapshot -----------------------------------------------------------------------

/** dpkg-query -W -f='${Package}\t${Version}\t${Architecture}\t${Source}\t${Status}\n' → installed packages. */
export function readDpkgQuery(dir: string): ScanPackage[] {
  return readFileSync(join(dir, 'dpkg-query.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [name, version, arch, source] = line.split('\t');
      const pkg: ScanPackage = { name: name!, version: version!, arch: arch! };
      if (source !== undefined && source !== '') {
        const m = /^(\S+)(?: \((.+)\))?$/.exec(source);
        if (m) {
          pkg.sourceName = m[1]!;
          if (m[2] !== undefined) pkg.sourceVersion = m[2];
        }
      }
      return pkg;
    });
}

export interface UpgradableLine {
  name: string;
  suites: string[];
  version: string;
  arch: string;
  from: string;
}

/** `apt list --upgradable` lines: `name/suite[,suite] newver arch [upgradable from: oldver]`. */
export function readAptListUpgradable(dir: string): UpgradableLine[] {
  const out: UpgradableLine[] = [];
  for (const line of readFileSync(join(dir, 'apt-list-upgradable.txt'), 'utf8').split('\n')) {
    const m = /^([^/\s]+)\/(\S+) (\S+) (\S+) \[upgradable from: ([^\]]+)\]$/.exec(line.trim());
    if (m) out.push({ name: m[1]!, suites: m[2]!.split(','), version: m[3]!, arch: m[4]!, from: m[5]! });
  }
  return out;
}

/**
 * Candidates from `apt list --upgradable`: `security` when one of the version's suites is a security pocket
 * (contains `-security`, as AWS's agent tests the archive name). The listing carries no Priority field, so
 * every candidate gets `priority` (Debian's archive gives nearly every package `optional`; AWS's default
 * baseline accepts all five priorities anyway) — unless `priority` is null.
 */
export function aptCandidates(lines: readonly UpgradableLine[], priority: string | null = 'optional'): ScanPackage[] {
  return lines.map((l) => {
    const security = l.suites.some((s) => s.includes('-security'));
    const pkg: ScanPackage = { name: l.name, arch: l.arch, version: l.version, repository: l.suites.find((s) => s.includes('-security')) ?? l.suites[0]!, security };
    if (priority !== null) pkg.priority = priority;
    return pkg;
  });
}
