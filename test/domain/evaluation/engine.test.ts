// The engine's own guarantees (docs/evaluation.md "Caching" and "Patchline choices"): every caching path gives
// exactly the uncached answer at every moment, decisions are reused only while valid, nodes share rows and
// decisions, `*` matches a missing property, and misuse is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  compileBaseline, createDecisionCache, evaluateNode, higherComplianceLevel, PackageIndex, prepareScan, untilDateExclusive,
} from '../../../src/domain/evaluation/index.ts';
import type { DecisionCache, InstalledDecision, NodeEvaluation, NodeScan, ScanPackage, UpdateDecision } from '../../../src/domain/evaluation/index.ts';
import { customBaseline, nodeScan, plain, rowOf, rule, utc } from './support.ts';
import { rng } from '../../helpers/fleet.ts';

const DAY = 86_400;
const T0 = utc('2024-03-01T00:00:00Z');


/** A fleet of AL2023 nodes drawing from a shared pool of package objects (as an interning server would hold them). */
function fleet(seed: number, nodes: number): NodeScan[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const classes = ['Security', 'Bugfix', 'Enhancement', undefined];
  const severities = ['Critical', 'Important', 'Moderate', 'Low', undefined];
  const installedPool: ScanPackage[][] = [];
  const updatePool: ScanPackage[][] = [];
  for (let k = 0; k < 60; k++) {
    const name = `pkg-${k}`;
    installedPool.push([0, 1].map((v) => {
      const p: ScanPackage = { name, arch: 'x86_64', version: `1.${v}-1.amzn2023`, installedTime: T0 - 100 * DAY };
      const cls = pick(classes);
      if (cls !== undefined) p.classification = cls;
      return p;
    }));
    updatePool.push([0, 1, 2].map((v) => {
      const p: ScanPackage = { name, arch: 'x86_64', version: `2.${v}-1.amzn2023`, releaseTime: T0 - Math.floor(r() * 20) * DAY + Math.floor(r() * DAY), cveIds: [`CVE-2024-${k}${v}`] };
      const cls = pick(classes);
      if (cls !== undefined) p.classification = cls;
      const sev = pick(severities);
      if (sev !== undefined) p.severity = sev;
      if (r() < 0.1) delete p.releaseTime;
      return p;
    }));
  }
  const out: NodeScan[] = [];
  for (let n = 0; n < nodes; n++) {
    const installed: ScanPackage[] = [];
    const updates: ScanPackage[] = [];
    const pendingReboot: NodeScan['pendingReboot'] = [];
    for (let k = 0; k < 60; k++) {
      if (r() < 0.3) continue;
      installed.push(pick(installedPool[k]!));
      const u = r();
      if (u < 0.3) updates.push(pick(updatePool[k]!));
      else if (u < 0.4) updates.push(updatePool[k]![0]!, updatePool[k]![2]!);
      if (r() < 0.05) pendingReboot.push({ name: `pkg-${k}`, arch: 'x86_64' });
    }
    out.push(nodeScan('AMAZON_LINUX_2023', r() < 0.5 ? 'AmazonLinux2023' : 'AmazonLinux2023.4', {
      installed, updates, pendingReboot, operation: r() < 0.3 ? 'Install' : 'Scan', rebootPending: r() < 0.5,
      failed: updates.filter(() => r() < 0.1).map((u) => ({ name: u.name, arch: u.arch })),
    }));
  }
  return out;
}

const fleetBaseline = customBaseline('AMAZON_LINUX_2023', {
  GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['AmazonLinux2023', 'AmazonLinux2023.4'] }] },
  rules: [
    rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Critical', 'Important'] }, { ApproveAfterDays: 3, ComplianceLevel: 'CRITICAL' }),
    rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 1, ComplianceLevel: 'LOW' }),
    rule({ PRODUCT: ['AmazonLinux2023.4'], CLASSIFICATION: ['Bugfix'] }, { ApproveAfterDays: 7, ComplianceLevel: 'MEDIUM' }),
    rule({ CLASSIFICATION: ['Enhancement'] }, { ApproveUntilDate: '2024-02-20' }),
  ],
  ApprovedPatches: ['pkg-7'], ApprovedPatchesComplianceLevel: 'HIGH', ApprovedPatchesEnableNonSecurity: true,
  RejectedPatches: ['pkg-1*'], RejectedPatchesAction: 'BLOCK',
});

const comparable = (r: NodeEvaluation) => ({ rows: r.rows.map(plain), counters: { ...r.counters }, nextChangeAt: r.nextChangeAt });

