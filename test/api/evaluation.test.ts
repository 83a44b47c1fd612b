// Issue #4 "Done when", first part, end to end through the real server on every store engine: a Debian 12 node's
// raw scan (the real host snapshot in ../shared/fixtures/hosts) under AWS-DebianDefaultPatchBaseline is Missing
// exactly for its security-pocket updates; then, WITHOUT a new scan, each change that decides the node's baseline —
// a custom baseline registered for a patch group and the node tagged with it, UpdatePatchBaseline,
// DeregisterPatchBaselineForPatchGroup, RegisterDefaultPatchBaseline, removing the tag — shows at once through
// every read API (DescribeInstancePatches with filters, DescribeInstancePatchStates, …ForPatchGroup,
// DescribePatchGroupState, the compliance APIs, ListInventoryEntries AWS:PatchSummary, the state history), and
// verifyAggregates finds no difference after each step. Re-evaluation is awaited by polling
// Patchline.GetEvaluationStatus. Rules: semantics §2 (states), §4 (pipeline, RejectedPatchesAction), §6.4 (apt:
// security pocket, approval at once), §8 (baseline resolution: tag group → registration → default).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddTagsToResourceCommand, CreatePatchBaselineCommand, DeregisterManagedInstanceCommand, DeregisterPatchBaselineForPatchGroupCommand, DescribeInstancePatchStatesForPatchGroupCommand,
  DescribePatchGroupStateCommand, GetDefaultPatchBaselineCommand, ListComplianceSummariesCommand, RegisterDefaultPatchBaselineCommand,
  RegisterPatchBaselineForPatchGroupCommand, RemoveTagsFromResourceCommand, UpdatePatchBaselineCommand, type CreatePatchBaselineCommandInput,
  type PatchComplianceData, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { nodeId, type Counters } from '../helpers/fleet.ts';
import {
  allPatches, assertAggregatesExact, assertConsistent, counters, countersOf, DEBIAN_INSTALLED_TIME, debianHost, debianScan, evaluationStatus,
  nodeView, putScan, scanBody, waitForCurrent, type DebianHost, type NodeView,
} from '../helpers/scans.ts';
import { hostFixturesDir, NO_HOST_FIXTURES } from '../domain/evaluation/support.ts';

const ALL_PRIORITIES = ['Required', 'Important', 'Standard', 'Optional', 'Extra'];
const SKIP = hostFixturesDir === undefined ? NO_HOST_FIXTURES : false;

/** How a Debian baseline treats the host (semantics §4, §6.4): what the expectations below are computed from. */
interface DebianPolicy {
  /** The baseline's id as the read APIs report it. */
  baselineId: string;
  /** A rule with EnableNonSecurity=true approves every candidate (and installed version); else only security-pocket ones. */
  nonSecurity: boolean;
  /** The approving rule's ComplianceLevel. */
  level: string;
  rejected: string[];
  block: boolean;
}

interface ExpectedRow {
  Title: string;
  State: string;
  Classification: string;
  Severity: string;
  InstalledTime: number;
  /** The Patch compliance item's Severity: the level the baseline gave the row. */
  level: string;
}

/**
 * The rows the node must show, computed by hand from the host files and the policy, one per installed name+arch:
 * - a rejected package is never approved (§4: RejectedPatches first); installed, it is InstalledRejected under BLOCK
 *   and InstalledOther under ALLOW_AS_DEPENDENCY (§2);
 * - an approved candidate makes the row Missing, Title `name.arch:<candidate version>` (apt spelling), Classification
 *   `Security` when it comes from a `-security` pocket (§6.4), Severity the Debian priority (`optional`);
 * - otherwise the installed version: Installed when the baseline approves it (EnableNonSecurity: every version with a
 *   priority passes; a security-only baseline needs a security-pocket version, which no installed version here is),
 *   else InstalledOther; installed rows carry the installed time and Classification ''.
 */
