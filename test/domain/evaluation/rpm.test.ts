// Amazon Linux 2023 / RHEL evaluation: notice classification and severity rules, Medium ≡ Moderate, the
// approval date conditions in UTC, EnableNonSecurity, explicit lists and compliance levels. Each test names the
// documented rule it checks (semantics §2–§7, the PatchRule model text, docs/evaluation.md for Patchline choices).
// Package names, versions, advisory and CVE ids follow ../shared/fixtures/updateinfo (ALAS2023-2023-001 rsyslog,
// ALAS2-2018-942 qemu-kvm with epoch 10).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compileBaseline, evaluateNode } from '../../../src/domain/evaluation/index.ts';
import type { ScanPackage } from '../../../src/domain/evaluation/index.ts';
import { awsBaseline, customBaseline, nodeScan, plain, rowOf, rule, stateOf, statesByKb, utc } from './support.ts';

const AL2023 = 'AmazonLinux2023';
const DAY = 86_400;

/** rsyslog from ALAS2023-2023-001 (Important; issued 2023-02-17 20:41). */
const rsyslog: ScanPackage = {
  name: 'rsyslog', arch: 'x86_64', version: '8.2204.0-3.amzn2023.0.2', repository: 'amazonlinux', classification: 'Security', severity: 'Important',
  releaseTime: utc('2023-02-17T20:41:00Z'), advisoryIds: ['ALAS2023-2023-001'], cveIds: ['CVE-2014-3634', 'CVE-2022-24903'], bugzillaIds: ['2081353'],
};
const rsyslogInstalled: ScanPackage = { name: 'rsyslog', arch: 'x86_64', version: '8.2204.0-2.amzn2023.0.1', installedTime: utc('2023-01-10T08:00:00Z') };

function al2023(installed: ScanPackage[], updates: ScanPackage[]) {
  return nodeScan('AMAZON_LINUX_2023', AL2023, { installed, updates });
}

test('§7 AWS-AmazonLinux2023DefaultPatchBaseline: Security∧{Critical,Important} and Bugfix after 7 days; not Moderate, not Enhancement, not outside a notice', () => {
  const released = utc('2023-03-01T00:00:00Z');
  const now = released + 8 * DAY;
  const installed: ScanPackage[] = ['sec-important', 'sec-moderate', 'bugfix', 'enhancement', 'no-notice', 'sec-critical-new'].map((name) => ({ name, arch: 'x86_64', version: '1.0-1.amzn2023' }));
  const cand = (name: string, extra: Partial<ScanPackage>): ScanPackage => ({ name, arch: 'x86_64', version: '1.1-1.amzn2023', releaseTime: released, ...extra });
  const updates = [
    cand('sec-important', { classification: 'Security', severity: 'Important' }),
    cand('sec-moderate', { classification: 'Security', severity: 'Moderate' }),
    cand('bugfix', { classification: 'Bugfix' }),
    cand('enhancement', { classification: 'Enhancement', severity: 'Low' }),
    cand('no-notice', {}),
    cand('sec-critical-new', { classification: 'Security', severity: 'Critical', releaseTime: now - 2 * DAY }),
  ];
  const result = evaluateNode(al2023(installed, updates), compileBaseline(awsBaseline('AWS-AmazonLinux2023DefaultPatchBaseline')), now);
  assert.deepEqual(statesByKb(result), {
    'sec-important.x86_64': 'Missing',
    'sec-moderate.x86_64': 'InstalledOther',
    'bugfix.x86_64': 'Missing',
    'enhancement.x86_64': 'InstalledOther',
    'no-notice.x86_64': 'InstalledOther',
    'sec-critical-new.x86_64': 'InstalledOther',
  });
  assert.equal(result.nextChangeAt, now + 5 * DAY, 'the Critical one is approved 7 days after its release');
  assert.equal(result.counters.SecurityNonCompliantCount, 1);
  assert.equal(result.counters.OtherNonCompliantCount, 1);
});

