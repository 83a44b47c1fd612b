// The patch catalogue and deployable snapshots through the real server, AWS SDK clients and signed raw requests, on
// every store engine (patch-manager-api.md: DescribeAvailablePatches, DescribeEffectivePatchesForPatchBaseline,
// GetDeployablePatchSnapshotForInstance; semantics §4, §11; docs/api.md). The fleet: a Debian 12 node scanned from
// the real host snapshot in ../shared/fixtures/hosts (registered with an activation, reporting with its own node
// key), a second Debian node in the same patch group, an Amazon Linux 2023 node with updateinfo-like notices, and a
// Windows Server 2022 node with KBs — all through Patchline.PutScanReport.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  AddTagsToResourceCommand, CreateActivationCommand, CreatePatchBaselineCommand, DescribeAvailablePatchesCommand,
  DescribeEffectivePatchesForPatchBaselineCommand, GetDefaultPatchBaselineCommand, GetDeployablePatchSnapshotForInstanceCommand,
  RegisterPatchBaselineForPatchGroupCommand, paginateDescribeAvailablePatches, paginateDescribeEffectivePatchesForPatchBaseline,
  paginateDescribeInstancePatches, type EffectivePatch, type Patch, type PatchComplianceData, type PatchOrchestratorFilter, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { callPatchline, nodeId } from '../helpers/fleet.ts';
import { signedRequest, type Credentials } from '../helpers/raw-request.ts';
import { aptCandidates, hostFixturesDir, NO_HOST_FIXTURES, readAptListUpgradable, readDpkgQuery } from '../domain/evaluation/support.ts';
import { pruneSnapshots } from '../../src/store/snapshot-store.ts';
import { CATALOGUE_TOUCH_MS, recordCatalogueIn } from '../../src/store/catalogue-store.ts';
import { rejectsWith } from '../helpers/assertions.ts';

const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---- scans ----------------------------------------------------------------------------------------------------------

interface WirePackage {
  Name: string;
  Version: string;
  Architecture: string;
  [member: string]: unknown;
}

function scanReport(instanceId: string, platform: Record<string, string>, installed: WirePackage[], updates: WirePackage[]): object {
  const t = nowSeconds();
  return {
    InstanceId: instanceId, Operation: 'Scan', OperationStartTime: t - 60, OperationEndTime: t, RebootPending: false,
    Platform: platform, Installed: installed, Updates: updates,
  };
}

/** The Debian 12 host snapshot as a PutScanReport body (optionally only the first `limit` installed packages). */
function debianScan(instanceId: string, limit?: number): object {
  const dir = hostFixturesDir!;
  const installed = readDpkgQuery(dir).slice(0, limit);
  const names = new Set(installed.map((p) => `${p.name}/${p.arch}`));
  const updates = aptCandidates(readAptListUpgradable(dir)).filter((u) => names.has(`${u.name}/${u.arch}`));
  return scanReport(
    instanceId,
    { OperatingSystem: 'DEBIAN', Name: 'Debian GNU/Linux', Version: '12' },
    installed.map((p) => ({ Name: p.name, Version: p.version, Architecture: p.arch, ...(p.sourceName ? { SourceName: p.sourceName } : {}), ...(p.sourceVersion ? { SourceVersion: p.sourceVersion } : {}) })),
    updates.map((u) => ({ Name: u.name, Version: u.version, Architecture: u.arch, Security: u.security === true, Repository: u.repository!, Priority: u.priority! })),
  );
}

/** Release times of the Amazon Linux and Windows notices, relative to the test's start. */
const T0 = nowSeconds();
const AL_RELEASE = { openssl: T0 - 30 * DAY, curl: T0 - 2 * DAY, kernel: T0 - 10 * DAY, bash: T0 - 40 * DAY };
const WIN_RELEASE = { cumulative: T0 - 20 * DAY, dotnet: T0 - 3 * DAY, msrt: T0 - 20 * DAY, office: T0 - 20 * DAY };

function amazonLinuxScan(instanceId: string): object {
  const x = (Name: string, Version: string) => ({ Name, Version, Architecture: 'x86_64' });
  return scanReport(
    instanceId,
    { OperatingSystem: 'AMAZON_LINUX_2023', Name: 'Amazon Linux', Version: '2023' },
    [x('openssl-libs', '1:3.0.8-1.amzn2023.0.14'), x('curl', '8.5.0-1.amzn2023.0.2'), x('kernel', '6.1.79-99.164.amzn2023'), x('bash', '5.2.15-1.amzn2023.0.2'), x('python3', '3.9.16-1.amzn2023.0.6')],
    [
      { ...x('openssl-libs', '1:3.0.8-1.amzn2023.0.16'), Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: AL_RELEASE.openssl, AdvisoryIds: ['ALAS2023-2024-100'], CVEIds: ['CVE-2024-0727'], BugzillaIds: ['2259944'], Repository: 'amazonlinux' },
      { ...x('curl', '8.5.0-1.amzn2023.0.4'), Security: true, Classification: 'Security', Severity: 'Medium', ReleaseTime: AL_RELEASE.curl, AdvisoryIds: ['ALAS2023-2024-200'], CVEIds: ['CVE-2024-2398'], Repository: 'amazonlinux' },
      { ...x('kernel', '6.1.82-99.168.amzn2023'), Security: true, Classification: 'Security', Severity: 'Critical', ReleaseTime: AL_RELEASE.kernel, AdvisoryIds: ['ALAS2023-2024-300'], CVEIds: ['CVE-2024-26581'], BugzillaIds: ['2265518'], Repository: 'amazonlinux' },
      { ...x('bash', '5.2.15-1.amzn2023.0.3'), Security: false, Classification: 'Bugfix', ReleaseTime: AL_RELEASE.bash, AdvisoryIds: ['ALAS2023-2024-400'], Repository: 'amazonlinux' },
      { ...x('python3', '3.9.16-1.amzn2023.0.7'), Security: false, Repository: 'amazonlinux' },
    ],
  );
}

