// The console's fleet operations on a crafted fleet, on every store engine (docs/console.md):
// Patchline.GetFleetSummary against what DescribeInstanceInformation, DescribeInstancePatchStates,
// DescribePatchGroupState and DescribeInstancePatches say — before and after nodes change their reports and after
// DeregisterManagedInstance; `patchline verify` finding and repairing a difference injected into the new counters;
// Patchline.ListNodes filters, every sort in both orders with keyset pagination; and the CSV export of ListNodes and
// DescribeInstancePatches (rows equal to the API's, RFC 4180 quoting, formula guard).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateActivationCommand, DeregisterManagedInstanceCommand, DescribeInstancePatchStatesCommand, DescribePatchGroupStateCommand, PutInventoryCommand,
  paginateDescribeInstanceInformation, type InstanceInformation, type InstancePatchState, type PutInventoryCommandInput, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import {
  callPatchline, groupStateMembers, groupStateOf, instanceInformation, nodeId, patchEntry, patchReport, pick, rng, stateCounters, type PatchEntry,
} from '../helpers/fleet.ts';
import { consoleCall, consoleOk, exportCsv, parseCsv, signIn, type ConsoleSession } from '../helpers/console.ts';
import { verifyAggregates } from '../../src/services/verify.ts';
import { shardOf } from '../../src/store/reporting-store.ts';

const SEED = Number(process.env.PATCHLINE_TEST_SEED ?? 20261123);
const DAY = 86_400_000;
const KBS = Array.from({ length: 12 }, (_, i) => `KB${1001 + i}`);
const CVES = Array.from({ length: 8 }, (_, i) => `CVE-2026-${String(1001 + i)}`);
const GROUPS = ['web', 'db', ''];
const PLATFORMS = ['Ubuntu', 'Amazon Linux', 'Windows Server 2022'];

interface NodeSpec {
  id: string;
  group: string;
  patches: PatchEntry[];
  computer: string;
  ip: string;
  platform: string;
}

/** A node's patches: some of the shared KBs in random states, CVEs on some Missing/Failed rows. */
function randomPatches(r: () => number): PatchEntry[] {
  const out: PatchEntry[] = [];
  for (const kb of KBS) {
    if (r() < 0.4) continue;
    const state = pick(r, ['Installed', 'Installed', 'Missing', 'Failed', 'InstalledPendingReboot', 'NotApplicable', 'InstalledOther']);
    const cves = (state === 'Missing' || state === 'Failed') && r() < 0.7 ? [pick(r, CVES), pick(r, CVES)] : [];
    out.push(patchEntry(kb, state, {
      Classification: pick(r, ['Security', 'Bugfix', 'Enhancement']),
      Severity: pick(r, ['Critical', 'Important', 'Low']),
      ...(cves.length > 0 ? { CVEIds: [...new Set(cves)].join(',') } : {}),
    }));
  }
  return out;
}

/** Counters for the summary: from the rows, with Critical = non-compliant rows of severity Critical. */
function countersOf(patches: PatchEntry[]) {
  const c = stateCounters(patches);
  c.CriticalNonCompliantCount = patches.filter((p) => ['Missing', 'Failed', 'InstalledPendingReboot', 'InstalledRejected'].includes(p.State) && p.Severity === 'Critical').length;
  return c;
}

function report(spec: NodeSpec): PutInventoryCommandInput {
  const info = instanceInformation({ AgentType: 'amazon-ssm-agent', AgentVersion: '3.3.1.0', ComputerName: spec.computer, IpAddress: spec.ip, PlatformName: spec.platform, PlatformType: 'Linux', PlatformVersion: '1', InstanceId: spec.id });
  return patchReport(spec.id, { patchGroup: spec.group, counters: countersOf(spec.patches) }, spec.patches, info);
}

const iso = (seconds: number | undefined) => (seconds === undefined ? '' : new Date(seconds * 1000).toISOString());