function expectedRows(host: DebianHost, p: DebianPolicy): Map<string, ExpectedRow> {
  const out = new Map<string, ExpectedRow>();
  for (const pkg of host.installed) {
    const kb = `${pkg.Name}.${pkg.Architecture}`;
    const rejected = p.rejected.includes(pkg.Name);
    const candidate = p.nonSecurity ? host.candidates.get(kb) : host.security.get(kb);
    if (candidate !== undefined && !rejected) {
      out.set(kb, { Title: `${kb}:${candidate}`, State: 'Missing', Classification: host.security.has(kb) ? 'Security' : '', Severity: 'optional', InstalledTime: 0, level: p.level });
      continue;
    }
    const installed = { Title: `${kb}:${pkg.Version}`, Classification: '', Severity: 'optional', InstalledTime: DEBIAN_INSTALLED_TIME };
    if (rejected) out.set(kb, { ...installed, State: p.block ? 'InstalledRejected' : 'InstalledOther', level: 'UNSPECIFIED' });
    else if (p.nonSecurity) out.set(kb, { ...installed, State: 'Installed', level: p.level });
    else out.set(kb, { ...installed, State: 'InstalledOther', level: 'UNSPECIFIED' });
  }
  return out;
}

/** Counters from expected rows (semantics §3.1): non-compliant = Missing/Failed/InstalledRejected/InstalledPendingReboot. */
function expectedCounters(rows: Map<string, ExpectedRow>): Counters {
  const c = counters({});
  const field: Record<string, keyof Counters> = { Installed: 'InstalledCount', InstalledOther: 'InstalledOtherCount', InstalledRejected: 'InstalledRejectedCount', Missing: 'MissingCount' };
  for (const r of rows.values()) {
    c[field[r.State]!]++;
    if (r.State === 'Missing' || r.State === 'InstalledRejected') {
      if (r.level === 'CRITICAL') c.CriticalNonCompliantCount++;
      if (r.Classification === 'Security') c.SecurityNonCompliantCount++;
      if (r.level !== 'CRITICAL' && r.Classification !== 'Security') c.OtherNonCompliantCount++;
    }
  }
  return c;
}

function assertRows(view: NodeView, expected: Map<string, ExpectedRow>, context: string): void {
  assert.equal(view.patches.length, expected.size, `${context}: one row per installed name+arch`);
  const levels = new Map(view.items.map((i) => [i.Id!, i.Severity]));
  for (const row of view.patches) {
    const e = expected.get(row.KBId!);
    assert.ok(e !== undefined, `${context}: unexpected row ${row.KBId}`);
    assert.deepEqual(
      { Title: row.Title, State: row.State, Classification: row.Classification, Severity: row.Severity, InstalledTime: row.InstalledTime!.getTime() / 1000, level: levels.get(row.KBId!) },
      e,
      `${context}: ${row.KBId}`,
    );
    assert.equal(row.CVEIds, undefined, 'the apt scan carries no CVE ids');
  }
}