/** A caller-supplied cache through the plain DecisionCache interface (no row sharing). */
function naiveCache(): DecisionCache & { hits: number } {
  const u = new Map<string, { d: UpdateDecision; from: number }>();
  const i = new Map<string, { d: InstalledDecision; from: number }>();
  const key = (pkg: ScanPackage, product: string) => `${product}|${pkg.name}|${pkg.arch}|${pkg.version}|${pkg.classification}|${pkg.severity}|${pkg.releaseTime}`;
  return {
    hits: 0,
    update(pkg, product, now, compute) {
      const k = key(pkg, product);
      const e = u.get(k);
      if (e !== undefined && e.from <= now && now < (e.d.pendingUntil ?? Infinity)) {
        this.hits++;
        return e.d;
      }
      const d = compute(pkg);
      u.set(k, { d, from: now });
      return d;
    },
    installed(pkg, product, now, compute) {
      const k = key(pkg, product);
      const e = i.get(k);
      if (e !== undefined && e.from <= now && now < (e.d.pendingUntil ?? Infinity)) {
        this.hits++;
        return e.d;
      }
      const d = compute(pkg);
      i.set(k, { d, from: now });
      return d;
    },
  };
}

test('docs "Caching": every path (memo by content, by identity, PackageIndex, a custom cache, prepared or raw scans) equals the uncached answer as time moves', () => {
  const compiled = compileBaseline(fleetBaseline);
  const nodes = fleet(7, 120);
  const index = new PackageIndex();
  const prepared = nodes.map((n) => prepareScan(n));
  const indexed = nodes.map((n) => prepareScan(n, index));
  const byContent = createDecisionCache(compiled);
  const byIdentity = createDecisionCache(compiled, { keying: 'identity' });
  const forIndex = createDecisionCache(compiled);
  const custom = naiveCache();
  // Forward in time across due dates, then back (a cache must not serve a decision from the future).
  const moments = [T0 - 30 * DAY, T0 - 2 * DAY, T0, T0 + 1, T0 + 2 * DAY + 3600, T0 + 30 * DAY, T0 - 2 * DAY];
  let compared = 0;
  for (const now of moments) {
    nodes.forEach((node, k) => {
      const expected = comparable(evaluateNode(node, compiled, now));
      assert.deepEqual(comparable(evaluateNode(node, compiled, now, byContent)), expected);
      assert.deepEqual(comparable(evaluateNode(prepared[k]!, compiled, now, byIdentity)), expected);
      assert.deepEqual(comparable(evaluateNode(indexed[k]!, compiled, now, forIndex)), expected);
      assert.deepEqual(comparable(evaluateNode(prepared[k]!, compiled, now, custom)), expected);
      compared++;
    });
  }
  assert.equal(compared, 7 * 120);
  assert.ok(custom.hits > 0);
  // The shared pool has 60×2 installed and 60×3 update objects: the memo decided each at most once per validity window.
  assert.ok(byIdentity.misses < 7 * 300, `misses ${byIdentity.misses}`);
});

test('docs "Caching": nodes with the same package object share one decision and one row object (treat rows as read-only)', () => {
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 0 })] }));
  const shared: ScanPackage = { name: 'glibc', arch: 'x86_64', version: '2.34-52.amzn2023.0.8', classification: 'Security', severity: 'Important' };
  const a = nodeScan('AMAZON_LINUX_2023', 'AmazonLinux2023', { installed: [shared] });
  const b = nodeScan('AMAZON_LINUX_2023', 'AmazonLinux2023', { installed: [shared, { name: 'bash', arch: 'x86_64', version: '5.2-1' }] });
  const memo = createDecisionCache(compiled, { keying: 'identity' });
  const ra = evaluateNode(a, compiled, T0, memo);
  const rb = evaluateNode(b, compiled, T0, memo);
  assert.equal(rowOf(ra, 'glibc.x86_64'), rowOf(rb, 'glibc.x86_64'));
  assert.equal(memo.misses, 2);
  // Equal content but another object: same decision (content keying), its own row (the row points at its package).
  const twin: ScanPackage = { ...shared, installedTime: 12345 };
  const byContent = createDecisionCache(compiled);
  evaluateNode(a, compiled, T0, byContent);
  const rt = evaluateNode(nodeScan('AMAZON_LINUX_2023', 'AmazonLinux2023', { installed: [twin] }), compiled, T0, byContent);
  assert.equal(byContent.misses, 1);
  assert.equal(rowOf(rt, 'glibc.x86_64').package, twin);
  assert.equal(rowOf(rt, 'glibc.x86_64').InstalledTime, 12345);
});

test('docs "Caching": a memoised decision is recomputed once its pendingUntil passes, and for an earlier moment', () => {
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 7 })] }));
  const pkg: ScanPackage = { name: 'sudo', arch: 'x86_64', version: '1.9.15-1.amzn2023', classification: 'Security', severity: 'Important', releaseTime: T0 };
  const memo = createDecisionCache(compiled, { keying: 'identity' });
  const early = memo.update(pkg, 'AmazonLinux2023', T0 + DAY, (p) => compiled.decideUpdate(p, 'AmazonLinux2023', T0 + DAY));
  assert.equal(early.approved, false);
  assert.equal(early.pendingUntil, T0 + 7 * DAY);
  assert.equal(memo.update(pkg, 'AmazonLinux2023', T0 + 2 * DAY, () => assert.fail('still valid: must not recompute')), early);
  const due = memo.update(pkg, 'AmazonLinux2023', T0 + 7 * DAY, (p) => compiled.decideUpdate(p, 'AmazonLinux2023', T0 + 7 * DAY));
  assert.equal(due.approved, true);
  const past = memo.update(pkg, 'AmazonLinux2023', T0, (p) => compiled.decideUpdate(p, 'AmazonLinux2023', T0));
  assert.equal(past.approved, false);
  assert.equal(memo.misses, 3);
});

