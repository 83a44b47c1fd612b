// Install operations on Linux (Amazon Linux 2023 and Debian): Failed for approved updates that failed, the
// BLOCK-rejected-dependency rule (Missing on Scan, Failed on Install), InstalledPendingReboot while the node
// has not rebooted and Installed afterwards (semantics §2 states table, §4 RejectedPatchesAction, §12).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compileBaseline, evaluateNode } from '../../../src/domain/evaluation/index.ts';
import type { NodeScan, ScanPackage } from '../../../src/domain/evaluation/index.ts';
import { awsBaseline, customBaseline, nodeScan, plain, rowOf, rule, statesByKb, utc } from './support.ts';

const DAY = 86_400;
const NOW = utc('2024-06-01T00:00:00Z');
const OLD = NOW - 30 * DAY;

const security = (name: string, version: string, cve: string): ScanPackage => ({ name, arch: 'x86_64', version, classification: 'Security', severity: 'Important', releaseTime: OLD, cveIds: [cve] });
const installed = (name: string, version: string, installedTime = utc('2024-01-01T00:00:00Z')): ScanPackage => ({ name, arch: 'x86_64', version, installedTime });

const al2023 = compileBaseline(awsBaseline('AWS-AmazonLinux2023DefaultPatchBaseline'));

function installRun(parts: Partial<NodeScan>): NodeScan {
  return nodeScan('AMAZON_LINUX_2023', 'AmazonLinux2023', { operation: 'Install', ...parts });
}

test('§2 FAILED: an Install report lists approved updates that failed as Failed (with CVEIds); others still pending stay Missing', () => {
  const scan = installRun({
    installed: [installed('curl', '8.5.0-1.amzn2023.0.1'), installed('vim-minimal', '2:9.0.2120-1.amzn2023')],
    updates: [security('curl', '8.5.0-1.amzn2023.0.4', 'CVE-2024-2398'), security('vim-minimal', '2:9.0.2153-1.amzn2023', 'CVE-2024-22667')],
    failed: [{ name: 'curl', arch: 'x86_64', version: '8.5.0-1.amzn2023.0.4' }],
  });
  const result = evaluateNode(scan, al2023, NOW);
  assert.deepEqual(plain(rowOf(result, 'curl.x86_64')), {
    Title: 'curl.x86_64:0:8.5.0-1.amzn2023.0.4', KBId: 'curl.x86_64', Classification: 'Security', Severity: 'Important',
    State: 'Failed', InstalledTime: 0, CVEIds: 'CVE-2024-2398', ComplianceLevel: 'UNSPECIFIED',
  });
  assert.equal(rowOf(result, 'vim-minimal.x86_64').State, 'Missing');
  assert.equal(result.counters.FailedCount, 1);
  assert.equal(result.counters.SecurityNonCompliantCount, 2);
  // A failure entry for a package whose update this baseline does not approve changes nothing.
  const unapproved = evaluateNode(installRun({ installed: [installed('htop', '3.2.1-1')], updates: [{ name: 'htop', arch: 'x86_64', version: '3.2.2-1' }], failed: [{ name: 'htop', arch: 'x86_64' }] }), al2023, NOW);
  assert.equal(rowOf(unapproved, 'htop.x86_64').State, 'InstalledOther');
});

