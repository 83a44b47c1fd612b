// The reporting channel and its read APIs through the real AWS SDK, on every store engine: PutInventory (the
// agent's AWS:PatchSummary / AWS:PatchCompliance / AWS:ComplianceItem / Custom: items) and what reads it back —
// DescribeInstancePatches, DescribeInstancePatchStates, DescribeInstancePatchStatesForPatchGroup,
// DescribePatchGroupState, ListInventoryEntries, DescribeInstanceInformation (patch-manager-api.md §2, §3, §5, §7;
// semantics §2, §3, §9, §10).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddTagsToResourceCommand, DescribeInstanceInformationCommand, DescribeInstancePatchesCommand, DescribeInstancePatchStatesCommand,
  DescribeInstancePatchStatesForPatchGroupCommand, DescribePatchGroupStateCommand, ListComplianceItemsCommand, ListInventoryEntriesCommand,
  ListResourceComplianceSummariesCommand, ListTagsForResourceCommand, PutInventoryCommand, RemoveTagsFromResourceCommand,
  paginateDescribeInstanceInformation, paginateDescribeInstancePatches, paginateDescribeInstancePatchStates,
  paginateDescribeInstancePatchStatesForPatchGroup,
  type InstanceInformation, type InstanceInformationStringFilter, type InstancePatchState, type InstancePatchStateFilter, type PatchComplianceData,
  type PatchOrchestratorFilter, type PutInventoryCommandInput, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import {
  CAPTURE_TIME, COUNTER_NAMES, GROUP_MEMBER, GROUP_STATE_MEMBERS, OTHER_BASELINE_ID, callPatchline, camelState, complianceItem,
  customItem, ec2Id, groupStateMembers, groupStateOf, instanceInformation, manyPatches, member, nodeId, patchCompliance, patchComplianceItemEntries,
  patchEntry, patchReport, patchSummary, randomCounters, rng, stateCounters, summaryEntry,
  type Counters, type PatchEntry, type SummaryInput,
} from '../helpers/fleet.ts';
import { rejectsWith } from '../helpers/assertions.ts';

const strip = <T extends object>(o: T): Omit<T, '$metadata' | 'NextToken'> => {
  const { $metadata: _m, NextToken: _t, ...rest } = o as T & { $metadata?: unknown; NextToken?: unknown };
  return rest;
};
const byKb = (a: { KBId?: string }, b: { KBId?: string }) => (a.KBId! < b.KBId! ? -1 : a.KBId! > b.KBId! ? 1 : 0);
const sortedIds = (list: Array<{ InstanceId?: string }>) => list.map((s) => s.InstanceId!).sort();

