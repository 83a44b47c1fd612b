// Re-evaluation shares the work of identical scans (src/services/evaluator.ts, #scanMemo): nodes whose stored scans
// differ only in installed times are evaluated once per baseline version. These tests pin what must still be per
// node or per moment: each node keeps its own InstalledTime, a node with a different scan gets its own rows, a
// shared evaluation is not reused once one of its delayed approvals comes due (AWS-AmazonLinux2023DefaultPatchBaseline:
// Security ∧ Critical/Important after 7 days), and nodes whose stored scan key matches one already evaluated in the
// batch loop are written without their scans being read (their installed times are read from their scans later).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { PatchComplianceData, SSMClient } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { nodeId } from '../helpers/fleet.ts';
import { verifyAggregates } from '../../src/services/verify.ts';
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

    test('nodes whose scan keys match are evaluated without reading their scans, each with its own times; scans stored without keys get them', async () => {
      const d = nodeId(4, 'sh');
      const INSTALLED_D = INSTALLED_B + 1;
      await putScan(server, scan(d, t, INSTALLED_D, false)); // a's scan, installed times of its own
      const keyOf = async (id: string) => (await server.app.store.db.selectFrom('node_scans').select('scan_key').where('instance_id', '=', id).executeTakeFirstOrThrow()).scan_key;
      const [ka, kb, kd] = await Promise.all([a, b, d].map(keyOf));
      assert.ok(ka !== null, 'PutScanReport stores the key');
      assert.equal(kb, ka, 'other installed times, the same key');
      assert.equal(kd, ka);
      // A scan stored before keys were kept: its key comes with its next evaluation.
      await server.app.store.db.updateTable('node_scans').set({ scan_key: null }).where('instance_id', '=', b).execute();
      // d's scan data is taken away while the batch runs: it can only be evaluated from its key (a's evaluation).
      const dData = await server.app.store.db.selectFrom('node_scan_data').selectAll().where('instance_id', '=', d).executeTakeFirstOrThrow();
      await server.app.store.db.deleteFrom('node_scan_data').where('instance_id', '=', d).execute();
      const at = (t + 3 * DAY) * 1000;
      try {
        await server.app.scans.markDirty({ all: true });
        assert.equal(await server.app.evaluator.runBatch(500, at), 4);
      } finally {
        await server.app.store.db.insertInto('node_scan_data').values(dData).execute();
      }
      assert.equal(await keyOf(b), ka, 'b got its key back');
      const refs = await server.app.store.db.selectFrom('node_patches').innerJoin('patch_row_sets', 'patch_row_sets.digest', 'node_patches.row_set')
        .select(['instance_id', 'row_set', 'installed_times', 'timed_packages']).where('instance_id', 'in', [a, b, d]).orderBy('instance_id').execute();
      assert.equal(new Set(refs.map((r) => r.row_set)).size, 1, 'a, b and d refer to one stored set');
      for (const r of refs) {
        assert.equal(r.installed_times, null, `${r.instance_id} keeps no times: they are its scan's`);
        assert.notEqual(r.timed_packages, null, 'the set is scan-timed');
      }
      const [pa, pb, pd] = await Promise.all([a, b, d].map(async (id) => byName(await allPatches(ssm, id)))) as [ReturnType<typeof byName>, ReturnType<typeof byName>, ReturnType<typeof byName>];
      const states = (p: ReturnType<typeof byName>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.State]));
      assert.deepEqual(states(pd), states(pa), 'd was evaluated as a was');
      for (const [id, p, installedAt] of [[a, pa, INSTALLED_A], [b, pb, INSTALLED_B], [d, pd, INSTALLED_D]] as const) {
        assert.equal(p.bash!.InstalledTime, installedAt, `${id} shows its own installed times`);
      }
      assert.equal(pd.rsyslog!.InstalledTime, 0, 'a Missing row has no installed time');
      const status = await server.app.scans.status(at);
      assert.equal(status.pending, 0);
      await assertAggregatesExact(server, 'after evaluating from keys');
    });

    test('verify reports a node that reads its installed times from a scan it does not have (and repair does not hide it)', async () => {
      const d = nodeId(4, 'sh');
      const dData = await server.app.store.db.selectFrom('node_scan_data').selectAll().where('instance_id', '=', d).executeTakeFirstOrThrow();
      await server.app.store.db.deleteFrom('node_scan_data').where('instance_id', '=', d).execute();
      try {
        const expected = [{ table: 'node_patches', key: d, column: 'scan', expected: 1, actual: 0 }];
        assert.deepEqual((await verifyAggregates(server.app.store, { repair: false })).differences, expected);
        const repaired = await verifyAggregates(server.app.store, { repair: true });
        assert.deepEqual([repaired.differences, repaired.repaired], [expected, false]);
      } finally {
        await server.app.store.db.insertInto('node_scan_data').values(dData).execute();
      }
      await assertAggregatesExact(server, 'with the scan back');
    });
  });
}