test('§5 Medium ≡ Moderate on AMAZON_LINUX_2023 in both directions, but not on RHEL', () => {
  const now = utc('2024-01-01T00:00:00Z');
  const moderate: ScanPackage = { ...rsyslog, severity: 'Moderate', releaseTime: now - 30 * DAY };
  const medium: ScanPackage = { ...rsyslog, severity: 'Medium', releaseTime: now - 30 * DAY };
  const byMedium = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Medium'] }, { ApproveAfterDays: 0 })] }));
  const byModerate = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Moderate'] }, { ApproveAfterDays: 0 })] }));
  assert.equal(byMedium.decideUpdate(moderate, AL2023, now).approved, true);
  assert.equal(byModerate.decideUpdate(medium, AL2023, now).approved, true);
  assert.equal(byMedium.decideUpdate(medium, AL2023, now).approved, true);
  const rhel = compileBaseline(customBaseline('REDHAT_ENTERPRISE_LINUX', { rules: [rule({ SEVERITY: ['Medium'] }, { ApproveAfterDays: 0 })] }));
  assert.equal(rhel.decideUpdate(moderate, 'RedhatEnterpriseLinux9.4', now).approved, false);
  // Values are compared case-insensitively (the agent lowercases both sides): 'important' in updateinfo.xml.
  assert.equal(byMedium.decideUpdate({ ...moderate, severity: 'moderate' }, AL2023, now).approved, true);
});

test('PatchRule.ApproveAfterDays (model text): released 2025-11-09T18:00Z with 7 days → not approved at 2025-11-16T17:59:59Z, approved at 18:00:00Z', () => {
  const pkg: ScanPackage = { ...rsyslog, releaseTime: utc('2025-11-09T18:00:00Z') };
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 7, ComplianceLevel: 'HIGH' })] }));
  const before = compiled.decideUpdate(pkg, AL2023, utc('2025-11-16T17:59:59Z'));
  assert.deepEqual(before, { approved: false, explicit: undefined, complianceLevel: 'HIGH', security: true, pendingUntil: utc('2025-11-16T18:00:00Z') });
  const at = compiled.decideUpdate(pkg, AL2023, utc('2025-11-16T18:00:00Z'));
  assert.deepEqual(at, { approved: true, explicit: undefined, complianceLevel: 'HIGH', security: true, approvalTime: utc('2025-11-16T18:00:00Z') });
  // The node's rows follow, and nextChangeAt says when to look again.
  const scan = al2023([rsyslogInstalled], [pkg]);
  const early = evaluateNode(scan, compiled, utc('2025-11-16T17:59:59Z'));
  assert.equal(stateOf(early, 'rsyslog.x86_64'), 'InstalledOther');
  assert.equal(early.nextChangeAt, utc('2025-11-16T18:00:00Z'));
  const due = evaluateNode(scan, compiled, utc('2025-11-16T18:00:00Z'));
  assert.equal(stateOf(due, 'rsyslog.x86_64'), 'Missing');
  assert.equal(due.nextChangeAt, undefined);
});

test('PatchRule.ApproveUntilDate (model text): the whole UTC day is included; later releases are never approved by the rule', () => {
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveUntilDate: '2025-11-16' })] }));
  const now = utc('2026-01-01T00:00:00Z');
  const last = compiled.decideUpdate({ ...rsyslog, releaseTime: utc('2025-11-16T23:59:59Z') }, AL2023, now);
  assert.equal(last.approved, true);
  assert.equal(last.approvalTime, utc('2025-11-16T23:59:59Z'), 'Patchline: approval time = release time under a cut-off date');
  const first = compiled.decideUpdate({ ...rsyslog, releaseTime: utc('2025-11-17T00:00:00Z') }, AL2023, now);
  assert.equal(first.approved, false);
  assert.equal(first.pendingUntil, undefined, 'a cut-off rule never approves it later');
  assert.equal(compiled.decideUpdate({ ...rsyslog, releaseTime: utc('2025-11-16T00:00:00Z') }, AL2023, utc('2025-11-16T00:00:00Z')).approved, true);
});