for (const { engine, skip } of engines()) {
  describe(`reporting (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;

    const put = (input: PutInventoryCommandInput) => ssm.send(new PutInventoryCommand(input));
    const patchesOf = async (InstanceId: string, Filters?: PatchOrchestratorFilter[], pageSize = 100) => {
      const out: PatchComplianceData[] = [];
      for await (const page of paginateDescribeInstancePatches({ client: ssm, pageSize }, { InstanceId, Filters })) out.push(...(page.Patches ?? []));
      return out;
    };
    const stateOf = async (id: string) => (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [id] }))).InstancePatchStates?.[0];
    const groupState = async (PatchGroup: string) => groupStateMembers(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup })));
    const forGroup = async (PatchGroup: string, Filters?: InstancePatchStateFilter[], pageSize = 100) => {
      const out: InstancePatchState[] = [];
      for await (const page of paginateDescribeInstancePatchStatesForPatchGroup({ client: ssm, pageSize }, { PatchGroup, Filters })) {
        out.push(...(page.InstancePatchStates ?? []));
      }
      return out;
    };
    const history = async (InstanceId: string) =>
      (await callPatchline(server.endpoint, TEST_ADMIN, 'DescribeInstancePatchStateHistory', { InstanceId, MaxResults: 1000 })).History as unknown[];
    const entries = async (InstanceId: string, TypeName: string, more: { Filters?: Array<{ Key: string; Values: string[]; Type?: string }>; MaxResults?: number } = {}) =>
      ssm.send(new ListInventoryEntriesCommand({ InstanceId, TypeName, ...(more as object) }));

    /** Everything the read APIs say about one node and its group, for before/after comparisons. */
    const observe = async (id: string, group: string, customType?: string) => ({
      patches: strip(await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 100 }))),
      state: strip(await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [id] }))),
      forGroup: strip(await ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({ PatchGroup: group, MaxResults: 100 }))),
      groupState: strip(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: group }))),
      summaryEntries: strip(await entries(id, 'AWS:PatchSummary')),
      rowEntries: strip(await entries(id, 'AWS:PatchCompliance', { MaxResults: 50 })),
      complianceEntries: strip(await entries(id, 'AWS:ComplianceItem', { MaxResults: 50 })),
      customEntries: customType === undefined ? undefined : strip(await entries(id, customType, { MaxResults: 50 })),
      complianceItems: strip(await ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['ManagedInstance'], MaxResults: 50 }))),
      resourceSummaries: strip(await ssm.send(new ListResourceComplianceSummariesCommand({ Filters: [{ Key: 'InstanceId', Values: [id] }] }))),
      history: await history(id),
    });

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('a report comes back whole through DescribeInstancePatches: every field, CamelCase State, epoch 0 when not installed', async () => {
      const id = nodeId(1, 'rt');
      const sent: PatchEntry[] = [
        patchEntry('KB5000001', 'Installed', { Title: '2026-01 Cumulative Update', Classification: 'SecurityUpdates', Severity: 'Critical', InstalledTime: '2026-02-01T10:20:30Z' }),
        patchEntry('KB5000002', 'INSTALLED_OTHER', { Title: '', Classification: '', Severity: '', InstalledTime: '2026-02-02T00:00:01Z' }),
        patchEntry('KB5000003', 'InstalledPendingReboot', { Classification: 'Updates', Severity: 'Moderate', InstalledTime: '2026-02-03T12:00:00Z' }),
        patchEntry('KB5000004', 'INSTALLED_REJECTED', { InstalledTime: '2026-02-04T23:59:59Z' }),
        patchEntry('KB5000005', 'MISSING', { CVEIds: 'CVE-2026-0001,CVE-2026-0002', Severity: 'Critical' }),
        patchEntry('KB5000006', 'Failed', { CVEIds: 'CVE-2025-9999' }),
        patchEntry('KB5000007', 'NOT_APPLICABLE', { Classification: 'Drivers', Severity: 'Low' }),
        patchEntry('KB5000008', 'Missing', { Classification: 'CriticalUpdates', Severity: 'Unspecified' }),
      ];
      // Sent out of order: the answer does not depend on the order of the report.
      await put(patchReport(id, { patchGroup: 'roundtrip', counters: stateCounters(sent) }, [...sent].reverse()));
      const got = await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id }));
      assert.equal(got.NextToken, undefined);
      assert.equal(got.Patches!.length, sent.length);
      const patches = [...got.Patches!].sort(byKb);
      for (const [i, p] of patches.entries()) {
        const s = sent[i]!;
        assert.equal(p.KBId, s.KBId);
        assert.equal(p.Title, s.Title);
        assert.equal(p.Classification, s.Classification);
        assert.equal(p.Severity, s.Severity);
        assert.equal(p.State, camelState(s.State), `${s.KBId}: State comes back CamelCase`);
        assert.ok(p.InstalledTime instanceof Date, `${s.KBId}: InstalledTime is a timestamp`);
        assert.equal(p.InstalledTime.getTime(), s.InstalledTime === '' ? 0 : Date.parse(s.InstalledTime), `${s.KBId}: InstalledTime`);
        if (s.CVEIds === undefined) assert.equal(p.CVEIds, undefined, `${s.KBId}: no CVEIds`);
        else assert.equal(p.CVEIds, s.CVEIds);
      }
      assert.deepEqual(patches.map((p) => p.State), ['Installed', 'InstalledOther', 'InstalledPendingReboot', 'InstalledRejected', 'Missing', 'Failed', 'NotApplicable', 'Missing']);
      assert.deepEqual(patches.filter((p) => p.InstalledTime!.getTime() === 0).map((p) => p.KBId), ['KB5000005', 'KB5000006', 'KB5000007', 'KB5000008']);

      // A new report replaces the rows whole (nothing of the first one survives).
      const second = [patchEntry('KB6000001', 'Installed')];
      await put(patchReport(id, { patchGroup: 'roundtrip', counters: stateCounters(second) }, second));
      assert.deepEqual((await patchesOf(id)).map((p) => p.KBId), ['KB6000001']);
    });

    test('DescribeInstancePatches filters: values ORed, filters ANDed, State in either spelling, unknown key → InvalidFilter', async () => {
      const id = nodeId(2, 'rt');
      const sent = manyPatches(48, ['Installed', 'Missing', 'InstalledOther', 'Failed', 'NotApplicable', 'InstalledPendingReboot']);
      await put(patchReport(id, { patchGroup: 'filters', counters: stateCounters(sent) }, sent));
      const expect = (keep: (p: PatchEntry) => boolean) => sent.filter(keep).map((p) => p.KBId).sort();
      const got = async (Filters: PatchOrchestratorFilter[]) => (await patchesOf(id, Filters, 10)).map((p) => p.KBId!).sort();

      const cases: Array<[PatchOrchestratorFilter[], (p: PatchEntry) => boolean]> = [
        [[{ Key: 'Classification', Values: ['Security', 'Bugfix'] }], (p) => ['Security', 'Bugfix'].includes(p.Classification)],
        [[{ Key: 'Severity', Values: ['Critical'] }], (p) => p.Severity === 'Critical'],
        [[{ Key: 'Classification', Values: ['Security'] }, { Key: 'Severity', Values: ['Critical', 'Low'] }],
          (p) => p.Classification === 'Security' && ['Critical', 'Low'].includes(p.Severity)],
        [[{ Key: 'State', Values: ['Installed'] }], (p) => camelState(p.State) === 'Installed'],
        [[{ Key: 'State', Values: ['INSTALLED'] }], (p) => camelState(p.State) === 'Installed'],
        [[{ Key: 'State', Values: ['Missing', 'FAILED'] }], (p) => ['Missing', 'Failed'].includes(camelState(p.State))],
        [[{ Key: 'State', Values: ['NotApplicable', 'InstalledPendingReboot'] }, { Key: 'Classification', Values: ['Enhancement'] }],
          (p) => ['NotApplicable', 'InstalledPendingReboot'].includes(camelState(p.State)) && p.Classification === 'Enhancement'],
        [[{ Key: 'KBId', Values: ['KB0000003', 'KB0000010', 'KB9999999'] }], (p) => ['KB0000003', 'KB0000010'].includes(p.KBId)],
        [[{ Key: 'KBId', Values: ['KB0000003'] }, { Key: 'State', Values: ['Installed'] }], () => false],
        [[{ Key: 'Classification', Values: ['Security', 'Bugfix', 'Enhancement'] }, { Key: 'Severity', Values: ['Important', 'Medium'] },
          { Key: 'State', Values: ['MISSING', 'Installed', 'InstalledOther'] }],
          (p) => ['Important', 'Medium'].includes(p.Severity) && ['Missing', 'Installed', 'InstalledOther'].includes(camelState(p.State))],
        [[{ Key: 'Classification', Values: ['Recommended'] }], () => false],
      ];
      for (const [filters, keep] of cases) {
        const want = expect(keep);
        assert.deepEqual(await got(filters), want, JSON.stringify(filters));
      }
      // Sanity of the fixture: the cases above are not trivially empty or full.
      assert.ok(expect((p) => p.Classification === 'Security' && ['Critical', 'Low'].includes(p.Severity)).length > 0);
      assert.ok(expect((p) => camelState(p.State) === 'Installed').length < sent.length);

      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, Filters: [{ Key: 'Product', Values: ['WindowsServer2019'] }] })), 'InvalidFilter');
      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, Filters: [{ Key: 'state', Values: ['Installed'] }] })), 'InvalidFilter');
    });

    test('DescribeInstancePatches: MaxResults 10–100, the paginator visits 250 patches once each, forged NextToken', async () => {
      const id = nodeId(3, 'rt');
      const sent = manyPatches(250);
      await put(patchReport(id, { patchGroup: 'big', counters: stateCounters(sent) }, sent));

      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 9 })), 'ValidationException');
      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 101 })), 'ValidationException');
      const ten = await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 10 }));
      assert.equal(ten.Patches!.length, 10);
      assert.ok(ten.NextToken);
      const hundred = await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 100 }));
      assert.equal(hundred.Patches!.length, 100);

      let pages = 0;
      const seen: string[] = [];
      for await (const page of paginateDescribeInstancePatches({ client: ssm, pageSize: 23 }, { InstanceId: id })) {
        pages++;
        assert.ok(page.Patches!.length <= 23);
        seen.push(...page.Patches!.map((p) => p.KBId!));
      }
      assert.equal(pages, Math.ceil(250 / 23));
      assert.equal(seen.length, 250);
      assert.equal(new Set(seen).size, 250, 'no patch is visited twice');
      assert.deepEqual([...seen].sort(), sent.map((p) => p.KBId).sort());

      // With a filter: pages hold only matching rows, and every matching row comes once.
      const missing = await patchesOf(id, [{ Key: 'State', Values: ['Missing'] }], 10);
      const wantMissing = sent.filter((p) => p.State === 'Missing').map((p) => p.KBId).sort();
      assert.deepEqual(missing.map((p) => p.KBId).sort(), wantMissing);
      assert.equal(new Set(missing.map((p) => p.KBId)).size, wantMissing.length);

      const token = ten.NextToken!;
      const forged = token.slice(0, 30) + (token[30] === 'A' ? 'B' : 'A') + token.slice(31);
      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 10, NextToken: forged })), 'InvalidNextToken');
      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, NextToken: 'not-a-token-at-all' })), 'InvalidNextToken');
      // A real token only continues the query that made it.
      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: nodeId(1, 'rt'), MaxResults: 10, NextToken: token })), 'InvalidNextToken');
      const next = await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 10, NextToken: token }));
      assert.deepEqual(next.Patches!.map((p) => p.KBId), sent.map((p) => p.KBId).sort().slice(10, 20));
    });

    test('unknown node → InvalidInstanceId; a node without a patch report has no patches and no patch state', async () => {
      await rejectsWith(ssm.send(new DescribeInstancePatchesCommand({ InstanceId: nodeId(999, 'zz') })), 'InvalidInstanceId');
      const id = nodeId(4, 'rt');
      await put({ InstanceId: id, Items: [customItem('Custom:Rack', [{ Row: '1' }])] });
      assert.deepEqual((await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id }))).Patches, []);
      assert.deepEqual((await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [id, nodeId(999, 'zz')] }))).InstancePatchStates, []);
    });

    test('DescribeInstancePatchStates: every field, UnreportedNotApplicableCount -1 when not sent, absent nodes, pagination', async () => {
      const a = nodeId(10, 'st');
      const b = nodeId(11, 'st');
      const counters: Partial<Counters> = {
        InstalledCount: 41, InstalledOtherCount: 7, InstalledPendingRebootCount: 2, InstalledRejectedCount: 1, MissingCount: 5, FailedCount: 3,
        NotApplicableCount: 120, AvailableSecurityUpdateCount: 4, CriticalNonCompliantCount: 2, SecurityNonCompliantCount: 6, OtherNonCompliantCount: 3,
      };
      await put(patchReport(a, {
        patchGroup: 'states', baselineId: OTHER_BASELINE_ID, snapshotId: '0b3a3d3e-7f11-4c55-9a6e-2f7b6b1c9d01', counters, operation: 'Install',
        start: '2026-03-01T10:00:00Z', end: '2026-03-01T10:07:30Z', rebootOption: 'NoReboot', installOverrideList: 'https://example.com/override.yaml',
        lastNoRebootInstall: '2026-03-01T10:07:30Z',
      }));
      await put(patchReport(b, { counters: { ...counters, UnreportedNotApplicableCount: 9 } }));

      const got = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [b, nodeId(12, 'st'), a] }))).InstancePatchStates!;
      assert.deepEqual(sortedIds(got), [a, b]);
      const sa = got.find((s) => s.InstanceId === a)!;
      assert.equal(sa.PatchGroup, 'states');
      assert.equal(sa.BaselineId, OTHER_BASELINE_ID);
      assert.equal(sa.SnapshotId, '0b3a3d3e-7f11-4c55-9a6e-2f7b6b1c9d01');
      assert.equal(sa.Operation, 'Install');
      assert.equal(sa.OperationStartTime!.toISOString(), '2026-03-01T10:00:00.000Z');
      assert.equal(sa.OperationEndTime!.toISOString(), '2026-03-01T10:07:30.000Z');
      assert.equal(sa.RebootOption, 'NoReboot');
      assert.equal(sa.InstallOverrideList, 'https://example.com/override.yaml');
      assert.equal(sa.LastNoRebootInstallOperationTime!.toISOString(), '2026-03-01T10:07:30.000Z');
      for (const n of COUNTER_NAMES) {
        const want = n === 'UnreportedNotApplicableCount' ? -1 : counters[n];
        assert.equal(member(sa, n), want, `${n}`);
      }
      const sb = got.find((s) => s.InstanceId === b)!;
      assert.equal(sb.PatchGroup, '', 'a node without a patch group reports ""');
      assert.equal(sb.UnreportedNotApplicableCount, 9);
      assert.equal(sb.Operation, 'Scan');
      assert.equal(sb.SnapshotId, undefined);
      assert.equal(sb.RebootOption, undefined);

      // 25 reporting nodes asked for with MaxResults 10 (plus ids that never reported): each state once.
      const ids = Array.from({ length: 25 }, (_, i) => nodeId(100 + i, 'st'));
      for (const id of ids) await put(patchReport(id, { patchGroup: 'states-page', counters: { MissingCount: 1 } }));
      const asked = [...ids, nodeId(500, 'st'), nodeId(501, 'st')].reverse();
      let pages = 0;
      const seen: string[] = [];
      for await (const page of paginateDescribeInstancePatchStates({ client: ssm, pageSize: 10 }, { InstanceIds: asked })) {
        pages++;
        seen.push(...page.InstancePatchStates!.map((s) => s.InstanceId!));
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen.sort(), [...ids].sort());
      await rejectsWith(ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: ids, MaxResults: 9 })), 'ValidationException');
      await rejectsWith(ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: ids, NextToken: 'A'.repeat(60) })), 'InvalidNextToken');
    });

    test('DescribeInstancePatchStatesForPatchGroup: Equal/NotEqual/LessThan/GreaterThan, up to four ANDed, unknown key, paginator', async () => {
      const r = rng(20260301);
      const fleet = new Map<string, Counters>();
      for (let i = 0; i < 30; i++) {
        const id = nodeId(i, 'fg');
        const c = randomCounters(r);
        fleet.set(id, c);
        await put(patchReport(id, { patchGroup: 'compare', counters: c }));
      }
      // Nodes of other groups never appear.
      await put(patchReport(nodeId(99, 'fg'), { patchGroup: 'compare-other', counters: { MissingCount: 50 } }));
      await put(patchReport(nodeId(98, 'fg'), { patchGroup: 'Compare', counters: { MissingCount: 50 } }));

      const ops = { Equal: (a: number, b: number) => a === b, NotEqual: (a: number, b: number) => a !== b, LessThan: (a: number, b: number) => a < b, GreaterThan: (a: number, b: number) => a > b };
      const expected = (filters: InstancePatchStateFilter[]) => [...fleet].filter(([, c]) => filters.every((f) => ops[f.Type!](c[f.Key as keyof Counters], Number(f.Values![0])))).map(([id]) => id).sort();
      const f = (Key: string, Type: keyof typeof ops, v: number): InstancePatchStateFilter => ({ Key, Type, Values: [String(v)] });
      const cases: InstancePatchStateFilter[][] = [
        [],
        [f('MissingCount', 'GreaterThan', 5)],
        [f('MissingCount', 'Equal', 0)],
        [f('MissingCount', 'NotEqual', 0)],
        [f('InstalledCount', 'LessThan', 20)],
        [f('FailedCount', 'GreaterThan', 0), f('InstalledOtherCount', 'Equal', 0)],
        [f('InstalledCount', 'GreaterThan', 3), f('MissingCount', 'LessThan', 30), f('NotApplicableCount', 'NotEqual', 0)],
        [f('InstalledCount', 'GreaterThan', 0), f('MissingCount', 'GreaterThan', 0), f('FailedCount', 'LessThan', 35), f('InstalledRejectedCount', 'Equal', 0)],
        [f('UnreportedNotApplicableCount', 'LessThan', 0)],
        [f('InstalledPendingRebootCount', 'GreaterThan', 39)],
      ];
      let nonTrivial = 0;
      for (const filters of cases) {
        const want = expected(filters);
        if (want.length > 0 && want.length < fleet.size) nonTrivial++;
        const got = await forGroup('compare', filters.length === 0 ? undefined : filters, 10);
        assert.deepEqual(sortedIds(got), want, JSON.stringify(filters));
        for (const s of got) assert.equal(s.PatchGroup, 'compare');
      }
      assert.ok(nonTrivial >= 6, 'the fixture makes most filters select a proper subset');

      // The states are the same InstancePatchState DescribeInstancePatchStates returns.
      const sample = [...fleet.keys()].slice(0, 5);
      const direct = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: sample }))).InstancePatchStates!;
      const viaGroup = (await forGroup('compare')).filter((s) => sample.includes(s.InstanceId!));
      assert.deepEqual(viaGroup.sort((x, y) => (x.InstanceId! < y.InstanceId! ? -1 : 1)), direct.sort((x, y) => (x.InstanceId! < y.InstanceId! ? -1 : 1)));

      let pages = 0;
      for await (const page of paginateDescribeInstancePatchStatesForPatchGroup({ client: ssm, pageSize: 10 }, { PatchGroup: 'compare' })) {
        pages++;
        assert.ok(page.InstancePatchStates!.length <= 10);
      }
      assert.equal(pages, 3);

      await rejectsWith(ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({ PatchGroup: 'compare', Filters: [f('BogusCount', 'Equal', 1)] })), 'InvalidFilter');
      await rejectsWith(ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({
        PatchGroup: 'compare', Filters: [f('MissingCount', 'Equal', 1), f('FailedCount', 'Equal', 1), f('InstalledCount', 'Equal', 1), f('InstalledOtherCount', 'Equal', 1), f('NotApplicableCount', 'Equal', 1)],
      })), 'ValidationException');
      await rejectsWith(ssm.send(new DescribeInstancePatchStatesForPatchGroupCommand({ PatchGroup: 'compare', MaxResults: 9 })), 'ValidationException');
      assert.deepEqual(await forGroup('no-such-group'), []);
    });

    test('DescribePatchGroupState: all 13 members from a fleet where every counter differs; unknown group → zeros; nodes moving groups', async () => {
      // Node i has counter j > 0 exactly when j < i, so counter j is set on 12 - j of the 13 nodes.
      const counterFor = (i: number): Partial<Counters> => Object.fromEntries(COUNTER_NAMES.map((n, j) => [n, j < i ? j + 1 : n === 'UnreportedNotApplicableCount' ? -1 : 0]));
      const ids = Array.from({ length: 13 }, (_, i) => nodeId(i, 'gs'));
      for (const [i, id] of ids.entries()) await put(patchReport(id, { patchGroup: 'crafted', counters: counterFor(i) }));
      const want: Record<string, number> = { Instances: 13 };
      COUNTER_NAMES.forEach((n, j) => (want[GROUP_MEMBER[n]] = 12 - j));
      assert.equal(new Set(Object.values(want)).size, 13, 'the fixture gives every member a different value');
      const raw = await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'crafted' }));
      for (const m of GROUP_STATE_MEMBERS) assert.equal(member(raw, m), want[m], m);
      assert.deepEqual(groupStateOf((await forGroup('crafted'))), want, 'equal to the recomputation from the nodes');

      const zero = await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'never-reported-group' }));
      for (const m of GROUP_STATE_MEMBERS) assert.equal(member(zero, m) ?? 0, 0, m);
      for (const m of GROUP_STATE_MEMBERS.slice(0, 7)) assert.equal(member(zero, m), 0, `${m} is present`);

      // Node 12 (every counter > 0) reports from another group: it leaves 'crafted' and joins 'crafted-b'.
      await put(patchReport(ids[12]!, { patchGroup: 'crafted-b', counters: counterFor(12) }));
      const left = Object.fromEntries(Object.entries(want).map(([k, v]) => [k, v - 1]));
      assert.deepEqual(await groupState('crafted'), left);
      assert.deepEqual(await groupState('crafted-b'), Object.fromEntries(GROUP_STATE_MEMBERS.map((m) => [m, 1])));
      assert.ok(!sortedIds(await forGroup('crafted')).includes(ids[12]!));
      assert.deepEqual(sortedIds(await forGroup('crafted-b')), [ids[12]]);

      // Back into 'crafted' with nothing to report: counted as an instance, no counter member moves.
      await put(patchReport(ids[12]!, { patchGroup: 'crafted', counters: {} }));
      assert.deepEqual(await groupState('crafted'), { ...left, Instances: 13 });
      assert.deepEqual(await groupState('crafted-b'), Object.fromEntries(GROUP_STATE_MEMBERS.map((m) => [m, 0])));

      // A new report in the same group replaces the node's contribution.
      await put(patchReport(ids[0]!, { patchGroup: 'crafted', counters: { MissingCount: 3, FailedCount: 1 } }));
      assert.deepEqual(await groupState('crafted'), groupStateOf(await forGroup('crafted')));
      assert.equal((await groupState('crafted')).InstancesWithMissingPatches, left.InstancesWithMissingPatches! + 1);
    });

    test('ListInventoryEntries: AWS:PatchSummary, AWS:PatchCompliance, AWS:ComplianceItem and Custom: types; filters; pages; errors', async () => {
      const id = nodeId(1, 'inv');
      const patches = manyPatches(20, ['Installed', 'Missing', 'InstalledOther', 'Failed']);
      const summary = { patchGroup: 'inventory', snapshotId: '5c7c7c1e-0000-4000-8000-00000000abcd', counters: { ...stateCounters(patches), UnreportedNotApplicableCount: 2 }, rebootOption: 'RebootIfNeeded' as const };
      const rack = [{ Rack: 'r1', Slot: '01', Room: 'east' }, { Rack: 'r2', Slot: '02', Room: 'west' }, { Rack: 'r10', Slot: '03', Room: 'east' }];
      const compliance = patchComplianceItemEntries(patches.slice(0, 3), { patchGroup: 'inventory' });
      await put(patchReport(id, summary, patches,
        complianceItem({ ComplianceType: 'Patch', ExecutionId: 'exec-1', ExecutionType: 'Command', ExecutionTime: '2026-03-01T11:55:00Z' }, compliance),
        customItem('Custom:RackInfo', rack)));

      const s = await entries(id, 'AWS:PatchSummary');
      assert.equal(s.TypeName, 'AWS:PatchSummary');
      assert.equal(s.InstanceId, id);
      assert.equal(s.SchemaVersion, '1.0');
      assert.equal(s.CaptureTime, CAPTURE_TIME);
      assert.deepEqual(s.Entries, [summaryEntry(summary)], 'the summary comes back as sent, values as strings');

      const rows = await entries(id, 'AWS:PatchCompliance');
      assert.deepEqual([...rows.Entries!].sort(byKb), patches.map((p) => ({ ...p })).sort(byKb));
      const missing = await entries(id, 'AWS:PatchCompliance', { Filters: [{ Key: 'State', Values: ['Missing'], Type: 'Equal' }] });
      assert.deepEqual(missing.Entries!.map((e) => e.KBId).sort(), patches.filter((p) => p.State === 'Missing').map((p) => p.KBId).sort());
      const prefixed = await entries(id, 'AWS:PatchCompliance', { Filters: [{ Key: 'AWS:PatchCompliance.Classification', Values: ['Bugfix'] }, { Key: 'State', Values: ['Installed'], Type: 'NotEqual' }] });
      assert.deepEqual(prefixed.Entries!.map((e) => e.KBId).sort(), patches.filter((p) => p.Classification === 'Bugfix' && p.State !== 'Installed').map((p) => p.KBId).sort());

      // Pages of 7 over 20 rows: each row once.
      const seen: string[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await ssm.send(new ListInventoryEntriesCommand({ InstanceId: id, TypeName: 'AWS:PatchCompliance', MaxResults: 7, NextToken }));
        pages++;
        assert.ok(page.Entries!.length <= 7);
        seen.push(...page.Entries!.map((e) => e.KBId!));
        NextToken = page.NextToken;
      } while (NextToken !== undefined && pages < 10);
      assert.equal(pages, 3);
      assert.deepEqual(seen.sort(), patches.map((p) => p.KBId).sort());

      const ci = await entries(id, 'AWS:ComplianceItem');
      assert.deepEqual([...ci.Entries!].sort((a, b) => (a.Id! < b.Id! ? -1 : 1)), [...compliance].sort((a, b) => (a.Id! < b.Id! ? -1 : 1)));

      const custom = await entries(id, 'Custom:RackInfo');
      assert.equal(custom.SchemaVersion, '1.0');
      assert.equal(custom.CaptureTime, CAPTURE_TIME);
      assert.deepEqual(custom.Entries, rack);
      assert.deepEqual((await entries(id, 'Custom:RackInfo', { Filters: [{ Key: 'Room', Values: ['east'] }] })).Entries!.map((e) => e.Rack), ['r1', 'r10']);
      assert.deepEqual((await entries(id, 'Custom:RackInfo', { Filters: [{ Key: 'Rack', Values: ['r1'], Type: 'BeginWith' }] })).Entries!.map((e) => e.Rack), ['r1', 'r10']);
      assert.deepEqual((await entries(id, 'Custom:RackInfo', { Filters: [{ Key: 'Room', Values: ['east'] }, { Key: 'Slot', Values: ['01'], Type: 'NotEqual' }] })).Entries!.map((e) => e.Rack), ['r10']);
      const page1 = await entries(id, 'Custom:RackInfo', { MaxResults: 2 });
      assert.equal(page1.Entries!.length, 2);
      const page2 = await ssm.send(new ListInventoryEntriesCommand({ InstanceId: id, TypeName: 'Custom:RackInfo', MaxResults: 2, NextToken: page1.NextToken }));
      assert.deepEqual(page2.Entries, [rack[2]]);
      assert.equal(page2.NextToken, undefined);

      assert.deepEqual((await entries(id, 'Custom:NeverSent')).Entries, []);
      await rejectsWith(entries(id, 'Custom:RackInfo', { Filters: [{ Key: 'Colour', Values: ['red'] }] }), 'InvalidFilter');
      await rejectsWith(entries(nodeId(999, 'inv'), 'AWS:PatchSummary'), 'InvalidInstanceId');
      await rejectsWith(entries(id, 'AWS:Bogus'), 'InvalidTypeNameException');
      await rejectsWith(put({ InstanceId: id, Items: [customItem('AWS:Bogus', [{ A: '1' }])] }), 'InvalidTypeNameException');
      await rejectsWith(ssm.send(new ListInventoryEntriesCommand({ InstanceId: id, TypeName: 'Custom:RackInfo', MaxResults: 2, NextToken: 'B'.repeat(60) })), 'InvalidNextToken');
    });

    test('ContentHash: a resend with the same hashes is not rewritten; a changed hash is', async () => {
      const id = nodeId(1, 'hash');
      const first: SummaryInput = { patchGroup: 'hashing', counters: { InstalledCount: 3, MissingCount: 1 }, contentHash: 's-1' };
      const rows1 = [patchEntry('KB1', 'Installed'), patchEntry('KB2', 'Missing')];
      const send = (summary: SummaryInput, rows: PatchEntry[], rowsHash: string | undefined, custom: Array<Record<string, string>>, customHash: string | undefined) =>
        put({ InstanceId: id, Items: [patchSummary(summary), patchCompliance(rows, { contentHash: rowsHash }), customItem('Custom:Hashed', custom, { contentHash: customHash })] });
      await send(first, rows1, 'p-1', [{ V: 'one' }], 'c-1');
      const before1 = await observe(id, 'hashing', 'Custom:Hashed');
      assert.equal(before1.history.length, 1);

      // Same hashes, different content: the stored report is the first one, and no history entry is added.
      await send({ ...first, counters: { InstalledCount: 99, MissingCount: 42 } }, [patchEntry('KB9', 'Failed')], 'p-1', [{ V: 'two' }], 'c-1');
      assert.deepEqual(await observe(id, 'hashing', 'Custom:Hashed'), before1);
      assert.equal((await stateOf(id))!.MissingCount, 1);

      // A new summary hash rewrites the report (rows included).
      await send({ ...first, counters: { InstalledCount: 5, MissingCount: 0 }, contentHash: 's-2' }, [patchEntry('KB3', 'Installed')], 'p-1', [{ V: 'two' }], 'c-1');
      assert.equal((await stateOf(id))!.InstalledCount, 5);
      assert.deepEqual((await patchesOf(id)).map((p) => p.KBId), ['KB3']);
      assert.equal((await history(id)).length, 2);
      assert.deepEqual((await entries(id, 'Custom:Hashed')).Entries, [{ V: 'one' }], 'the custom item kept its hash, so its content stays');

      // The same summary hash with a new rows hash rewrites too.
      await send({ ...first, counters: { InstalledCount: 6 }, contentHash: 's-2' }, [patchEntry('KB4', 'Installed')], 'p-2', [{ V: 'three' }], 'c-2');
      assert.equal((await stateOf(id))!.InstalledCount, 6);
      assert.deepEqual((await patchesOf(id)).map((p) => p.KBId), ['KB4']);
      assert.equal((await history(id)).length, 3);
      assert.deepEqual((await entries(id, 'Custom:Hashed')).Entries, [{ V: 'three' }]);

      // Without hashes every report is stored.
      await put(patchReport(id, { patchGroup: 'hashing', counters: { InstalledCount: 6 } }, [patchEntry('KB4', 'Installed')]));
      await put(patchReport(id, { patchGroup: 'hashing', counters: { InstalledCount: 6 } }, [patchEntry('KB4', 'Installed')]));
      assert.equal((await history(id)).length, 5);

      // Each item has its own hash: an unchanged patch report with a changed AWS:ComplianceItem updates the items only.
      const rows = [patchEntry('KB7', 'Installed'), patchEntry('KB8', 'Missing')];
      const withItems = (severity: string, hash: string) => put({ InstanceId: id, Items: [
        patchSummary({ patchGroup: 'hashing', counters: stateCounters(rows), contentHash: 's-3' }), patchCompliance(rows, { contentHash: 'p-3' }),
        complianceItem({ ComplianceType: 'Patch', ExecutionType: 'Command' }, patchComplianceItemEntries(rows, { patchGroup: 'hashing', severity }), { contentHash: hash }),
      ] });
      const severities = async () => (await ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['ManagedInstance'] }))).ComplianceItems!.map((i) => i.Severity);
      await withItems('LOW', 'ci-1');
      assert.equal((await history(id)).length, 6);
      assert.deepEqual(await severities(), ['LOW', 'LOW']);
      await withItems('HIGH', 'ci-1');
      assert.deepEqual(await severities(), ['LOW', 'LOW'], 'same compliance hash: not rewritten');
      await withItems('CRITICAL', 'ci-2');
      assert.deepEqual(await severities(), ['CRITICAL', 'CRITICAL'], 'new compliance hash: rewritten');
      assert.equal((await history(id)).length, 6, 'the patch report itself was unchanged');
    });

    test('malformed reports are refused with the AWS error and change nothing in any read API', async () => {
      const id = nodeId(1, 'bad');
      const rows = [patchEntry('KB1', 'Installed'), patchEntry('KB2', 'Missing', { CVEIds: 'CVE-2026-1' }), patchEntry('KB3', 'Failed')];
      await put(patchReport(id, { patchGroup: 'strict', counters: stateCounters(rows) }, rows,
        complianceItem({ ComplianceType: 'Custom:Audit', ExecutionTime: '2026-03-01T11:00:00Z' }, [{ Id: 'a1', Title: 'audit', Status: 'NON_COMPLIANT', Severity: 'HIGH' }]),
        customItem('Custom:Rack', [{ Rack: 'r1' }])));
      const snapshot = await observe(id, 'strict', 'Custom:Rack');
      assert.equal(snapshot.history.length, 1);
      const good = summaryEntry({ patchGroup: 'strict', counters: { InstalledCount: 100, MissingCount: 100 } });
      const summaryWith = (override: Record<string, string | undefined>) => patchSummary({ patchGroup: 'strict', counters: { InstalledCount: 100, MissingCount: 100 }, override });

      const cases: Array<[string, PutInventoryCommandInput, string, string | undefined]> = [
        ['a count that is not a decimal string (1.5)', { InstanceId: id, Items: [summaryWith({ MissingCount: '1.5' })] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['a count that is not a decimal string (abc)', { InstanceId: id, Items: [summaryWith({ InstalledCount: 'abc' })] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['a negative count', { InstanceId: id, Items: [summaryWith({ FailedCount: '-2' })] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['a count with a sign', { InstanceId: id, Items: [summaryWith({ FailedCount: '+2' })] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['a count in hex', { InstanceId: id, Items: [summaryWith({ FailedCount: '0x10' })] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['AWS:PatchSummary with two entries', { InstanceId: id, Items: [{ ...patchSummary({ patchGroup: 'strict' }), Content: [good, good] }] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['AWS:PatchSummary with no entry', { InstanceId: id, Items: [{ ...patchSummary({ patchGroup: 'strict' }), Content: [] }] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['an unknown AWS:PatchSummary attribute', { InstanceId: id, Items: [summaryWith({ Colour: 'blue' })] }, 'InvalidItemContentException', 'AWS:PatchSummary'],
        ['an unknown AWS:PatchCompliance attribute', { InstanceId: id, Items: [patchSummary({ patchGroup: 'strict' }), patchCompliance([{ ...patchEntry('KB9', 'Installed'), Vendor: 'x' } as PatchEntry])] }, 'InvalidItemContentException', 'AWS:PatchCompliance'],
        ['a patch State that is no state', { InstanceId: id, Items: [patchSummary({ patchGroup: 'strict' }), patchCompliance([patchEntry('KB9', 'Installed', { State: 'Present' })])] }, 'InvalidItemContentException', 'AWS:PatchCompliance'],
        ['AWS:PatchCompliance without AWS:PatchSummary', { InstanceId: id, Items: [patchCompliance([patchEntry('KB9', 'Installed')])] }, 'InvalidItemContentException', 'AWS:PatchCompliance'],
        ['Context on a Custom: type', { InstanceId: id, Items: [customItem('Custom:Rack', [{ Rack: 'r9' }], { context: { ComplianceType: 'Custom:X' } })] }, 'UnsupportedInventoryItemContextException', 'Custom:Rack'],
        ['Context on AWS:PatchSummary', { InstanceId: id, Items: [{ ...summaryWith({}), Context: { ExecutionId: 'e' } }] }, 'UnsupportedInventoryItemContextException', 'AWS:PatchSummary'],
        ['SchemaVersion 2.0 on an AWS type', { InstanceId: id, Items: [patchSummary({ patchGroup: 'strict', counters: { MissingCount: 100 }, schemaVersion: '2.0' })] }, 'UnsupportedInventorySchemaVersionException', undefined],
        ['a valid summary next to an invalid item', { InstanceId: id, Items: [summaryWith({}), patchCompliance([patchEntry('KB9', 'Installed', { InstalledTime: 'yesterday' })])] }, 'InvalidItemContentException', 'AWS:PatchCompliance'],
        ['a valid summary next to an unknown AWS type', { InstanceId: id, Items: [summaryWith({}), customItem('AWS:Bogus', [{ A: '1' }])] }, 'InvalidTypeNameException', undefined],
      ];
      for (const [what, input, code, typeName] of cases) {
        await rejectsWith(put(input), code, (err) => {
          if (typeName !== undefined) assert.equal(err.TypeName, typeName, `${what}: TypeName`);
        });
        assert.deepEqual(await observe(id, 'strict', 'Custom:Rack'), snapshot, `${what}: nothing changed`);
      }
      // The next good report is stored as usual.
      await put({ InstanceId: id, Items: [summaryWith({})] });
      assert.equal((await stateOf(id))!.InstalledCount, 100);
    });

    test('the node’s patch group tag: `Patch Group` wins over `PatchGroup`; groups still count by the reported PatchGroup', async () => {
      const id = nodeId(1, 'tag');
      await put(patchReport(id, { patchGroup: 'reported-group', counters: { MissingCount: 1 } }));
      const tagOf = async () => (await server.app.reports.getNode(id))!.patch_group_tag;
      const tag = (Key: string, Value: string) => ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id, Tags: [{ Key, Value }] }));
      const untag = (Key: string) => ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id, TagKeys: [Key] }));
      assert.equal(await tagOf(), null);
      await tag('PatchGroup', 'no-space');
      assert.equal(await tagOf(), 'no-space');
      await tag('Patch Group', 'with-space');
      assert.equal(await tagOf(), 'with-space', '`Patch Group` wins');
      await tag('PatchGroup', 'no-space-2');
      assert.equal(await tagOf(), 'with-space', 'still `Patch Group`');
      assert.deepEqual((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id }))).TagList!.map((t) => [t.Key, t.Value]).sort(),
        [['Patch Group', 'with-space'], ['PatchGroup', 'no-space-2']]);
      await untag('Patch Group');
      assert.equal(await tagOf(), 'no-space-2');
      await untag('PatchGroup');
      assert.equal(await tagOf(), null);
      await tag('Patch Group', 'tagged');
      assert.equal((await groupState('tagged')).Instances, 0, 'the tag alone does not put the node into the group’s state');
      assert.equal((await groupState('reported-group')).Instances, 1);
      await rejectsWith(ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: nodeId(999, 'tag'), Tags: [{ Key: 'PatchGroup', Value: 'x' }] })), 'InvalidResourceId');
    });
  });

  describe(`DescribeInstanceInformation (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const managed = Array.from({ length: 12 }, (_, i) => nodeId(i, 'info'));
    const ec2 = [ec2Id(1), ec2Id(2)];
    const list = async (Filters?: InstanceInformationStringFilter[], pageSize = 50) => {
      const out: InstanceInformation[] = [];
      for await (const page of paginateDescribeInstanceInformation({ client: ssm, pageSize }, { Filters })) out.push(...(page.InstanceInformationList ?? []));
      return out;
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      for (const [i, id] of [...managed, ...ec2].entries()) {
        const items = [patchSummary({ patchGroup: i % 2 === 0 ? 'even' : 'odd', counters: { InstalledCount: i } })];
        if (i < 4) items.push(instanceInformation({ AgentType: 'amazon-ssm-agent', AgentVersion: '3.3.100.0', ComputerName: `host-${i}`, IpAddress: `10.0.0.${i}`, PlatformName: 'Amazon Linux', PlatformType: 'Linux', PlatformVersion: '2023', InstanceId: id }));
        await ssm.send(new PutInventoryCommand({ InstanceId: id, Items: items }));
      }
      for (const id of managed.slice(0, 3)) await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id, Tags: [{ Key: 'Env', Value: 'prod' }] }));
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: managed[3]!, Tags: [{ Key: 'Env', Value: 'test' }] }));
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: managed[4]!, Tags: [{ Key: 'Patch Group', Value: 'web' }] }));
    });
    after(async () => {
      await server?.close();
    });

    test('reporting nodes appear Online with what they reported about themselves', async () => {
      const started = Date.now();
      const all = await list();
      assert.deepEqual(sortedIds(all), [...managed, ...ec2].sort());
      for (const n of all) {
        assert.equal(n.PingStatus, 'Online', n.InstanceId);
        assert.ok(n.LastPingDateTime instanceof Date && Math.abs(n.LastPingDateTime.getTime() - started) < 120_000, `${n.InstanceId}: LastPingDateTime is recent`);
        assert.equal(n.ResourceType, n.InstanceId!.startsWith('mi-') ? 'ManagedInstance' : 'EC2Instance');
      }
      const first = all.find((n) => n.InstanceId === managed[0])!;
      assert.equal(first.PlatformType, 'Linux');
      assert.equal(first.PlatformName, 'Amazon Linux');
      assert.equal(first.PlatformVersion, '2023');
      assert.equal(first.AgentVersion, '3.3.100.0');
      assert.equal(first.ComputerName, 'host-0');
      assert.equal(first.IPAddress, '10.0.0.0');
    });

    test('filters: InstanceIds, PingStatus, ResourceType, PlatformTypes, tag:Key, tag-key; errors', async () => {
      assert.deepEqual(sortedIds(await list([{ Key: 'InstanceIds', Values: [managed[5]!, ec2[0]!] }])), [managed[5], ec2[0]].sort());
      const legacy = await ssm.send(new DescribeInstanceInformationCommand({ InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [managed[6]!] }] }));
      assert.deepEqual(sortedIds(legacy.InstanceInformationList!), [managed[6]]);
      assert.deepEqual(sortedIds(await list([{ Key: 'ResourceType', Values: ['EC2Instance'] }])), [...ec2].sort());
      assert.deepEqual(sortedIds(await list([{ Key: 'ResourceType', Values: ['ManagedInstance'] }])), [...managed].sort());
      assert.deepEqual(sortedIds(await list([{ Key: 'PlatformTypes', Values: ['Linux'] }])), managed.slice(0, 4).sort());
      assert.deepEqual(sortedIds(await list([{ Key: 'tag:Env', Values: ['prod'] }])), managed.slice(0, 3).sort());
      assert.deepEqual(sortedIds(await list([{ Key: 'tag:Env', Values: ['prod', 'test'] }])), managed.slice(0, 4).sort());
      assert.deepEqual(sortedIds(await list([{ Key: 'tag-key', Values: ['Env'] }])), managed.slice(0, 4).sort());
      assert.deepEqual(sortedIds(await list([{ Key: 'tag:Patch Group', Values: ['web'] }])), [managed[4]]);
      assert.deepEqual(sortedIds(await list([{ Key: 'tag:Env', Values: ['prod'] }, { Key: 'tag-key', Values: ['Patch Group'] }])), [], 'tag filters are ANDed');

      // A node that has not been in contact for a day is ConnectionLost (its last contact is moved back in the store).
      const quiet = managed[11]!;
      await server.app.store.db.updateTable('nodes').set({ last_ping_at: Date.now() - 86_400_000 }).where('instance_id', '=', quiet).execute();
      const online = await list([{ Key: 'PingStatus', Values: ['Online'] }]);
      assert.ok(!sortedIds(online).includes(quiet));
      assert.equal(online.length, managed.length + ec2.length - 1);
      const lost = await list([{ Key: 'PingStatus', Values: ['ConnectionLost'] }]);
      assert.deepEqual(sortedIds(lost), [quiet]);
      assert.equal(lost[0]!.PingStatus, 'ConnectionLost');
      assert.equal((await list([{ Key: 'PingStatus', Values: ['Online', 'ConnectionLost'] }])).length, managed.length + ec2.length);
      assert.deepEqual(sortedIds(await list([{ Key: 'PingStatus', Values: ['Online'] }, { Key: 'ResourceType', Values: ['EC2Instance'] }])), [...ec2].sort());

      await rejectsWith(ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [managed[0]!, nodeId(999, 'info')] }] })), 'InvalidInstanceId');
      await rejectsWith(ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Colour', Values: ['red'] }] })), 'InvalidFilterKey');
      await rejectsWith(ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'PingStatus', Values: ['Asleep'] }] })), 'InvalidInstanceInformationFilterValue');
    });

    test('the paginator with MaxResults 5 visits each node once; MaxResults below 5 is refused', async () => {
      let pages = 0;
      const seen: string[] = [];
      for await (const page of paginateDescribeInstanceInformation({ client: ssm, pageSize: 5 }, {})) {
        pages++;
        assert.ok(page.InstanceInformationList!.length <= 5);
        seen.push(...page.InstanceInformationList!.map((n) => n.InstanceId!));
      }
      assert.equal(pages, Math.ceil((managed.length + ec2.length) / 5));
      assert.deepEqual(seen.sort(), [...managed, ...ec2].sort());
      const filtered = await list([{ Key: 'ResourceType', Values: ['ManagedInstance'] }], 5);
      assert.deepEqual(sortedIds(filtered), [...managed].sort());
      await rejectsWith(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 4 })), 'ValidationException');
      await rejectsWith(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 5, NextToken: 'C'.repeat(60) })), 'InvalidNextToken');
    });
  });
}

