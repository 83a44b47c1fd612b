// Windows Server evaluation: KB ids and MS bulletin ids, MSRC severity, classification, PATCH_SET, PRODUCT,
// AvailableSecurityUpdate under both AvailableSecurityUpdatesComplianceStatus settings, NotApplicable rows.
// KB numbers and CVEs are those of the January 2017 MSRC document in ../shared/fixtures/windows (CVE-2017-0002:
// KB3210720/KB3213986; CVE-2017-0003 Office: KB3141486; CVE-2017-0004: KB3212642/KB3216775; ADV170001 Flash:
// KB3214628). Each test names the rule it checks (semantics §2, §3, §4, §6.1, §7).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compileBaseline, evaluateNode } from '../../../src/domain/evaluation/index.ts';
import type { ScanPackage } from '../../../src/domain/evaluation/index.ts';
import { awsBaseline, customBaseline, nodeScan, plain, rowOf, rule, statesByKb, utc } from './support.ts';

const DAY = 86_400;
const PATCH_TUESDAY = utc('2017-01-10T18:00:00Z');
const NOW = utc('2017-01-20T12:00:00Z');

const kb = (id: string, extra: Partial<ScanPackage>): ScanPackage => ({ name: id, arch: '', version: '1', kbId: id, product: 'WindowsServer2016', productFamily: 'Windows', releaseTime: PATCH_TUESDAY, ...extra });

const ieCumulative = kb('KB3213986', { title: '2017-01 Cumulative Update for Windows Server 2016 for x64-based Systems (KB3213986)', classification: 'SecurityUpdates', msrcSeverity: 'Important', cveIds: ['CVE-2017-0002'], advisoryIds: ['MS17-001'] });
const flash = kb('KB3214628', { title: 'Security Update for Adobe Flash Player for Windows Server 2016 (KB3214628)', classification: 'SecurityUpdates', msrcSeverity: 'Critical', releaseTime: utc('2017-01-17T18:00:00Z'), cveIds: ['CVE-2017-2925'] });
const lsassModerate = kb('KB3216775', { title: 'Security Update for Windows Server 2016 (KB3216775)', classification: 'SecurityUpdates', msrcSeverity: 'Moderate' });
const plainUpdate = kb('KB3206632', { title: 'Update for Windows Server 2016 (KB3206632)', classification: 'Updates' });
const office = kb('KB3141486', { title: 'Security Update for Microsoft Office 2016 (KB3141486)', classification: 'SecurityUpdates', msrcSeverity: 'Important', patchSet: 'APPLICATION', product: 'Office 2016', productFamily: 'Office', cveIds: ['CVE-2017-0003'] });
const installedIe = kb('KB3210720', { title: 'Security Update for Internet Explorer (KB3210720)', classification: 'SecurityUpdates', msrcSeverity: 'Important', releaseTime: utc('2016-12-13T18:00:00Z'), installedTime: utc('2016-12-20T02:00:00Z') });
const installedOld = kb('KB3199986', { title: 'Update for Windows Server 2016 (KB3199986)', classification: 'Updates', releaseTime: utc('2016-10-27T18:00:00Z'), installedTime: utc('2016-11-01T02:00:00Z') });
const notApplicableLsass = kb('KB3212642', { title: 'Security Update for Windows Server 2012 R2 (KB3212642)', classification: 'SecurityUpdates', msrcSeverity: 'Important', product: 'WindowsServer2012R2' });

function server2016(parts: Parameters<typeof nodeScan>[2] = {}) {
  return nodeScan('WINDOWS', 'WindowsServer2016', {
    installed: [installedIe, installedOld],
    updates: [ieCumulative, flash, lsassModerate, plainUpdate, office],
    notApplicable: [notApplicableLsass],
    ...parts,
  });
}