test('§4 approval date [doc]: an unknown release time counts as a delay of 0', () => {
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 360 })] }));
  const { releaseTime: _r, ...unknown } = rsyslog;
  const d = compiled.decideUpdate(unknown, AL2023, utc('2023-02-18T00:00:00Z'));
  assert.equal(d.approved, true);
  assert.equal(d.approvalTime, undefined);
  assert.equal(d.pendingUntil, undefined);
});

test('§6.2 [doc]: packages outside any update notice are approved only with EnableNonSecurity; a Bugfix notice is enough without it (§7 default rules)', () => {
  const now = utc('2024-06-01T00:00:00Z');
  const noNotice: ScanPackage = { name: 'htop', arch: 'x86_64', version: '3.2.2-1.amzn2023', releaseTime: now - 30 * DAY };
  const bugfix: ScanPackage = { name: 'tzdata', arch: 'noarch', version: '2024a-1.amzn2023', classification: 'Bugfix', advisoryIds: ['ALAS2023-2024-500'], releaseTime: now - 30 * DAY };
  const anything = rule({ PRODUCT: ['*'], CLASSIFICATION: ['*'], SEVERITY: ['*'] }, { ApproveAfterDays: 7 });
  const securityOnly = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [anything] }));
  assert.equal(securityOnly.decideUpdate(noNotice, AL2023, now).approved, false);
  assert.equal(securityOnly.decideUpdate(bugfix, AL2023, now).approved, true);
  const nonSecurity = compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [{ ...anything, EnableNonSecurity: true }] }));
  assert.equal(nonSecurity.decideUpdate(noNotice, AL2023, now).approved, true);
  // AWS-CentOSDefaultPatchBaseline enables non-security updates: everything after 7 days.
  assert.equal(compileBaseline(awsBaseline('AWS-CentOSDefaultPatchBaseline')).decideUpdate(noNotice, 'CentOS7.9', now).approved, true);
});

test('§4 ApprovedPatches (yum formats): full names in NEVRA spellings, one *, advisory ids, CVE ids, Bugzilla ids — even when GlobalFilters exclude', () => {
  const now = utc('2023-02-18T00:00:00Z'); // one day after release: no rule would approve yet
  const globalSecurityOnly = { GlobalFilters: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Bugfix'] }] }, rules: [rule({ CLASSIFICATION: ['*'] }, { ApproveAfterDays: 7 })] };
  const approvedBy = (entry: string) => compileBaseline(customBaseline('AMAZON_LINUX_2023', { ...globalSecurityOnly, ApprovedPatches: [entry], ApprovedPatchesComplianceLevel: 'CRITICAL' })).decideUpdate(rsyslog, AL2023, now);
  for (const entry of [
    'rsyslog-8.2204.0-3.amzn2023.0.2.x86_64', 'rsyslog-0:8.2204.0-3.amzn2023.0.2.x86_64', '0:rsyslog-8.2204.0-3.amzn2023.0.2.x86_64', 'rsyslog',
    'rsyslog.x86_64', 'rsys*', 'RSYSLOG', 'ALAS2023-2023-001', 'CVE-2022-24903', '2081353',
  ]) {
    const d = approvedBy(entry);
    assert.deepEqual({ approved: d.approved, explicit: d.explicit, level: d.complianceLevel }, { approved: true, explicit: 'approved', level: 'CRITICAL' }, entry);
  }
  for (const entry of ['rsyslog-8.2204.0-2.amzn2023.0.1.x86_64', 'rsyslog.aarch64', 'kernel*', 'ALAS2023-2023-002', 'CVE-2014-0001']) {
    assert.equal(approvedBy(entry).approved, false, entry);
  }
  // Explicit approval of a package outside any notice needs ApprovedPatchesEnableNonSecurity.
  const plainPkg: ScanPackage = { name: 'htop', arch: 'x86_64', version: '3.2.2-1.amzn2023' };
  const list = (enable: boolean) => compileBaseline(customBaseline('AMAZON_LINUX_2023', { ApprovedPatches: ['htop'], ApprovedPatchesEnableNonSecurity: enable }));
  assert.equal(list(false).decideUpdate(plainPkg, AL2023, now).approved, false);
  assert.equal(list(true).decideUpdate(plainPkg, AL2023, now).approved, true);
});

test('§4 RejectedPatches: removed from the approved set; a patch on both lists is rejected', () => {
  const now = utc('2024-01-01T00:00:00Z');
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', {
    rules: [rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 0 })], ApprovedPatches: ['rsyslog*'], RejectedPatches: ['rsyslog'],
  }));
  assert.deepEqual(compiled.decideUpdate(rsyslog, AL2023, now), { approved: false, explicit: 'rejected', complianceLevel: 'UNSPECIFIED', security: true });
  assert.equal(compiled.isRejected(rsyslog), true);
  assert.equal(compiled.isRejectedName('rsyslog'), true);
  // Installed and rejected with the default ALLOW_AS_DEPENDENCY → InstalledOther; the update is not Missing.
  assert.equal(stateOf(evaluateNode(al2023([rsyslogInstalled], [rsyslog]), compiled, now), 'rsyslog.x86_64'), 'InstalledOther');
});

