// Debian/Ubuntu evaluation against a real Debian 12 host snapshot (../shared/fixtures/hosts: 789 installed
// packages, 135 upgradable, 81 of them from oldstable-security) and hand-built Ubuntu scans. Each test names
// the rule it checks: semantics §2 (states), §4 (pipeline, RejectedPatchesAction), §6.4 (apt specifics) and
// SOURCES.md "Debian/Ubuntu default baseline: the answer".

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compileBaseline, evaluateNode } from '../../../src/domain/evaluation/index.ts';
import type { NodeScan, ScanPackage } from '../../../src/domain/evaluation/index.ts';
import {
  aptCandidates, awsBaseline, customBaseline, hostFixturesDir, NO_HOST_FIXTURES, nodeScan, plain, readAptListUpgradable, readDpkgQuery, rowOf, rule, stateOf, utc,
} from './support.ts';

const NOW = utc('2026-11-23T06:38:00Z'); // when the snapshot was captured
const ALL_PRIORITIES = ['Required', 'Important', 'Standard', 'Optional', 'Extra'];

function debianHost(dir: string, priority: string | null = 'optional'): { scan: NodeScan; securityLines: number; lines: number } {
  const lines = readAptListUpgradable(dir);
  const scan = nodeScan('DEBIAN', 'Debian12', { installed: readDpkgQuery(dir), updates: aptCandidates(lines, priority) });
  return { scan, securityLines: lines.filter((l) => l.suites.includes('oldstable-security')).length, lines: lines.length };
}

test('§6.4 + SOURCES.md "the answer": AWS-DebianDefaultPatchBaseline marks Missing exactly the security-pocket candidates (81 of 135)', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan, securityLines, lines } = debianHost(dir);
  assert.equal(securityLines, 81, 'SOURCES.md: 81 lines include oldstable-security');
  assert.equal(lines, 135);
  assert.equal(scan.installed.length, 789);

  const result = evaluateNode(scan, compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline')), NOW);
  const missing = result.rows.filter((r) => r.State === 'Missing');
  assert.equal(missing.length, securityLines);
  assert.ok(missing.every((r) => r.package.security === true && r.Classification === 'Security'));
  // Every non-security candidate leaves its package in an installed state (§6.4: candidates only from the security pocket).
  for (const u of scan.updates.filter((c) => c.security !== true)) {
    assert.equal(stateOf(result, `${u.name}.${u.arch}`), 'InstalledOther', u.name);
  }
  // One row per installed name+arch (§2); installed versions are not from a security pocket here → InstalledOther.
  assert.equal(result.rows.length, 789);
  assert.deepEqual(
    { ...result.counters },
    {
      InstalledCount: 0, InstalledOtherCount: 708, InstalledPendingRebootCount: 0, InstalledRejectedCount: 0, MissingCount: 81, FailedCount: 0,
      NotApplicableCount: 0, UnreportedNotApplicableCount: 0, AvailableSecurityUpdateCount: 0,
      CriticalNonCompliantCount: 0, SecurityNonCompliantCount: 81, OtherNonCompliantCount: 0,
    },
  );
  assert.equal(result.nextChangeAt, undefined, '§4: apt approves at once, nothing is pending');
});

