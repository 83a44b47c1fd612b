// SUSE and macOS basics: the predefined baselines, list formats, the security gate (none on SUSE; the
// security flag on macOS — a Patchline choice), macOS `installer` packages and row formats (semantics §4, §6.3,
// §6.5, §7; docs/evaluation.md).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compileBaseline, evaluateNode } from '../../../src/domain/evaluation/index.ts';
import type { ScanPackage } from '../../../src/domain/evaluation/index.ts';
import { awsBaseline, customBaseline, nodeScan, plain, rowOf, rule, statesByKb, utc } from './support.ts';

const DAY = 86_400;
const NOW = utc('2024-04-30T00:00:00Z');
const SLES = 'Suse15.5';

const sslInstalled: ScanPackage = { name: 'libopenssl3', arch: 'x86_64', version: '3.0.8-150500.5.20.1', installedTime: utc('2024-01-05T00:00:00Z') };
const ssl: ScanPackage = {
  name: 'libopenssl3', arch: 'x86_64', version: '3.0.8-150500.5.27.1', classification: 'Security', severity: 'Important', releaseTime: NOW - 10 * DAY,
  advisoryIds: ['SUSE-SLE-Module-Basesystem-15-SP5-2024-1234'], cveIds: ['CVE-2024-0727'],
};
const zyppInstalled: ScanPackage = { name: 'zypper', arch: 'x86_64', version: '1.14.68-150400.3.49.1' };
const zypp: ScanPackage = { name: 'zypper', arch: 'x86_64', version: '1.14.70-150400.3.52.1', classification: 'Recommended', severity: 'Moderate', releaseTime: NOW - 10 * DAY };

test('§7 AWS-SuseDefaultPatchBaseline: Security ∧ {Critical, Important} after 7 days; Recommended is not approved; §2 RPM-style rows', () => {
  const result = evaluateNode(nodeScan('SUSE', SLES, { installed: [sslInstalled, zyppInstalled], updates: [ssl, zypp] }), compileBaseline(awsBaseline('AWS-SuseDefaultPatchBaseline')), NOW);
  assert.deepEqual(statesByKb(result), { 'libopenssl3.x86_64': 'Missing', 'zypper.x86_64': 'InstalledOther' });
  assert.deepEqual(plain(rowOf(result, 'libopenssl3.x86_64')), {
    Title: 'libopenssl3.x86_64:0:3.0.8-150500.5.27.1', KBId: 'libopenssl3.x86_64', Classification: 'Security', Severity: 'Important',
    State: 'Missing', InstalledTime: 0, CVEIds: 'CVE-2024-0727', ComplianceLevel: 'UNSPECIFIED',
  });
});

test('§6.3 + AWS agent: SUSE needs no security flag — a Recommended patch is approved by its rule even with EnableNonSecurity=false', () => {
  const compiled = compileBaseline(customBaseline('SUSE', { rules: [rule({ CLASSIFICATION: ['Recommended'] }, { ApproveAfterDays: 7 })] }));
  assert.equal(compiled.decideUpdate(zypp, SLES, NOW).approved, true);
  assert.equal(compiled.decideUpdate({ name: 'vim', arch: 'x86_64', version: '9.1-1' }, SLES, NOW).approved, false, 'no category: CLASSIFICATION does not match');
});

test('§4 SUSE lists: full names, patch names, one *', () => {
  const approvedBy = (entry: string) => compileBaseline(customBaseline('SUSE', { ApprovedPatches: [entry] })).decideUpdate(ssl, SLES, NOW).approved;
  for (const entry of ['libopenssl3-3.0.8-150500.5.27.1.x86_64', 'libopenssl3', 'libopenssl*', 'SUSE-SLE-Module-Basesystem-15-SP5-2024-1234', 'SUSE-SLE-Module-Basesystem-15-SP5-2024-*']) {
    assert.equal(approvedBy(entry), true, entry);
  }
  assert.equal(approvedBy('libopenssl3-3.0.8-150500.5.20.1.x86_64'), false);
  assert.equal(approvedBy('CVE-2024-0727'), false, 'CVE ids are a yum-family format');
  const rejected = compileBaseline(customBaseline('SUSE', { rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 0 })], RejectedPatches: ['SUSE-SLE-Module-Basesystem-15-SP5-2024-1234'] }));
  assert.equal(rejected.decideUpdate(ssl, SLES, NOW).explicit, 'rejected');
});