test('§4 pendingUntil + nextChangeAt: an approved patch still changes when a higher-level rule comes due', () => {
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', {
    rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 0, ComplianceLevel: 'LOW' }), rule({ SEVERITY: ['Critical'] }, { ApproveAfterDays: 14, ComplianceLevel: 'CRITICAL' })],
  }));
  const pkg: ScanPackage = { name: 'sudo', arch: 'x86_64', version: '1.9.15-1', classification: 'Security', severity: 'Critical', releaseTime: T0 };
  const now = compiled.decideUpdate(pkg, 'AmazonLinux2023', T0 + DAY);
  assert.deepEqual(now, { approved: true, explicit: undefined, complianceLevel: 'LOW', approvalTime: T0, pendingUntil: T0 + 14 * DAY, security: true });
  const later = compiled.decideUpdate(pkg, 'AmazonLinux2023', T0 + 14 * DAY);
  assert.deepEqual(later, { approved: true, explicit: undefined, complianceLevel: 'CRITICAL', approvalTime: T0, security: true });
  // A pending rule that brings nothing new does not schedule a change.
  const lower = compileBaseline(customBaseline('AMAZON_LINUX_2023', {
    rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 0, ComplianceLevel: 'HIGH' }), rule({ SEVERITY: ['Critical'] }, { ApproveAfterDays: 14, ComplianceLevel: 'LOW' })],
  }));
  assert.equal(lower.decideUpdate(pkg, 'AmazonLinux2023', T0 + DAY).pendingUntil, undefined);
});

test('§5 + Patchline choice: `*` matches even a missing property; an empty baseline approves nothing', () => {
  const bare: ScanPackage = { name: 'htop', arch: 'x86_64', version: '3.2.2-1' };
  const star = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['*'], SEVERITY: ['*'] }, { ApproveAfterDays: 0, EnableNonSecurity: true })] }));
  assert.equal(star.decideUpdate(bare, 'AmazonLinux2023', T0).approved, true);
  const named = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Bugfix', 'Security'] }, { ApproveAfterDays: 0, EnableNonSecurity: true })] }));
  assert.equal(named.decideUpdate(bare, 'AmazonLinux2023', T0).approved, false);
  const empty = compileBaseline(customBaseline('AMAZON_LINUX_2023'));
  assert.deepEqual(empty.decideUpdate({ ...bare, classification: 'Security' }, 'AmazonLinux2023', T0), { approved: false, explicit: undefined, complianceLevel: 'UNSPECIFIED', security: true });
  assert.deepEqual(empty.decideInstalled(bare, 'AmazonLinux2023', T0), { approved: false, rejected: false, complianceLevel: 'UNSPECIFIED', security: false });
});

test('misuse is refused: a scan from another OS family, a memo built for another baseline', () => {
  const linux = compileBaseline(customBaseline('AMAZON_LINUX_2023'));
  const windows = compileBaseline(customBaseline('WINDOWS'));
  assert.throws(() => evaluateNode(nodeScan('WINDOWS', 'WindowsServer2022'), linux, T0), /is for AMAZON_LINUX_2023; the scan is from WINDOWS/);
  const memo = createDecisionCache(windows);
  assert.throws(() => evaluateNode(nodeScan('AMAZON_LINUX_2023', 'AmazonLinux2023'), linux, T0, memo), /decision cache belongs to baseline/);
  // Other yum-family OSes share the engine: an Oracle scan under an AL2023 baseline is the caller's business.
  assert.doesNotThrow(() => evaluateNode(nodeScan('ORACLE_LINUX', 'OracleLinux8.9'), linux, T0));
});

test('helpers: untilDateExclusive covers the whole UTC day; higherComplianceLevel orders CRITICAL > … > UNSPECIFIED', () => {
  assert.equal(untilDateExclusive('2025-11-16'), utc('2025-11-17T00:00:00Z'));
  assert.equal(untilDateExclusive('2025-11'), undefined);
  assert.equal(higherComplianceLevel('LOW', 'HIGH'), 'HIGH');
  assert.equal(higherComplianceLevel('CRITICAL', 'HIGH'), 'CRITICAL');
  assert.equal(higherComplianceLevel('INFORMATIONAL', 'UNSPECIFIED'), 'INFORMATIONAL');
  assert.equal(higherComplianceLevel('bogus', 'UNSPECIFIED'), 'UNSPECIFIED');
});

test('memory valve: a memo table that reaches maxEntries starts over (answers unchanged)', () => {
  const compiled = compileBaseline(fleetBaseline);
  const nodes = fleet(11, 30);
  const small = createDecisionCache(compiled, { keying: 'identity', maxEntries: 5 });
  for (const node of nodes) assert.deepEqual(comparable(evaluateNode(node, compiled, T0, small)), comparable(evaluateNode(node, compiled, T0)));
});