test('§2 row format (Patchline choice for Debian): Title name.arch:epoch:upstream-revision with epoch 0, KBId name.arch, Severity = priority', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan } = debianHost(dir);
  const result = evaluateNode(scan, compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline')), NOW);
  // openssl takes its candidate 3.0.22-1~deb12u2 from bookworm-security (apt-cache-policy.txt).
  assert.deepEqual(plain(rowOf(result, 'openssl.amd64')), {
    Title: 'openssl.amd64:3.0.22-1~deb12u2', KBId: 'openssl.amd64', Classification: 'Security', Severity: 'optional',
    State: 'Missing', InstalledTime: 0, ComplianceLevel: 'UNSPECIFIED',
  });
  // openssh-client's candidate comes from main, not security: the installed version's row, epoch kept.
  assert.deepEqual(plain(rowOf(result, 'openssh-client.amd64')), {
    Title: 'openssh-client.amd64:1:9.2p1-2+deb12u6', KBId: 'openssh-client.amd64', Classification: '', Severity: '',
    State: 'InstalledOther', InstalledTime: 0, ComplianceLevel: 'UNSPECIFIED',
  });
  // krb5-locales: the same candidate version is published in main and security → a security candidate.
  assert.equal(stateOf(result, 'krb5-locales.all'), 'Missing');
  // libcap2: epoch and binNMU, candidate from main only.
  assert.equal(rowOf(result, 'libcap2.amd64').Title, 'libcap2.amd64:1:2.66-4+deb12u2+b2');
  assert.equal(stateOf(result, 'libcap2.amd64'), 'InstalledOther');
});

test('§5 + Patchline choice: a candidate whose scan lacks the tested property (PRIORITY) does not match a filter without *', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan } = debianHost(dir, null);
  const result = evaluateNode(scan, compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline')), NOW);
  assert.equal(result.counters.MissingCount, 0);
  // With PRIORITY * the property is not needed.
  const star = customBaseline('DEBIAN', { rules: [rule({ PRIORITY: ['*'] })] });
  assert.equal(evaluateNode(scan, compileBaseline(star), NOW).counters.MissingCount, 81);
});

test('§4 ApprovalRules + §6.4: a custom Debian baseline with EnableNonSecurity=true makes every candidate Missing (135)', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan, lines } = debianHost(dir);
  const baseline = customBaseline('DEBIAN', { rules: [rule({ PRIORITY: ALL_PRIORITIES }, { EnableNonSecurity: true, ApproveAfterDays: 360 })] });
  const result = evaluateNode(scan, compileBaseline(baseline), NOW);
  assert.equal(result.counters.MissingCount, lines);
  assert.equal(result.counters.SecurityNonCompliantCount, 81);
  assert.equal(result.counters.OtherNonCompliantCount, 135 - 81);
  assert.deepEqual(plain(rowOf(result, 'openssh-client.amd64')), {
    Title: 'openssh-client.amd64:1:9.2p1-2+deb12u10', KBId: 'openssh-client.amd64', Classification: '', Severity: 'optional',
    State: 'Missing', InstalledTime: 0, ComplianceLevel: 'UNSPECIFIED',
  });
});

test('§4 RejectedPatchesAction BLOCK: an installed rejected package is InstalledRejected and its update is not Missing', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan } = debianHost(dir);
  const baseline = { ...awsBaseline('AWS-DebianDefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', RejectedPatches: ['openssl'], RejectedPatchesAction: 'BLOCK' };
  const result = evaluateNode(scan, compileBaseline(baseline), NOW);
  assert.deepEqual(plain(rowOf(result, 'openssl.amd64')), {
    Title: 'openssl.amd64:3.0.19-1~deb12u2', KBId: 'openssl.amd64', Classification: '', Severity: '',
    State: 'InstalledRejected', InstalledTime: 0, ComplianceLevel: 'UNSPECIFIED',
  });
  assert.equal(result.counters.MissingCount, 80);
  assert.equal(result.counters.InstalledRejectedCount, 1);
  // §3.1: non-compliant; its (installed) classification is not Security → Other.
  assert.equal(result.counters.SecurityNonCompliantCount, 80);
  assert.equal(result.counters.OtherNonCompliantCount, 1);
});

test('§4 RejectedPatchesAction ALLOW_AS_DEPENDENCY: an installed rejected package is InstalledOther (compliant)', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan } = debianHost(dir);
  const baseline = { ...awsBaseline('AWS-DebianDefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', RejectedPatches: ['openssl'], RejectedPatchesAction: 'ALLOW_AS_DEPENDENCY' };
  const result = evaluateNode(scan, compileBaseline(baseline), NOW);
  assert.equal(stateOf(result, 'openssl.amd64'), 'InstalledOther');
  assert.equal(result.counters.MissingCount, 80);
  assert.equal(result.counters.InstalledRejectedCount, 0, '§2: with ALLOW_AS_DEPENDENCY InstalledRejectedCount is always 0');
});

