// RPM-family scans (AMAZON_LINUX_2023, REDHAT_ENTERPRISE_LINUX) evaluated by the real server on every store engine,
// against hand-computed tables. Candidates carry what `dnf updateinfo` gives (Classification = the notice type,
// Severity as the notice spells it, ReleaseTime = the notice's issued date, AdvisoryIds, CVEIds, BugzillaIds); the
// package names, versions and ids come from ../shared/fixtures/updateinfo/*.xml (AL2023 rsyslog ALAS2023-2023-001,
// AL2 qemu-kvm ALAS2-2018-942 and java-1.8.0-openjdk ALAS2-2018-949, Rocky 8 firewalld/lz4/kernel/rubygem-bson, dnf5's
// synthetic wget/filesystem/pkg/yum), with release times set relative to the test's clock so the ApproveAfterDays
// boundary is exercised. Every expected row says which documented rule decides it (docs/evaluation.md; semantics §2
// states, §3 counters and compliance, §4 pipeline, §6 yum specifics). Re-evaluation is awaited by polling
// Patchline.GetEvaluationStatus; a delayed approval is shown coming due both with an injected clock
// (Evaluator.runBatch) and in real time through the background loop's due check.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddTagsToResourceCommand, CreatePatchBaselineCommand, GetDefaultPatchBaselineCommand, RegisterPatchBaselineForPatchGroupCommand,
  UpdatePatchBaselineCommand, paginateDescribeEffectivePatchesForPatchBaseline, type EffectivePatch, type PatchRule, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { nodeId } from '../helpers/fleet.ts';
import {
  assertAggregatesExact, assertConsistent, assertTable, counters, countersOf, DAY, evaluationStatus, nodeView, nowSeconds, putScan, scanBody,
  waitForCurrent, type RowExpectation, type WirePackage, type WireUpdate,
} from '../helpers/scans.ts';

/** When every installed package was installed (epoch seconds). */
const INSTALLED_AT = Date.UTC(2025, 0, 15, 9, 30, 0) / 1000;

const inst = (Name: string, Version: string, Architecture = 'x86_64', more: Record<string, unknown> = {}): WirePackage => ({ Name, Version, Architecture, InstalledTime: INSTALLED_AT, ...more });
const cand = (Name: string, Version: string, more: Partial<WireUpdate> & Record<string, unknown>, Architecture = 'x86_64'): WireUpdate => ({ Name, Version, Architecture, Security: false, ...more });

// ---- Amazon Linux 2023 -----------------------------------------------------------------------------------------------

const JAVA_CVES = ['CVE-2018-2579', 'CVE-2018-2599', 'CVE-2018-2677'];

/** An AL2023 node's scan; `t` is the test's clock (epoch seconds), release times are relative to it. */
function al2023Scan(instanceId: string, t: number): Record<string, unknown> {
  return scanBody(instanceId, {
    os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023',
    installed: [
      inst('rsyslog', '8.2204.0-3.amzn2023.0.1'),
      inst('java-1.8.0-openjdk', '1:1.8.0.151-1.b12.amzn2'),
      inst('qemu-kvm', '10:1.5.3-141.amzn2.5.1'),
      inst('filesystem', '3.8-6.fc29'),
      inst('wget', '1.19.5-3.fc29'),
      inst('pkg', '1.2-3'),
      inst('bitcoin', '2.4-1'),
      // The installed version itself belongs to a bugfix notice (the scanner says so).
      inst('yum', '3.4.3-0', 'x86_64', { Classification: 'Bugfix', Severity: 'critical' }),
    ],
    updates: [
      cand('rsyslog', '8.2204.0-3.amzn2023.0.2', { Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: t - 8 * DAY, AdvisoryIds: ['ALAS2023-2023-001'], CVEIds: ['CVE-2014-3634', 'CVE-2022-24903'], Repository: 'amazonlinux' }),
      cand('java-1.8.0-openjdk', '1:1.8.0.161-0.b14.amzn2', { Security: true, Classification: 'Security', Severity: 'important', ReleaseTime: t - 6 * DAY, AdvisoryIds: ['ALAS2-2018-949'], CVEIds: JAVA_CVES }),
      cand('qemu-kvm', '10:1.5.3-141.amzn2.5.3', { Security: true, Classification: 'Security', Severity: 'important', ReleaseTime: t - 30 * DAY, AdvisoryIds: ['ALAS2-2018-942'], CVEIds: ['CVE-2017-5715'] }),
      cand('filesystem', '3.9-2.fc29', { Security: true, Classification: 'Security', Severity: 'moderate', ReleaseTime: t - 30 * DAY, AdvisoryIds: ['DNF-2019-1'] }),
      cand('wget', '1.19.5-5.fc29', { Classification: 'Bugfix', Severity: 'critical', ReleaseTime: t - 10 * DAY, AdvisoryIds: ['DNF-2020-1'], BugzillaIds: ['2222'] }),
      cand('pkg', '4.0-1', { Classification: 'Enhancement', Severity: 'low', ReleaseTime: t - 30 * DAY, AdvisoryIds: ['PKG-NEWER'] }),
      // Offered by `dnf check-update` without any notice.
      cand('bitcoin', '2.5-1', {}),
    ],
  });
}

