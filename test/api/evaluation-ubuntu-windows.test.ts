// Ubuntu and Windows scans, and Install operations, evaluated by the real server on every store engine against
// hand-computed tables (each row names the documented rule that decides it: docs/evaluation.md; semantics §2
// states, §3 counters and compliance, §4 pipeline, §6.4 apt, §7 Windows). Ubuntu approves at once even when the
// rule says ApproveAfterDays, and only security-pocket (`jammy-security`) versions under EnableNonSecurity=false.
// Windows: KB updates with Classification, MsrcSeverity, Product and PatchSet; NotApplicable updates;
// AvailableSecurityUpdate under AvailableSecurityUpdatesComplianceStatus COMPLIANT and NON_COMPLIANT, also in
// DescribePatchGroupState. Install operations: Failed, InstalledByOperation → InstalledPendingReboot while
// RebootPending, Installed after a later scan without it, RebootOption NoReboot → LastNoRebootInstallOperationTime.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddTagsToResourceCommand, CreatePatchBaselineCommand, DescribePatchGroupStateCommand, GetDefaultPatchBaselineCommand, ListInventoryEntriesCommand,
  RegisterPatchBaselineForPatchGroupCommand,  UpdatePatchBaselineCommand, type PatchRule, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { nodeId } from '../helpers/fleet.ts';
import {
  assertAggregatesExact, assertConsistent, assertTable, counters, countersOf, DAY, evaluationStatus, nodeView, nowSeconds, putScan, scanBody,
  waitForCurrent, type RowExpectation, type WireUpdate,
} from '../helpers/scans.ts';

const INSTALLED_AT = Date.UTC(2025, 2, 3, 4, 5, 6) / 1000;
const NON_COMPLIANT = ['Missing', 'Failed', 'InstalledRejected', 'InstalledPendingReboot'];

const rule = (filters: Record<string, string[]>, more: Omit<PatchRule, 'PatchFilterGroup'> = {}): PatchRule => ({
  PatchFilterGroup: { PatchFilters: Object.entries(filters).map(([Key, Values]) => ({ Key: Key as never, Values })) }, ...more,
});

// ---- Ubuntu ------------------------------------------------------------------------------------------------------------

function ubuntuScan(instanceId: string, t: number): Record<string, unknown> {
  const i = (Name: string, Version: string, Architecture = 'amd64') => ({ Name, Version, Architecture, InstalledTime: INSTALLED_AT });
  const u = (Name: string, Version: string, Repository: string, Priority: string, more: Partial<WireUpdate> = {}): WireUpdate => ({
    Name, Version, Architecture: 'amd64', Repository, Security: Repository.endsWith('-security'), Priority, ReleaseTime: t - 3600, ...more,
  });
  return scanBody(instanceId, {
    os: 'UBUNTU', platformName: 'Ubuntu', platformVersion: '22.04',
    installed: [i('libssl3', '3.0.2-0ubuntu1.14'), i('openssl', '3.0.2-0ubuntu1.14'), i('vim', '2:8.2.3995-1ubuntu2.15'), i('curl', '7.81.0-1ubuntu1.15'), i('tzdata', '2024a-0ubuntu0.22.04', 'all')],
    updates: [
      u('libssl3', '3.0.2-0ubuntu1.15', 'jammy-security', 'important', { CVEIds: ['CVE-2024-0727'] }),
      u('openssl', '3.0.2-0ubuntu1.15', 'jammy-security', 'optional', { CVEIds: ['CVE-2024-0727'] }),
      u('vim', '2:8.2.3995-1ubuntu2.16', 'jammy-updates', 'optional'),
      // apt's own candidate comes from jammy-updates; jammy-security has an older fixed version.
      u('curl', '7.81.0-1ubuntu1.17', 'jammy-updates', 'optional'),
      u('curl', '7.81.0-1ubuntu1.16', 'jammy-security', 'optional', { CVEIds: ['CVE-2024-2398'] }),
    ],
  });
}

// ---- Windows -----------------------------------------------------------------------------------------------------------