for (const { engine, skip } of engines()) {
  describe(`Debian evaluation end to end: baselines change, the node does not rescan (${engine})`, { skip: skip || SKIP }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let host: DebianHost;
    let host300: DebianHost;
    let host200: DebianHost;
    const deb = nodeId(1, 'deb'); // the whole host; tagged `web` later
    const debDb = nodeId(2, 'deb'); // the first 300 packages; group `db` with its own registered baseline
    const debPlain = nodeId(3, 'deb'); // the first 200 packages; never tagged
    let awsDefault: string;
    let webBaseline: string;
    let dbBaseline: string;
    let fleetDefault: string;
    let scannedAt: number; // OperationEndTime of deb's only scan
    let historyLength = 0;

    const views = async () => ({ deb: await nodeView(server, ssm, deb), db: await nodeView(server, ssm, debDb), plain: await nodeView(server, ssm, debPlain) });
    const createBaseline = async (input: Omit<CreatePatchBaselineCommandInput, 'OperatingSystem'>) =>
      (await ssm.send(new CreatePatchBaselineCommand({ OperatingSystem: 'DEBIAN', ...input }))).BaselineId!;
    const groupState = async (PatchGroup: string) => {
      const { $metadata: _m, ...rest } = await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup }));
      return rest;
    };
    /** The node's view after a change: one more history point, the scan untouched, every API consistent, expected rows. */
    const checkDeb = async (policy: DebianPolicy, group: string, context: string, literal?: Partial<Counters>): Promise<NodeView> => {
      const view = await nodeView(server, ssm, deb);
      const rows = expectedRows(host, policy);
      assertRows(view, rows, context);
      assert.deepEqual(countersOf(view.state), expectedCounters(rows), `${context}: counters`);
      if (literal !== undefined) assert.deepEqual(countersOf(view.state), counters(literal), `${context}: counters (hand-computed from SOURCES.md's figures)`);
      assert.equal(view.state.BaselineId, policy.baselineId, `${context}: BaselineId`);
      assert.equal(view.state.PatchGroup, group, `${context}: PatchGroup`);
      assert.equal(view.state.OperationEndTime!.getTime() / 1000, scannedAt, `${context}: still the one scan (no new report)`);
      assertConsistent(view);
      assert.equal(view.history.length, historyLength + 1, `${context}: one new history point`);
      historyLength = view.history.length;
      await assertAggregatesExact(server, context);
      return view;
    };

    before(async () => {
      host = debianHost();
      host300 = debianHost(300);
      host200 = debianHost(200);
      server = await startTestServer({ engine });
      ssm = server.client();
      awsDefault = (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'DEBIAN' }))).BaselineId!;
    });
    after(() => server.close());

    test('§6.4 + SOURCES.md: under AWS-DebianDefaultPatchBaseline the raw scan is Missing exactly for its 81 security-pocket updates', async () => {
      assert.equal(host.installed.length, 789);
      assert.equal(host.candidates.size, 135);
      assert.equal(host.security.size, 81);
      const body = debianScan(deb, host);
      scannedAt = body.OperationEndTime as number;
      const answer = await putScan(server, body);
      // The answer carries the evaluation made inside the request.
      assert.deepEqual(countersOf(answer.InstancePatchState), counters({ InstalledOtherCount: 708, MissingCount: 81, SecurityNonCompliantCount: 81 }));
      await putScan(server, debianScan(debDb, host300));
      await putScan(server, debianScan(debPlain, host200));
      const status = await waitForCurrent(server);
      assert.equal(status.ScannedNodes, 3);

      const policy: DebianPolicy = { baselineId: awsDefault, nonSecurity: false, level: 'UNSPECIFIED', rejected: [], block: false };
      const view = await nodeView(server, ssm, deb);
      assertRows(view, expectedRows(host, policy), 'AWS default');
      assert.deepEqual(countersOf(view.state), counters({ InstalledOtherCount: 708, MissingCount: 81, SecurityNonCompliantCount: 81 }));
      const missing = view.patches.filter((p) => String(p.State) === 'Missing');
      assert.deepEqual(missing.map((p) => p.Title).sort(), [...host.security].map(([kb, v]) => `${kb}:${v}`).sort(), 'Missing = the security-pocket candidates, Title name.arch:version');
      assert.ok(missing.every((p) => p.Classification === 'Security'));
      assert.equal(view.patches.find((p) => p.KBId === 'openssl.amd64')?.Title, 'openssl.amd64:3.0.22-1~deb12u2');
      assert.equal(view.state.BaselineId, awsDefault);
      assert.equal(view.state.PatchGroup, '');
      assertConsistent(view);
      historyLength = view.history.length;
      assert.equal(historyLength, 1);
      for (const [id, h] of [[debDb, host300], [debPlain, host200]] as const) {
        const v = await nodeView(server, ssm, id);
        assertRows(v, expectedRows(h, policy), id);
        assertConsistent(v);
      }
      assert.equal((await server.app.reports.groupCounts('')).instances, 3, "all three nodes are in group ''");
      await assertAggregatesExact(server, 'after the scans');
    });

    test('§8: a custom baseline (EnableNonSecurity, BLOCK openssl/libssl3) registered for group web and the node tagged: every read API shows the new states without a new scan', async () => {
      webBaseline = await createBaseline({
        Name: 'debian-web',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ALL_PRIORITIES }] }, EnableNonSecurity: true, ComplianceLevel: 'HIGH' }] },
        RejectedPatches: ['openssl', 'libssl3'],
        RejectedPatchesAction: 'BLOCK',
      });
      dbBaseline = await createBaseline({
        Name: 'debian-db',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ALL_PRIORITIES }] }, ComplianceLevel: 'MEDIUM' }] },
      });
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: dbBaseline, PatchGroup: 'db' }));
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: debDb, Tags: [{ Key: 'Patch Group', Value: 'db' }] }));
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: webBaseline, PatchGroup: 'web' }));
      await waitForCurrent(server);
      // Registering for `web` moved nothing yet: no node carries the tag.
      const before = await nodeView(server, ssm, deb);
      assert.equal(before.state.BaselineId, awsDefault);
      assert.equal(before.history.length, historyLength);

      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: deb, Tags: [{ Key: 'Patch Group', Value: 'web' }] }));
      await waitForCurrent(server);
      const web: DebianPolicy = { baselineId: webBaseline, nonSecurity: true, level: 'HIGH', rejected: ['openssl', 'libssl3'], block: true };
      // 135 candidates − 2 rejected = 133 Missing (81 − 2 security); the 654 packages without a candidate are approved
      // as installed (EnableNonSecurity); openssl and libssl3 are InstalledRejected, their class '' → Other.
      const view = await checkDeb(web, 'web', 'web baseline', {
        InstalledCount: 654, InstalledRejectedCount: 2, MissingCount: 133, SecurityNonCompliantCount: 79, OtherNonCompliantCount: 56,
      });
      const openssl = view.patches.find((p) => p.KBId === 'openssl.amd64')!;
      assert.equal(openssl.State, 'InstalledRejected');
      assert.equal(openssl.Title, 'openssl.amd64:3.0.19-1~deb12u2', 'the installed version, not the rejected candidate');
      // libssl-dev (same source, not on the list) is still Missing: the list names binary packages.
      assert.equal(view.patches.find((p) => p.KBId === 'libssl-dev.amd64')?.State, 'Missing');

      // DescribeInstancePatches filters (State, Classification, KBId, Severity; keys ANDed, values ORed).
      const filtered = async (Filters: Array<{ Key: string; Values: string[] }>) => allPatches(ssm, deb, Filters, 50);
      assert.equal((await filtered([{ Key: 'State', Values: ['Missing'] }])).length, 133);
      assert.deepEqual((await filtered([{ Key: 'State', Values: ['InstalledRejected'] }])).map((p) => p.KBId).sort(), ['libssl3.amd64', 'openssl.amd64']);
      assert.equal((await filtered([{ Key: 'State', Values: ['Missing', 'InstalledRejected'] }])).length, 135);
      assert.equal((await filtered([{ Key: 'State', Values: ['InstalledOther'] }])).length, 0);
      assert.equal((await filtered([{ Key: 'Classification', Values: ['Security'] }])).length, 79);
      assert.equal((await filtered([{ Key: 'State', Values: ['Installed'] }, { Key: 'Classification', Values: ['Security'] }])).length, 0);
      assert.deepEqual((await filtered([{ Key: 'KBId', Values: ['openssl.amd64', 'bash.amd64'] }])).map((p: PatchComplianceData) => `${p.KBId} ${p.State}`), ['bash.amd64 Missing', 'openssl.amd64 InstalledRejected']);
      assert.equal((await filtered([{ Key: 'Severity', Values: ['optional'] }])).length, 789);

      // Per-group reads: web has the node, '' lost it.
      assert.deepEqual(await groupState('web'), {
        Instances: 1, InstancesWithInstalledPatches: 1, InstancesWithInstalledOtherPatches: 0, InstancesWithInstalledPendingRebootPatches: 0,
        InstancesWithInstalledRejectedPatches: 1, InstancesWithMissingPatches: 1, InstancesWithFailedPatches: 0, InstancesWithNotApplicablePatches: 0,
        InstancesWithUnreportedNotApplicablePatches: 0, InstancesWithCriticalNonCompliantPatches: 0, InstancesWithSecurityNonCompliantPatches: 1,
        InstancesWithOtherNonCompliantPatches: 1, InstancesWithAvailableSecurityUpdates: 0,
      });
      assert.equal((await server.app.reports.groupCounts('')).instances, 1, "only debPlain is left in group ''");
      assert.equal((await groupState('db')).Instances, 1);
      const forGroup = await ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({ PatchGroup: 'web' }));
      assert.deepEqual(forGroup.InstancePatchStates?.map((s) => [s.InstanceId, s.BaselineId, s.MissingCount, s.InstalledRejectedCount]), [[deb, webBaseline, 133, 2]]);
      const filteredGroup = await ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({ PatchGroup: 'web', Filters: [{ Key: 'InstalledRejectedCount', Values: ['1'], Type: 'GreaterThan' }] }));
      assert.deepEqual(filteredGroup.InstancePatchStates?.map((s) => s.InstanceId), [deb]);
      const none = await ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({ PatchGroup: 'web', Filters: [{ Key: 'MissingCount', Values: ['81'], Type: 'Equal' }] }));
      assert.deepEqual(none.InstancePatchStates, []);

      // Compliance: deb NON_COMPLIANT at HIGH (its Missing rows' level); the resource counts its items by level.
      assert.equal(view.resource.Status, 'NON_COMPLIANT');
      assert.equal(view.resource.OverallSeverity, 'HIGH');
      assert.equal(view.resource.NonCompliantSummary?.SeveritySummary?.HighCount, 133);
      assert.equal(view.resource.NonCompliantSummary?.SeveritySummary?.UnspecifiedCount, 2);
      assert.equal(view.resource.CompliantSummary?.SeveritySummary?.HighCount, 654);
      // The db node under its own baseline (security only, MEDIUM): its 26 security candidates Missing.
      const db = await nodeView(server, ssm, debDb);
      assertRows(db, expectedRows(host300, { baselineId: dbBaseline, nonSecurity: false, level: 'MEDIUM', rejected: [], block: false }), 'db');
      assert.equal(db.state.MissingCount, 26);
      assert.equal(db.resource.OverallSeverity, 'MEDIUM');
      // Fleet summary: three non-compliant nodes, one each at HIGH, MEDIUM and UNSPECIFIED.
      const fleet = (await ssm.send(new ListComplianceSummariesCommand({ Filters: [{ Key: 'ComplianceType', Values: ['Patch'], Type: 'EQUAL' }] }))).ComplianceSummaryItems ?? [];
      assert.equal(fleet.length, 1);
      assert.equal(fleet[0]!.CompliantSummary?.CompliantCount, 0);
      assert.equal(fleet[0]!.NonCompliantSummary?.NonCompliantCount, 3);
      assert.deepEqual(fleet[0]!.NonCompliantSummary?.SeveritySummary, { CriticalCount: 0, HighCount: 1, MediumCount: 1, LowCount: 0, InformationalCount: 0, UnspecifiedCount: 1 });

      // The new history point: the new baseline and group; the first point still shows the old ones.
      assert.deepEqual([view.history[0]!.BaselineId, view.history[0]!.PatchGroup, view.history[0]!.MissingCount], [awsDefault, '', 81]);
      assert.deepEqual([view.history[1]!.BaselineId, view.history[1]!.PatchGroup, view.history[1]!.MissingCount], [webBaseline, 'web', 133]);
    });

    test('UpdatePatchBaseline (rejected list removed) re-evaluates the group\'s node at once', async () => {
      await ssm.send(new UpdatePatchBaselineCommand({ BaselineId: webBaseline, RejectedPatches: [] }));
      await waitForCurrent(server);
      // Every candidate approved: 135 Missing (81 security, 54 other); openssl/libssl3 Missing with their security candidate.
      const view = await checkDeb({ baselineId: webBaseline, nonSecurity: true, level: 'HIGH', rejected: [], block: true }, 'web', 'web baseline updated', {
        InstalledCount: 654, MissingCount: 135, SecurityNonCompliantCount: 81, OtherNonCompliantCount: 54,
      });
      assert.equal(view.patches.find((p) => p.KBId === 'openssl.amd64')?.Title, 'openssl.amd64:3.0.22-1~deb12u2');
      assert.equal((await groupState('web')).InstancesWithInstalledRejectedPatches, 0);
    });

    test('DeregisterPatchBaselineForPatchGroup: the tagged node falls back to the OS default', async () => {
      await ssm.send(new DeregisterPatchBaselineForPatchGroupCommand({ BaselineId: webBaseline, PatchGroup: 'web' }));
      await waitForCurrent(server);
      await checkDeb({ baselineId: awsDefault, nonSecurity: false, level: 'UNSPECIFIED', rejected: [], block: false }, 'web', 'deregistered', {
        InstalledOtherCount: 708, MissingCount: 81, SecurityNonCompliantCount: 81,
      });
      // Still tagged, so still counted in group web.
      assert.equal((await groupState('web')).Instances, 1);
      assert.equal((await groupState('web')).InstancesWithInstalledPatches, 0);
    });

    test('RegisterDefaultPatchBaseline for DEBIAN re-evaluates the nodes without a group registration; the db group keeps its baseline', async () => {
      fleetDefault = await createBaseline({
        Name: 'debian-fleet-default',
        ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['*'] }] }, EnableNonSecurity: true, ComplianceLevel: 'LOW' }] },
        RejectedPatches: ['bash'],
        RejectedPatchesAction: 'ALLOW_AS_DEPENDENCY',
      });
      const dbBefore = await nodeView(server, ssm, debDb);
      await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: fleetDefault }));
      await waitForCurrent(server);
      // bash is rejected with ALLOW_AS_DEPENDENCY: its candidate is not Missing and the installed bash is InstalledOther (§2).
      const policy: DebianPolicy = { baselineId: fleetDefault, nonSecurity: true, level: 'LOW', rejected: ['bash'], block: false };
      const view = await checkDeb(policy, 'web', 'custom default', { InstalledCount: 654, InstalledOtherCount: 1, MissingCount: 134, SecurityNonCompliantCount: 81, OtherNonCompliantCount: 53 });
      assert.equal(view.patches.find((p) => p.KBId === 'bash.amd64')?.State, 'InstalledOther');
      const plain = await nodeView(server, ssm, debPlain);
      assertRows(plain, expectedRows(host200, { ...policy }), 'plain node under the custom default');
      assert.equal(plain.state.BaselineId, fleetDefault);
      assertConsistent(plain);
      const db = await nodeView(server, ssm, debDb);
      assert.equal(db.state.BaselineId, dbBaseline, 'a group registration wins over the default');
      assert.deepEqual(countersOf(db.state), countersOf(dbBefore.state));
      assertRows(db, expectedRows(host300, { baselineId: dbBaseline, nonSecurity: false, level: 'MEDIUM', rejected: [], block: false }), 'db');
      await assertAggregatesExact(server, 'custom default');
    });

    test('removing the Patch Group tag moves the node back to group \'\' (still under the custom default)', async () => {
      await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: deb, TagKeys: ['Patch Group'] }));
      await waitForCurrent(server);
      await checkDeb({ baselineId: fleetDefault, nonSecurity: true, level: 'LOW', rejected: ['bash'], block: false }, '', 'untagged', {
        InstalledCount: 654, InstalledOtherCount: 1, MissingCount: 134, SecurityNonCompliantCount: 81, OtherNonCompliantCount: 53,
      });
      assert.equal((await groupState('web')).Instances, 0);
      assert.equal((await server.app.reports.groupCounts('')).instances, 2);
      // Restoring AWS's default brings the first answer back.
      await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: awsDefault }));
      await waitForCurrent(server);
      await checkDeb({ baselineId: awsDefault, nonSecurity: false, level: 'UNSPECIFIED', rejected: [], block: false }, '', 'AWS default again', {
        InstalledOtherCount: 708, MissingCount: 81, SecurityNonCompliantCount: 81,
      });
      const all = await views();
      assert.equal(all.plain.state.BaselineId, awsDefault);
      assert.equal(all.db.state.BaselineId, dbBaseline);
    });
  });
}