for (const { engine, skip } of engines()) {
  describe(`fleet summary, node table and CSV export (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let session: ConsoleSession;
    const specs = new Map<string, NodeSpec>();
    const neverReported: string[] = [];
    const r = rng(SEED);

    const put = (spec: NodeSpec) => ssm.send(new PutInventoryCommand(report(spec)));
    const call = (operation: string, body: object = {}) => callPatchline(server.endpoint, TEST_ADMIN, operation, body);

    /** Every node's InstanceInformation, InstancePatchState and patch rows, read through the AWS APIs. */
    async function observe() {
      const info: InstanceInformation[] = [];
      for await (const page of paginateDescribeInstanceInformation({ client: ssm, pageSize: 50 }, {})) info.push(...(page.InstanceInformationList ?? []));
      const ids = info.map((i) => i.InstanceId!);
      const states = new Map<string, InstancePatchState>();
      for (let c = 0; c < ids.length; c += 50) {
        const got = await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: ids.slice(c, c + 50) }));
        for (const s of got.InstancePatchStates ?? []) states.set(s.InstanceId!, s);
      }
      const patches = new Map<string, Array<Record<string, any>>>();
      for (const id of states.keys()) {
        const rows: Array<Record<string, any>> = [];
        let NextToken: string | undefined;
        do {
          const page = await consoleOk(server.endpoint, session, 'DescribeInstancePatches', { InstanceId: id, MaxResults: 100, ...(NextToken ? { NextToken } : {}) });
          rows.push(...page.Patches);
          NextToken = page.NextToken;
        } while (NextToken !== undefined);
        patches.set(id, rows);
      }
      return { info, states, patches };
    }

    /** What GetFleetSummary must answer, recomputed from the AWS APIs. */
    async function expectedSummary(top: number) {
      const { info, states, patches } = await observe();
      const nc = (s: InstancePatchState) => (s.CriticalNonCompliantCount ?? 0) + (s.SecurityNonCompliantCount ?? 0) + (s.OtherNonCompliantCount ?? 0) > 0;
      const all = [...states.values()];
      const groups = [...new Set(all.map((s) => s.PatchGroup ?? ''))].sort();
      const patchGroups = [];
      for (const g of groups) {
        const members = groupStateOf(all.filter((s) => (s.PatchGroup ?? '') === g));
        if (g !== '') assert.deepEqual(groupStateMembers(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: g }))), members, `DescribePatchGroupState ${g}`);
        patchGroups.push({
          PatchGroup: g, Instances: members.Instances, InstancesWithMissingPatches: members.InstancesWithMissingPatches,
          InstancesWithFailedPatches: members.InstancesWithFailedPatches, InstancesWithCriticalNonCompliantPatches: members.InstancesWithCriticalNonCompliantPatches,
          InstancesWithSecurityNonCompliantPatches: members.InstancesWithSecurityNonCompliantPatches, InstancesWithOtherNonCompliantPatches: members.InstancesWithOtherNonCompliantPatches,
        });
      }
      const missing = new Map<string, number>();
      const cves = new Map<string, number>();
      for (const rows of patches.values()) {
        const open = rows.filter((p) => p.State === 'Missing' || p.State === 'Failed');
        for (const kb of new Set(open.map((p) => p.KBId as string))) missing.set(kb, (missing.get(kb) ?? 0) + 1);
        for (const cve of new Set(open.flatMap((p) => (p.CVEIds ? String(p.CVEIds).split(',') : [])))) cves.set(cve, (cves.get(cve) ?? 0) + 1);
      }
      const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
      return {
        Nodes: info.length,
        Reported: states.size,
        NeverReported: info.length - states.size,
        Compliant: all.filter((s) => !nc(s)).length,
        NonCompliant: all.filter(nc).length,
        NonCompliantByLevel: {
          Critical: all.filter((s) => (s.CriticalNonCompliantCount ?? 0) > 0).length,
          Security: all.filter((s) => (s.SecurityNonCompliantCount ?? 0) > 0).length,
          Other: all.filter((s) => (s.OtherNonCompliantCount ?? 0) > 0).length,
        },
        PingStatus: { Online: info.filter((i) => i.PingStatus === 'Online').length, ConnectionLost: info.filter((i) => i.PingStatus === 'ConnectionLost').length },
        PatchGroups: patchGroups,
        MostMissingPatches: ranked(missing).map(([KBId, Nodes]) => ({ KBId, Nodes })),
        MostExposedCves: ranked(cves).map(([CveId, Nodes]) => ({ CveId, Nodes })),
      };
    }

    async function assertSummary(what: string) {
      const got = await consoleOk(server.endpoint, session, 'Patchline.GetFleetSummary', { Top: 50 });
      const want = await expectedSummary(50);
      const { Stale: _s, GeneratedAt, ...rest } = got;
      assert.ok(Math.abs(GeneratedAt - Date.now() / 1000) < 60, 'GeneratedAt');
      assert.deepEqual(rest, want, what);
      const top3 = await call('GetFleetSummary', { Top: 3 });
      assert.deepEqual(top3.MostMissingPatches, want.MostMissingPatches.slice(0, 3), `${what}: Top`);
      assert.deepEqual(top3.MostExposedCves, want.MostExposedCves.slice(0, 3), `${what}: Top`);
      assert.deepEqual((await verifyAggregates(server.app.store, { repair: false })).differences, [], `${what}: verify`);
    }

    /** ListNodes through every page. */
    async function listAll(body: Record<string, unknown>, pageSize: number) {
      const nodes: Array<Record<string, any>> = [];
      const totals = new Set<number>();
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await consoleOk(server.endpoint, session, 'Patchline.ListNodes', { ...body, MaxResults: pageSize, ...(NextToken ? { NextToken } : {}) });
        assert.ok(page.Nodes.length <= pageSize);
        nodes.push(...page.Nodes);
        totals.add(page.TotalCount);
        NextToken = page.NextToken;
        assert.ok(++pages < 200, 'pagination ends');
      } while (NextToken !== undefined);
      assert.equal(totals.size, 1, 'TotalCount is the same on every page');
      const ids = nodes.map((n) => n.InstanceId);
      assert.equal(new Set(ids).size, ids.length, 'each node once');
      return { nodes, total: [...totals][0]! };
    }

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      session = await signIn(server.endpoint, TEST_ADMIN);
      for (let i = 0; i < 36; i++) {
        const spec: NodeSpec = {
          id: nodeId(i, pick(r, ['ab', 'cd', 'ef'])),
          group: GROUPS[i % GROUPS.length]!,
          patches: randomPatches(r),
          computer: `${i % 2 === 0 ? 'web' : 'db'}-${String(i).padStart(2, '0')}.Example.org`,
          ip: `10.1.${i % 3}.${i}`,
          platform: PLATFORMS[i % PLATFORMS.length]!,
        };
        if (specs.has(spec.id)) continue;
        specs.set(spec.id, spec);
        await put(spec);
      }
      // Ties for the sorts: two nodes with identical counts.
      const twin = [...specs.values()][0]!;
      for (const id of [nodeId(90, 'ab'), nodeId(91, 'ab')]) {
        const spec = { ...twin, id, computer: `twin-${id}` };
        specs.set(id, spec);
        await put(spec);
      }
      // Nodes that never reported (registered with an activation), one compliant node with no rows at all.
      const activation = await ssm.send(new CreateActivationCommand({ IamRole: 'SSMServiceRole', RegistrationLimit: 3 }));
      const key = { accessKeyId: activation.ActivationId!, secretAccessKey: activation.ActivationCode! };
      for (const name of ['never-1', 'never-2']) {
        neverReported.push((await callPatchline(server.endpoint, key, 'RegisterManagedInstance', { ComputerName: name, IPAddress: '192.168.7.7', PlatformName: 'Ubuntu' })).InstanceId);
      }
      const clean: NodeSpec = { id: nodeId(99, 'fe'), group: 'db', patches: [patchEntry('KB1001', 'Installed')], computer: 'clean', ip: '10.9.9.9', platform: 'Ubuntu' };
      specs.set(clean.id, clean);
      await put(clean);
      // Two stale reports (8 days old) and one node out of contact for an hour.
      const ids = [...specs.keys()].sort();
      await server.app.store.db.updateTable('node_patch_state').set({ reported_at: Date.now() - 8 * DAY }).where('instance_id', 'in', ids.slice(0, 2)).execute();
      await server.app.store.db.updateTable('nodes').set({ last_ping_at: Date.now() - 3_600_000 }).where('instance_id', '=', ids[2]!).execute();
    });
    after(async () => {
      await server?.close();
    });

    test('GetFleetSummary equals what the AWS APIs say about the fleet', async () => {
      await assertSummary('initial fleet');
      const summary = await call('GetFleetSummary', {});
      assert.equal(summary.Stale, 2, 'two reports are 8 days old');
      assert.equal((await call('GetFleetSummary', { StaleDays: 9 })).Stale, 0);
      assert.equal(summary.NeverReported, 2);
      assert.equal(summary.PingStatus.ConnectionLost, 1);
      assert.ok(summary.MostMissingPatches.length <= 10, 'Top defaults to 10');
      assert.ok(summary.MostExposedCves.length > 0 && summary.MostMissingPatches.length > 0, 'the crafted fleet misses patches');
    });

    test('the most-missing patches and most-exposed CVEs follow changed reports and deregistration', async () => {
      const nodes = [...specs.values()];
      // A node installs everything it missed; another starts missing KB1012 with a new CVE; one report is unchanged.
      const fixed = nodes.find((n) => n.patches.some((p) => p.State === 'Missing' && p.CVEIds))!;
      fixed.patches = fixed.patches.map((p) => (p.State === 'Missing' || p.State === 'Failed' ? patchEntry(p.KBId, 'Installed', { Classification: p.Classification, Severity: p.Severity }) : p));
      await put(fixed);
      const worse = nodes.find((n) => n !== fixed && n.patches.length > 0)!;
      worse.patches = [...worse.patches.filter((p) => p.KBId !== 'KB1012'), patchEntry('KB1012', 'Failed', { CVEIds: 'CVE-2026-9999', Severity: 'Critical' })];
      await put(worse);
      await put(nodes[5]!);
      await assertSummary('after changed reports');
      assert.ok((await call('GetFleetSummary', { Top: 50 })).MostExposedCves.some((c: { CveId: string }) => c.CveId === 'CVE-2026-9999'));

      // Deregistration takes the node out of every figure.
      const gone = nodes.find((n) => n !== fixed && n.patches.some((p) => (p.State === 'Missing' || p.State === 'Failed') && p.CVEIds))!;
      await ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: gone.id }));
      specs.delete(gone.id);
      await ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: neverReported.pop()! }));
      await assertSummary('after DeregisterManagedInstance');
    });

    test('verify finds a difference injected into the fleet counters and repairs it', async () => {
      const db = server.app.store.db;
      const before = await call('GetFleetSummary', { Top: 50 });
      const top = before.MostMissingPatches[0];
      await db.updateTable('missing_patch_counts').set((eb) => ({ nodes: eb('nodes', '+', 3) })).where('kb_id', '=', top.KBId).where('shard', '=', (await db.selectFrom('missing_patch_counts').select('shard').where('kb_id', '=', top.KBId).executeTakeFirstOrThrow()).shard).execute();
      await db.insertInto('cve_counts').values({ cve_id: 'CVE-2000-0001', shard: 0, nodes: 7 }).execute();
      await db.updateTable('fleet_counts').set((eb) => ({ nodes: eb('nodes', '-', 1), non_compliant: eb('non_compliant', '+', 2) })).where('shard', '=', shardOf([...specs.keys()][0]!)).execute();
      const someId = [...specs.keys()][0]!;
      await db.updateTable('node_patch_state').set((eb) => ({ non_compliant: eb.case().when('non_compliant', '=', 1).then(0).else(1).end() })).where('instance_id', '=', someId).execute();

      const found = await verifyAggregates(server.app.store, { repair: false });
      const keys = found.differences.map((d) => `${d.table}:${d.key}:${d.column}`).sort();
      assert.deepEqual(keys, [
        'cve_counts:CVE-2000-0001:nodes', 'fleet_counts:fleet:nodes', 'fleet_counts:fleet:non_compliant',
        `missing_patch_counts:${top.KBId}:nodes`, `node_patch_state:${someId}:non_compliant`,
      ].sort());
      const missingDiff = found.differences.find((d) => d.table === 'missing_patch_counts')!;
      assert.equal(missingDiff.actual - missingDiff.expected, 3);
      assert.equal(found.repaired, false);
      const wrong = await call('GetFleetSummary', { Top: 50 });
      assert.notDeepEqual(wrong.MostMissingPatches, before.MostMissingPatches);

      const repaired = await verifyAggregates(server.app.store, { repair: true });
      assert.equal(repaired.repaired, true);
      assert.deepEqual((await verifyAggregates(server.app.store, { repair: false })).differences, []);
      const after = await call('GetFleetSummary', { Top: 50 });
      const { GeneratedAt: _a, ...a } = after;
      const { GeneratedAt: _b, ...b } = before;
      assert.deepEqual(a, b);
      await assertSummary('after repair');
    });

    test('ListNodes shows each node as the AWS APIs do', async () => {
      const { info, states } = await observe();
      const { nodes, total } = await listAll({}, 200);
      assert.equal(total, info.length);
      assert.deepEqual(nodes.map((n) => n.InstanceId), info.map((i) => i.InstanceId).sort());
      for (const n of nodes) {
        const i = info.find((x) => x.InstanceId === n.InstanceId)!;
        const s = states.get(n.InstanceId);
        assert.equal(n.ComputerName, i.ComputerName);
        assert.equal(n.IPAddress, i.IPAddress);
        assert.equal(n.PlatformName, i.PlatformName);
        assert.equal(n.PingStatus, i.PingStatus);
        assert.equal(n.LastPingTime, i.LastPingDateTime!.getTime() / 1000);
        if (s === undefined) {
          assert.equal(n.ComplianceStatus, 'NOT_REPORTED');
          assert.equal(n.MissingCount, undefined);
          assert.equal(n.LastReportTime, undefined);
          continue;
        }
        const nc = s.CriticalNonCompliantCount! + s.SecurityNonCompliantCount! + s.OtherNonCompliantCount! > 0;
        assert.equal(n.ComplianceStatus, nc ? 'NON_COMPLIANT' : 'COMPLIANT', n.InstanceId);
        assert.equal(n.PatchGroup, s.PatchGroup === '' ? undefined : s.PatchGroup);
        assert.equal(n.BaselineId, s.BaselineId);
        assert.equal(n.Operation, s.Operation);
        for (const c of ['InstalledCount', 'MissingCount', 'FailedCount', 'InstalledPendingRebootCount', 'InstalledRejectedCount', 'CriticalNonCompliantCount', 'SecurityNonCompliantCount', 'OtherNonCompliantCount'] as const) {
          assert.equal(n[c], s[c], `${n.InstanceId} ${c}`);
        }
        assert.equal(typeof n.LastReportTime, 'number');
      }
    });

    test('ListNodes sorts by every key in both orders, ties by instance id, and pages visit each node once', async () => {
      const { nodes: all } = await listAll({}, 200);
      const value: Record<string, (n: Record<string, any>) => number | undefined> = {
        LastReportTime: (n) => n.LastReportTime,
        MissingCount: (n) => n.MissingCount,
        CriticalNonCompliantCount: (n) => n.CriticalNonCompliantCount,
      };
      for (const sortBy of ['InstanceId', 'LastReportTime', 'MissingCount', 'CriticalNonCompliantCount']) {
        for (const order of ['Ascending', 'Descending']) {
          const sign = order === 'Ascending' ? 1 : -1;
          const expected = [...all].sort((a, b) => {
            if (sortBy !== 'InstanceId') {
              const va = value[sortBy]!(a) ?? -1; // never reported: the smallest
              const vb = value[sortBy]!(b) ?? -1;
              if (va !== vb) return sign * (va - vb);
            }
            return sign * (a.InstanceId < b.InstanceId ? -1 : 1);
          }).map((n) => n.InstanceId);
          for (const pageSize of [1, 4, 7]) {
            const { nodes, total } = await listAll({ SortBy: sortBy, SortOrder: order }, pageSize);
            assert.deepEqual(nodes.map((n) => n.InstanceId), expected, `${sortBy} ${order} pages of ${pageSize}`);
            assert.equal(total, all.length);
          }
        }
      }
      const first = await consoleOk(server.endpoint, session, 'Patchline.ListNodes', {});
      assert.equal(first.Nodes.length, Math.min(50, all.length), 'MaxResults defaults to 50');
      const tokenOf = (await consoleOk(server.endpoint, session, 'Patchline.ListNodes', { MaxResults: 2, SortBy: 'MissingCount' })).NextToken;
      const misuse = await consoleCall(server.endpoint, session, 'Patchline.ListNodes', { MaxResults: 2, SortBy: 'LastReportTime', NextToken: tokenOf });
      assert.equal(misuse.json.__type, 'InvalidNextToken');
    });

    test('ListNodes filters: search, patch group, platform, compliance, ping status, non-compliant level', async () => {
      const { nodes: all } = await listAll({}, 200);
      const staleBefore = Date.now() / 1000 - 7 * 86_400;
      const status = (n: Record<string, any>) => n.ComplianceStatus as string;
      const cases: Array<[string, Array<{ Key: string; Values: string[] }>, (n: Record<string, any>) => boolean]> = [
        ['search computer name, any case', [{ Key: 'Search', Values: ['WEB-0'] }], (n) => String(n.ComputerName ?? '').toLowerCase().includes('web-0')],
        ['search IP address', [{ Key: 'Search', Values: ['10.1.2.'] }], (n) => String(n.IPAddress ?? '').includes('10.1.2.')],
        ['search instance id', [{ Key: 'Search', Values: [all[3]!.InstanceId.slice(-5)] }], (n) => n.InstanceId.includes(all[3]!.InstanceId.slice(-5))],
        ['search wildcards are literal', [{ Key: 'Search', Values: ['%'] }], () => false],
        ['search underscore is literal', [{ Key: 'Search', Values: ['_'] }], () => false],
        ['patch group', [{ Key: 'PatchGroup', Values: ['web'] }], (n) => n.PatchGroup === 'web'],
        ['patch groups', [{ Key: 'PatchGroup', Values: ['web', 'db'] }], (n) => n.PatchGroup === 'web' || n.PatchGroup === 'db'],
        ['platform', [{ Key: 'PlatformName', Values: ['Ubuntu'] }], (n) => n.PlatformName === 'Ubuntu'],
        ['compliant', [{ Key: 'ComplianceStatus', Values: ['COMPLIANT'] }], (n) => status(n) === 'COMPLIANT'],
        ['non-compliant', [{ Key: 'ComplianceStatus', Values: ['NON_COMPLIANT'] }], (n) => status(n) === 'NON_COMPLIANT'],
        ['not reported', [{ Key: 'ComplianceStatus', Values: ['NOT_REPORTED'] }], (n) => status(n) === 'NOT_REPORTED'],
        ['stale', [{ Key: 'ComplianceStatus', Values: ['STALE'] }], (n) => n.LastReportTime !== undefined && n.LastReportTime < staleBefore],
        ['compliant or never reported', [{ Key: 'ComplianceStatus', Values: ['COMPLIANT', 'NOT_REPORTED'] }], (n) => status(n) === 'COMPLIANT' || status(n) === 'NOT_REPORTED'],
        ['every status', [{ Key: 'ComplianceStatus', Values: ['COMPLIANT', 'NON_COMPLIANT', 'NOT_REPORTED'] }], () => true],
        ['online', [{ Key: 'PingStatus', Values: ['Online'] }], (n) => n.PingStatus === 'Online'],
        ['connection lost', [{ Key: 'PingStatus', Values: ['ConnectionLost'] }], (n) => n.PingStatus === 'ConnectionLost'],
        ['critical', [{ Key: 'NonCompliantLevel', Values: ['Critical'] }], (n) => n.CriticalNonCompliantCount > 0],
        ['security or other', [{ Key: 'NonCompliantLevel', Values: ['Security', 'Other'] }], (n) => n.SecurityNonCompliantCount > 0 || n.OtherNonCompliantCount > 0],
        ['combined', [{ Key: 'ComplianceStatus', Values: ['NON_COMPLIANT'] }, { Key: 'PatchGroup', Values: ['web'] }, { Key: 'Search', Values: ['example'] }],
          (n) => status(n) === 'NON_COMPLIANT' && n.PatchGroup === 'web' && String(n.ComputerName).toLowerCase().includes('example')],
        ['never-reported group from tags', [{ Key: 'PatchGroup', Values: ['nothing'] }], () => false],
      ];
      for (const [what, Filters, keep] of cases) {
        const expected = all.filter(keep).map((n) => n.InstanceId);
        for (const [SortBy, SortOrder] of [['InstanceId', 'Ascending'], ['MissingCount', 'Descending'], ['LastReportTime', 'Ascending']]) {
          const { nodes, total } = await listAll({ Filters, SortBy, SortOrder }, 5);
          assert.deepEqual(nodes.map((n) => n.InstanceId).sort(), [...expected].sort(), `${what} (${SortBy})`);
          assert.equal(total, expected.length, `${what}: TotalCount`);
        }
      }
      assert.ok(all.some((n) => status(n) === 'NOT_REPORTED') && all.some((n) => status(n) === 'COMPLIANT') && all.some((n) => status(n) === 'NON_COMPLIANT'));

      for (const Filters of [
        [{ Key: 'ComplianceStatus', Values: ['BROKEN'] }], [{ Key: 'PingStatus', Values: ['Inactive'] }], [{ Key: 'NonCompliantLevel', Values: ['High'] }],
        [{ Key: 'Search', Values: ['a', 'b'] }],
      ]) {
        const res = await consoleCall(server.endpoint, session, 'Patchline.ListNodes', { Filters });
        assert.equal(res.json.__type, 'InvalidFilter', JSON.stringify(Filters));
      }
      assert.equal((await consoleCall(server.endpoint, session, 'Patchline.ListNodes', { Filters: [{ Key: 'Color', Values: ['x'] }] })).json.__type, 'ValidationException');
    });

    test('CSV export of ListNodes: the header is the node members in model order and the rows are the API\'s', async () => {
      const input = { SortBy: 'MissingCount', SortOrder: 'Descending', Filters: [{ Key: 'ComplianceStatus', Values: ['NON_COMPLIANT', 'NOT_REPORTED'] }] };
      const { nodes } = await listAll(input, 200);
      const res = await exportCsv(server.endpoint, session, 'Patchline.ListNodes', input);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(res.headers['content-disposition'], 'attachment; filename="ListNodes.csv"');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.ok(res.text.endsWith('\r\n'));
      const rows = parseCsv(res.text);
      const header = ['InstanceId', 'Name', 'ComputerName', 'IPAddress', 'PlatformName', 'PlatformVersion', 'PatchGroup', 'BaselineId', 'PingStatus',
        'LastPingTime', 'LastReportTime', 'Operation', 'ComplianceStatus', 'InstalledCount', 'MissingCount', 'FailedCount', 'InstalledPendingRebootCount',
        'InstalledRejectedCount', 'CriticalNonCompliantCount', 'SecurityNonCompliantCount', 'OtherNonCompliantCount'];
      assert.deepEqual(rows[0], header);
      const times = new Set(['LastPingTime', 'LastReportTime']);
      const expected = nodes.map((n) => header.map((h) => (n[h] === undefined ? '' : times.has(h) ? iso(n[h]) : String(n[h]))));
      assert.deepEqual(rows.slice(1), expected);
      // The bare AWS-style name works too.
      const bare = await exportCsv(server.endpoint, session, 'ListNodes', input);
      assert.equal(bare.text, res.text);
    });

    test('CSV export of DescribeInstancePatches: quoting of commas, quotes and newlines, formula guard, every page', async () => {
      const id = nodeId(77, 'cd');
      const tricky: PatchEntry[] = [
        patchEntry('KB2001', 'Missing', { Title: 'Update, with a comma', CVEIds: 'CVE-2026-0001,CVE-2026-0002' }),
        patchEntry('KB2002', 'Failed', { Title: 'A "quoted" title' }),
        patchEntry('KB2003', 'Installed', { Title: 'two\nlines\r\nand CRLF' }),
        patchEntry('KB2004', 'Installed', { Title: '=HYPERLINK("http://evil.example")' }),
        patchEntry('KB2005', 'Missing', { Title: '-2+3', Classification: '@SUM(A1)' }),
        ...Array.from({ length: 230 }, (_, i) => patchEntry(`KB3${String(i).padStart(3, '0')}`, i % 2 === 0 ? 'Installed' : 'Missing')),
      ];
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'csv', counters: countersOf(tricky) }, tricky)));
      const api: Array<Record<string, any>> = [];
      let NextToken: string | undefined;
      do {
        const page = await consoleOk(server.endpoint, session, 'DescribeInstancePatches', { InstanceId: id, MaxResults: 100, ...(NextToken ? { NextToken } : {}) });
        api.push(...page.Patches);
        NextToken = page.NextToken;
      } while (NextToken !== undefined);
      assert.equal(api.length, tricky.length);

      const res = await exportCsv(server.endpoint, session, 'DescribeInstancePatches', { InstanceId: id });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['content-disposition'], 'attachment; filename="DescribeInstancePatches.csv"');
      const rows = parseCsv(res.text);
      const header = ['Title', 'KBId', 'Classification', 'Severity', 'State', 'InstalledTime', 'CVEIds'];
      assert.deepEqual(rows[0], header);
      const guard = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
      const expected = api.map((p) => header.map((h) => (p[h] === undefined ? '' : h === 'InstalledTime' ? iso(p[h]) : guard(String(p[h])))));
      assert.deepEqual(rows.slice(1), expected);
      assert.ok(res.text.includes('"Update, with a comma"'));
      assert.ok(res.text.includes('"A ""quoted"" title"'));
      assert.ok(res.text.includes('"two\nlines\r\nand CRLF"'));
      assert.ok(res.text.includes(`"'=HYPERLINK(""http://evil.example"")"`));
      assert.ok(res.text.includes(",'@SUM(A1),"));
      // The same with the filter the console's node page uses.
      const filtered = await exportCsv(server.endpoint, session, 'AmazonSSM.DescribeInstancePatches', { InstanceId: id, Filters: [{ Key: 'State', Values: ['Missing'] }] });
      assert.equal(parseCsv(filtered.text).length - 1, api.filter((p) => p.State === 'Missing').length);
    });

    test('CSV export refuses what it cannot page, and reports request errors before streaming', async () => {
      const refuse = async (target: string, input: unknown, code: string) => {
        const res = await exportCsv(server.endpoint, session, target, input);
        assert.equal(res.json?.__type, code, `${target}: ${res.text.slice(0, 200)}`);
        assert.notEqual(res.headers['content-type'], 'text/csv; charset=utf-8');
      };
      await refuse('GetDefaultPatchBaseline', {}, 'ValidationException');
      await refuse('Patchline.GetFleetSummary', {}, 'ValidationException');
      await refuse('Patchline.NoSuch', {}, 'UnknownOperationException');
      await refuse('DescribeInstancePatches', {}, 'ValidationException');
      await refuse('DescribeInstancePatches', [1, 2], 'SerializationException');
      await refuse('Patchline.ListNodes', { Filters: [{ Key: 'ComplianceStatus', Values: ['NOPE'] }] }, 'InvalidFilter');
    });
  });
}