const WIN_TITLES = {
  KB5034439: '2024-01 Security Update for Windows Server 2022 for x64-based Systems (KB5034439)',
  KB5012170: '2022-08 Servicing Stack Update for Windows Server 2022 (KB5012170)',
  KB5035857: '2024-03 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5035857)',
  KB5035885: '2024-03 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 for Microsoft server operating system version 21H2 (KB5035885)',
  KB4052623: 'Update for Microsoft Defender Antivirus antimalware platform (KB4052623)',
  KB890830: 'Windows Malicious Software Removal Tool x64 - v5.122 (KB890830)',
  KB5002537: 'Security Update for Microsoft Office 2016 (KB5002537) 64-Bit Edition',
  KB5031361: '2023-10 Cumulative Update for Windows Server 2019 for x64-based Systems (KB5031361)',
  KB5029928: '2023-09 Update Rollup for Windows Server 2019 (KB5029928)',
} as const;

function windowsScan(instanceId: string, t: number): Record<string, unknown> {
  const kb = (id: keyof typeof WIN_TITLES, more: Record<string, unknown>) => ({ Name: id, Version: '1', Architecture: 'x64', KBId: id, Title: WIN_TITLES[id], ...more });
  const upd = (id: keyof typeof WIN_TITLES, Security: boolean, more: Record<string, unknown>): WireUpdate => ({ ...kb(id, more), Security });
  const os = { Product: 'WindowsServer2022', ProductFamily: 'Windows' };
  return scanBody(instanceId, {
    os: 'WINDOWS', platformName: 'Microsoft Windows Server 2022 Datacenter', platformVersion: '10.0.20348', product: 'WindowsServer2022',
    installed: [
      // An installed update reports its MSRC severity in Severity (the installed shape has no MsrcSeverity).
      kb('KB5034439', { Classification: 'SecurityUpdates', Severity: 'Important', InstalledTime: INSTALLED_AT }),
      kb('KB5012170', { Classification: 'Updates', InstalledTime: INSTALLED_AT }),
    ],
    updates: [
      upd('KB5035857', true, { Classification: 'SecurityUpdates', MsrcSeverity: 'Critical', ReleaseTime: t - 20 * DAY, CVEIds: ['CVE-2024-21407', 'CVE-2024-21408'], ...os }),
      upd('KB5035885', true, { Classification: 'SecurityUpdates', MsrcSeverity: 'Important', ReleaseTime: t - 3 * DAY, ...os }),
      upd('KB4052623', false, { Classification: 'CriticalUpdates', MsrcSeverity: 'Critical', ReleaseTime: t - 10 * DAY, ...os }),
      upd('KB890830', false, { Classification: 'UpdateRollups', ReleaseTime: t - 20 * DAY, ...os }),
      upd('KB5002537', true, { Classification: 'SecurityUpdates', MsrcSeverity: 'Important', PatchSet: 'APPLICATION', Product: 'Office 2016', ProductFamily: 'Office', ReleaseTime: t - 20 * DAY }),
    ],
    notApplicable: [
      upd('KB5031361', true, { Classification: 'SecurityUpdates', MsrcSeverity: 'Critical', ReleaseTime: t - 60 * DAY, Product: 'WindowsServer2019', ProductFamily: 'Windows' }),
      upd('KB5029928', false, { Classification: 'UpdateRollups', ReleaseTime: t - 60 * DAY, Product: 'WindowsServer2019', ProductFamily: 'Windows' }),
    ],
  });
}

/**
 * The Windows node's rows under AWS-DefaultPatchBaseline's rule (CLASSIFICATION CriticalUpdates/SecurityUpdates ∧
 * MSRC_SEVERITY Critical/Important, 7 days; no PATCH_SET filter = the OS patch set) or a copy of it with a level.
 */