test('§4 compliance level + §3.1 counters: rule levels stamp rows; several rules → the highest (Patchline choice); Critical/Security/Other', () => {
  const now = utc('2024-01-01T00:00:00Z');
  const old = now - 30 * DAY;
  const compiled = compileBaseline(customBaseline('AMAZON_LINUX_2023', {
    rules: [
      rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Critical'] }, { ApproveAfterDays: 0, ComplianceLevel: 'CRITICAL' }),
      rule({ CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 0, ComplianceLevel: 'LOW' }),
      rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Important'] }, { ApproveAfterDays: 0, ComplianceLevel: 'HIGH' }),
      rule({ CLASSIFICATION: ['Bugfix'] }, { ApproveAfterDays: 0, ComplianceLevel: 'CRITICAL' }),
      rule({ CLASSIFICATION: ['Enhancement'] }, { ApproveAfterDays: 0, ComplianceLevel: 'MEDIUM' }),
    ],
  }));
  const names = ['crit-sec', 'imp-sec', 'low-sec', 'crit-bugfix', 'enh'];
  const installed = names.map((name) => ({ name, arch: 'x86_64', version: '1-1' }));
  const updates: ScanPackage[] = [
    { name: 'crit-sec', arch: 'x86_64', version: '1-2', classification: 'Security', severity: 'Critical', releaseTime: old },
    { name: 'imp-sec', arch: 'x86_64', version: '1-2', classification: 'Security', severity: 'Important', releaseTime: old },
    { name: 'low-sec', arch: 'x86_64', version: '1-2', classification: 'Security', severity: 'Low', releaseTime: old },
    { name: 'crit-bugfix', arch: 'x86_64', version: '1-2', classification: 'Bugfix', releaseTime: old },
    { name: 'enh', arch: 'x86_64', version: '1-2', classification: 'Enhancement', severity: 'Low', releaseTime: old },
  ];
  const result = evaluateNode(al2023(installed, updates), compiled, now);
  const levels = Object.fromEntries(result.rows.map((r) => [r.KBId, r.ComplianceLevel]));
  assert.deepEqual(levels, { 'crit-sec.x86_64': 'CRITICAL', 'imp-sec.x86_64': 'HIGH', 'low-sec.x86_64': 'LOW', 'crit-bugfix.x86_64': 'CRITICAL', 'enh.x86_64': 'MEDIUM' });
  assert.equal(result.counters.MissingCount, 5);
  assert.equal(result.counters.CriticalNonCompliantCount, 2); // crit-sec, crit-bugfix
  assert.equal(result.counters.SecurityNonCompliantCount, 3); // crit-sec, imp-sec, low-sec
  assert.equal(result.counters.OtherNonCompliantCount, 1); // enh (crit-bugfix is Critical)
});