function windowsScan(instanceId: string): object {
  const kb = (id: string, more: Record<string, unknown>) => ({ Name: id, Version: '1', Architecture: 'x64', KBId: id, ...more });
  return scanReport(
    instanceId,
    { OperatingSystem: 'WINDOWS', Name: 'Microsoft Windows Server 2022 Datacenter', Version: '10.0.20348', Product: 'WindowsServer2022' },
    [kb('KB5034439', { Title: '2024-01 Security Update for Windows Server 2022 (KB5034439)', Classification: 'SecurityUpdates', InstalledTime: T0 - 60 * DAY })],
    [
      kb('KB5035857', { Security: true, Title: '2024-03 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5035857)', Classification: 'SecurityUpdates', MsrcSeverity: 'Critical', Product: 'WindowsServer2022', ProductFamily: 'Windows', ReleaseTime: WIN_RELEASE.cumulative, CVEIds: ['CVE-2024-21407', 'CVE-2024-21408'], AdvisoryIds: ['MS24-003'] }),
      kb('KB5035885', { Security: true, Title: '2024-03 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5035885)', Classification: 'SecurityUpdates', MsrcSeverity: 'Important', Product: 'WindowsServer2022', ProductFamily: 'Windows', ReleaseTime: WIN_RELEASE.dotnet }),
      kb('KB890830', { Security: false, Title: 'Windows Malicious Software Removal Tool x64 - v5.122 (KB890830)', Classification: 'UpdateRollups', Product: 'WindowsServer2022', ProductFamily: 'Windows', ReleaseTime: WIN_RELEASE.msrt }),
      kb('KB5002537', { Security: true, Title: 'Security Update for Microsoft Office 2016 (KB5002537)', Classification: 'SecurityUpdates', MsrcSeverity: 'Important', PatchSet: 'APPLICATION', Product: 'Office 2016', ProductFamily: 'Office', ReleaseTime: WIN_RELEASE.office }),
    ],
  );
}