/**
 * The AL2023 node under AWS-AmazonLinux2023DefaultPatchBaseline — rule 1: CLASSIFICATION Security ∧ SEVERITY
 * Critical/Important, 7 days; rule 2: CLASSIFICATION Bugfix, 7 days; both EnableNonSecurity=false (the yum gate: the
 * package must belong to a notice). `javaDue`: whether java's 7 days have passed.
 */
function al2023Table(javaDue: boolean): RowExpectation[] {
  return [
    // Offered outside any notice: the yum security gate refuses it (docs "packages outside any notice…").
    { kb: 'bitcoin.x86_64', state: 'InstalledOther', title: 'bitcoin.x86_64:0:2.4-1' },
    // Security, but severity moderate ∉ {Critical, Important} (AL2023's Medium ≡ Moderate does not help here).
    { kb: 'filesystem.x86_64', state: 'InstalledOther', title: 'filesystem.x86_64:0:3.8-6.fc29' },
    javaDue
      // Rule 1 once now ≥ release + 7 days; CVEIds of the chosen candidate; Title with the epoch.
      ? { kb: 'java-1.8.0-openjdk.x86_64', state: 'Missing', title: 'java-1.8.0-openjdk.x86_64:1:1.8.0.161-0.b14.amzn2', classification: 'Security', severity: 'important', cves: JAVA_CVES.join(',') }
      // Released 6 days ago: rule 1 matches but its 7 days are not over → pending, the installed version's row.
      : { kb: 'java-1.8.0-openjdk.x86_64', state: 'InstalledOther', title: 'java-1.8.0-openjdk.x86_64:1:1.8.0.151-1.b12.amzn2' },
    // Enhancement matches no rule.
    { kb: 'pkg.x86_64', state: 'InstalledOther', title: 'pkg.x86_64:0:1.2-3' },
    // Rule 1: severity `important` matches `Important` (values compare case-insensitively); 30 ≥ 7 days. Epoch 10 kept.
    { kb: 'qemu-kvm.x86_64', state: 'Missing', title: 'qemu-kvm.x86_64:10:1.5.3-141.amzn2.5.3', classification: 'Security', severity: 'important', cves: 'CVE-2017-5715' },
    // Rule 1: Security/Important released 8 days ago ≥ 7. RPM Title always carries the epoch (0).
    { kb: 'rsyslog.x86_64', state: 'Missing', title: 'rsyslog.x86_64:0:8.2204.0-3.amzn2023.0.2', classification: 'Security', severity: 'Important', cves: 'CVE-2014-3634,CVE-2022-24903' },
    // Rule 2 (Bugfix) 10 ≥ 7 days; notice severity shown as given; not a security classification → Other.
    { kb: 'wget.x86_64', state: 'Missing', title: 'wget.x86_64:0:1.19.5-5.fc29', classification: 'Bugfix', severity: 'critical' },
    // No candidate; the installed version is in a bugfix notice with no release time (= delay 0) → rule 2 approves it.
    { kb: 'yum.x86_64', state: 'Installed', title: 'yum.x86_64:0:3.4.3-0', classification: 'Bugfix', severity: 'critical' },
  ];
}

