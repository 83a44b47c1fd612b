// Re-evaluation shares the work of identical scans (src/services/evaluator.ts, #scanMemo): nodes whose stored scans
// differ only in installed times are evaluated once per baseline version. These tests pin what must still be per
// node or per moment: each node keeps its own InstalledTime, a node with a different scan gets its own rows, a
// shared evaluation is not reused once one of its delayed approvals comes due (AWS-AmazonLinux2023DefaultPatchBaseline:
// Security ∧ Critical/Important after 7 days), and nodes whose stored scan and installed-times keys match one already
// evaluated in the batch loop are written without their scans being read.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { PatchComplianceData, SSMClient } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { nodeId } from '../helpers/fleet.ts';
import { allPatches, assertAggregatesExact, DAY, nowSeconds, putScan, scanBody, type WirePackage, type WireUpdate } from '../helpers/scans.ts';

const INSTALLED_A = Date.UTC(2025, 0, 15, 9, 30, 0) / 1000;
const INSTALLED_B = Date.UTC(2025, 5, 2, 18, 0, 0) / 1000;

function scan(instanceId: string, t: number, installedAt: number, extraUpdate: boolean): Record<string, unknown> {
  const inst = (Name: string, Version: string): WirePackage => ({ Name, Version, Architecture: 'x86_64', InstalledTime: installedAt });
  const sec = (Name: string, Version: string, releasedDaysAgo: number): WireUpdate => ({
    Name, Version, Architecture: 'x86_64', Security: true, Classification: 'Security', Severity: 'Important', ReleaseTime: t - releasedDaysAgo * DAY,
  });
  const updates = [sec('rsyslog', '8.2204.0-3.amzn2023.0.2', 8), sec('openssl', '1:3.0.8-1.amzn2023.0.14', 6)];
  if (extraUpdate) updates.push(sec('curl', '8.5.0-1.amzn2023.0.3', 20));
  return scanBody(instanceId, {
    os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023', end: t,
    installed: [inst('rsyslog', '8.2204.0-3.amzn2023.0.1'), inst('openssl', '1:3.0.8-1.amzn2023.0.12'), inst('curl', '8.5.0-1.amzn2023.0.2'), inst('bash', '5.2.15-1.amzn2023.0.2')],
    updates,
  });
}

const byName = (patches: readonly PatchComplianceData[]) =>
  Object.fromEntries(patches.map((p) => [p.KBId!.split('.')[0]!, { State: p.State, InstalledTime: (p.InstalledTime?.getTime() ?? 0) / 1000 }]));