function windowsTable(level?: string): RowExpectation[] {
  const l = level === undefined ? {} : { level };
  return [
    // Approved security update (Critical, 20 days ≥ 7): Missing, with its CVEs.
    { kb: 'KB5035857', state: 'Missing', title: WIN_TITLES.KB5035857, classification: 'SecurityUpdates', severity: 'Critical', cves: 'CVE-2024-21407,CVE-2024-21408', ...l },
    // Security update the rule will approve in 4 days: AvailableSecurityUpdate (narrow reading, docs), the pending rule's level.
    { kb: 'KB5035885', state: 'AvailableSecurityUpdate', title: WIN_TITLES.KB5035885, classification: 'SecurityUpdates', severity: 'Important', ...l },
    // CriticalUpdates/Critical, 10 days: Missing; not a security classification for the counters (§3.1) → Other.
    { kb: 'KB4052623', state: 'Missing', title: WIN_TITLES.KB4052623, classification: 'CriticalUpdates', severity: 'Critical', ...l },
    // KB890830 (UpdateRollups): no rule approves it, it is not security → no row. KB5002537 (Office): the
    // APPLICATION patch set is outside the rule's implicit PATCH_SET OS → no row.
    // Reported not applicable but approved (SecurityUpdates/Critical) → NotApplicable; KB5029928 is not approved → no row.
    { kb: 'KB5031361', state: 'NotApplicable', title: WIN_TITLES.KB5031361, classification: 'SecurityUpdates', severity: 'Critical', ...l },
    // Installed, approved (SecurityUpdates/Important, release unknown = no delay) → Installed.
    { kb: 'KB5034439', state: 'Installed', title: WIN_TITLES.KB5034439, classification: 'SecurityUpdates', severity: 'Important', ...l },
    // Installed, class Updates: no rule → InstalledOther.
    { kb: 'KB5012170', state: 'InstalledOther', title: WIN_TITLES.KB5012170, classification: 'Updates' },
  ];
}

// ---- Install operations (Amazon Linux 2023) ---------------------------------------------------------------------------

/** The Install operation ends at t + INSTALL_END_OFFSET; the packages it installed carry that time − 120 s. */
const INSTALL_END_OFFSET = -2000;

function alInstallScan(instanceId: string, t: number, phase: 'scan' | 'install' | 'scan-before-reboot' | 'scan-after-reboot', end: number): Record<string, unknown> {
  const sec = (Name: string, Version: string, cve: string): WireUpdate => ({
    Name, Version, Architecture: 'x86_64', Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: t - 30 * DAY, AdvisoryIds: [`ALAS2023-2024-${Name.length}`], CVEIds: [cve],
  });
  const i = (Name: string, Version: string, time = INSTALLED_AT, notice = false) => ({
    Name, Version, Architecture: 'x86_64', InstalledTime: time, ...(notice ? { Classification: 'Security', Severity: 'Important' } : {}),
  });
  const curl = sec('curl', '8.5.0-1.amzn2023.0.4', 'CVE-2024-2398');
  const INSTALL_END = t + INSTALL_END_OFFSET;
  if (phase === 'scan') {
    return scanBody(instanceId, {
      os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023', end,
      installed: [i('curl', '8.5.0-1.amzn2023.0.1'), i('vim-minimal', '2:9.0.2120-1.amzn2023'), i('openssl-libs', '1:3.0.8-1.amzn2023.0.12')],
      updates: [curl, sec('vim-minimal', '2:9.0.2153-1.amzn2023', 'CVE-2024-22667'), sec('openssl-libs', '1:3.0.8-1.amzn2023.0.16', 'CVE-2024-0727')],
    });
  }
  // After the install: openssl-libs and vim-minimal at the fixed versions (the scanner knows them to be in a
  // security notice), curl failed and still has its candidate.
  const installed = [i('curl', '8.5.0-1.amzn2023.0.1'), i('vim-minimal', '2:9.0.2153-1.amzn2023', INSTALL_END - 120, true), i('openssl-libs', '1:3.0.8-1.amzn2023.0.16', INSTALL_END - 120, true)];
  if (phase === 'install') {
    return scanBody(instanceId, {
      os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023', end, operation: 'Install', rebootPending: true, rebootOption: 'NoReboot',
      snapshotId: '4c2f3b6e-1d0a-4f7e-9a51-0c8d2e7b6a13', installed, updates: [curl],
      failed: [{ Name: 'curl', Architecture: 'x86_64', Version: '8.5.0-1.amzn2023.0.4' }],
      installedByOperation: [{ Name: 'vim-minimal', Architecture: 'x86_64', Version: '2:9.0.2153-1.amzn2023' }, { Name: 'openssl-libs', Architecture: 'x86_64', Version: '1:3.0.8-1.amzn2023.0.16' }],
    });
  }
  return scanBody(instanceId, {
    os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023', end, rebootPending: phase === 'scan-before-reboot', installed, updates: [curl],
  });
}

