// Aggregates under concurrent reporting, on every store engine: hundreds of nodes report at once over ~20
// connections (some several times, moving between patch groups) while other connections read
// DescribePatchGroupState. Afterwards every group's DescribePatchGroupState equals the recomputation from the
// nodes' DescribeInstancePatchStates, each node's state is the last report it sent, and verifyAggregates finds no
// difference. Then the same with two server instances on one database.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeInstancePatchStatesCommand, DescribePatchGroupStateCommand, ListComplianceSummariesCommand, PutInventoryCommand,
  type InstancePatchState, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { verifyAggregates } from '../../src/services/verify.ts';
import { shardOf } from '../../src/store/reporting-store.ts';
import {
  COUNTER_NAMES, GROUP_STATE_MEMBERS, groupStateMembers, groupStateOf, member, nodeId, patchEntry, patchReport, pick, randomCounters, rng,
  type Counters, type PatchEntry,
} from '../helpers/fleet.ts';

const GROUPS = ['web', 'db', 'cache', 'batch', 'edge', ''];

interface Plan {
  id: string;
  reports: Array<{ group: string; counters: Counters; rows: PatchEntry[] }>;
}

/** Each node gets 1–3 reports with random groups and counters; a few rows so the row write is part of the race. */
function planFleet(seed: number, count: number, tag: string): Plan[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const n = r() < 0.6 ? 1 : r() < 0.5 ? 2 : 3;
    return {
      id: nodeId(i, tag),
      reports: Array.from({ length: n }, (_, k) => ({
        group: pick(r, GROUPS),
        counters: randomCounters(r),
        rows: [patchEntry(`KB${i}-${k}-a`, 'Installed'), patchEntry(`KB${i}-${k}-b`, pick(r, ['Missing', 'Failed', 'InstalledOther']))],
      })),
    };
  });
}

/** Runs the plans over `clients` concurrent connections: a queue of nodes, each node's reports in order. */
async function report(clients: SSMClient[], plans: Plan[]): Promise<void> {
  const queue = [...plans];
  await Promise.all(clients.map(async (client) => {
    for (let plan = queue.shift(); plan !== undefined; plan = queue.shift()) {
      for (const rep of plan.reports) {
        await client.send(new PutInventoryCommand(patchReport(plan.id, { patchGroup: rep.group, counters: rep.counters }, rep.rows)));
      }
    }
  }));
}

/** Reads DescribePatchGroupState in a loop until `done`; every answer must be internally possible. */
async function readWhile(client: SSMClient, done: () => boolean, fleetSize: number): Promise<number> {
  let reads = 0;
  while (!done()) {
    for (const g of GROUPS.filter((x) => x !== '')) {
      const s = groupStateMembers(await client.send(new DescribePatchGroupStateCommand({ PatchGroup: g })));
      for (const m of GROUP_STATE_MEMBERS) {
        assert.ok(s[m]! >= 0 && s[m]! <= s.Instances!, `${g}: ${m}=${s[m]} with ${s.Instances} instances`);
      }
      assert.ok(s.Instances! <= fleetSize);
      reads++;
    }
  }
  return reads;
}