const gitInstalled: ScanPackage = { name: 'git', arch: 'arm64', version: '2.39.0', classification: 'brew', installedTime: utc('2023-01-01T00:00:00Z') };
const git: ScanPackage = { name: 'git', arch: 'arm64', version: '2.43.0', classification: 'brew' };
const xcodeInstalled: ScanPackage = { name: 'Xcode', arch: 'arm64', version: '15.2', classification: 'installer' };
const xcode: ScanPackage = { name: 'Xcode', arch: 'arm64', version: '15.3', classification: 'installer' };
const safariInstalled: ScanPackage = { name: 'Safari', arch: 'arm64', version: '17.3', classification: 'softwareupdate' };
const safari: ScanPackage = { name: 'Safari', arch: 'arm64', version: '17.4', classification: 'softwareupdate', security: true, releaseTime: NOW - DAY };

test('§7 AWS-MacOSDefaultPatchBaseline + §6.5: updates are Missing after 7 days (unknown release = now); `installer` packages are only reported', () => {
  const scan = nodeScan('MACOS', 'MacOS14.4', { installed: [gitInstalled, xcodeInstalled, safariInstalled], updates: [git, xcode, safari] });
  const result = evaluateNode(scan, compileBaseline(awsBaseline('AWS-MacOSDefaultPatchBaseline')), NOW);
  // Xcode's update is an `installer` package: not Missing; the installed version (approved: everything is) is Installed.
  assert.deepEqual(statesByKb(result), { git: 'Missing', Xcode: 'Installed', Safari: 'Installed' });
  // Patchline choice (AWS's agent spelling): Title name.version, KBId name; Classification = the package manager.
  assert.deepEqual(plain(rowOf(result, 'git')), { Title: 'git.2.43.0', KBId: 'git', Classification: 'brew', Severity: '', State: 'Missing', InstalledTime: 0, ComplianceLevel: 'UNSPECIFIED' });
  assert.equal(rowOf(result, 'Xcode').Title, 'Xcode.15.2');
  // Safari 17.4 was released a day ago: approved in 6 days. Meanwhile the installed 17.3 (release unknown) is approved.
  assert.equal(result.nextChangeAt, NOW + 6 * DAY);
  const later = evaluateNode(scan, compileBaseline(awsBaseline('AWS-MacOSDefaultPatchBaseline')), NOW + 6 * DAY);
  assert.equal(rowOf(later, 'Safari').State, 'Missing');
  assert.equal(rowOf(later, 'Xcode').State, 'Installed', 'never Missing, whatever the date');
});

test('§4 macOS lists: exact names only (no wildcards); Patchline choice: EnableNonSecurity=false requires the security flag', () => {
  const approvedBy = (entry: string) => compileBaseline(customBaseline('MACOS', { ApprovedPatches: [entry], ApprovedPatchesEnableNonSecurity: true })).decideUpdate(git, 'MacOS14.4', NOW).approved;
  assert.equal(approvedBy('git'), true);
  assert.equal(approvedBy('gi*'), false);
  const securityOnly = compileBaseline(customBaseline('MACOS', { rules: [rule({ CLASSIFICATION: ['softwareupdate', 'brew'] }, { ApproveAfterDays: 0 })] }));
  assert.equal(securityOnly.decideUpdate(safari, 'MacOS14.4', NOW).approved, true);
  assert.equal(securityOnly.decideUpdate(git, 'MacOS14.4', NOW).approved, false);
});