test('§7 AWS-DefaultPatchBaseline: {CriticalUpdates,SecurityUpdates} ∧ MSRC {Critical,Important} after 7 days; rows per §2 (Windows Title = KB title, KBId = KB id)', () => {
  const result = evaluateNode(server2016(), compileBaseline(awsBaseline('AWS-DefaultPatchBaseline')), NOW);
  assert.deepEqual(statesByKb(result), {
    KB3210720: 'Installed',
    KB3199986: 'InstalledOther',
    KB3213986: 'Missing',
    KB3214628: 'AvailableSecurityUpdate', // released 3 days ago: approval pending
    KB3212642: 'NotApplicable',
  });
  assert.deepEqual(plain(rowOf(result, 'KB3213986')), {
    Title: '2017-01 Cumulative Update for Windows Server 2016 for x64-based Systems (KB3213986)', KBId: 'KB3213986',
    Classification: 'SecurityUpdates', Severity: 'Important', State: 'Missing', InstalledTime: 0, CVEIds: 'CVE-2017-0002', ComplianceLevel: 'UNSPECIFIED',
  });
  assert.deepEqual(plain(rowOf(result, 'KB3210720')), {
    Title: 'Security Update for Internet Explorer (KB3210720)', KBId: 'KB3210720', Classification: 'SecurityUpdates', Severity: 'Important',
    State: 'Installed', InstalledTime: utc('2016-12-20T02:00:00Z'), ComplianceLevel: 'UNSPECIFIED',
  });
  // §2 NotApplicable: approved, but for a product that is not on the node; listed individually on Windows.
  assert.equal(result.counters.NotApplicableCount, 1);
  assert.equal(result.nextChangeAt, utc('2017-01-24T18:00:00Z'));
});

test('§2 AVAILABLE_SECURITY_UPDATE: COMPLIANT by default (Patchline choice), NON_COMPLIANT counts it as a non-compliant Security patch', () => {
  const compliant = evaluateNode(server2016(), compileBaseline(awsBaseline('AWS-DefaultPatchBaseline')), NOW);
  assert.equal(compliant.counters.AvailableSecurityUpdateCount, 1);
  assert.equal(compliant.counters.MissingCount, 1);
  assert.equal(compliant.counters.SecurityNonCompliantCount, 1, 'only the Missing one');
  assert.equal(compliant.counters.OtherNonCompliantCount, 0);
  assert.deepEqual(plain(rowOf(compliant, 'KB3214628')), {
    Title: 'Security Update for Adobe Flash Player for Windows Server 2016 (KB3214628)', KBId: 'KB3214628', Classification: 'SecurityUpdates',
    Severity: 'Critical', State: 'AvailableSecurityUpdate', InstalledTime: 0, ComplianceLevel: 'UNSPECIFIED',
  });

  const strictBaseline = customBaseline('WINDOWS', {
    rules: [rule({ CLASSIFICATION: ['CriticalUpdates', 'SecurityUpdates'], MSRC_SEVERITY: ['Critical', 'Important'] }, { ApproveAfterDays: 7, ComplianceLevel: 'CRITICAL' })],
    AvailableSecurityUpdatesComplianceStatus: 'NON_COMPLIANT',
  });
  const strict = evaluateNode(server2016(), compileBaseline(strictBaseline), NOW);
  assert.equal(strict.counters.AvailableSecurityUpdateCount, 1);
  assert.equal(rowOf(strict, 'KB3214628').ComplianceLevel, 'CRITICAL', 'the level of the rule that will approve it');
  assert.equal(strict.counters.SecurityNonCompliantCount, 2);
  assert.equal(strict.counters.CriticalNonCompliantCount, 2);
  // After the delay it is simply Missing.
  const later = evaluateNode(server2016(), compileBaseline(strictBaseline), utc('2017-01-24T18:00:00Z'));
  assert.equal(rowOf(later, 'KB3214628').State, 'Missing');
  assert.equal(later.counters.AvailableSecurityUpdateCount, 0);
});