test('§4 BLOCK [doc]: an update that needs a rejected dependency is Missing on Scan and Failed on Install; with ALLOW_AS_DEPENDENCY it is not blocked', () => {
  const parts: Partial<NodeScan> = {
    installed: [installed('curl', '8.5.0-1.amzn2023.0.1'), installed('libcurl', '8.5.0-1.amzn2023.0.1')],
    updates: [security('curl', '8.5.0-1.amzn2023.0.4', 'CVE-2024-2398'), security('libcurl', '8.5.0-1.amzn2023.0.4', 'CVE-2024-2398')],
    dependsOn: { curl: ['libcurl'] },
  };
  const blocking = compileBaseline({ ...awsBaseline('AWS-AmazonLinux2023DefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', RejectedPatches: ['libcurl'], RejectedPatchesAction: 'BLOCK' });
  const scan = evaluateNode(installRun({ ...parts, operation: 'Scan' }), blocking, NOW);
  assert.deepEqual(statesByKb(scan), { 'curl.x86_64': 'Missing', 'libcurl.x86_64': 'InstalledRejected' });
  const install = evaluateNode(installRun(parts), blocking, NOW);
  assert.deepEqual(statesByKb(install), { 'curl.x86_64': 'Failed', 'libcurl.x86_64': 'InstalledRejected' });
  // Rejected by a versioned full name: only that version blocks (the installed libcurl, outside any notice, is InstalledOther).
  const versioned = compileBaseline({ ...awsBaseline('AWS-AmazonLinux2023DefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', RejectedPatches: ['libcurl-8.5.0-1.amzn2023.0.4.x86_64'], RejectedPatchesAction: 'BLOCK' });
  assert.deepEqual(statesByKb(evaluateNode(installRun(parts), versioned, NOW)), { 'curl.x86_64': 'Failed', 'libcurl.x86_64': 'InstalledOther' });
  const allowing = compileBaseline({ ...awsBaseline('AWS-AmazonLinux2023DefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', RejectedPatches: ['libcurl'] });
  assert.deepEqual(statesByKb(evaluateNode(installRun(parts), allowing, NOW)), { 'curl.x86_64': 'Missing', 'libcurl.x86_64': 'InstalledOther' });
});

test('§2 INSTALLED_PENDING_REBOOT: packages a Patch Manager install put on the node are non-compliant until the reboot, then Installed', () => {
  const justInstalled: ScanPackage = { ...security('openssl-libs', '1:3.0.8-1.amzn2023.0.12', 'CVE-2024-0727'), installedTime: NOW - 600 };
  const untouched = installed('bash', '5.2.15-1.amzn2023.0.2');
  const parts: Partial<NodeScan> = { installed: [justInstalled, untouched], pendingReboot: [{ name: 'openssl-libs', arch: 'x86_64' }] };
  const before = evaluateNode(installRun({ ...parts, rebootPending: true }), al2023, NOW);
  assert.deepEqual(plain(rowOf(before, 'openssl-libs.x86_64')), {
    Title: 'openssl-libs.x86_64:1:3.0.8-1.amzn2023.0.12', KBId: 'openssl-libs.x86_64', Classification: 'Security', Severity: 'Important',
    State: 'InstalledPendingReboot', InstalledTime: NOW - 600, ComplianceLevel: 'UNSPECIFIED',
  });
  assert.equal(rowOf(before, 'bash.x86_64').State, 'InstalledOther');
  assert.equal(before.counters.InstalledPendingRebootCount, 1);
  assert.equal(before.counters.SecurityNonCompliantCount, 1);
  // A later Scan, still before the reboot, keeps the state.
  assert.equal(rowOf(evaluateNode(installRun({ ...parts, operation: 'Scan', rebootPending: true }), al2023, NOW), 'openssl-libs.x86_64').State, 'InstalledPendingReboot');
  const after = evaluateNode(installRun({ ...parts, operation: 'Scan', rebootPending: false }), al2023, NOW);
  assert.equal(rowOf(after, 'openssl-libs.x86_64').State, 'Installed');
  assert.equal(after.counters.InstalledPendingRebootCount, 0);
});

test('§2 + §6.4 Debian Install: Failed for a failed security-pocket candidate; pending reboot for the installed ones', () => {
  const debian = compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline'));
  const scan = nodeScan('DEBIAN', 'Debian12', {
    operation: 'Install', rebootPending: true,
    installed: [
      { name: 'openssl', arch: 'amd64', version: '3.0.19-1~deb12u2' },
      { name: 'libc6', arch: 'amd64', version: '2.36-9+deb12u13', security: true, priority: 'required', installedTime: NOW - 300 },
    ],
    updates: [{ name: 'openssl', arch: 'amd64', version: '3.0.22-1~deb12u2', repository: 'bookworm-security', security: true, priority: 'optional' }],
    failed: [{ name: 'openssl', arch: 'amd64' }],
    pendingReboot: [{ name: 'libc6', arch: 'amd64' }],
  });
  const result = evaluateNode(scan, debian, NOW);
  assert.deepEqual(statesByKb(result), { 'openssl.amd64': 'Failed', 'libc6.amd64': 'InstalledPendingReboot' });
  assert.equal(rowOf(result, 'libc6.amd64').Classification, 'Security');
  assert.equal(rowOf(result, 'libc6.amd64').Severity, 'required');
  const rebooted = evaluateNode({ ...scan, operation: 'Scan', rebootPending: false, failed: [] }, debian, NOW);
  assert.deepEqual(statesByKb(rebooted), { 'openssl.amd64': 'Missing', 'libc6.amd64': 'Installed' });
});

test('custom rule + Install: InstalledRejected (BLOCK) yields to InstalledPendingReboot while the node has not rebooted', () => {
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['*'] }, { ApproveAfterDays: 0 })], RejectedPatches: ['bash'], RejectedPatchesAction: 'BLOCK' }));
  const scan = installRun({ rebootPending: true, installed: [installed('bash', '5.2.15-1.amzn2023.0.2')], pendingReboot: [{ name: 'bash', arch: 'x86_64' }] });
  assert.equal(rowOf(evaluateNode(scan, compiled, NOW), 'bash.x86_64').State, 'InstalledPendingReboot');
  assert.equal(rowOf(evaluateNode({ ...scan, rebootPending: false }, compiled, NOW), 'bash.x86_64').State, 'InstalledRejected');
});