for (const { engine, skip } of engines()) {
  describe(`Amazon Linux 2023 under AWS's default baseline; a delayed approval comes due (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let awsDefault: string;
    let t: number;
    const al = nodeId(1, 'al');

    before(async () => {
      // No background loop: the tests run evaluation batches themselves, with an injected clock.
      server = await startTestServer({ engine, background: false });
      ssm = server.client();
      awsDefault = (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'AMAZON_LINUX_2023' }))).BaselineId!;
    });
    after(() => server.close());

    test('§4 ApproveAfterDays relative to now: 8 days ago → Missing, 6 days ago → pending (installed row, PENDING_APPROVAL); Security ∧ Critical/Important; Bugfix', async () => {
      t = nowSeconds();
      const answer = await putScan(server, al2023Scan(al, t));
      const expected = counters({ InstalledCount: 1, InstalledOtherCount: 4, MissingCount: 3, SecurityNonCompliantCount: 2, OtherNonCompliantCount: 1 });
      assert.deepEqual(countersOf(answer.InstancePatchState), expected);
      const view = await nodeView(server, ssm, al);
      assertTable(view, al2023Table(false), INSTALLED_AT, 'AL2023 at now');
      assert.deepEqual(countersOf(view.state), expected);
      assert.equal(view.state.BaselineId, awsDefault);
      assertConsistent(view);
      assert.deepEqual([view.resource.Status, view.resource.OverallSeverity], ['NON_COMPLIANT', 'UNSPECIFIED'], 'AWS baselines give UNSPECIFIED (§3.2)');
      // The only pending decision: java, due at release + 7 days = t + 1 day.
      const status = await evaluationStatus(server);
      assert.equal(status.NextScheduledChange, t + DAY);
      assert.equal(status.Current, true);

      // DescribeEffectivePatchesForPatchBaseline on the same baseline and catalogue (the node's candidates).
      const effective: EffectivePatch[] = [];
      for await (const page of paginateDescribeEffectivePatchesForPatchBaseline({ client: ssm, pageSize: 100 }, { BaselineId: awsDefault })) effective.push(...(page.EffectivePatches ?? []));
      const byName = Object.fromEntries(effective.map((e) => [e.Patch!.Name!, [e.PatchStatus!.DeploymentStatus, e.PatchStatus!.ApprovalDate!.getTime() / 1000]]));
      assert.deepEqual(byName, {
        'java-1.8.0-openjdk': ['PENDING_APPROVAL', t + DAY],
        'qemu-kvm': ['APPROVED', t - 23 * DAY],
        rsyslog: ['APPROVED', t - DAY],
        wget: ['APPROVED', t - 3 * DAY],
      });
      await assertAggregatesExact(server);
    });

    test('the delayed approval becomes Missing exactly when it comes due (runBatch with an injected clock)', async () => {
      const due = t + DAY;
      await server.app.scans.markDirty({ all: true });
      assert.equal((await evaluationStatus(server)).Current, false);
      // One second before: unchanged (approved once now ≥ release + N×86400).
      assert.equal(await server.app.evaluator.runBatch(500, (due - 1) * 1000), 1);
      assert.equal((await evaluationStatus(server)).Current, true);
      let view = await nodeView(server, ssm, al);
      assertTable(view, al2023Table(false), INSTALLED_AT, 'one second before the approval');
      assert.equal(view.history.length, 2, 'the re-evaluation is a new history point');
      await server.app.scans.markDirty({ all: true });
      assert.equal(await server.app.evaluator.runBatch(500, due * 1000), 1);
      const status = await evaluationStatus(server);
      assert.equal(status.Current, true);
      assert.equal(status.LastEvaluationTime, due);
      assert.equal(status.NextScheduledChange, undefined, 'nothing else is pending');
      view = await nodeView(server, ssm, al);
      assertTable(view, al2023Table(true), INSTALLED_AT, 'at the approval');
      assert.deepEqual(countersOf(view.state), counters({ InstalledCount: 1, InstalledOtherCount: 3, MissingCount: 4, SecurityNonCompliantCount: 3, OtherNonCompliantCount: 1 }));
      assertConsistent(view);
      await assertAggregatesExact(server);
    });
  });
}

// ---- Red Hat Enterprise Linux (Rocky 8 notices) and custom baselines -------------------------------------------------

const KERNEL_CVES = ['CVE-2021-22543', 'CVE-2021-22555', 'CVE-2021-3609'];

function rhelScan(instanceId: string, t: number, kernelRelease: number): Record<string, unknown> {
  return scanBody(instanceId, {
    os: 'REDHAT_ENTERPRISE_LINUX', platformName: 'Red Hat Enterprise Linux', platformVersion: '8.4',
    installed: [
      inst('firewalld', '0.8.2-5.el8', 'noarch'),
      inst('firewalld-filesystem', '0.8.2-7.el8_4', 'noarch', { Classification: 'Bugfix', Severity: 'None' }),
      inst('lz4', '1.8.3-2.el8'),
      // Two kernels installed (install-only package): the newest is the row.
      inst('kernel', '4.18.0-305.7.1.el8_4'),
      inst('kernel', '4.18.0-305.10.2.el8_4'),
      inst('rubygem-bson', '4.3.0-1.module+el8.4.0+592+03ff458a'),
    ],
    updates: [
      cand('firewalld', '0.8.2-7.el8_4', { Classification: 'Bugfix', Severity: 'None', ReleaseTime: t - 20 * DAY, AdvisoryIds: ['RLBA-2021:2580'] }, 'noarch'),
      cand('lz4', '1.8.3-3.el8_4', { Security: true, Classification: 'Security', Severity: 'Moderate', ReleaseTime: t - 20 * DAY, AdvisoryIds: ['RLSA-2021:2575'], CVEIds: ['CVE-2021-3520'] }),
      cand('kernel', '4.18.0-305.12.1.el8_4', { Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: kernelRelease, AdvisoryIds: ['RLSA-2021:3057'], CVEIds: KERNEL_CVES }),
      cand('rubygem-bson', '4.3.0-2.module+el8.4.0+592+03ff458a', { Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: t - 100 * DAY, AdvisoryIds: ['RLSA-2019:1972'], CVEIds: ['CVE-2019-8324'], BugzillaIds: ['1692520'] }),
    ],
  });
}

// Rows that several tables share.
const R = {
  firewalldMissing: (level?: string): RowExpectation => ({ kb: 'firewalld.noarch', state: 'Missing', title: 'firewalld.noarch:0:0.8.2-7.el8_4', classification: 'Bugfix', severity: 'None', ...(level ? { level } : {}) }),
  firewalldInstalled: (state: string): RowExpectation => ({ kb: 'firewalld.noarch', state, title: 'firewalld.noarch:0:0.8.2-5.el8' }),
  fsInstalled: (state: string, level?: string): RowExpectation => ({ kb: 'firewalld-filesystem.noarch', state, title: 'firewalld-filesystem.noarch:0:0.8.2-7.el8_4', classification: 'Bugfix', severity: 'None', ...(level ? { level } : {}) }),
  kernelMissing: (level?: string): RowExpectation => ({ kb: 'kernel.x86_64', state: 'Missing', title: 'kernel.x86_64:0:4.18.0-305.12.1.el8_4', classification: 'Security', severity: 'Important', cves: KERNEL_CVES.join(','), ...(level ? { level } : {}) }),
  kernelInstalled: (state: string): RowExpectation => ({ kb: 'kernel.x86_64', state, title: 'kernel.x86_64:0:4.18.0-305.10.2.el8_4' }),
  lz4Missing: (level?: string): RowExpectation => ({ kb: 'lz4.x86_64', state: 'Missing', title: 'lz4.x86_64:0:1.8.3-3.el8_4', classification: 'Security', severity: 'Moderate', cves: 'CVE-2021-3520', ...(level ? { level } : {}) }),
  lz4Installed: (): RowExpectation => ({ kb: 'lz4.x86_64', state: 'InstalledOther', title: 'lz4.x86_64:0:1.8.3-2.el8' }),
  bsonMissing: (level?: string): RowExpectation => ({ kb: 'rubygem-bson.x86_64', state: 'Missing', title: 'rubygem-bson.x86_64:0:4.3.0-2.module+el8.4.0+592+03ff458a', classification: 'Security', severity: 'Important', cves: 'CVE-2019-8324', ...(level ? { level } : {}) }),
  bsonInstalled: (): RowExpectation => ({ kb: 'rubygem-bson.x86_64', state: 'InstalledOther', title: 'rubygem-bson.x86_64:0:4.3.0-1.module+el8.4.0+592+03ff458a' }),
};

const rule = (filters: Record<string, string[]>, more: Omit<PatchRule, 'PatchFilterGroup'> = {}): PatchRule => ({
  PatchFilterGroup: { PatchFilters: Object.entries(filters).map(([Key, Values]) => ({ Key: Key as never, Values })) }, ...more,
});
/** AWS's RHEL/AL2023 default rules. */
const DEFAULT_RULES = [rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Critical', 'Important'] }, { ApproveAfterDays: 7 }), rule({ CLASSIFICATION: ['Bugfix'] }, { ApproveAfterDays: 7 })];

for (const { engine, skip } of engines()) {
  describe(`RHEL and AL2023 under custom baselines, re-evaluated without new scans (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let t: number;
    let kernelDue: number;
    let custom: string;
    const rhel = nodeId(1, 'rhel');
    const al = nodeId(2, 'al');

    const check = async (table: RowExpectation[], expected: Parameters<typeof counters>[0], baselineId: string, context: string) => {
      await waitForCurrent(server);
      const view = await nodeView(server, ssm, rhel);
      assertTable(view, table, INSTALLED_AT, context);
      assert.deepEqual(countersOf(view.state), counters(expected), `${context}: counters`);
      assert.equal(view.state.BaselineId, baselineId, `${context}: baseline`);
      assertConsistent(view);
      await assertAggregatesExact(server, context);
      return view;
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(() => server.close());

    test('AWS-RedHatDefaultPatchBaseline: Bugfix and Security/Important after 7 days; Moderate not approved; a pending kernel comes due in real time (background loop)', async () => {
      t = nowSeconds();
      kernelDue = t + 4; // released 7 days minus 4 seconds ago
      await putScan(server, rhelScan(rhel, t, kernelDue - 7 * DAY));
      const awsDefault = (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'REDHAT_ENTERPRISE_LINUX' }))).BaselineId!;
      const pending = await check([
        R.firewalldMissing(), // rule 2: Bugfix released 20 days ago (severity None is irrelevant to rule 2)
        R.fsInstalled('Installed'), // the installed version is in a bugfix notice, release unknown (delay 0): rule 2
        R.kernelInstalled('InstalledOther'), // rule 1 matches but is not due (4 s left); newest of the two kernels
        R.lz4Installed(), // Moderate ∉ {Critical, Important}; RHEL has no Medium ≡ Moderate anyway
        R.bsonMissing(), // rule 1: Security/Important, 100 days
      ], { InstalledCount: 1, InstalledOtherCount: 2, MissingCount: 2, SecurityNonCompliantCount: 1, OtherNonCompliantCount: 1 }, awsDefault, 'RHEL default, kernel pending');
      assert.equal(pending.history.length, 1);
      const status = await evaluationStatus(server);
      assert.equal(status.NextScheduledChange, kernelDue);
      // The background loop's due check re-evaluates the node once the approval is due; no new scan.
      await waitForCurrent(server, { evaluatedSince: kernelDue, timeoutMs: 30_000 });
      const due = await check([
        R.firewalldMissing(), R.fsInstalled('Installed'),
        R.kernelMissing(), // rule 1 now due: Missing with its three CVEs
        R.lz4Installed(), R.bsonMissing(),
      ], { InstalledCount: 1, InstalledOtherCount: 1, MissingCount: 3, SecurityNonCompliantCount: 2, OtherNonCompliantCount: 1 }, awsDefault, 'RHEL default, kernel due');
      assert.equal(due.history.length, 2);
      assert.equal(due.state.OperationEndTime!.getTime() / 1000, pending.state.OperationEndTime!.getTime() / 1000, 'the same scan');
    });

    test('§3: a rule with ComplianceLevel CRITICAL gives CriticalNonCompliantCount and Patch compliance items of severity CRITICAL', async () => {
      custom = (await ssm.send(new CreatePatchBaselineCommand({
        OperatingSystem: 'REDHAT_ENTERPRISE_LINUX', Name: 'rhel-custom',
        ApprovalRules: { PatchRules: [
          rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Important'] }, { ApproveAfterDays: 0, ComplianceLevel: 'CRITICAL' }),
          rule({ CLASSIFICATION: ['Bugfix'] }, { ApproveAfterDays: 0, ComplianceLevel: 'LOW' }),
        ] },
      }))).BaselineId!;
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: custom, PatchGroup: 'rhel' }));
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: rhel, Tags: [{ Key: 'Patch Group', Value: 'rhel' }] }));
      const view = await check([
        R.firewalldMissing('LOW'), // Bugfix rule, level LOW: Other
        R.fsInstalled('Installed', 'LOW'), // approved installed version: compliant at LOW
        R.kernelMissing('CRITICAL'), // Security/Important rule, CRITICAL: counted in Critical and in Security (§3.1 overlap)
        R.lz4Installed(), // Moderate: no rule
        R.bsonMissing('CRITICAL'),
      ], { InstalledCount: 1, InstalledOtherCount: 1, MissingCount: 3, CriticalNonCompliantCount: 2, SecurityNonCompliantCount: 2, OtherNonCompliantCount: 1 }, custom, 'CRITICAL rule');
      assert.equal(view.state.PatchGroup, 'rhel');
      assert.equal(view.items.find((i) => i.Id === 'kernel.x86_64')?.Severity, 'CRITICAL');
      assert.deepEqual([view.resource.Status, view.resource.OverallSeverity], ['NON_COMPLIANT', 'CRITICAL']);
      assert.deepEqual(view.resource.NonCompliantSummary?.SeveritySummary, { CriticalCount: 2, HighCount: 0, MediumCount: 0, LowCount: 1, InformationalCount: 0, UnspecifiedCount: 0 });
      assert.deepEqual(view.resource.CompliantSummary?.SeveritySummary, { CriticalCount: 0, HighCount: 0, MediumCount: 0, LowCount: 1, InformationalCount: 0, UnspecifiedCount: 1 });
    });

    test('§4 ApprovedPatches by advisory id and by CVE id (no rules), at ApprovedPatchesComplianceLevel', async () => {
      await ssm.send(new UpdatePatchBaselineCommand({
        BaselineId: custom, ApprovalRules: { PatchRules: [] }, ApprovedPatches: ['RLSA-2021:2575', 'CVE-2021-22555'], ApprovedPatchesComplianceLevel: 'HIGH',
      }));
      await check([
        R.firewalldInstalled('InstalledOther'), // nothing approves it any more
        R.fsInstalled('InstalledOther'), // the installed version is not approved either
        R.kernelMissing('HIGH'), // CVE-2021-22555 is one of the kernel update's CVE ids
        R.lz4Missing('HIGH'), // RLSA-2021:2575 is lz4's advisory; the explicit list ignores rule filters (Moderate)
        R.bsonInstalled(),
      ], { InstalledOtherCount: 3, MissingCount: 2, SecurityNonCompliantCount: 2 }, custom, 'approved by ids');
    });

    test('§4 RejectedPatches: ALLOW_AS_DEPENDENCY → InstalledOther; BLOCK → InstalledRejected', async () => {
      await ssm.send(new UpdatePatchBaselineCommand({
        BaselineId: custom, ApprovalRules: { PatchRules: DEFAULT_RULES }, ApprovedPatches: [], ApprovedPatchesComplianceLevel: 'UNSPECIFIED',
        RejectedPatches: ['kernel', 'firewalld'], RejectedPatchesAction: 'ALLOW_AS_DEPENDENCY',
      }));
      await check([
        R.firewalldInstalled('InstalledOther'), // rejected: its update is never Missing; installed under ALLOW_AS_DEPENDENCY → InstalledOther
        R.fsInstalled('Installed'), // `firewalld` names that package only
        R.kernelInstalled('InstalledOther'),
        R.lz4Installed(), R.bsonMissing(),
      ], { InstalledCount: 1, InstalledOtherCount: 3, MissingCount: 1, SecurityNonCompliantCount: 1 }, custom, 'ALLOW_AS_DEPENDENCY');
      await ssm.send(new UpdatePatchBaselineCommand({ BaselineId: custom, RejectedPatchesAction: 'BLOCK' }));
      await check([
        R.firewalldInstalled('InstalledRejected'), // BLOCK: non-compliant, the installed version's row (class '' → Other)
        R.fsInstalled('Installed'),
        R.kernelInstalled('InstalledRejected'),
        R.lz4Installed(), R.bsonMissing(),
      ], { InstalledCount: 1, InstalledOtherCount: 1, InstalledRejectedCount: 2, MissingCount: 1, SecurityNonCompliantCount: 1, OtherNonCompliantCount: 2 }, custom, 'BLOCK');
    });

    test('§5 SEVERITY Medium ≡ Moderate on AMAZON_LINUX_2023 only', async () => {
      const al2023 = scanBody(al, {
        os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023',
        installed: [inst('filesystem', '3.8-6.fc29'), inst('rsyslog', '8.2204.0-3.amzn2023.0.1')],
        updates: [
          cand('filesystem', '3.9-2.fc29', { Security: true, Classification: 'Security', Severity: 'moderate', ReleaseTime: t - 30 * DAY, AdvisoryIds: ['DNF-2019-1'] }),
          cand('rsyslog', '8.2204.0-3.amzn2023.0.2', { Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: t - 8 * DAY, AdvisoryIds: ['ALAS2023-2023-001'], CVEIds: ['CVE-2014-3634', 'CVE-2022-24903'] }),
        ],
      });
      await putScan(server, al2023);
      const medium = [rule({ CLASSIFICATION: ['Security'], SEVERITY: ['Medium'] }, { ApproveAfterDays: 0 })];
      const alMedium = (await ssm.send(new CreatePatchBaselineCommand({ OperatingSystem: 'AMAZON_LINUX_2023', Name: 'al-medium', ApprovalRules: { PatchRules: medium } }))).BaselineId!;
      const rhelMedium = (await ssm.send(new CreatePatchBaselineCommand({ OperatingSystem: 'REDHAT_ENTERPRISE_LINUX', Name: 'rhel-medium', ApprovalRules: { PatchRules: medium } }))).BaselineId!;
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: alMedium, PatchGroup: 'medium' }));
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: rhelMedium, PatchGroup: 'medium' }));
      for (const id of [al, rhel]) await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id, Tags: [{ Key: 'Patch Group', Value: 'medium' }] }));
      // RHEL: Moderate ≠ Medium → nothing approved; every row the installed version's (none of them is in a Medium notice).
      await check([
        R.firewalldInstalled('InstalledOther'), R.fsInstalled('InstalledOther'), R.kernelInstalled('InstalledOther'), R.lz4Installed(), R.bsonInstalled(),
      ], { InstalledOtherCount: 5 }, rhelMedium, 'RHEL, SEVERITY Medium');
      const view = await nodeView(server, ssm, al);
      assertTable(view, [
        // AL2023: the notice's `moderate` matches the rule's Medium.
        { kb: 'filesystem.x86_64', state: 'Missing', title: 'filesystem.x86_64:0:3.9-2.fc29', classification: 'Security', severity: 'moderate' },
        // Important is not Medium.
        { kb: 'rsyslog.x86_64', state: 'InstalledOther', title: 'rsyslog.x86_64:0:8.2204.0-3.amzn2023.0.1' },
      ], INSTALLED_AT, 'AL2023, SEVERITY Medium');
      assert.equal(view.state.BaselineId, alMedium);
      assert.equal(view.state.PatchGroup, 'medium');
      assertConsistent(view);
      await assertAggregatesExact(server);
    });
  });
}