for (const { engine, skip } of engines()) {
  describe(`re-evaluation shared between identical scans (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const a = nodeId(1, 'sh');
    const b = nodeId(2, 'sh');
    const c = nodeId(3, 'sh');
    const t = nowSeconds();

    before(async () => {
      // No background loop: the test runs the batches itself, with an injected clock.
      server = await startTestServer({ engine, background: false });
      ssm = server.client();
      await putScan(server, scan(a, t, INSTALLED_A, false));
      await putScan(server, scan(b, t, INSTALLED_B, false));
      await putScan(server, scan(c, t, INSTALLED_A, true));
    });
    after(() => server.close());

    test('one shared evaluation, each node with its own installed times; a different scan gets its own rows', async () => {
      await server.app.scans.markDirty({ all: true });
      assert.equal(await server.app.evaluator.runBatch(500, t * 1000), 3);
      const [pa, pb, pc] = await Promise.all([a, b, c].map(async (id) => byName(await allPatches(ssm, id)))) as [ReturnType<typeof byName>, ReturnType<typeof byName>, ReturnType<typeof byName>];
      // rsyslog released 8 days ago: approved, Missing. openssl 6 days ago: not yet, so its installed version is
      // InstalledOther. bash and curl have no approved update: InstalledOther.
      assert.deepEqual(pa, {
        bash: { State: 'InstalledOther', InstalledTime: INSTALLED_A },
        curl: { State: 'InstalledOther', InstalledTime: INSTALLED_A },
        openssl: { State: 'InstalledOther', InstalledTime: INSTALLED_A },
        rsyslog: { State: 'Missing', InstalledTime: 0 },
      });
      assert.deepEqual(pb, {
        bash: { State: 'InstalledOther', InstalledTime: INSTALLED_B },
        curl: { State: 'InstalledOther', InstalledTime: INSTALLED_B },
        openssl: { State: 'InstalledOther', InstalledTime: INSTALLED_B },
        rsyslog: { State: 'Missing', InstalledTime: 0 },
      });
      assert.deepEqual(pc.curl, { State: 'Missing', InstalledTime: 0 }, 'node c has a curl update released 20 days ago');
      await assertAggregatesExact(server, 'after the shared evaluation');
    });

    test('a shared evaluation is not reused after one of its delayed approvals came due', async () => {
      await server.app.scans.markDirty({ all: true });
      assert.equal(await server.app.evaluator.runBatch(500, (t + 2 * DAY) * 1000), 3);
      for (const [id, installedAt] of [[a, INSTALLED_A], [b, INSTALLED_B]] as const) {
        const p = byName(await allPatches(ssm, id));
        assert.deepEqual(p.openssl, { State: 'Missing', InstalledTime: 0 }, `${id}: openssl's 7 days have passed`);
        assert.deepEqual(p.bash, { State: 'InstalledOther', InstalledTime: installedAt }, id);
      }
      await assertAggregatesExact(server, 'after the approval came due');
    });

    test('nodes whose stored keys match are evaluated without reading their scans; scans stored without keys get them', async () => {
      const d = nodeId(4, 'sh');
      await putScan(server, scan(d, t, INSTALLED_A, false)); // a's scan and installed times
      const keysOf = async (id: string) => server.app.store.db.selectFrom('node_scans').select(['scan_key', 'times_key']).where('instance_id', '=', id).executeTakeFirstOrThrow();
      const [ka, kb, kd] = (await Promise.all([a, b, d].map(keysOf))) as [Awaited<ReturnType<typeof keysOf>>, Awaited<ReturnType<typeof keysOf>>, Awaited<ReturnType<typeof keysOf>>];
      assert.ok(ka.scan_key !== null && ka.times_key !== null, 'PutScanReport stores the keys');
      assert.deepEqual(kd, ka, 'same scan and times, same keys');
      assert.equal(kb.scan_key, ka.scan_key);
      assert.notEqual(kb.times_key, ka.times_key, 'other installed times, another times key');
      // A scan stored before the keys were kept: its keys come with its next evaluation.
      await server.app.store.db.updateTable('node_scans').set({ scan_key: null, times_key: null }).where('instance_id', '=', b).execute();
      // d's scan data is taken away: it can only be evaluated from its keys (a's row set, made by the last batch).
      const dData = await server.app.store.db.selectFrom('node_scan_data').selectAll().where('instance_id', '=', d).executeTakeFirstOrThrow();
      await server.app.store.db.deleteFrom('node_scan_data').where('instance_id', '=', d).execute();
      try {
        await server.app.scans.markDirty({ all: true });
        const at = (t + 3 * DAY) * 1000;
        assert.equal(await server.app.evaluator.runBatch(500, at), 4);
        assert.deepEqual(await keysOf(b), kb, 'b got its keys back');
        const pd = byName(await allPatches(ssm, d));
        assert.deepEqual(pd, byName(await allPatches(ssm, a)), 'd was evaluated from a\'s row set');
        assert.equal(pd.bash!.InstalledTime, INSTALLED_A);
        const status = await server.app.scans.status(at);
        assert.equal(status.pending, 0);
      } finally {
        await server.app.store.db.insertInto('node_scan_data').values(dData).execute();
      }
      await assertAggregatesExact(server, 'after evaluating from keys');
    });
  });
}