test('§4 Windows filters: MSRC_SEVERITY (missing = Unspecified), CLASSIFICATION, PRODUCT (the update\'s product), PRODUCT_FAMILY', () => {
  const approves = (filters: Record<string, string[]>, pkg: ScanPackage) =>
    compileBaseline(customBaseline('WINDOWS', { rules: [rule(filters, { ApproveAfterDays: 0 })] })).decideUpdate(pkg, 'WindowsServer2016', NOW).approved;
  assert.equal(approves({ MSRC_SEVERITY: ['Moderate'] }, lsassModerate), true);
  assert.equal(approves({ MSRC_SEVERITY: ['Critical', 'Important'] }, lsassModerate), false);
  assert.equal(approves({ MSRC_SEVERITY: ['Unspecified'] }, plainUpdate), true);
  assert.equal(approves({ CLASSIFICATION: ['Updates'] }, plainUpdate), true);
  assert.equal(approves({ CLASSIFICATION: ['SecurityUpdates'] }, plainUpdate), false);
  assert.equal(approves({ PRODUCT: ['WindowsServer2016'] }, ieCumulative), true);
  assert.equal(approves({ PRODUCT: ['WindowsServer2019'] }, ieCumulative), false);
  assert.equal(approves({ PRODUCT: ['WindowsServer2016'] }, { ...ieCumulative, product: undefined }), true, 'no product on the update: the node\'s');
  assert.equal(approves({ PATCH_SET: ['APPLICATION'], PRODUCT_FAMILY: ['Office'] }, office), true);
  assert.equal(approves({ PATCH_SET: ['APPLICATION'], PRODUCT_FAMILY: ['Windows'] }, office), false);
});

test('§6.1 PATCH_SET: rules without PATCH_SET cover OS patches only; AWS-WindowsPredefinedPatchBaseline-OS-Applications adds application patches', () => {
  const osOnly = evaluateNode(server2016(), compileBaseline(awsBaseline('AWS-WindowsPredefinedPatchBaseline-OS')), NOW);
  assert.equal(statesByKb(osOnly).KB3141486, undefined, 'the Office update is not approved: no row');
  const withApps = evaluateNode(server2016(), compileBaseline(awsBaseline('AWS-WindowsPredefinedPatchBaseline-OS-Applications')), NOW);
  assert.deepEqual(plain(rowOf(withApps, 'KB3141486')), {
    Title: 'Security Update for Microsoft Office 2016 (KB3141486)', KBId: 'KB3141486', Classification: 'SecurityUpdates', Severity: 'Important',
    State: 'Missing', InstalledTime: 0, CVEIds: 'CVE-2017-0003', ComplianceLevel: 'UNSPECIFIED',
  });
});

test('§4 Windows lists: KB ids and MS bulletin ids approve (level ApprovedPatchesComplianceLevel) even against the rules; rejected wins; PATCH_ID global filter', () => {
  const approved = customBaseline('WINDOWS', {
    rules: [rule({ CLASSIFICATION: ['CriticalUpdates'] }, { ApproveAfterDays: 0 })],
    ApprovedPatches: ['KB3206632', 'MS17-001'], ApprovedPatchesComplianceLevel: 'MEDIUM',
  });
  const r = evaluateNode(server2016(), compileBaseline(approved), NOW);
  assert.equal(rowOf(r, 'KB3206632').State, 'Missing');
  assert.equal(rowOf(r, 'KB3206632').ComplianceLevel, 'MEDIUM');
  assert.equal(rowOf(r, 'KB3213986').State, 'Missing', 'approved through its bulletin MS17-001');
  assert.equal(compileBaseline(approved).decideUpdate(ieCumulative, 'WindowsServer2016', NOW).explicit, 'approved');
  // A bare KB number in the scan matches the KB id in the list.
  assert.equal(compileBaseline(approved).decideUpdate({ ...plainUpdate, kbId: '3206632' }, 'WindowsServer2016', NOW).approved, true);

  const both = customBaseline('WINDOWS', { ApprovedPatches: ['KB3206632'], RejectedPatches: ['kb3206632'] });
  assert.deepEqual(compileBaseline(both).decideUpdate(plainUpdate, 'WindowsServer2016', NOW), { approved: false, explicit: 'rejected', complianceLevel: 'UNSPECIFIED', security: false });

  const onlyIe = customBaseline('WINDOWS', { GlobalFilters: { PatchFilters: [{ Key: 'PATCH_ID', Values: ['KB3213986'] }] }, rules: [rule({ CLASSIFICATION: ['*'] }, { ApproveAfterDays: 0 })] });
  const g = evaluateNode(server2016({ notApplicable: [] }), compileBaseline(onlyIe), NOW);
  assert.deepEqual(statesByKb(g), { KB3210720: 'InstalledOther', KB3199986: 'InstalledOther', KB3213986: 'Missing' });
});