test('§4 ApprovedPatches on apt: bare names, subject to ApprovedPatchesEnableNonSecurity, level ApprovedPatchesComplianceLevel', (t) => {
  const dir = hostFixturesDir;
  if (dir === undefined) return t.skip(NO_HOST_FIXTURES);
  const { scan } = debianHost(dir);
  const base = { ...awsBaseline('AWS-DebianDefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', ApprovedPatches: ['bash', 'openssl'], ApprovedPatchesComplianceLevel: 'HIGH' };
  // bash's candidate (5.2.15-2+b13) comes from main: the explicit approval needs ApprovedPatchesEnableNonSecurity.
  const strict = evaluateNode(scan, compileBaseline(base), NOW);
  assert.equal(stateOf(strict, 'bash.amd64'), 'InstalledOther');
  // openssl is security and approved by both the rule (UNSPECIFIED) and the list (HIGH): the higher level wins.
  assert.equal(rowOf(strict, 'openssl.amd64').ComplianceLevel, 'HIGH');
  const lenient = evaluateNode(scan, compileBaseline({ ...base, ApprovedPatchesEnableNonSecurity: true }), NOW);
  assert.deepEqual(plain(rowOf(lenient, 'bash.amd64')), {
    Title: 'bash.amd64:5.2.15-2+b13', KBId: 'bash.amd64', Classification: '', Severity: 'optional',
    State: 'Missing', InstalledTime: 0, ComplianceLevel: 'HIGH',
  });
  assert.equal(lenient.counters.MissingCount, 82);
});

test('§6.4 + agent behaviour: when apt\'s candidate is not from security but an older security version is listed, that version is Missing', (t) => {
  // apt-cache-policy.txt: openssh-client candidate 1:9.2p1-2+deb12u10 from bookworm (main); bookworm-security has deb12u9.
  const installed: ScanPackage = { name: 'openssh-client', arch: 'amd64', version: '1:9.2p1-2+deb12u6' };
  const updates: ScanPackage[] = [
    { name: 'openssh-client', arch: 'amd64', version: '1:9.2p1-2+deb12u10', repository: 'bookworm', security: false, priority: 'standard' },
    { name: 'openssh-client', arch: 'amd64', version: '1:9.2p1-2+deb12u9', repository: 'bookworm-security', security: true, priority: 'standard' },
  ];
  void t;
  const result = evaluateNode(nodeScan('DEBIAN', 'Debian12', { installed: [installed], updates }), compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline')), NOW);
  assert.equal(rowOf(result, 'openssh-client.amd64').Title, 'openssh-client.amd64:1:9.2p1-2+deb12u9');
  assert.equal(stateOf(result, 'openssh-client.amd64'), 'Missing');
  // With non-security updates enabled the newest approved candidate (apt's own) is the one reported.
  const all = customBaseline('DEBIAN', { rules: [rule({ PRIORITY: ALL_PRIORITIES }, { EnableNonSecurity: true })] });
  assert.equal(rowOf(evaluateNode(nodeScan('DEBIAN', 'Debian12', { installed: [installed], updates }), compileBaseline(all), NOW), 'openssh-client.amd64').Title, 'openssh-client.amd64:1:9.2p1-2+deb12u10');
});

test('§4 + §6.4 Ubuntu: approval is immediate even with ApproveAfterDays (AWS-UbuntuDefaultPatchBaseline carries 7) or a past ApproveUntilDate', () => {
  const now = utc('2024-05-02T12:00:00Z');
  const installed: ScanPackage[] = [
    { name: 'libssl3', arch: 'amd64', version: '3.0.2-0ubuntu1.14', installedTime: utc('2024-03-01T00:00:00Z') },
    { name: 'vim', arch: 'amd64', version: '2:8.2.3995-1ubuntu2.15', installedTime: utc('2024-03-01T00:00:00Z') },
  ];
  const updates: ScanPackage[] = [
    // Released an hour ago in jammy-security.
    { name: 'libssl3', arch: 'amd64', version: '3.0.2-0ubuntu1.15', repository: 'jammy-security', security: true, priority: 'important', releaseTime: now - 3600 },
    { name: 'vim', arch: 'amd64', version: '2:8.2.3995-1ubuntu2.16', repository: 'jammy-updates', security: false, priority: 'important', releaseTime: now - 3600 },
  ];
  const scan = nodeScan('UBUNTU', 'Ubuntu22.04', { installed, updates });
  const aws = evaluateNode(scan, compileBaseline(awsBaseline('AWS-UbuntuDefaultPatchBaseline')), now);
  assert.equal(stateOf(aws, 'libssl3.amd64'), 'Missing');
  assert.equal(rowOf(aws, 'libssl3.amd64').Title, 'libssl3.amd64:3.0.2-0ubuntu1.15');
  assert.equal(stateOf(aws, 'vim.amd64'), 'InstalledOther');
  assert.equal(rowOf(aws, 'vim.amd64').InstalledTime, utc('2024-03-01T00:00:00Z'));
  assert.equal(aws.nextChangeAt, undefined);

  const long = customBaseline('UBUNTU', { rules: [rule({ PRIORITY: ['*'] }, { ApproveAfterDays: 360, EnableNonSecurity: true })] });
  const result = evaluateNode(scan, compileBaseline(long), now);
  assert.equal(stateOf(result, 'libssl3.amd64'), 'Missing');
  assert.equal(stateOf(result, 'vim.amd64'), 'Missing');
  const cutoff = customBaseline('UBUNTU', { rules: [rule({ PRIORITY: ['*'] }, { ApproveUntilDate: '2020-01-01' })] });
  assert.equal(stateOf(evaluateNode(scan, compileBaseline(cutoff), now), 'libssl3.amd64'), 'Missing');
  const decision = compileBaseline(long).decideUpdate(updates[0]!, 'Ubuntu22.04', now);
  assert.equal(decision.approvalTime, now - 3600, 'approval time = release time (no delay)');
  assert.equal(decision.pendingUntil, undefined);
});

test('§5 PRODUCT filter on Ubuntu: the node\'s product must be listed (or *), compared case-insensitively', () => {
  const now = utc('2024-05-02T12:00:00Z');
  const scan = nodeScan('UBUNTU', 'Ubuntu20.04', {
    installed: [{ name: 'curl', arch: 'amd64', version: '7.68.0-1ubuntu2.21' }],
    updates: [{ name: 'curl', arch: 'amd64', version: '7.68.0-1ubuntu2.22', repository: 'focal-security', security: true, priority: 'optional' }],
  });
  const only2204 = customBaseline('UBUNTU', { GlobalFilters: { PatchFilters: [{ Key: 'PRODUCT', Values: ['Ubuntu22.04'] }] }, rules: [rule({ PRIORITY: ['Optional'] })] });
  assert.equal(stateOf(evaluateNode(scan, compileBaseline(only2204), now), 'curl.amd64'), 'InstalledOther');
  const both = customBaseline('UBUNTU', { rules: [rule({ PRODUCT: ['ubuntu20.04', 'Ubuntu22.04'], PRIORITY: ['Optional'] })] });
  assert.equal(stateOf(evaluateNode(scan, compileBaseline(both), now), 'curl.amd64'), 'Missing');
  // SECTION, a free-text key.
  const section = customBaseline('UBUNTU', { rules: [rule({ SECTION: ['web'] })] });
  const withSection = nodeScan('UBUNTU', 'Ubuntu20.04', { installed: scan.installed, updates: [{ ...scan.updates[0]!, section: 'web' }] });
  assert.equal(stateOf(evaluateNode(withSection, compileBaseline(section), now), 'curl.amd64'), 'Missing');
  assert.equal(stateOf(evaluateNode(scan, compileBaseline(section), now), 'curl.amd64'), 'InstalledOther');
});
