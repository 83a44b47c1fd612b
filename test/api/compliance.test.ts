// Compliance through the real AWS SDK, on every store engine: ListComplianceItems (Patch items derived from the
// reported patch rows, or the AWS:ComplianceItem entries the agent sent), PutComplianceItems (Custom:…, Association,
// Patch), ListResourceComplianceSummaries and ListComplianceSummaries (patch-manager-api.md §6; semantics §3.2).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ListComplianceItemsCommand, ListComplianceSummariesCommand, ListResourceComplianceSummariesCommand, PutComplianceItemsCommand, PutInventoryCommand,
  paginateListComplianceItems, paginateListComplianceSummaries, paginateListResourceComplianceSummaries,
  type ComplianceItem, type ComplianceItemEntry, type ComplianceStringFilter, type ComplianceSummaryItem, type PutComplianceItemsCommandInput,
  type ResourceComplianceSummaryItem, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { signedRequest } from '../helpers/raw-request.ts';
import { verifyAggregates } from '../../src/services/verify.ts';
import {
  BASELINE_ID, camelState, complianceItem, nodeId, patchComplianceItemEntries, patchEntry, patchReport, pick, rng, stateCounters, type PatchEntry,
} from '../helpers/fleet.ts';
import { rejectsWith } from '../helpers/assertions.ts';

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNSPECIFIED'] as const;
const SEVERITY_FIELD = { CRITICAL: 'CriticalCount', HIGH: 'HighCount', MEDIUM: 'MediumCount', LOW: 'LowCount', INFORMATIONAL: 'InformationalCount', UNSPECIFIED: 'UnspecifiedCount' } as const;
const byId = (a: { Id?: string }, b: { Id?: string }) => (a.Id! < b.Id! ? -1 : a.Id! > b.Id! ? 1 : 0);

/** A SeveritySummary with the given counts (others 0). */
function severities(counts: Partial<Record<(typeof SEVERITIES)[number], number>> = {}): Record<string, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [SEVERITY_FIELD[s], counts[s] ?? 0]));
}

const execution = (t = '2026-03-01T09:00:00Z', more: { ExecutionId?: string; ExecutionType?: string } = {}) => ({ ExecutionTime: new Date(t), ...more });