test('§4 RejectedPatchesAction on Windows: installed rejected → InstalledRejected with BLOCK, InstalledOther with ALLOW_AS_DEPENDENCY; a rejected update is never Missing', () => {
  const base = { ...awsBaseline('AWS-DefaultPatchBaseline'), BaselineId: 'pb-0a1b2c3d4e5f60718', RejectedPatches: ['KB3210720', 'KB3213986'] };
  const block = evaluateNode(server2016(), compileBaseline({ ...base, RejectedPatchesAction: 'BLOCK' }), NOW);
  assert.equal(rowOf(block, 'KB3210720').State, 'InstalledRejected');
  assert.equal(statesByKb(block).KB3213986, undefined);
  assert.equal(block.counters.InstalledRejectedCount, 1);
  assert.equal(block.counters.SecurityNonCompliantCount, 1, 'the rejected installed update is a SecurityUpdates patch');
  const allow = evaluateNode(server2016(), compileBaseline({ ...base, RejectedPatchesAction: 'ALLOW_AS_DEPENDENCY' }), NOW);
  assert.equal(rowOf(allow, 'KB3210720').State, 'InstalledOther');
  assert.equal(allow.counters.InstalledRejectedCount, 0);
});

test('§2 Windows Install operations: Failed for an approved update that failed; InstalledPendingReboot until the reboot', () => {
  const compiled = compileBaseline(awsBaseline('AWS-DefaultPatchBaseline'));
  const failed = evaluateNode(server2016({ operation: 'Install', failed: [{ name: 'KB3213986', arch: '' }] }), compiled, NOW);
  assert.equal(rowOf(failed, 'KB3213986').State, 'Failed');
  assert.equal(rowOf(failed, 'KB3213986').CVEIds, 'CVE-2017-0002');
  assert.equal(failed.counters.FailedCount, 1);
  // The same report as a Scan: a failure list from an earlier install does not apply.
  assert.equal(rowOf(evaluateNode(server2016({ failed: [{ name: 'KB3213986', arch: '' }] }), compiled, NOW), 'KB3213986').State, 'Missing');

  const justInstalled: ScanPackage = { ...ieCumulative, installedTime: NOW - 600 };
  const pending = server2016({ operation: 'Install', rebootPending: true, installed: [installedIe, justInstalled], updates: [], pendingReboot: [{ name: 'KB3213986', arch: '' }] });
  const before = evaluateNode(pending, compiled, NOW);
  assert.equal(rowOf(before, 'KB3213986').State, 'InstalledPendingReboot');
  assert.equal(before.counters.InstalledPendingRebootCount, 1);
  assert.equal(before.counters.SecurityNonCompliantCount, 1);
  const after = evaluateNode({ ...pending, operation: 'Scan', rebootPending: false }, compiled, NOW);
  assert.equal(rowOf(after, 'KB3213986').State, 'Installed');
});
