// Compliance history, Patchline's own operations (signed raw requests; the AWS SDK has no such commands), on
// every store engine: Patchline.DescribeInstancePatchStateHistory (one entry per stored report of a node) and
// Patchline.DescribePatchGroupStateHistory (one entry per snapshot of a group's DescribePatchGroupState taken by
// snapshotGroupHistory), time-range filters, pagination, and pruning past the retention (pruneHistory).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribePatchGroupStateCommand, PutInventoryCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { snapshotGroupHistory, pruneHistory } from '../../src/services/history.ts';
import { COUNTER_NAMES, GROUP_STATE_MEMBERS, OTHER_BASELINE_ID, callPatchline, groupStateMembers, nodeId, patchReport, type Counters } from '../helpers/fleet.ts';
import { rejectsWith } from '../helpers/assertions.ts';

const DAY = 86_400_000;

for (const { engine, skip } of engines()) {
  describe(`history (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const call = (operation: string, body: object) => callPatchline(server.endpoint, TEST_ADMIN, operation, body);
    /** Every page of a history operation, following NextToken. */
    const allPages = async (operation: string, body: Record<string, unknown>) => {
      const pages: any[] = [];
      let NextToken: string | undefined;
      do {
        const page = await call(operation, { ...body, ...(NextToken ? { NextToken } : {}) });
        pages.push(page);
        NextToken = page.NextToken;
      } while (NextToken !== undefined && pages.length < 50);
      return pages;
    };
    const entries = async (operation: string, body: Record<string, unknown>) => (await allPages(operation, body)).flatMap((p) => p.History as any[]);

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('DescribeInstancePatchStateHistory: one entry per stored report, in order, with the counters of each', async () => {
      const id = nodeId(1, 'hist');
      const sent: Array<{ group: string; counters: Partial<Counters>; at: number }> = [];
      for (let i = 0; i < 6; i++) {
        const counters: Partial<Counters> = { InstalledCount: 10 + i, MissingCount: i % 3, FailedCount: i === 4 ? 2 : 0, UnreportedNotApplicableCount: i === 5 ? 3 : -1 };
        const group = i < 3 ? 'first' : 'second';
        const before = Date.now();
        await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: group, counters, operation: i % 2 === 0 ? 'Scan' : 'Install', baselineId: i === 5 ? OTHER_BASELINE_ID : undefined })));
        sent.push({ group, counters, at: before });
        await sleep(25);
      }
      const all = await entries('DescribeInstancePatchStateHistory', { InstanceId: id });
      assert.equal(all.length, 6);
      for (const [i, e] of all.entries()) {
        const s = sent[i]!;
        assert.equal(e.PatchGroup, s.group);
        assert.equal(e.Operation, i % 2 === 0 ? 'Scan' : 'Install');
        assert.equal(e.BaselineId, i === 5 ? OTHER_BASELINE_ID : 'pb-0123456789abcdef0');
        for (const n of COUNTER_NAMES) assert.equal(e[n], s.counters[n] ?? 0, `report ${i}: ${n}`);
        assert.equal(typeof e.Time, 'number', 'Time is epoch seconds');
        assert.ok(e.Time * 1000 >= s.at - 5 && e.Time * 1000 <= s.at + 5000, `report ${i}: Time is when it was stored`);
        if (i > 0) assert.ok(e.Time > all[i - 1].Time, 'entries are in report order');
      }

      // Time range: StartTime/EndTime are inclusive bounds in epoch seconds.
      const times = all.map((e) => e.Time as number);
      const mid = await entries('DescribeInstancePatchStateHistory', { InstanceId: id, StartTime: times[1], EndTime: times[3] });
      assert.deepEqual(mid.map((e) => e.Time), times.slice(1, 4));
      const fromFour = await entries('DescribeInstancePatchStateHistory', { InstanceId: id, StartTime: (times[3]! + times[4]!) / 2 });
      assert.deepEqual(fromFour.map((e) => e.Time), times.slice(4));
      const untilTwo = await entries('DescribeInstancePatchStateHistory', { InstanceId: id, EndTime: (times[1]! + times[2]!) / 2 });
      assert.deepEqual(untilTwo.map((e) => e.Time), times.slice(0, 2));
      assert.deepEqual(await entries('DescribeInstancePatchStateHistory', { InstanceId: id, EndTime: times[0]! - 60 }), []);

      // Pages of 2: three pages, each entry once.
      const pages = await allPages('DescribeInstancePatchStateHistory', { InstanceId: id, MaxResults: 2 });
      assert.equal(pages.length, 3);
      assert.deepEqual(pages.flatMap((p) => p.History.map((e: any) => e.Time)), times);
      const paged = await allPages('DescribeInstancePatchStateHistory', { InstanceId: id, MaxResults: 1, StartTime: times[2] });
      assert.deepEqual(paged.flatMap((p) => p.History.map((e: any) => e.Time)), times.slice(2));

      // Another node's history is its own.
      const other = nodeId(2, 'hist');
      await ssm.send(new PutInventoryCommand(patchReport(other, { patchGroup: 'first', counters: { MissingCount: 7 } })));
      assert.deepEqual((await entries('DescribeInstancePatchStateHistory', { InstanceId: other })).map((e) => e.MissingCount), [7]);
      assert.equal((await entries('DescribeInstancePatchStateHistory', { InstanceId: id })).length, 6);

      await rejectsWith(call('DescribeInstancePatchStateHistory', { InstanceId: nodeId(999, 'hist') }), 'InvalidInstanceId');
      await rejectsWith(call('DescribeInstancePatchStateHistory', { InstanceId: id, NextToken: 'F'.repeat(60) }), 'InvalidNextToken');
      await rejectsWith(call('DescribeInstancePatchStateHistory', { InstanceId: id, MaxResults: 0 }), 'ValidationException');
      await rejectsWith(call('DescribeInstancePatchStateHistory', {}), 'ValidationException');
    });

    test('DescribePatchGroupStateHistory: one entry per snapshot, equal to DescribePatchGroupState at that time; ranges; pages', async () => {
      const interval = server.config.historyIntervalMinutes * 60_000;
      const t1 = Math.floor(Date.now() / interval) * interval - 10 * interval + 1234; // inside an older bucket
      const t2 = t1 + 3 * interval;
      const state = async (g: string) => groupStateMembers(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: g })));

      for (let i = 0; i < 4; i++) await ssm.send(new PutInventoryCommand(patchReport(nodeId(i, 'snap'), { patchGroup: 'snap-a', counters: { InstalledCount: 1, MissingCount: i % 2 } })));
      await ssm.send(new PutInventoryCommand(patchReport(nodeId(10, 'snap'), { patchGroup: 'snap-b', counters: { FailedCount: 1 } })));
      const a1 = await state('snap-a');
      const b1 = await state('snap-b');
      assert.ok((await snapshotGroupHistory(server.app, t1)) >= 2);
      assert.equal(await snapshotGroupHistory(server.app, t1 + 1000), 0, 'a second snapshot in the same bucket writes nothing');

      // The fleet changes: snap-a gains a node and a failure, snap-b's node moves to snap-a.
      await ssm.send(new PutInventoryCommand(patchReport(nodeId(4, 'snap'), { patchGroup: 'snap-a', counters: { FailedCount: 2, InstalledPendingRebootCount: 1 } })));
      await ssm.send(new PutInventoryCommand(patchReport(nodeId(10, 'snap'), { patchGroup: 'snap-a', counters: { FailedCount: 1 } })));
      const a2 = await state('snap-a');
      assert.notDeepEqual(a1, a2);
      await snapshotGroupHistory(server.app, t2);

      const bucket = (t: number) => Math.floor(t / interval) * interval / 1000;
      const histA = await entries('DescribePatchGroupStateHistory', { PatchGroup: 'snap-a' });
      assert.deepEqual(histA.map((e) => e.Time), [bucket(t1), bucket(t2)]);
      for (const [i, want] of [a1, a2].entries()) {
        const got = Object.fromEntries(GROUP_STATE_MEMBERS.map((m) => [m, histA[i][m]]));
        assert.deepEqual(got, want, `snapshot ${i + 1} of snap-a`);
      }
      // snap-b is empty at t2: no entry is written for a group without nodes.
      const histB = await entries('DescribePatchGroupStateHistory', { PatchGroup: 'snap-b' });
      assert.deepEqual(histB.map((e) => e.Time), [bucket(t1)]);
      assert.deepEqual(Object.fromEntries(GROUP_STATE_MEMBERS.map((m) => [m, histB[0][m]])), b1);

      assert.deepEqual((await entries('DescribePatchGroupStateHistory', { PatchGroup: 'snap-a', StartTime: bucket(t1) + 1 })).map((e) => e.Time), [bucket(t2)]);
      assert.deepEqual((await entries('DescribePatchGroupStateHistory', { PatchGroup: 'snap-a', EndTime: bucket(t2) - 1 })).map((e) => e.Time), [bucket(t1)]);
      assert.deepEqual((await entries('DescribePatchGroupStateHistory', { PatchGroup: 'snap-a', StartTime: bucket(t1), EndTime: bucket(t2) })).length, 2);
      const pages = await allPages('DescribePatchGroupStateHistory', { PatchGroup: 'snap-a', MaxResults: 1 });
      assert.equal(pages.length, 2);
      assert.deepEqual(pages.flatMap((p) => p.History.map((e: any) => e.Time)), [bucket(t1), bucket(t2)]);
      assert.deepEqual(await entries('DescribePatchGroupStateHistory', { PatchGroup: 'never-snapshotted' }), []);
      await rejectsWith(call('DescribePatchGroupStateHistory', { PatchGroup: 'snap-a', NextToken: 'G'.repeat(60) }), 'InvalidNextToken');
    });

    test('pruneHistory removes node reports and group snapshots older than the retention, and only those', async () => {
      const retention = server.config.historyRetentionDays * DAY;
      const id = nodeId(1, 'prune');
      await ssm.send(new PutInventoryCommand(patchReport(id, { patchGroup: 'prune', counters: { InstalledCount: 1 } })));
      const now = Date.now();
      await snapshotGroupHistory(server.app, now - retention - 2 * DAY); // already past the retention
      await snapshotGroupHistory(server.app, now - DAY);
      const groupTimes = async () => (await entries('DescribePatchGroupStateHistory', { PatchGroup: 'prune' })).length;
      const nodeTimes = async () => (await entries('DescribeInstancePatchStateHistory', { InstanceId: id })).length;
      assert.equal(await groupTimes(), 2);
      assert.equal(await nodeTimes(), 1);

      const first = await pruneHistory(server.app, now);
      assert.ok(first.groups >= 1, 'the old snapshot is pruned');
      assert.equal(first.nodes, 0, 'no node report is that old');
      assert.equal(await groupTimes(), 1);
      assert.equal(await nodeTimes(), 1);

      // Later, past the retention of everything written now.
      const later = await pruneHistory(server.app, now + retention + DAY);
      assert.ok(later.nodes >= 1 && later.groups >= 1);
      assert.equal(await groupTimes(), 0);
      assert.equal(await nodeTimes(), 0);
      // Pruning history never touches the current state.
      assert.equal((await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'prune' }))).Instances, 1);
    });
  });
}