for (const { engine, skip } of engines()) {
  describe(`compliance (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;

    const itemsOf = async (id: string, Filters?: ComplianceStringFilter[], pageSize = 50) => {
      const out: ComplianceItem[] = [];
      for await (const page of paginateListComplianceItems({ client: ssm, pageSize }, { ResourceIds: [id], ResourceTypes: ['ManagedInstance'], Filters })) out.push(...(page.ComplianceItems ?? []));
      return out;
    };
    const summariesOf = async (Filters?: ComplianceStringFilter[], pageSize = 50) => {
      const out: ResourceComplianceSummaryItem[] = [];
      for await (const page of paginateListResourceComplianceSummaries({ client: ssm, pageSize }, { Filters })) out.push(...(page.ResourceComplianceSummaryItems ?? []));
      return out;
    };
    const summaryOf = async (id: string, type: string) => (await summariesOf([{ Key: 'InstanceId', Values: [id] }, { Key: 'ComplianceType', Values: [type] }]))[0];
    const putItems = (ResourceId: string, ComplianceType: string, Items: ComplianceItemEntry[], more: Partial<PutComplianceItemsCommandInput> = {}) =>
      ssm.send(new PutComplianceItemsCommand({ ResourceId, ResourceType: 'ManagedInstance', ComplianceType, ExecutionSummary: execution(), Items, ...more }));

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('Patch items derived from the reported rows: Status per state, Severity UNSPECIFIED, Details, execution summary', async () => {
      const id = nodeId(1, 'pc');
      const rows: PatchEntry[] = [
        patchEntry('KB1', 'Installed', { InstalledTime: '2026-02-01T01:02:03Z' }),
        patchEntry('KB2', 'InstalledOther', { Classification: '', Severity: '' }),
        patchEntry('KB3', 'Missing', { CVEIds: 'CVE-2026-1111', Severity: 'Critical' }),
        patchEntry('KB4', 'Failed', { Classification: 'Bugfix' }),
        patchEntry('KB5', 'InstalledRejected'),
        patchEntry('KB6', 'InstalledPendingReboot'),
        patchEntry('KB7', 'NotApplicable'),
      ];
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'derived', counters: stateCounters(rows), end: '2026-03-01T11:55:00Z' }, rows)));
      const items = (await itemsOf(id)).sort(byId);
      assert.deepEqual(items.map((i) => [i.Id, i.Status]), [
        ['KB1', 'COMPLIANT'], ['KB2', 'COMPLIANT'], ['KB3', 'NON_COMPLIANT'], ['KB4', 'NON_COMPLIANT'], ['KB5', 'NON_COMPLIANT'], ['KB6', 'NON_COMPLIANT'], ['KB7', ''],
      ]);
      for (const [i, item] of items.entries()) {
        const row = rows[i]!;
        assert.equal(item.ComplianceType, 'Patch');
        assert.equal(item.ResourceType, 'ManagedInstance');
        assert.equal(item.ResourceId, id);
        assert.equal(item.Title, row.Title);
        assert.equal(item.Severity, 'UNSPECIFIED', `${row.KBId}: a patch item's severity is the baseline's compliance level`);
        assert.equal(item.ExecutionSummary!.ExecutionTime!.toISOString(), '2026-03-01T11:55:00.000Z');
        assert.equal(item.Details!.Classification, row.Classification);
        assert.equal(item.Details!.PatchSeverity, row.Severity);
        assert.equal(item.Details!.PatchState, camelState(row.State));
        assert.equal(item.Details!.PatchBaselineId, BASELINE_ID);
        assert.equal(item.Details!.PatchGroup, 'derived');
        assert.equal(item.Details!.InstalledTime, row.InstalledTime);
        assert.equal(item.Details!.CVEIds, row.CVEIds);
      }
      const summary = (await summaryOf(id, 'Patch'))!;
      assert.equal(summary.Status, 'NON_COMPLIANT');
      assert.equal(summary.OverallSeverity, 'UNSPECIFIED');
      assert.equal(summary.ResourceType, 'ManagedInstance');
      assert.deepEqual(summary.CompliantSummary, { CompliantCount: 2, SeveritySummary: severities({ UNSPECIFIED: 2 }) });
      assert.deepEqual(summary.NonCompliantSummary, { NonCompliantCount: 4, SeveritySummary: severities({ UNSPECIFIED: 4 }) }, 'NotApplicable counts in neither');

      // Filters on the items: Status, Id, Severity, ComplianceType; values ORed.
      assert.deepEqual((await itemsOf(id, [{ Key: 'Status', Values: ['NON_COMPLIANT'], Type: 'EQUAL' }])).map((i) => i.Id).sort(), ['KB3', 'KB4', 'KB5', 'KB6']);
      assert.deepEqual((await itemsOf(id, [{ Key: 'Id', Values: ['KB1', 'KB7'] }])).map((i) => i.Id).sort(), ['KB1', 'KB7']);
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Nothing'] }])), []);
      assert.equal((await itemsOf(id, [{ Key: 'Severity', Values: ['UNSPECIFIED'] }])).length, 7);
      await rejectsWith(ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['ManagedInstance'], Filters: [{ Key: 'Colour', Values: ['red'] }] })), 'InvalidFilter');

      // A later report with every patch installed makes the node compliant.
      const fixed = rows.filter((r) => r.State !== 'NotApplicable').map((r) => patchEntry(r.KBId, 'Installed'));
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'derived', counters: stateCounters(fixed) }, fixed)));
      const after = (await summaryOf(id, 'Patch'))!;
      assert.equal(after.Status, 'COMPLIANT');
      assert.deepEqual(after.CompliantSummary, { CompliantCount: 6, SeveritySummary: severities({ UNSPECIFIED: 6 }) });
      assert.equal(after.NonCompliantSummary!.NonCompliantCount, 0);
    });

    test('AWS:ComplianceItem sent with the report: the stored items are served, with their execution summary', async () => {
      const id = nodeId(2, 'pc');
      const rows = [patchEntry('KB1', 'Installed'), patchEntry('KB2', 'Missing'), patchEntry('KB3', 'Failed')];
      const entries = patchComplianceItemEntries(rows, { patchGroup: 'stored' });
      entries[0]!.Severity = 'CRITICAL';
      entries[1]!.Severity = 'HIGH';
      entries[2]!.Severity = 'LOW';
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'stored', counters: stateCounters(rows) }, rows,
        complianceItem({ ComplianceType: 'Patch', ExecutionId: 'cmd-123', ExecutionType: 'Command', ExecutionTime: '2026-03-01T11:58:00Z' }, entries))));
      const items = (await itemsOf(id)).sort(byId);
      assert.deepEqual(items.map((i) => [i.Id, i.Status, i.Severity]), [['KB1', 'COMPLIANT', 'CRITICAL'], ['KB2', 'NON_COMPLIANT', 'HIGH'], ['KB3', 'NON_COMPLIANT', 'LOW']]);
      for (const [i, item] of items.entries()) {
        const { Id: _i, Title, Status: _s, Severity: _v, ...details } = entries[i]!;
        assert.equal(item.Title, Title);
        assert.deepEqual(item.Details, details);
        assert.deepEqual(item.ExecutionSummary, { ExecutionTime: new Date('2026-03-01T11:58:00Z'), ExecutionId: 'cmd-123', ExecutionType: 'Command' });
      }
      const summary = (await summaryOf(id, 'Patch'))!;
      assert.equal(summary.Status, 'NON_COMPLIANT');
      assert.equal(summary.OverallSeverity, 'HIGH');
      assert.deepEqual(summary.CompliantSummary, { CompliantCount: 1, SeveritySummary: severities({ CRITICAL: 1 }) });
      assert.deepEqual(summary.NonCompliantSummary, { NonCompliantCount: 2, SeveritySummary: severities({ HIGH: 1, LOW: 1 }) });
      assert.deepEqual(summary.ExecutionSummary, { ExecutionTime: new Date('2026-03-01T11:58:00Z'), ExecutionId: 'cmd-123', ExecutionType: 'Command' });

      // A Custom: type sent through AWS:ComplianceItem is stored beside Patch.
      await ssm.send(new PutInventoryCommand({ InstanceId: id, Items: [complianceItem({ ComplianceType: 'Custom:Agent', ExecutionTime: '2026-03-01T12:00:00Z' }, [{ Id: 'agent-up', Title: 'agent running', Status: 'COMPLIANT', Severity: 'MEDIUM' }])] }));
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Agent'] }])).map((i) => [i.Id, i.Status, i.Severity]), [['agent-up', 'COMPLIANT', 'MEDIUM']]);
      assert.equal((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Patch'] }])).length, 3, 'Patch items are untouched');

      // The next patch report without AWS:ComplianceItem: items derive from its rows again.
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'stored', counters: stateCounters(rows) }, rows)));
      const derived = await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Patch'] }]);
      assert.deepEqual(derived.map((i) => i.Severity), ['UNSPECIFIED', 'UNSPECIFIED', 'UNSPECIFIED']);
      assert.equal((await summaryOf(id, 'Patch'))!.OverallSeverity, 'UNSPECIFIED');
    });

    test('PutComplianceItems: COMPLETE replaces, empty Items clears, PARTIAL merges (Association only), ItemContentHash no-op', async () => {
      const id = nodeId(3, 'pc');
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'custom' }, [])));
      const item = (Id: string, Status: 'COMPLIANT' | 'NON_COMPLIANT', Severity: ComplianceItemEntry['Severity'], Details?: Record<string, string>): ComplianceItemEntry =>
        ({ Id, Title: `${Id} title`, Status, Severity, ...(Details ? { Details } : {}) });

      await putItems(id, 'Custom:Foo', [item('a', 'COMPLIANT', 'LOW'), item('b', 'NON_COMPLIANT', 'MEDIUM', { Owner: 'ops' })], { ExecutionSummary: execution('2026-03-02T00:00:00Z', { ExecutionId: 'run-1', ExecutionType: 'Command' }) });
      let foo = (await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Foo'] }])).sort(byId);
      assert.deepEqual(foo.map((i) => [i.Id, i.Title, i.Status, i.Severity]), [['a', 'a title', 'COMPLIANT', 'LOW'], ['b', 'b title', 'NON_COMPLIANT', 'MEDIUM']]);
      assert.deepEqual(foo[1]!.Details, { Owner: 'ops' });
      assert.deepEqual(foo[0]!.ExecutionSummary, { ExecutionTime: new Date('2026-03-02T00:00:00Z'), ExecutionId: 'run-1', ExecutionType: 'Command' });
      assert.equal((await summaryOf(id, 'Custom:Foo'))!.OverallSeverity, 'MEDIUM');

      await putItems(id, 'Custom:Foo', [item('c', 'COMPLIANT', 'HIGH')]);
      foo = await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Foo'] }]);
      assert.deepEqual(foo.map((i) => i.Id), ['c'], 'COMPLETE replaces every item of the type');
      const fooSummary = (await summaryOf(id, 'Custom:Foo'))!;
      assert.equal(fooSummary.Status, 'COMPLIANT');
      assert.equal(fooSummary.OverallSeverity, 'HIGH');
      assert.deepEqual(fooSummary.CompliantSummary, { CompliantCount: 1, SeveritySummary: severities({ HIGH: 1 }) });

      await putItems(id, 'Custom:Foo', []);
      assert.deepEqual(await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Foo'] }]), [], 'empty Items clears the type');
      assert.equal((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Patch'] }])).length, 0);

      // ItemContentHash: the same hash again is a no-op even with other items; a new hash applies.
      await putItems(id, 'Custom:Hashed', [item('h1', 'COMPLIANT', 'LOW')], { ItemContentHash: 'hash-1' });
      await putItems(id, 'Custom:Hashed', [item('h2', 'NON_COMPLIANT', 'CRITICAL')], { ItemContentHash: 'hash-1' });
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Hashed'] }])).map((i) => i.Id), ['h1']);
      assert.equal((await summaryOf(id, 'Custom:Hashed'))!.Status, 'COMPLIANT');
      await putItems(id, 'Custom:Hashed', [item('h2', 'NON_COMPLIANT', 'CRITICAL')], { ItemContentHash: 'hash-2' });
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Hashed'] }])).map((i) => i.Id), ['h2']);
      assert.equal((await summaryOf(id, 'Custom:Hashed'))!.OverallSeverity, 'CRITICAL');

      // Association: PARTIAL merges by Id; COMPLETE replaces.
      await putItems(id, 'Association', [item('assoc-1', 'COMPLIANT', 'UNSPECIFIED'), item('assoc-2', 'NON_COMPLIANT', 'HIGH')]);
      await putItems(id, 'Association', [item('assoc-2', 'COMPLIANT', 'HIGH'), item('assoc-3', 'NON_COMPLIANT', 'LOW')], { UploadType: 'PARTIAL' });
      const assoc = (await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Association'] }])).sort(byId);
      assert.deepEqual(assoc.map((i) => [i.Id, i.Status]), [['assoc-1', 'COMPLIANT'], ['assoc-2', 'COMPLIANT'], ['assoc-3', 'NON_COMPLIANT']]);
      const assocSummary = (await summaryOf(id, 'Association'))!;
      assert.equal(assocSummary.Status, 'NON_COMPLIANT');
      assert.equal(assocSummary.OverallSeverity, 'LOW');
      assert.deepEqual(assocSummary.CompliantSummary, { CompliantCount: 2, SeveritySummary: severities({ UNSPECIFIED: 1, HIGH: 1 }) });
      await putItems(id, 'Association', [item('assoc-9', 'COMPLIANT', 'LOW')], { UploadType: 'COMPLETE' });
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Association'] }])).map((i) => i.Id), ['assoc-9']);
      await rejectsWith(putItems(id, 'Custom:Foo', [item('x', 'COMPLIANT', 'LOW')], { UploadType: 'PARTIAL' }), 'ValidationException');
      assert.deepEqual(await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Foo'] }]), []);

      // PutComplianceItems may overwrite a node's Patch compliance directly.
      await putItems(id, 'Patch', [item('KB42', 'NON_COMPLIANT', 'CRITICAL')]);
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Patch'] }])).map((i) => [i.Id, i.Severity]), [['KB42', 'CRITICAL']]);
      assert.equal((await summaryOf(id, 'Patch'))!.OverallSeverity, 'CRITICAL');
    });

    test('PutComplianceItems errors: 11th Custom type, ResourceType, unknown node', async () => {
      const id = nodeId(4, 'pc');
      await ssm.send(new PutInventoryCommand(patchReport(id, {}, [])));
      const one: ComplianceItemEntry[] = [{ Id: 'x', Status: 'COMPLIANT', Severity: 'LOW' }];
      for (let i = 0; i < 10; i++) await putItems(id, `Custom:Type${i}`, one);
      await rejectsWith(putItems(id, 'Custom:Type10', one), 'ComplianceTypeCountLimitExceededException');
      assert.deepEqual(await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Type10'] }]), []);
      await putItems(id, 'Custom:Type3', [{ Id: 'y', Status: 'NON_COMPLIANT', Severity: 'HIGH' }]);
      assert.deepEqual((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Type3'] }])).map((i) => i.Id), ['y'], 'an existing type can still be written');
      await putItems(id, 'Association', one);
      assert.equal((await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Association'] }])).length, 1, 'Association is not a Custom type');

      await rejectsWith(ssm.send(new PutComplianceItemsCommand({ ResourceId: id, ResourceType: 'EC2Instance', ComplianceType: 'Custom:Foo', ExecutionSummary: execution(), Items: one })), 'InvalidResourceType');
      await rejectsWith(ssm.send(new PutComplianceItemsCommand({ ResourceId: id, ResourceType: 'Document', ComplianceType: 'Custom:Foo', ExecutionSummary: execution(), Items: one })), 'InvalidResourceType');
      await rejectsWith(putItems(nodeId(999, 'pc'), 'Custom:Foo', one), 'InvalidResourceId');
      await rejectsWith(ssm.send(new ListComplianceItemsCommand({ ResourceIds: [nodeId(999, 'pc')], ResourceTypes: ['ManagedInstance'] })), 'InvalidResourceId');
      await rejectsWith(ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['Document'] })), 'InvalidResourceType');
    });

    test('execution times in epoch seconds with sub-millisecond fractions are accepted (PutComplianceItems, AWS:ComplianceItem Context)', async () => {
      const id = nodeId(6, 'pc');
      await ssm.send(new PutInventoryCommand(patchReport(id, {}, [])));
      // The SDK sends whole milliseconds; the protocol allows any fraction of a second.
      const res = await signedRequest(server.endpoint, {
        target: 'AmazonSSM.PutComplianceItems', credentials: TEST_ADMIN,
        body: { ResourceId: id, ResourceType: 'ManagedInstance', ComplianceType: 'Custom:Fine', ExecutionSummary: { ExecutionTime: 1772355600.0004 }, Items: [{ Id: 'f', Status: 'COMPLIANT', Severity: 'LOW' }] },
      });
      assert.equal(res.status, 200, res.text);
      const [fine] = await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Fine'] }]);
      assert.equal(fine!.ExecutionSummary!.ExecutionTime!.toISOString(), '2026-03-01T09:00:00.000Z');
      await ssm.send(new PutInventoryCommand({ InstanceId: id, Items: [complianceItem({ ComplianceType: 'Custom:Context', ExecutionTime: '1772355600.0006' }, [{ Id: 'c', Status: 'COMPLIANT', Severity: 'LOW' }])] }));
      const [ctx] = await itemsOf(id, [{ Key: 'ComplianceType', Values: ['Custom:Context'] }]);
      assert.equal(ctx!.ExecutionSummary!.ExecutionTime!.toISOString(), '2026-03-01T09:00:00.001Z');
    });

    test('ListComplianceItems pages: MaxResults 1–50, the paginator visits each item once', async () => {
      const id = nodeId(5, 'pc');
      const rows = Array.from({ length: 37 }, (_, i) => patchEntry(`KB${String(i).padStart(3, '0')}`, i % 3 === 0 ? 'Missing' : 'Installed'));
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'pages', counters: stateCounters(rows) }, rows)));
      await putItems(id, 'Custom:Extra', Array.from({ length: 5 }, (_, i) => ({ Id: `e${i}`, Status: 'COMPLIANT' as const, Severity: 'LOW' as const })));
      let pages = 0;
      const seen: string[] = [];
      for await (const page of paginateListComplianceItems({ client: ssm, pageSize: 4 }, { ResourceIds: [id], ResourceTypes: ['ManagedInstance'] })) {
        pages++;
        assert.ok(page.ComplianceItems!.length <= 4);
        seen.push(...page.ComplianceItems!.map((i) => `${i.ComplianceType}/${i.Id}`));
      }
      assert.equal(seen.length, 42);
      assert.equal(new Set(seen).size, 42);
      assert.equal(pages, Math.ceil(42 / 4));
      await rejectsWith(ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['ManagedInstance'], MaxResults: 51 })), 'ValidationException');
      await rejectsWith(ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['ManagedInstance'], MaxResults: 0 })), 'ValidationException');
      await rejectsWith(ssm.send(new ListComplianceItemsCommand({ ResourceIds: [id], ResourceTypes: ['ManagedInstance'], NextToken: 'D'.repeat(60) })), 'InvalidNextToken');
    });
  });

  describe(`compliance summaries (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    /** node → patch group, Patch status, expected overall severity of its Custom:Audit items. */
    const fleet = new Map<string, { group: string; patchNc: boolean; audit?: { status: string; severity: string; counts: Record<string, number> } }>();

    const summariesOf = async (Filters?: ComplianceStringFilter[], pageSize = 50) => {
      const out: ResourceComplianceSummaryItem[] = [];
      for await (const page of paginateListResourceComplianceSummaries({ client: ssm, pageSize }, { Filters })) out.push(...(page.ResourceComplianceSummaryItems ?? []));
      return out;
    };
    const typeSummaries = async (Filters?: ComplianceStringFilter[]) => {
      const out: ComplianceSummaryItem[] = [];
      for await (const page of paginateListComplianceSummaries({ client: ssm, pageSize: 1 }, { Filters })) out.push(...(page.ComplianceSummaryItems ?? []));
      return out;
    };
    const recomputed = (rows: ResourceComplianceSummaryItem[]) => {
      const byType = new Map<string, { c: Record<string, number>; n: Record<string, number> }>();
      for (const r of rows) {
        const t = byType.get(r.ComplianceType!) ?? { c: severities(), n: severities() };
        (r.Status === 'COMPLIANT' ? t.c : t.n)[SEVERITY_FIELD[r.OverallSeverity as (typeof SEVERITIES)[number]]]! += 1;
        byType.set(r.ComplianceType!, t);
      }
      return [...byType].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, t]) => ({
        ComplianceType: type,
        CompliantSummary: { CompliantCount: Object.values(t.c).reduce((x, y) => x + y, 0), SeveritySummary: t.c },
        NonCompliantSummary: { NonCompliantCount: Object.values(t.n).reduce((x, y) => x + y, 0), SeveritySummary: t.n },
      }));
    };
    const sortedTypes = (items: ComplianceSummaryItem[]) => [...items].sort((a, b) => (a.ComplianceType! < b.ComplianceType! ? -1 : 1));

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      const r = rng(4242);
      const rank = { CRITICAL: 6, HIGH: 5, MEDIUM: 4, LOW: 3, INFORMATIONAL: 2, UNSPECIFIED: 1 } as Record<string, number>;
      for (let i = 0; i < 24; i++) {
        const id = nodeId(i, 'sum');
        const group = pick(r, ['alpha', 'beta', 'gamma']);
        const patchNc = r() < 0.5;
        const rows = [patchEntry('KB1', 'Installed'), patchEntry('KB2', patchNc ? 'Missing' : 'InstalledOther')];
        await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: group, counters: stateCounters(rows) }, rows)));
        const entry: { group: string; patchNc: boolean; audit?: { status: string; severity: string; counts: Record<string, number> } } = { group, patchNc };
        if (i % 4 !== 3) {
          const items: ComplianceItemEntry[] = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, k) => ({
            Id: `check-${k}`, Status: r() < 0.4 ? 'NON_COMPLIANT' : 'COMPLIANT', Severity: pick(r, SEVERITIES),
          }));
          await ssm.send(new PutComplianceItemsCommand({ ResourceId: id, ResourceType: 'ManagedInstance', ComplianceType: 'Custom:Audit', ExecutionSummary: execution(), Items: items }));
          const nc = items.filter((x) => x.Status === 'NON_COMPLIANT');
          const driving = nc.length > 0 ? nc : items;
          const severity = driving.reduce((best, x) => (rank[x.Severity!]! > rank[best]! ? x.Severity! : best), 'UNSPECIFIED' as string);
          const counts: Record<string, number> = {};
          for (const x of items) counts[`${x.Status}/${x.Severity}`] = (counts[`${x.Status}/${x.Severity}`] ?? 0) + 1;
          entry.audit = { status: nc.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT', severity, counts };
        }
        fleet.set(id, entry);
      }
    });
    after(async () => {
      await server?.close();
    });

    test('ListResourceComplianceSummaries: item counts by severity, OverallSeverity, Status, execution; paginator', async () => {
      const all = await summariesOf(undefined, 7);
      const expectedRows = [...fleet.values()].reduce((n, f) => n + 1 + (f.audit ? 1 : 0), 0);
      assert.equal(all.length, expectedRows);
      assert.equal(new Set(all.map((s) => `${s.ResourceId}/${s.ComplianceType}`)).size, expectedRows, 'each (resource, type) once across pages');
      for (const s of all) {
        const f = fleet.get(s.ResourceId!)!;
        assert.equal(s.ResourceType, 'ManagedInstance');
        if (s.ComplianceType === 'Patch') {
          assert.equal(s.Status, f.patchNc ? 'NON_COMPLIANT' : 'COMPLIANT');
          assert.equal(s.OverallSeverity, 'UNSPECIFIED');
          assert.equal(s.CompliantSummary!.CompliantCount, f.patchNc ? 1 : 2);
          assert.equal(s.NonCompliantSummary!.NonCompliantCount, f.patchNc ? 1 : 0);
        } else {
          assert.equal(s.ComplianceType, 'Custom:Audit');
          const a = f.audit!;
          assert.equal(s.Status, a.status, s.ResourceId);
          assert.equal(s.OverallSeverity, a.severity, s.ResourceId);
          const wantC: Record<string, number> = {};
          const wantN: Record<string, number> = {};
          for (const [k, n] of Object.entries(a.counts)) {
            const [status, sev] = k.split('/') as [string, (typeof SEVERITIES)[number]];
            (status === 'COMPLIANT' ? wantC : wantN)[sev] = n;
          }
          assert.deepEqual(s.CompliantSummary!.SeveritySummary, severities(wantC));
          assert.deepEqual(s.NonCompliantSummary!.SeveritySummary, severities(wantN));
          assert.equal(s.CompliantSummary!.CompliantCount, Object.values(wantC).reduce((x, y) => x + y, 0));
          assert.deepEqual(s.ExecutionSummary, { ExecutionTime: new Date('2026-03-01T09:00:00Z') });
        }
      }
      await rejectsWith(ssm.send(new ListResourceComplianceSummariesCommand({ MaxResults: 51 })), 'ValidationException');
      await rejectsWith(ssm.send(new ListResourceComplianceSummariesCommand({ NextToken: 'E'.repeat(60) })), 'InvalidNextToken');
    });

    test('ListResourceComplianceSummaries filters: ComplianceType, Status, OverallSeverity, PatchGroup; unknown key → InvalidFilter', async () => {
      const key = (s: ResourceComplianceSummaryItem) => `${s.ResourceId}/${s.ComplianceType}`;
      const all = await summariesOf();
      const cases: Array<[ComplianceStringFilter[], (s: ResourceComplianceSummaryItem) => boolean]> = [
        [[{ Key: 'ComplianceType', Values: ['Custom:Audit'], Type: 'EQUAL' }], (s) => s.ComplianceType === 'Custom:Audit'],
        [[{ Key: 'Status', Values: ['NON_COMPLIANT'] }], (s) => s.Status === 'NON_COMPLIANT'],
        [[{ Key: 'Status', Values: ['COMPLIANT'] }, { Key: 'ComplianceType', Values: ['Patch'] }], (s) => s.Status === 'COMPLIANT' && s.ComplianceType === 'Patch'],
        [[{ Key: 'OverallSeverity', Values: ['CRITICAL', 'HIGH'] }], (s) => ['CRITICAL', 'HIGH'].includes(s.OverallSeverity!)],
        [[{ Key: 'PatchGroup', Values: ['alpha'] }], (s) => fleet.get(s.ResourceId!)!.group === 'alpha'],
        [[{ Key: 'PatchGroup', Values: ['beta', 'gamma'] }, { Key: 'Status', Values: ['NON_COMPLIANT'] }], (s) => fleet.get(s.ResourceId!)!.group !== 'alpha' && s.Status === 'NON_COMPLIANT'],
        [[{ Key: 'ComplianceType', Values: ['Custom:'], Type: 'BEGIN_WITH' }], (s) => s.ComplianceType!.startsWith('Custom:')],
        [[{ Key: 'Status', Values: ['COMPLIANT'], Type: 'NOT_EQUAL' }], (s) => s.Status !== 'COMPLIANT'],
      ];
      for (const [filters, keep] of cases) {
        const want = all.filter(keep).map(key).sort();
        assert.ok(want.length > 0 && want.length < all.length, `fixture: ${JSON.stringify(filters)} selects a proper subset`);
        assert.deepEqual((await summariesOf(filters, 5)).map(key).sort(), want, JSON.stringify(filters));
      }
      await rejectsWith(ssm.send(new ListResourceComplianceSummariesCommand({ Filters: [{ Key: 'Colour', Values: ['red'] }] })), 'InvalidFilter');
    });

    test('ListComplianceSummaries: nodes per type bucketed by overall severity, equal to the recomputation; PatchGroup filter', async () => {
      const all = await summariesOf();
      const got = sortedTypes(await typeSummaries());
      assert.deepEqual(got, recomputed(all));
      const patch = got.find((t) => t.ComplianceType === 'Patch')!;
      const nc = [...fleet.values()].filter((f) => f.patchNc).length;
      assert.equal(patch.NonCompliantSummary!.NonCompliantCount, nc);
      assert.equal(patch.CompliantSummary!.CompliantCount, fleet.size - nc);
      assert.equal(patch.NonCompliantSummary!.SeveritySummary!.UnspecifiedCount, nc);

      for (const filters of [
        [{ Key: 'PatchGroup', Values: ['alpha'] }],
        [{ Key: 'PatchGroup', Values: ['beta'] }, { Key: 'ComplianceType', Values: ['Custom:Audit'] }],
        [{ Key: 'ComplianceType', Values: ['Patch'] }],
        [{ Key: 'Status', Values: ['NON_COMPLIANT'] }],
      ] as ComplianceStringFilter[][]) {
        assert.deepEqual(sortedTypes(await typeSummaries(filters)), recomputed(await summariesOf(filters)), JSON.stringify(filters));
      }
      assert.deepEqual(await typeSummaries([{ Key: 'PatchGroup', Values: ['no-such-group'] }]), []);
      await rejectsWith(ssm.send(new ListComplianceSummariesCommand({ Filters: [{ Key: 'Colour', Values: ['red'] }] })), 'InvalidFilter');

      // After more writes (type changes, clears, moves) the counters kept on write still equal the recomputation.
      const ids = [...fleet.keys()];
      await ssm.send(new PutComplianceItemsCommand({ ResourceId: ids[0]!, ResourceType: 'ManagedInstance', ComplianceType: 'Custom:Audit', ExecutionSummary: execution(), Items: [] }));
      await ssm.send(new PutComplianceItemsCommand({ ResourceId: ids[1]!, ResourceType: 'ManagedInstance', ComplianceType: 'Custom:Audit', ExecutionSummary: execution(), Items: [{ Id: 'z', Status: 'NON_COMPLIANT', Severity: 'CRITICAL' }] }));
      const rows = [patchEntry('KB1', 'Failed')];
      await ssm.send(new PutInventoryCommand(patchReport(ids[2]!, { patchGroup: 'delta', counters: stateCounters(rows) }, rows)));
      assert.deepEqual(sortedTypes(await typeSummaries()), recomputed(await summariesOf()));
      assert.deepEqual(sortedTypes(await typeSummaries([{ Key: 'PatchGroup', Values: ['delta'] }])), recomputed(await summariesOf([{ Key: 'PatchGroup', Values: ['delta'] }])));
      assert.deepEqual((await verifyAggregates(server.app.store, { repair: false })).differences, []);
    });
  });
}