async function allStates(client: SSMClient, ids: string[]): Promise<InstancePatchState[]> {
  const out: InstancePatchState[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const batch = ids.slice(i, i + 50);
    let NextToken: string | undefined;
    do {
      const page = await client.send(new DescribeInstancePatchStatesCommand({ InstanceIds: batch, MaxResults: 100, NextToken }));
      out.push(...page.InstancePatchStates!);
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return out;
}

/** Every node's state is its last report; every group's DescribePatchGroupState is the recomputation. */
async function checkExact(client: SSMClient, plans: Plan[]): Promise<void> {
  const states = await allStates(client, plans.map((p) => p.id));
  assert.equal(states.length, plans.length, 'every node has a state');
  const byId = new Map(states.map((s) => [s.InstanceId!, s]));
  for (const p of plans) {
    const last = p.reports[p.reports.length - 1]!;
    const s = byId.get(p.id)!;
    assert.equal(s.PatchGroup, last.group, `${p.id}: group of its last report`);
    for (const n of COUNTER_NAMES) assert.equal(member(s, n), last.counters[n], `${p.id}: ${n} of its last report`);
  }
  for (const g of new Set([...GROUPS, 'never'])) {
    const want = groupStateOf(states.filter((s) => s.PatchGroup === g));
    if (g === '') continue; // '' is not a valid PatchGroup to ask for (length ≥ 1); it is still checked by verifyAggregates.
    assert.deepEqual(groupStateMembers(await client.send(new DescribePatchGroupStateCommand({ PatchGroup: g }))), want, `group ${g}`);
  }
}

for (const { engine, skip } of engines()) {
  describe(`concurrent reporting (${engine})`, { skip }, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ engine });
    });
    after(async () => {
      await server?.close();
    });

    test('300 nodes over 20 connections with readers: aggregates exact, verify finds no difference', async () => {
      const seed = Number(process.env.PATCHLINE_TEST_SEED ?? Date.now() % 1_000_000);
      const plans = planFleet(seed, 300, 'con');
      const writers = Array.from({ length: 20 }, () => server.client());
      const readers = Array.from({ length: 3 }, () => server.client());
      let done = false;
      const reading = readers.map((c) => readWhile(c, () => done, plans.length));
      try {
        await report(writers, plans);
      } finally {
        done = true;
      }
      const reads = (await Promise.all(reading)).reduce((a, b) => a + b, 0);
      assert.ok(reads > 0, 'the readers ran during the writes');
      await checkExact(server.client(), plans).catch((err: Error) => {
        err.message = `seed ${seed}: ${err.message}`;
        throw err;
      });
      const verify = await verifyAggregates(server.app.store, { repair: false });
      assert.deepEqual(verify.differences, [], `seed ${seed}`);
      assert.equal(verify.nodes, 300);
      const patch = (await server.client().send(new ListComplianceSummariesCommand({ Filters: [{ Key: 'ComplianceType', Values: ['Patch'] }] }))).ComplianceSummaryItems![0]!;
      assert.equal(patch.CompliantSummary!.CompliantCount! + patch.NonCompliantSummary!.NonCompliantCount!, 300, 'every node counted once for Patch');
    });
  });

  describe(`nodes swapping groups at once (${engine})`, { skip }, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ engine });
    });
    after(async () => {
      await server?.close();
    });

    test('nodes of one counter shard moving between two groups in opposite directions: no failure, exact counts', async () => {
      // Nodes whose counters share one shard row per group, half starting in 'left', half in 'right'; every round
      // each node moves to the other group, all at once, so writers take the two rows in opposite orders.
      const ids: string[] = [];
      for (let i = 0; ids.length < 40; i++) if (shardOf(nodeId(i, 'swap')) === 3) ids.push(nodeId(i, 'swap'));
      const counters = (k: number): Partial<Counters> => ({ InstalledCount: 1 + k, MissingCount: k % 2, FailedCount: k % 3 === 0 ? 1 : 0 });
      const clients = Array.from({ length: 20 }, () => server.client());
      const groupOf = (i: number, round: number) => ((i + round) % 2 === 0 ? 'left' : 'right');
      const rounds = 6;
      for (let round = 0; round < rounds; round++) {
        await Promise.all(ids.map((id, i) => clients[i % clients.length]!.send(new PutInventoryCommand(patchReport(id, { patchGroup: groupOf(i, round), counters: counters(round) })))));
      }
      const states = await allStates(server.client(), ids);
      for (const [i, id] of ids.entries()) assert.equal(states.find((s) => s.InstanceId === id)!.PatchGroup, groupOf(i, rounds - 1));
      for (const g of ['left', 'right']) {
        assert.deepEqual(groupStateMembers(await server.client().send(new DescribePatchGroupStateCommand({ PatchGroup: g }))), groupStateOf(states.filter((s) => s.PatchGroup === g)), g);
      }
      assert.deepEqual((await verifyAggregates(server.app.store, { repair: false })).differences, []);
    });
  });

  describe(`two servers on one database (${engine})`, { skip }, () => {
    let first: TestServer;
    let second: TestServer;

    before(async () => {
      first = await startTestServer({ engine });
      // Same database and data directory (so the same master key); its own process state and pool.
      second = await startTestServer({ dataDir: first.dataDir, env: { PATCHLINE_DATABASE_URL: first.config.databaseUrl } });
    });
    after(async () => {
      await second?.close();
      await first?.close();
    });

    test('both receive reports for the same groups at once: aggregates exact on both', async () => {
      assert.equal(second.config.databaseUrl, first.config.databaseUrl);
      const seed = Number(process.env.PATCHLINE_TEST_SEED ?? (Date.now() + 1) % 1_000_000);
      const plans = planFleet(seed, 160, 'two');
      // Round 1: even nodes through the first server, odd ones through the second, at once; round 2 the other way
      // round (the same reports again, so each node still ends on its plan's last report). Groups are shared.
      const a = Array.from({ length: 10 }, () => first.client());
      const b = Array.from({ length: 10 }, () => second.client());
      const even = plans.filter((_, i) => i % 2 === 0);
      const odd = plans.filter((_, i) => i % 2 === 1);
      await Promise.all([report(a, even), report(b, odd)]);
      await Promise.all([report(b, even), report(a, odd)]);
      await checkExact(first.client(), plans);
      await checkExact(second.client(), plans);
      assert.deepEqual((await verifyAggregates(first.app.store, { repair: false })).differences, [], `seed ${seed}`);
    });
  });
}