for (const { engine, skip } of engines()) {
  describe(`Ubuntu, Windows and Install operations (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let t: number;
    const ubuntu = nodeId(1, 'ubu');
    const win = nodeId(1, 'win');
    const al = nodeId(1, 'inst');

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      t = nowSeconds();
    });
    after(() => server.close());

    test('§6.4 Ubuntu: security pocket only, approved at once although AWS-UbuntuDefaultPatchBaseline says ApproveAfterDays 7', async () => {
      await putScan(server, ubuntuScan(ubuntu, t));
      const awsDefault = (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'UBUNTU' }))).BaselineId!;
      const view = await nodeView(server, ssm, ubuntu);
      assertTable(view, [
        // Released an hour ago in jammy-security: Missing now (apt ignores ApproveAfterDays); Severity = the priority.
        { kb: 'libssl3.amd64', state: 'Missing', title: 'libssl3.amd64:3.0.2-0ubuntu1.15', classification: 'Security', severity: 'important', cves: 'CVE-2024-0727' },
        { kb: 'openssl.amd64', state: 'Missing', title: 'openssl.amd64:3.0.2-0ubuntu1.15', classification: 'Security', severity: 'optional', cves: 'CVE-2024-0727' },
        // apt's candidate is from jammy-updates, but the older jammy-security version is the newest approved → Missing with it.
        { kb: 'curl.amd64', state: 'Missing', title: 'curl.amd64:7.81.0-1ubuntu1.16', classification: 'Security', severity: 'optional', cves: 'CVE-2024-2398' },
        // jammy-updates only: EnableNonSecurity=false refuses it; the installed version (epoch 2 as apt prints it) is not security → InstalledOther.
        { kb: 'vim.amd64', state: 'InstalledOther', title: 'vim.amd64:2:8.2.3995-1ubuntu2.15', severity: 'optional' },
        // No candidate; not a security-pocket version → InstalledOther (Severity: Debian policy's default priority).
        { kb: 'tzdata.all', state: 'InstalledOther', title: 'tzdata.all:2024a-0ubuntu0.22.04', severity: 'optional' },
      ], INSTALLED_AT, 'Ubuntu default');
      assert.deepEqual(countersOf(view.state), counters({ InstalledOtherCount: 2, MissingCount: 3, SecurityNonCompliantCount: 3 }));
      assert.equal(view.state.BaselineId, awsDefault);
      assertConsistent(view);
      assert.equal((await evaluationStatus(server)).NextScheduledChange, undefined, 'apt approves at once: nothing is pending');

      const long = (await ssm.send(new CreatePatchBaselineCommand({
        OperatingSystem: 'UBUNTU', Name: 'ubuntu-all', ApprovalRules: { PatchRules: [rule({ PRIORITY: ['*'] }, { ApproveAfterDays: 360, EnableNonSecurity: true, ComplianceLevel: 'MEDIUM' })] },
      }))).BaselineId!;
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: long, PatchGroup: 'ubuntu' }));
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: ubuntu, Tags: [{ Key: 'Patch Group', Value: 'ubuntu' }] }));
      await waitForCurrent(server);
      const all = await nodeView(server, ssm, ubuntu);
      assertTable(all, [
        // ApproveAfterDays 360 is ignored on Ubuntu: every candidate released an hour ago is Missing now.
        { kb: 'libssl3.amd64', state: 'Missing', title: 'libssl3.amd64:3.0.2-0ubuntu1.15', classification: 'Security', severity: 'important', cves: 'CVE-2024-0727', level: 'MEDIUM' },
        { kb: 'openssl.amd64', state: 'Missing', title: 'openssl.amd64:3.0.2-0ubuntu1.15', classification: 'Security', severity: 'optional', cves: 'CVE-2024-0727', level: 'MEDIUM' },
        // The newest approved candidate is apt's own (jammy-updates, not security → Other); its CVE list covers the
        // older candidate it supersedes.
        { kb: 'curl.amd64', state: 'Missing', title: 'curl.amd64:7.81.0-1ubuntu1.17', severity: 'optional', cves: 'CVE-2024-2398', level: 'MEDIUM' },
        { kb: 'vim.amd64', state: 'Missing', title: 'vim.amd64:2:8.2.3995-1ubuntu2.16', severity: 'optional', level: 'MEDIUM' },
        // EnableNonSecurity approves the installed version itself → Installed.
        { kb: 'tzdata.all', state: 'Installed', title: 'tzdata.all:2024a-0ubuntu0.22.04', severity: 'optional', level: 'MEDIUM' },
      ], INSTALLED_AT, 'Ubuntu, EnableNonSecurity, ApproveAfterDays 360');
      assert.deepEqual(countersOf(all.state), counters({ InstalledCount: 1, MissingCount: 4, SecurityNonCompliantCount: 2, OtherNonCompliantCount: 2 }));
      assertConsistent(all);
      await assertAggregatesExact(server);
    });

    test('§7 Windows under AWS-DefaultPatchBaseline: Missing, AvailableSecurityUpdate (COMPLIANT), NotApplicable, Installed', async () => {
      await putScan(server, windowsScan(win, t));
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: win, Tags: [{ Key: 'Patch Group', Value: 'win' }] }));
      await waitForCurrent(server);
      const view = await nodeView(server, ssm, win);
      assertTable(view, windowsTable(), INSTALLED_AT, 'Windows default');
      // AvailableSecurityUpdate counts only in its own counter under COMPLIANT (the default when unset).
      assert.deepEqual(countersOf(view.state), counters({
        InstalledCount: 1, InstalledOtherCount: 1, MissingCount: 2, NotApplicableCount: 1, AvailableSecurityUpdateCount: 1, SecurityNonCompliantCount: 1, OtherNonCompliantCount: 1,
      }));
      assertConsistent(view);
      assert.equal(view.items.find((i) => i.Id === 'KB5035885')?.Status, 'COMPLIANT');
      assert.equal(view.resource.NonCompliantSummary?.NonCompliantCount, 2);
      const group = await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'win' }));
      assert.deepEqual([group.Instances, group.InstancesWithAvailableSecurityUpdates, group.InstancesWithMissingPatches, group.InstancesWithNotApplicablePatches, group.InstancesWithSecurityNonCompliantPatches], [1, 1, 1, 1, 1]);
      // The update pending its 7 days is the next scheduled change (t − 3 days + 7 days).
      assert.equal((await evaluationStatus(server)).NextScheduledChange, t + 4 * DAY);
    });

    test('§7 AvailableSecurityUpdatesComplianceStatus NON_COMPLIANT: the pending security update counts as non-compliant everywhere', async () => {
      const strict = (await ssm.send(new CreatePatchBaselineCommand({
        OperatingSystem: 'WINDOWS', Name: 'windows-strict',
        ApprovalRules: { PatchRules: [rule({ CLASSIFICATION: ['CriticalUpdates', 'SecurityUpdates'], MSRC_SEVERITY: ['Critical', 'Important'] }, { ApproveAfterDays: 7, ComplianceLevel: 'HIGH' })] },
        AvailableSecurityUpdatesComplianceStatus: 'NON_COMPLIANT',
      }))).BaselineId!;
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: strict, PatchGroup: 'win' }));
      await waitForCurrent(server);
      const view = await nodeView(server, ssm, win);
      assertTable(view, windowsTable('HIGH').map((r) => (r.kb === 'KB5012170' ? r : { ...r, level: 'HIGH' })), INSTALLED_AT, 'Windows NON_COMPLIANT');
      // KB5035885 now also counts in SecurityNonCompliantCount (SecurityUpdates).
      assert.deepEqual(countersOf(view.state), counters({
        InstalledCount: 1, InstalledOtherCount: 1, MissingCount: 2, NotApplicableCount: 1, AvailableSecurityUpdateCount: 1, SecurityNonCompliantCount: 2, OtherNonCompliantCount: 1,
      }));
      assert.equal(view.state.BaselineId, strict);
      assertConsistent(view, [...NON_COMPLIANT, 'AvailableSecurityUpdate']);
      assert.equal(view.items.find((i) => i.Id === 'KB5035885')?.Status, 'NON_COMPLIANT', '§3.2: AVAILABLE_SECURITY_UPDATE follows the baseline setting');
      // The AWS:ComplianceItem inventory view of the same items agrees.
      const entries = (await ssm.send(new ListInventoryEntriesCommand({ InstanceId: win, TypeName: 'AWS:ComplianceItem' }))).Entries ?? [];
      assert.equal(entries.find((e) => e.Id === 'KB5035885')?.Status, 'NON_COMPLIANT');
      assert.equal(entries.filter((e) => e.Status === 'NON_COMPLIANT').length, 3);
      assert.deepEqual([view.resource.Status, view.resource.OverallSeverity, view.resource.NonCompliantSummary?.NonCompliantCount], ['NON_COMPLIANT', 'HIGH', 3]);
      // Back to COMPLIANT: the same rows, the update counted in AvailableSecurityUpdateCount only.
      await ssm.send(new UpdatePatchBaselineCommand({ BaselineId: strict, AvailableSecurityUpdatesComplianceStatus: 'COMPLIANT' }));
      await waitForCurrent(server);
      const relaxed = await nodeView(server, ssm, win);
      assert.deepEqual(countersOf(relaxed.state), counters({
        InstalledCount: 1, InstalledOtherCount: 1, MissingCount: 2, NotApplicableCount: 1, AvailableSecurityUpdateCount: 1, SecurityNonCompliantCount: 1, OtherNonCompliantCount: 1,
      }));
      assertConsistent(relaxed);
      assert.equal((await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'win' }))).InstancesWithAvailableSecurityUpdates, 1);
      await assertAggregatesExact(server);
    });

    test('§2 Install operations: Failed; InstalledByOperation → InstalledPendingReboot while RebootPending; Installed after a scan without it; NoReboot → LastNoRebootInstallOperationTime', async () => {
      const awsDefault = (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'AMAZON_LINUX_2023' }))).BaselineId!;
      await putScan(server, alInstallScan(al, t, 'scan', t - 3000));
      let view = await nodeView(server, ssm, al);
      const missing = (kb: string, title: string, cve: string, state = 'Missing'): RowExpectation => ({ kb, state, title, classification: 'Security', severity: 'Important', cves: cve });
      const fixed = (kb: string, title: string, state: string): RowExpectation => ({ kb, state, title, classification: 'Security', severity: 'Important', installedTime: t + INSTALL_END_OFFSET - 120 });
      // Security/Important released 30 days ago: all three Missing under AWS's default (rule 1).
      assertTable(view, [
        missing('curl.x86_64', 'curl.x86_64:0:8.5.0-1.amzn2023.0.4', 'CVE-2024-2398'),
        missing('vim-minimal.x86_64', 'vim-minimal.x86_64:2:9.0.2153-1.amzn2023', 'CVE-2024-22667'),
        missing('openssl-libs.x86_64', 'openssl-libs.x86_64:1:3.0.8-1.amzn2023.0.16', 'CVE-2024-0727'),
      ], INSTALLED_AT, 'before the install');
      assert.equal(view.state.LastNoRebootInstallOperationTime, undefined);

      const install = await putScan(server, alInstallScan(al, t, 'install', t + INSTALL_END_OFFSET));
      assert.equal(install.InstancePatchState.Operation, 'Install');
      view = await nodeView(server, ssm, al);
      assertTable(view, [
        // Listed in Failed on an Install, and approved → Failed, with its CVEs.
        missing('curl.x86_64', 'curl.x86_64:0:8.5.0-1.amzn2023.0.4', 'CVE-2024-2398', 'Failed'),
        // Installed by this operation, the node says a reboot is pending → InstalledPendingReboot (non-compliant), the new version.
        fixed('vim-minimal.x86_64', 'vim-minimal.x86_64:2:9.0.2153-1.amzn2023', 'InstalledPendingReboot'),
        fixed('openssl-libs.x86_64', 'openssl-libs.x86_64:1:3.0.8-1.amzn2023.0.16', 'InstalledPendingReboot'),
      ], INSTALLED_AT, 'after the install');
      assert.deepEqual(countersOf(view.state), counters({ InstalledPendingRebootCount: 2, FailedCount: 1, SecurityNonCompliantCount: 3 }));
      assert.equal(view.state.Operation, 'Install');
      assert.equal(view.state.RebootOption, 'NoReboot');
      assert.equal(view.state.SnapshotId, '4c2f3b6e-1d0a-4f7e-9a51-0c8d2e7b6a13');
      assert.equal(view.state.LastNoRebootInstallOperationTime?.getTime(), (t + INSTALL_END_OFFSET) * 1000, 'the NoReboot Install operation\'s end');
      assert.equal(view.inventory.LastNoRebootInstallOperationTime, new Date((t + INSTALL_END_OFFSET) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      assertConsistent(view);

      // A later scan, still before the reboot: the pending-reboot packages carry over; Failed belongs to Install only.
      await putScan(server, alInstallScan(al, t, 'scan-before-reboot', t - 1000));
      view = await nodeView(server, ssm, al);
      assertTable(view, [
        missing('curl.x86_64', 'curl.x86_64:0:8.5.0-1.amzn2023.0.4', 'CVE-2024-2398'),
        fixed('vim-minimal.x86_64', 'vim-minimal.x86_64:2:9.0.2153-1.amzn2023', 'InstalledPendingReboot'),
        fixed('openssl-libs.x86_64', 'openssl-libs.x86_64:1:3.0.8-1.amzn2023.0.16', 'InstalledPendingReboot'),
      ], INSTALLED_AT, 'scan before the reboot');
      assert.equal(view.state.Operation, 'Scan');
      assert.equal(view.state.LastNoRebootInstallOperationTime?.getTime(), (t + INSTALL_END_OFFSET) * 1000, 'kept from the Install');

      // After the reboot (RebootPending false): the fixed versions are approved (in a security notice, rule 1) → Installed.
      await putScan(server, alInstallScan(al, t, 'scan-after-reboot', t - 500));
      view = await nodeView(server, ssm, al);
      assertTable(view, [
        missing('curl.x86_64', 'curl.x86_64:0:8.5.0-1.amzn2023.0.4', 'CVE-2024-2398'),
        fixed('vim-minimal.x86_64', 'vim-minimal.x86_64:2:9.0.2153-1.amzn2023', 'Installed'),
        fixed('openssl-libs.x86_64', 'openssl-libs.x86_64:1:3.0.8-1.amzn2023.0.16', 'Installed'),
      ], INSTALLED_AT, 'after the reboot');
      assert.deepEqual(countersOf(view.state), counters({ InstalledCount: 2, MissingCount: 1, SecurityNonCompliantCount: 1 }));
      assert.equal(view.state.BaselineId, awsDefault);
      assert.equal(view.state.LastNoRebootInstallOperationTime?.getTime(), (t + INSTALL_END_OFFSET) * 1000);
      assert.deepEqual(view.history.map((h) => [h.Operation, h.InstalledPendingRebootCount, h.FailedCount]), [['Scan', 0, 0], ['Install', 2, 1], ['Scan', 2, 0], ['Scan', 0, 0]]);
      assertConsistent(view);
      await assertAggregatesExact(server);
    });
  });
}