// The change notice is recorded before the API answers, so GetEvaluationStatus is exact at that moment; the
// background loop is off here and batches are run by hand.
for (const { engine, skip } of engines()) {
  describe(`evaluation status follows change notices exactly (${engine})`, { skip: skip || SKIP }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const a = nodeId(11, 'deb');
    const b = nodeId(12, 'deb');
    before(async () => {
      server = await startTestServer({ engine, background: false });
      ssm = server.client();
    });
    after(() => server.close());

    test('a tag change marks exactly the tagged node pending; a baseline update exactly the nodes evaluated against it; a batch makes it current', async () => {
      const host = debianHost(120);
      await putScan(server, debianScan(a, host));
      await putScan(server, debianScan(b, host));
      assert.deepEqual(await evaluationStatus(server).then((s) => [s.Current, s.PendingNodes, s.ScannedNodes]), [true, 0, 2]);
      const id = (await ssm.send(new CreatePatchBaselineCommand({
        OperatingSystem: 'DEBIAN', Name: 'status-web', ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['*'] }] }, EnableNonSecurity: true }] },
      }))).BaselineId!;
      await ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId: id, PatchGroup: 'web' }));
      assert.equal((await evaluationStatus(server)).PendingNodes, 0, 'no node is tagged web yet');
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: a, Tags: [{ Key: 'Patch Group', Value: 'web' }] }));
      assert.deepEqual(await evaluationStatus(server).then((s) => [s.Current, s.PendingNodes]), [false, 1]);
      // Reads still answer the last evaluation until the batch runs (evaluation never blocks the API).
      assert.equal((await nodeView(server, ssm, a)).state.PatchGroup, '');
      assert.equal(await server.app.evaluator.runBatch(500), 1);
      assert.deepEqual(await evaluationStatus(server).then((s) => [s.Current, s.PendingNodes]), [true, 0]);
      assert.equal((await nodeView(server, ssm, a)).state.BaselineId, id);
      await ssm.send(new UpdatePatchBaselineCommand({ BaselineId: id, Description: 'touched' }));
      assert.deepEqual(await evaluationStatus(server).then((s) => [s.Current, s.PendingNodes]), [false, 1], 'only the node evaluated against it');
      assert.equal(await server.app.evaluator.runBatch(500), 1);
      assert.equal((await evaluationStatus(server)).Current, true);
      await assertAggregatesExact(server);
    });
  });
}