test('§2 rows: Title name.arch:epoch:version-release (epoch 0 when absent), KBId name.arch, vendor classification/severity, CVEIds only when Missing', () => {
  const now = utc('2024-01-01T00:00:00Z');
  const qemuInstalled: ScanPackage = { name: 'qemu-kvm', arch: 'x86_64', version: '10:1.5.3-141.amzn2.5.3', installedTime: utc('2018-01-02T03:04:05Z') };
  const qemu: ScanPackage = {
    name: 'qemu-kvm', arch: 'x86_64', version: '10:1.5.3-141.amzn2.5.4', classification: 'Security', severity: 'Important',
    releaseTime: utc('2018-01-04T17:24:00Z'), advisoryIds: ['ALAS2-2018-942'], cveIds: ['CVE-2017-5715'],
  };
  const compiled = compileBaseline(awsBaseline('AWS-AmazonLinux2DefaultPatchBaseline'));
  const missing = evaluateNode(nodeScan('AMAZON_LINUX_2', 'AmazonLinux2', { installed: [qemuInstalled, rsyslogInstalled], updates: [qemu] }), compiled, now);
  assert.deepEqual(plain(rowOf(missing, 'qemu-kvm.x86_64')), {
    Title: 'qemu-kvm.x86_64:10:1.5.3-141.amzn2.5.4', KBId: 'qemu-kvm.x86_64', Classification: 'Security', Severity: 'Important',
    State: 'Missing', InstalledTime: 0, CVEIds: 'CVE-2017-5715', ComplianceLevel: 'UNSPECIFIED',
  });
  assert.deepEqual(plain(rowOf(missing, 'rsyslog.x86_64')), {
    Title: 'rsyslog.x86_64:0:8.2204.0-2.amzn2023.0.1', KBId: 'rsyslog.x86_64', Classification: '', Severity: '',
    State: 'InstalledOther', InstalledTime: utc('2023-01-10T08:00:00Z'), ComplianceLevel: 'UNSPECIFIED',
  });
  // Once installed (the notice's version is now the installed one, with its notice metadata) → Installed, no CVEIds.
  const installedNow: ScanPackage = { ...qemu, installedTime: utc('2024-01-01T00:00:00Z') };
  const after = evaluateNode(nodeScan('AMAZON_LINUX_2', 'AmazonLinux2', { installed: [installedNow] }), compiled, now);
  assert.deepEqual(plain(rowOf(after, 'qemu-kvm.x86_64')), {
    Title: 'qemu-kvm.x86_64:10:1.5.3-141.amzn2.5.4', KBId: 'qemu-kvm.x86_64', Classification: 'Security', Severity: 'Important',
    State: 'Installed', InstalledTime: utc('2024-01-01T00:00:00Z'), ComplianceLevel: 'UNSPECIFIED',
  });
});

test('§4 step 5 + §2: one row per name+arch — the newest installed kernel counts; the newest approved candidate is reported with every superseded CVE', () => {
  const now = utc('2024-06-01T00:00:00Z');
  const old = now - 30 * DAY;
  const installed: ScanPackage[] = [
    { name: 'kernel', arch: 'x86_64', version: '6.1.77-99.164.amzn2023' },
    { name: 'kernel', arch: 'x86_64', version: '6.1.79-99.167.amzn2023' },
  ];
  const updates: ScanPackage[] = [
    { name: 'kernel', arch: 'x86_64', version: '6.1.82-99.168.amzn2023', classification: 'Security', severity: 'Important', releaseTime: old, cveIds: ['CVE-2024-0001'] },
    { name: 'kernel', arch: 'x86_64', version: '6.1.90-99.173.amzn2023', classification: 'Security', severity: 'Important', releaseTime: old, cveIds: ['CVE-2024-0002', 'CVE-2024-0003'] },
    { name: 'kernel', arch: 'x86_64', version: '6.1.91-99.174.amzn2023', classification: 'Security', severity: 'Low', releaseTime: old, cveIds: ['CVE-2024-0009'] },
  ];
  const compiled = compileBaseline(awsBaseline('AWS-AmazonLinux2023DefaultPatchBaseline'));
  const result = evaluateNode(al2023(installed, updates), compiled, now);
  assert.equal(result.rows.length, 1);
  assert.deepEqual(plain(rowOf(result, 'kernel.x86_64')), {
    Title: 'kernel.x86_64:0:6.1.90-99.173.amzn2023', KBId: 'kernel.x86_64', Classification: 'Security', Severity: 'Important',
    State: 'Missing', InstalledTime: 0, CVEIds: 'CVE-2024-0002,CVE-2024-0003,CVE-2024-0001', ComplianceLevel: 'UNSPECIFIED',
  });
  // Without candidates, the newest installed version is the row.
  assert.equal(rowOf(evaluateNode(al2023(installed, []), compiled, now), 'kernel.x86_64').Title, 'kernel.x86_64:0:6.1.79-99.167.amzn2023');
});