for (const { engine, skip } of engines()) {
  describe(`patch catalogue and snapshots (${engine})`, { skip: skip || (hostFixturesDir === undefined ? NO_HOST_FIXTURES : false) }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let debKey: Credentials;
    let deb: string; // registered with an activation; reports with its own key
    const deb2 = nodeId(2, 'deb');
    const al = nodeId(1, 'al');
    const win = nodeId(1, 'win');
    let unscanned: string;

    const available = async (Filters?: PatchOrchestratorFilter[], pageSize = 100) => {
      const out: Patch[] = [];
      for await (const page of paginateDescribeAvailablePatches({ client: ssm, pageSize }, { Filters })) out.push(...(page.Patches ?? []));
      return out;
    };
    const effective = async (BaselineId: string, pageSize = 100) => {
      const out: EffectivePatch[] = [];
      for await (const page of paginateDescribeEffectivePatchesForPatchBaseline({ client: ssm, pageSize }, { BaselineId })) out.push(...(page.EffectivePatches ?? []));
      return out;
    };
    const patchesOf = async (InstanceId: string) => {
      const out: PatchComplianceData[] = [];
      for await (const page of paginateDescribeInstancePatches({ client: ssm, pageSize: 100 }, { InstanceId })) out.push(...(page.Patches ?? []));
      return out;
    };
    const missingKbs = async (id: string) => (await patchesOf(id)).filter((p) => String(p.State) === 'Missing' || String(p.State) === 'Failed').map((p) => p.KBId!).sort();
    const snapshot = (input: { InstanceId: string; SnapshotId: string; BaselineOverride?: object }, client = ssm) =>
      client.send(new GetDeployablePatchSnapshotForInstanceCommand(input as never));
    const documentOf = (SnapshotId: string, InstanceId: string, credentials: Credentials = TEST_ADMIN) =>
      callPatchline(server.endpoint, credentials, 'GetPatchSnapshot', { SnapshotId, InstanceId });
    const byStatus = (list: EffectivePatch[]) => {
      const out: Record<string, string[]> = {};
      for (const e of list) (out[e.PatchStatus!.DeploymentStatus!] ??= []).push(e.Patch!.Name ?? e.Patch!.KbNumber!);
      for (const k of Object.keys(out)) out[k]!.sort();
      return out;
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      const activation = await ssm.send(new CreateActivationCommand({ IamRole: 'SSMServiceRole', RegistrationLimit: 5 }));
      const activationKey = { accessKeyId: activation.ActivationId!, secretAccessKey: activation.ActivationCode! };
      const registered = await callPatchline(server.endpoint, activationKey, 'RegisterManagedInstance', { ComputerName: 'deb1', PlatformType: 'Linux' });
      deb = registered.InstanceId;
      debKey = { accessKeyId: registered.AccessKeyId, secretAccessKey: registered.SecretAccessKey };
      unscanned = (await callPatchline(server.endpoint, activationKey, 'RegisterManagedInstance', { ComputerName: 'new' })).InstanceId;

      await callPatchline(server.endpoint, debKey, 'PutScanReport', debianScan(deb));
      await callPatchline(server.endpoint, TEST_ADMIN, 'PutScanReport', debianScan(deb2, 300));
      for (const id of [deb, deb2]) {
        await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id, Tags: [{ Key: 'Patch Group', Value: 'web' }] }));
      }
      await callPatchline(server.endpoint, TEST_ADMIN, 'PutScanReport', amazonLinuxScan(al));
      await callPatchline(server.endpoint, TEST_ADMIN, 'PutScanReport', windowsScan(win));
    });
    after(() => server.close());

    // ---- DescribeAvailablePatches --------------------------------------------------------------------------------

    test('DescribeAvailablePatches: the catalogue is every scan candidate once per product; the paginator walks it without repeats', async () => {
      const upgradable = readAptListUpgradable(hostFixturesDir!).length;
      const all = await available();
      const paged = await available(undefined, 7);
      assert.equal(all.length, upgradable + 5 + 4, 'Debian candidates (deb2 adds none) + 5 Amazon Linux + 4 Windows');
      assert.deepEqual(paged.map((p) => `${p.Product}|${p.Id}`), all.map((p) => `${p.Product}|${p.Id}`));
      assert.equal(new Set(all.map((p) => `${p.Product}|${p.Id}`)).size, all.length);
      const debian = await available([{ Key: 'PRODUCT', Values: ['Debian12'] }]);
      assert.equal(debian.length, upgradable);
      // A second identical scan adds nothing; a new candidate version adds one entry.
      await callPatchline(server.endpoint, debKey, 'PutScanReport', debianScan(deb));
      assert.equal((await available([{ Key: 'PRODUCT', Values: ['Debian12'] }])).length, upgradable);
    });

    test('the catalogue is written rarely: an entry is inserted once and its last_seen refreshed at most hourly', async () => {
      const db = server.app.store.db;
      const rows = () => db.selectFrom('catalogue_patches').selectAll().where('product', '=', 'AmazonLinux2023').orderBy('package_id').execute();
      const before = await rows();
      assert.equal(before.length, 5);
      const ids = before.map((r) => Number(r.package_id));
      const seen = Number(before[0]!.last_seen);
      const write = (now: number) => server.app.store.transaction((trx) => recordCatalogueIn(trx, 'AmazonLinux2023', 'AMAZON_LINUX_2023', ids, now));
      assert.equal(await write(seen + CATALOGUE_TOUCH_MS - 1000), 0, 'fresh entries are not written again');
      assert.equal(await write(seen + CATALOGUE_TOUCH_MS + 1000), 5);
      const after = await rows();
      assert.deepEqual(after.map((r) => Number(r.first_seen)), before.map((r) => Number(r.first_seen)));
      assert.ok(after.every((r) => Number(r.last_seen) === seen + CATALOGUE_TOUCH_MS + 1000));
      assert.equal(await write(seen), 0, 'an older scan does not move last_seen back');
      assert.ok((await rows()).every((r) => Number(r.last_seen) === seen + CATALOGUE_TOUCH_MS + 1000));
    });

    test('DescribeAvailablePatches: Linux patches are spelled like the evaluation rows (Debian: the candidate of the security pocket)', async () => {
      const [openssl] = await available([{ Key: 'PRODUCT', Values: ['Debian12'] }, { Key: 'NAME', Values: ['openssl'] }]);
      assert.deepEqual(openssl, {
        Id: 'openssl.amd64:3.0.22-1~deb12u2', Title: 'openssl.amd64:3.0.22-1~deb12u2', Product: 'Debian12', Name: 'openssl', Arch: 'amd64',
        Epoch: 0, Version: '3.0.22', Release: '1~deb12u2', Classification: 'Security', Severity: 'optional', Repository: 'oldstable-security',
      });
      const [kernel] = await available([{ Key: 'PRODUCT', Values: ['AmazonLinux2023'] }, { Key: 'SEVERITY', Values: ['Critical'] }]);
      assert.deepEqual(kernel, {
        Id: 'kernel.x86_64:0:6.1.82-99.168.amzn2023', Title: 'kernel.x86_64:0:6.1.82-99.168.amzn2023', Product: 'AmazonLinux2023', Name: 'kernel',
        Arch: 'x86_64', Epoch: 0, Version: '6.1.82', Release: '99.168.amzn2023', Classification: 'Security', Severity: 'Critical',
        Repository: 'amazonlinux', AdvisoryIds: ['ALAS2023-2024-300'], CVEIds: ['CVE-2024-26581'], BugzillaIds: ['2265518'],
        ReleaseDate: new Date(AL_RELEASE.kernel * 1000),
      });
    });

    test('DescribeAvailablePatches: the Linux filter keys, each alone and combined (AND across filters, OR across values, * wildcards)', async () => {
      const names = async (Filters: PatchOrchestratorFilter[]) => (await available(Filters)).map((p) => p.Name!).sort();
      const AL = { Key: 'PRODUCT', Values: ['AmazonLinux2023'] };
      assert.deepEqual(await names([AL]), ['bash', 'curl', 'kernel', 'openssl-libs', 'python3']);
      assert.deepEqual(await names([AL, { Key: 'CLASSIFICATION', Values: ['Security'] }]), ['curl', 'kernel', 'openssl-libs']);
      assert.deepEqual(await names([AL, { Key: 'SEVERITY', Values: ['Critical', 'Important'] }]), ['kernel', 'openssl-libs']);
      assert.deepEqual(await names([AL, { Key: 'EPOCH', Values: ['1'] }]), ['openssl-libs']);
      assert.deepEqual(await names([AL, { Key: 'VERSION', Values: ['8.5.0'] }]), ['curl']);
      assert.deepEqual(await names([AL, { Key: 'RELEASE', Values: ['1.amzn2023.0.3'] }]), ['bash']);
      assert.deepEqual(await names([AL, { Key: 'ARCH', Values: ['x86_64'] }, { Key: 'REPOSITORY', Values: ['amazonlinux'] }]), ['bash', 'curl', 'kernel', 'openssl-libs', 'python3']);
      assert.deepEqual(await names([AL, { Key: 'ADVISORY_ID', Values: ['ALAS2023-2024-100', 'ALAS2023-2024-400'] }]), ['bash', 'openssl-libs']);
      assert.deepEqual(await names([AL, { Key: 'CVE_ID', Values: ['CVE-2024-2398'] }]), ['curl']);
      assert.deepEqual(await names([AL, { Key: 'BUGZILLA_ID', Values: ['2259944'] }]), ['openssl-libs']);
      assert.deepEqual(await names([AL, { Key: 'NAME', Values: ['openssl*', 'py*'] }]), ['openssl-libs', 'python3']);
      // Without PRODUCT a Linux query spans every product (Patchline choice; AWS requires PRODUCT).
      assert.deepEqual(await names([{ Key: 'NAME', Values: ['openssl*'] }]), ['openssl', 'openssl-libs']);
      assert.deepEqual(await names([{ Key: 'PRODUCT', Values: ['debian12'] }, { Key: 'NAME', Values: ['openssl'] }]), ['openssl'], 'values compare case-insensitively');
    });

    test('DescribeAvailablePatches: Windows patches and the Windows filter keys', async () => {
      const kbs = async (Filters: PatchOrchestratorFilter[]) => (await available(Filters)).map((p) => p.KbNumber!).sort();
      const [cumulative] = await available([{ Key: 'PATCH_ID', Values: ['KB5035857'] }]);
      assert.deepEqual(cumulative, {
        Id: 'KB5035857', Title: '2024-03 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5035857)',
        KbNumber: 'KB5035857', Product: 'WindowsServer2022', ProductFamily: 'Windows', Classification: 'SecurityUpdates', MsrcSeverity: 'Critical',
        MsrcNumber: 'MS24-003', CVEIds: ['CVE-2024-21407', 'CVE-2024-21408'], ReleaseDate: new Date(WIN_RELEASE.cumulative * 1000),
      });
      assert.deepEqual(await kbs([{ Key: 'PATCH_ID', Values: ['5002537'] }]), ['KB5002537'], 'a bare KB number');
      assert.deepEqual(await kbs([{ Key: 'PATCH_ID', Values: ['MS24-003'] }]), ['KB5035857'], 'an MS bulletin id');
      assert.deepEqual(await kbs([{ Key: 'PATCH_SET', Values: ['APPLICATION'] }]), ['KB5002537']);
      assert.deepEqual(await kbs([{ Key: 'PATCH_SET', Values: ['OS'] }, { Key: 'CLASSIFICATION', Values: ['SecurityUpdates'] }]), ['KB5035857', 'KB5035885']);
      assert.deepEqual(await kbs([{ Key: 'PRODUCT_FAMILY', Values: ['Office'] }]), ['KB5002537']);
      assert.deepEqual(await kbs([{ Key: 'PRODUCT', Values: ['Office 2016'] }]), ['KB5002537'], "an update's own product");
      assert.deepEqual(await kbs([{ Key: 'PRODUCT', Values: ['WindowsServer2022'] }]), ['KB5035857', 'KB5035885', 'KB890830']);
      assert.deepEqual(await kbs([{ Key: 'MSRC_SEVERITY', Values: ['Unspecified'] }]), ['KB890830'], 'no MSRC severity reads Unspecified');
      assert.deepEqual(await kbs([{ Key: 'MSRC_SEVERITY', Values: ['Critical', 'Important'] }, { Key: 'PATCH_SET', Values: ['OS'] }]), ['KB5035857', 'KB5035885']);
    });

    test('DescribeAvailablePatches: unknown keys, empty values, mixed Windows/Linux keys and MaxResults out of range are ValidationException', async () => {
      const send = (input: object) => ssm.send(new DescribeAvailablePatchesCommand(input as never));
      const unknown = await rejectsWith(send({ Filters: [{ Key: 'OPERATING_SYSTEM', Values: ['WINDOWS'] }] }), 'ValidationException');
      assert.match(unknown.message, /Invalid filter key 'OPERATING_SYSTEM'/);
      await rejectsWith(send({ Filters: [{ Key: 'NAME', Values: [] }] }), 'ValidationException');
      await rejectsWith(send({ Filters: [{ Key: 'MSRC_SEVERITY', Values: ['Critical'] }, { Key: 'NAME', Values: ['kernel'] }] }), 'ValidationException');
      await rejectsWith(send({ MaxResults: 101 }), 'ValidationException');
      await rejectsWith(send({ MaxResults: 0 }), 'ValidationException');
      const page = await send({ MaxResults: 1 });
      assert.equal(page.Patches?.length, 1);
      assert.ok(page.NextToken);
      await rejectsWith(send({ MaxResults: 1, NextToken: page.NextToken, Filters: [{ Key: 'PRODUCT', Values: ['Debian12'] }] }), 'ValidationException');
    });

    // ---- DescribeEffectivePatchesForPatchBaseline ----------------------------------------------------------------

    test("DescribeEffectivePatchesForPatchBaseline, AWS's Windows default: APPROVED at release + 7 days, PENDING_APPROVAL when not yet due", async () => {
      const { BaselineId } = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'WINDOWS' }));
      const list = await effective(BaselineId!);
      assert.deepEqual(byStatus(list), { APPROVED: ['KB5035857'], PENDING_APPROVAL: ['KB5035885'] });
      const status = (kb: string) => list.find((e) => e.Patch!.KbNumber === kb)!.PatchStatus;
      assert.deepEqual(status('KB5035857'), { DeploymentStatus: 'APPROVED', ComplianceLevel: 'UNSPECIFIED', ApprovalDate: new Date((WIN_RELEASE.cumulative + 7 * DAY) * 1000) });
      assert.deepEqual(status('KB5035885'), { DeploymentStatus: 'PENDING_APPROVAL', ComplianceLevel: 'UNSPECIFIED', ApprovalDate: new Date((WIN_RELEASE.dotnet + 7 * DAY) * 1000) });
    });

    test('DescribeEffectivePatchesForPatchBaseline, custom Windows baseline: rule levels, a delay in the future, explicit approved and rejected', async () => {
      const { BaselineId } = await ssm.send(new CreatePatchBaselineCommand({
        Name: 'win-effective', OperatingSystem: 'WINDOWS',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['SecurityUpdates'] }, { Key: 'MSRC_SEVERITY', Values: ['Critical', 'Important'] }] }, ApproveAfterDays: 30, ComplianceLevel: 'HIGH' }] },
        ApprovedPatches: ['KB890830'], ApprovedPatchesComplianceLevel: 'MEDIUM', RejectedPatches: ['KB5035885'],
      }));
      const list = await effective(BaselineId!);
      assert.deepEqual(byStatus(list), { EXPLICIT_APPROVED: ['KB890830'], EXPLICIT_REJECTED: ['KB5035885'], PENDING_APPROVAL: ['KB5035857'] });
      const status = (kb: string) => list.find((e) => e.Patch!.KbNumber === kb)!.PatchStatus;
      assert.deepEqual(status('KB5035857'), { DeploymentStatus: 'PENDING_APPROVAL', ComplianceLevel: 'HIGH', ApprovalDate: new Date((WIN_RELEASE.cumulative + 30 * DAY) * 1000) });
      assert.deepEqual(status('KB890830'), { DeploymentStatus: 'EXPLICIT_APPROVED', ComplianceLevel: 'MEDIUM' });
      assert.deepEqual(status('KB5035885'), { DeploymentStatus: 'EXPLICIT_REJECTED', ComplianceLevel: 'UNSPECIFIED' });
    });

    test('DescribeEffectivePatchesForPatchBaseline serves Linux baselines too (Patchline choice): Amazon Linux 2023 default and custom', async () => {
      const { BaselineId: alDefault } = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'AMAZON_LINUX_2023' }));
      const defaults = await effective(alDefault!);
      assert.deepEqual(byStatus(defaults), { APPROVED: ['bash', 'kernel', 'openssl-libs'] });
      const { BaselineId } = await ssm.send(new CreatePatchBaselineCommand({
        Name: 'al-effective', OperatingSystem: 'AMAZON_LINUX_2023',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Critical', 'Important', 'Medium'] }] }, ApproveAfterDays: 5, ComplianceLevel: 'CRITICAL' }] },
        ApprovedPatches: ['python3'], ApprovedPatchesEnableNonSecurity: true, ApprovedPatchesComplianceLevel: 'LOW', RejectedPatches: ['bash'],
      }));
      const list = await effective(BaselineId!);
      assert.deepEqual(byStatus(list), { APPROVED: ['kernel', 'openssl-libs'], EXPLICIT_APPROVED: ['python3'], EXPLICIT_REJECTED: ['bash'], PENDING_APPROVAL: ['curl'] });
      const status = (name: string) => list.find((e) => e.Patch!.Name === name)!.PatchStatus;
      assert.deepEqual(status('curl'), { DeploymentStatus: 'PENDING_APPROVAL', ComplianceLevel: 'CRITICAL', ApprovalDate: new Date((AL_RELEASE.curl + 5 * DAY) * 1000) });
      assert.deepEqual(status('openssl-libs'), { DeploymentStatus: 'APPROVED', ComplianceLevel: 'CRITICAL', ApprovalDate: new Date((AL_RELEASE.openssl + 5 * DAY) * 1000) });
      assert.deepEqual(status('python3'), { DeploymentStatus: 'EXPLICIT_APPROVED', ComplianceLevel: 'LOW' });
    });

    test("DescribeEffectivePatchesForPatchBaseline, Debian default: exactly the nodes' Missing patches are APPROVED; paginated", async () => {
      const { BaselineId } = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }));
      const all = await effective(BaselineId!);
      const paged = await effective(BaselineId!, 9);
      assert.deepEqual(paged.map((e) => e.Patch!.Id), all.map((e) => e.Patch!.Id));
      assert.ok(all.every((e) => e.PatchStatus!.DeploymentStatus === 'APPROVED' && e.PatchStatus!.ApprovalDate === undefined));
      assert.deepEqual(all.map((e) => e.Patch!.Title!).sort(), (await patchesOf(deb)).filter((p) => String(p.State) === 'Missing').map((p) => p.Title!).sort());
      assert.equal(all.length, 81, 'SOURCES.md: 81 upgradable lines come from oldstable-security');
    });

    test('DescribeEffectivePatchesForPatchBaseline: unknown baseline → DoesNotExistException, malformed id → InvalidResourceId, short id → ValidationException', async () => {
      const send = (BaselineId: string) => ssm.send(new DescribeEffectivePatchesForPatchBaselineCommand({ BaselineId }));
      await rejectsWith(send('pb-0123456789abcdef0'), 'DoesNotExistException');
      await rejectsWith(send('xx-0123456789abcdefghijk'), 'InvalidResourceId');
      await rejectsWith(send('pb-123'), 'ValidationException');
    });

    // ---- GetDeployablePatchSnapshotForInstance ------------------------------------------------------------------

    test("GetDeployablePatchSnapshotForInstance with the node's own key: URL, Product, and a document whose Install list is the node's Missing rows", async () => {
      const nodeSsm = server.client(debKey);
      const SnapshotId = randomUUID();
      const out = await snapshot({ InstanceId: deb, SnapshotId, UseS3DualStackEndpoint: true } as never, nodeSsm);
      assert.equal(out.InstanceId, deb);
      assert.equal(out.SnapshotId, SnapshotId);
      assert.equal(out.Product, 'Debian12');
      const url = new URL(out.SnapshotDownloadUrl!);
      assert.equal(`${url.protocol}//${url.host}`, server.endpoint);
      assert.equal(url.pathname, `/snapshots/${SnapshotId}.json`);
      assert.equal(url.searchParams.get('InstanceId'), deb);
      assert.equal(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
      assert.equal(url.searchParams.get('X-Amz-Expires'), '86400');
      assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'host');

      const doc = await documentOf(SnapshotId, deb, debKey);
      const { BaselineId } = await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }));
      assert.equal(doc.SnapshotId, SnapshotId);
      assert.equal(doc.InstanceId, deb);
      assert.equal(doc.OperatingSystem, 'DEBIAN');
      assert.equal(doc.Product, 'Debian12');
      assert.equal(doc.PatchGroup, 'web');
      assert.ok(Math.abs(doc.CreatedTime - Date.now() / 1000) < 60);
      assert.equal(doc.Baseline.BaselineId, BaselineId);
      assert.equal(doc.Baseline.Name, 'AWS-DebianDefaultPatchBaseline');
      assert.deepEqual(Object.keys(doc.Baseline), [
        'BaselineId', 'Name', 'OperatingSystem', 'Description', 'GlobalFilters', 'ApprovalRules', 'ApprovedPatches', 'ApprovedPatchesComplianceLevel',
        'ApprovedPatchesEnableNonSecurity', 'RejectedPatches', 'RejectedPatchesAction', 'Sources',
      ]);
      assert.deepEqual(doc.Rejected, { Action: 'ALLOW_AS_DEPENDENCY', Names: [] });
      assert.deepEqual(doc.Install.map((i: { KBId: string }) => i.KBId).sort(), await missingKbs(deb));
      assert.equal(doc.Install.length, 81);
      assert.deepEqual(doc.Install.find((i: { Name: string }) => i.Name === 'openssl'), {
        Name: 'openssl', Architecture: 'amd64', Version: '3.0.22-1~deb12u2', KBId: 'openssl.amd64', Title: 'openssl.amd64:3.0.22-1~deb12u2', ComplianceLevel: 'UNSPECIFIED',
      });

      // The presigned URL: plain fetch, no credentials.
      const res = await fetch(out.SnapshotDownloadUrl!);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await res.json(), doc);
    });

    test('the presigned URL: an altered signature, parameter or path, a missing signature, and expiry (injected clock) → 403 JSON errors', async () => {
      const SnapshotId = randomUUID();
      const { SnapshotDownloadUrl } = await snapshot({ InstanceId: al, SnapshotId });
      const good = new URL(SnapshotDownloadUrl!);
      const expect403 = async (url: URL | string, code: string) => {
        const res = await fetch(url);
        assert.equal(res.status, 403, String(url));
        const body = (await res.json()) as { __type: string; message: string };
        assert.equal(body.__type, code, body.message);
        assert.equal(res.headers.get('x-amzn-errortype'), code);
        return body;
      };
      const sig = good.searchParams.get('X-Amz-Signature')!;
      const tampered = new URL(good);
      tampered.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
      await expect403(tampered, 'InvalidSignatureException');
      const otherNode = new URL(good);
      otherNode.searchParams.set('InstanceId', win);
      await expect403(otherNode, 'InvalidSignatureException');
      const otherSnapshot = new URL(good);
      otherSnapshot.pathname = `/snapshots/${randomUUID()}.json`;
      await expect403(otherSnapshot, 'InvalidSignatureException');
      const longer = new URL(good);
      longer.searchParams.set('X-Amz-Expires', '90000');
      await expect403(longer, 'IncompleteSignatureException');
      await expect403(`${server.endpoint}/snapshots/${SnapshotId}.json?InstanceId=${al}`, 'MissingAuthenticationTokenException');

      assert.equal((await fetch(good)).status, 200);
      server.app.snapshotUrls.clock = () => Date.now() + 86_400_000 + 60_000;
      try {
        const body = await expect403(good, 'AccessDeniedException');
        assert.match(body.message, /expired/);
      } finally {
        server.app.snapshotUrls.clock = Date.now;
      }
      assert.equal((await fetch(good)).status, 200);
    });

    test('the URL follows the request: its Host header, and https behind a TLS terminator (X-Forwarded-Proto)', async () => {
      const SnapshotId = randomUUID();
      const res = await signedRequest(server.endpoint, {
        target: 'AmazonSSM.GetDeployablePatchSnapshotForInstance', body: { InstanceId: al, SnapshotId }, credentials: TEST_ADMIN,
        headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(res.status, 200, res.text);
      assert.ok(String(res.json.SnapshotDownloadUrl).startsWith(`https://${new URL(server.endpoint).host}/snapshots/${SnapshotId}.json?`));
    });

    test('a node key may fetch its own snapshot only: another node → AccessDeniedException', async () => {
      const nodeSsm = server.client(debKey);
      const SnapshotId = randomUUID();
      await snapshot({ InstanceId: al, SnapshotId });
      await rejectsWith(snapshot({ InstanceId: al, SnapshotId }, nodeSsm), 'AccessDeniedException');
      await rejectsWith(documentOf(SnapshotId, al, debKey), 'AccessDeniedException');
      await rejectsWith(documentOf(SnapshotId, deb, debKey), 'DoesNotExistException');
    });

    test('one SnapshotId + patch group + OS is one snapshot: nodes of a run share the frozen baseline even after the group is re-registered', async () => {
      const SnapshotId = randomUUID();
      // Two nodes ask at once: both get the snapshot created by the first.
      await Promise.all([snapshot({ InstanceId: deb, SnapshotId }), snapshot({ InstanceId: deb2, SnapshotId })]);
      const first = await documentOf(SnapshotId, deb);
      const second = await documentOf(SnapshotId, deb2);
      assert.equal(second.CreatedTime, first.CreatedTime);
      assert.deepEqual(second.Baseline, first.Baseline);
      assert.deepEqual(second.Install.map((i: { KBId: string }) => i.KBId).sort(), await missingKbs(deb2));
      assert.ok(second.Install.length < first.Install.length);

      // The group now gets a baseline that rejects openssl; the run's snapshot does not change, a new run's does.
      const { BaselineId } = await ssm.send(new CreatePatchBaselineCommand({
        Name: 'debian-web', OperatingSystem: 'DEBIAN', RejectedPatches: ['openssl'], RejectedPatchesAction: 'BLOCK',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['Optional'] }] }, ComplianceLevel: 'HIGH' }] },
      }));
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId, PatchGroup: 'web' }));
      await snapshot({ InstanceId: deb, SnapshotId });
      const again = await documentOf(SnapshotId, deb);
      assert.equal(again.CreatedTime, first.CreatedTime);
      assert.deepEqual(again.Baseline, first.Baseline);
      assert.deepEqual(again.Install, first.Install);

      const next = randomUUID();
      await snapshot({ InstanceId: deb, SnapshotId: next });
      const fresh = await documentOf(next, deb);
      assert.equal(fresh.Baseline.BaselineId, BaselineId);
      assert.deepEqual(fresh.Rejected, { Action: 'BLOCK', Names: ['openssl'] });
      assert.ok(!fresh.Install.some((i: { Name: string }) => i.Name === 'openssl'));
      assert.ok(fresh.Install.every((i: { ComplianceLevel: string }) => i.ComplianceLevel === 'HIGH'));
      assert.equal(fresh.Install.length, first.Install.length - 1);
    });

    test('BaselineOverride replaces the resolved baseline and makes its own snapshot; an override for another OS → UnsupportedOperatingSystem', async () => {
      const SnapshotId = randomUUID();
      await snapshot({ InstanceId: al, SnapshotId });
      const resolved = await documentOf(SnapshotId, al);
      assert.deepEqual(resolved.Install.map((i: { Name: string }) => i.Name).sort(), ['bash', 'kernel', 'openssl-libs']);
      assert.deepEqual(resolved.Install.map((i: { KBId: string }) => i.KBId).sort(), await missingKbs(al));

      const BaselineOverride = {
        OperatingSystem: 'AMAZON_LINUX_2023',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }] }, ApproveAfterDays: 0, ComplianceLevel: 'CRITICAL' }] },
        RejectedPatches: ['kernel'], RejectedPatchesAction: 'BLOCK',
      };
      const out = await snapshot({ InstanceId: al, SnapshotId, BaselineOverride });
      assert.equal(out.Product, 'AmazonLinux2023');
      const overridden = await documentOf(SnapshotId, al);
      assert.equal(overridden.Baseline.BaselineId, undefined);
      assert.equal(overridden.Baseline.Name, undefined);
      assert.equal(overridden.Baseline.OperatingSystem, 'AMAZON_LINUX_2023');
      assert.deepEqual(overridden.Rejected, { Action: 'BLOCK', Names: ['kernel'] });
      assert.deepEqual(overridden.Install.map((i: { Name: string; ComplianceLevel: string }) => `${i.Name}:${i.ComplianceLevel}`).sort(), ['curl:CRITICAL', 'openssl-libs:CRITICAL']);
      assert.deepEqual(overridden.Install.find((i: { Name: string }) => i.Name === 'curl'), {
        Name: 'curl', Architecture: 'x86_64', Version: '8.5.0-1.amzn2023.0.4', KBId: 'curl.x86_64', Title: 'curl.x86_64:0:8.5.0-1.amzn2023.0.4',
        ComplianceLevel: 'CRITICAL', CVEIds: 'CVE-2024-2398',
      });

      await rejectsWith(snapshot({ InstanceId: al, SnapshotId, BaselineOverride: { ...BaselineOverride, OperatingSystem: 'WINDOWS' } }), 'UnsupportedOperatingSystem');
      await rejectsWith(snapshot({ InstanceId: al, SnapshotId, BaselineOverride: { ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['Required'] }] }, ApproveAfterDays: 0 }] } } }), 'ValidationException');
    });

    test('Windows: the Install list is the approved, applicable, not-installed updates (a pending one is not installed)', async () => {
      const SnapshotId = randomUUID();
      const out = await snapshot({ InstanceId: win, SnapshotId });
      assert.equal(out.Product, 'WindowsServer2022');
      const doc = await documentOf(SnapshotId, win);
      assert.deepEqual(doc.Install, [{
        Name: 'KB5035857', Architecture: 'x64', Version: '1', KBId: 'KB5035857',
        Title: '2024-03 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5035857)',
        ComplianceLevel: 'UNSPECIFIED', CVEIds: 'CVE-2024-21407,CVE-2024-21408',
      }]);
      assert.deepEqual(doc.Install.map((i: { KBId: string }) => i.KBId), await missingKbs(win));
    });

    test('a node that never reported a scan → UnsupportedOperatingSystem; an unknown node → InvalidInstanceId; never issued → DoesNotExistException', async () => {
      await rejectsWith(snapshot({ InstanceId: unscanned, SnapshotId: randomUUID() }), 'UnsupportedOperatingSystem');
      await rejectsWith(snapshot({ InstanceId: nodeId(99, 'nobody'), SnapshotId: randomUUID() }), 'InvalidInstanceId');
      await rejectsWith(snapshot({ InstanceId: al, SnapshotId: 'not-a-uuid' }), 'ValidationException');
      await rejectsWith(documentOf(randomUUID(), al), 'DoesNotExistException');
    });

    test('snapshots are kept 3 days: pruning removes older ones, and their documents and URLs are gone', async () => {
      const SnapshotId = randomUUID();
      const { SnapshotDownloadUrl } = await snapshot({ InstanceId: win, SnapshotId });
      assert.deepEqual(await pruneSnapshots(server.app.store.db, Date.now()), { snapshots: 0, documents: 0 });
      const pruned = await pruneSnapshots(server.app.store.db, Date.now() + 3 * DAY * 1000 + 1000);
      assert.ok(pruned.snapshots >= 1 && pruned.documents >= 1);
      await rejectsWith(documentOf(SnapshotId, win), 'DoesNotExistException');
      const res = await fetch(SnapshotDownloadUrl!);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { __type: string }).__type, 'DoesNotExistException');
    });
  });
}