// Rows are cached by (node, report sequence) in every server process; a node deregistered and then reported again
// under the same id (an EC2 id, an admin-sent scan) must show its new report, with and without filters.
for (const { engine, skip } of engines()) {
  describe(`a node re-created under the same id shows its new scan (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const id = nodeId(21, 'deb');
    const scan = (version: string, candidate: string) => scanBody(id, {
      os: 'DEBIAN', platformName: 'Debian GNU/Linux', platformVersion: '12',
      installed: [{ Name: 'openssl', Version: version, Architecture: 'amd64' }],
      updates: [{ Name: 'openssl', Version: candidate, Architecture: 'amd64', Security: true, Repository: 'bookworm-security', Priority: 'optional' }],
    });
    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(() => server.close());

    test('DeregisterManagedInstance, then a new scan: the new rows, counters and history only', async () => {
      await putScan(server, scan('3.0.11-1~deb12u2', '3.0.13-1~deb12u1'));
      const missing = [{ Key: 'State', Values: ['Missing'] }];
      assert.deepEqual((await allPatches(ssm, id)).map((p) => p.Title), ['openssl.amd64:3.0.13-1~deb12u1']);
      assert.deepEqual((await allPatches(ssm, id, missing)).map((p) => p.Title), ['openssl.amd64:3.0.13-1~deb12u1']);
      await ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: id }));
      await putScan(server, scan('3.0.19-1~deb12u2', '3.0.22-1~deb12u2'));
      const view = await nodeView(server, ssm, id);
      assert.deepEqual(view.patches.map((p) => p.Title), ['openssl.amd64:3.0.22-1~deb12u2']);
      assert.deepEqual((await allPatches(ssm, id, missing)).map((p) => p.Title), ['openssl.amd64:3.0.22-1~deb12u2']);
      assert.equal(view.history.length, 1);
      assertConsistent(view);
      await assertAggregatesExact(server);
    });
  });
}