test('API §12 RPM filter keys: NAME (with *), ARCH, REPOSITORY, EPOCH, VERSION, RELEASE, ADVISORY_ID, CVE_ID, BUGZILLA_ID, SECURITY, SEVERITY None', () => {
  const now = utc('2024-01-01T00:00:00Z');
  const pkg: ScanPackage = { ...rsyslog, version: '2:8.2204.0-3.amzn2023.0.2', releaseTime: now - 10 * DAY };
  const approves = (filters: Record<string, string[]>, p: ScanPackage = pkg) =>
    compileBaseline(customBaseline('AMAZON_LINUX_2023', { rules: [rule(filters, { ApproveAfterDays: 0, EnableNonSecurity: true })] })).decideUpdate(p, AL2023, now).approved;
  assert.equal(approves({ NAME: ['rsys*'] }), true);
  assert.equal(approves({ NAME: ['kernel'] }), false);
  assert.equal(approves({ ARCH: ['x86_64'] }), true);
  assert.equal(approves({ ARCH: ['aarch64'] }), false);
  assert.equal(approves({ REPOSITORY: ['amazonlinux'] }), true);
  assert.equal(approves({ EPOCH: ['2'] }), true);
  assert.equal(approves({ EPOCH: ['0'] }, { ...pkg, version: '8.2204.0-3.amzn2023.0.2' }), true, 'no epoch reads as 0');
  assert.equal(approves({ VERSION: ['8.2204.0'], RELEASE: ['3.amzn2023.0.2'] }), true);
  assert.equal(approves({ ADVISORY_ID: ['ALAS2023-2023-001'] }), true);
  assert.equal(approves({ CVE_ID: ['CVE-2022-24903'] }), true);
  assert.equal(approves({ BUGZILLA_ID: ['2081353'] }), true);
  assert.equal(approves({ BUGZILLA_ID: ['1'] }), false);
  assert.equal(approves({ SECURITY: ['SecurityUpdates'] }), true);
  assert.equal(approves({ SECURITY: ['NonSecurityUpdates'] }), false);
  // A notice without a severity reads as "None" (AWS agent); a package outside any notice has no severity at all.
  const bugfix: ScanPackage = { name: 'tzdata', arch: 'noarch', version: '2024a-1', classification: 'Bugfix', releaseTime: now - 10 * DAY };
  assert.equal(approves({ SEVERITY: ['None'] }, bugfix), true);
  assert.equal(approves({ SEVERITY: ['None'] }, { name: 'htop', arch: 'x86_64', version: '3-1' }), false);
  // An unknown key for the OS never matches (Patchline choice; CreatePatchBaseline rejects it anyway).
  assert.equal(approves({ PRIORITY: ['*'] }), false);
});

test('§5 PRODUCT on RHEL: the node\'s product decides (RedhatEnterpriseLinux9.4)', () => {
  const now = utc('2024-01-01T00:00:00Z');
  const pkg: ScanPackage = { name: 'openssl', arch: 'x86_64', version: '1:3.0.7-25.el9_3', classification: 'Security', severity: 'Important', releaseTime: now - 10 * DAY, advisoryIds: ['RHSA-2023:7877'] };
  const compiled = compileBaseline(customBaseline('REDHAT_ENTERPRISE_LINUX', { rules: [rule({ PRODUCT: ['RedhatEnterpriseLinux9.4'], CLASSIFICATION: ['Security'] }, { ApproveAfterDays: 7 })] }));
  assert.equal(compiled.usesProduct, true);
  assert.equal(compiled.decideUpdate(pkg, 'RedhatEnterpriseLinux9.4', now).approved, true);
  assert.equal(compiled.decideUpdate(pkg, 'RedhatEnterpriseLinux9.3', now).approved, false);
});
