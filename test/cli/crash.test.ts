// Crash safety of the reporting path, with the real `patchline serve` as a child process (1 and 2 worker
// processes; SQLite, and PostgreSQL when available): many PutInventory reports in flight, SIGKILL of the whole
// process group, restart on the same data. Every node must show one complete report — the last acknowledged one or
// a later one that was in flight — with its summary consistent with its rows, and `patchline verify` must find
// every aggregate equal to its recomputation. Then `verify` must detect a difference injected by SQL and
// `verify --repair` must fix it.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  DescribeInstancePatchesCommand, DescribeInstancePatchStatesCommand, DescribePatchGroupStateCommand, PutInventoryCommand, SSMClient,
  type InstancePatchState, type PatchComplianceData,
} from '@aws-sdk/client-ssm';
import { createPostgresDatabase, engines } from '../helpers/engines.ts';
import { TEST_ADMIN } from '../helpers/server.ts';
import {
  COUNTER_NAMES, callPatchline, camelState, groupStateMembers, groupStateOf, member, nodeId, patchEntry, patchReport, stateCounters, type PatchEntry,
} from '../helpers/fleet.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src/cli.ts');
const NODES = 40;
const GROUPS = ['g0', 'g1', 'g2'];

/** The environment for child processes: ours without PATCHLINE_* settings, plus the given ones. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PATCHLINE_')) env[k] = v;
  return { ...env, NODE_NO_WARNINGS: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

interface Running {
  child: ChildProcess;
  endpoint: string;
  output: () => string;
}

/** Starts `patchline serve` in its own process group and waits for the banner with its endpoint. */
async function startServe(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv({ PATCHLINE_HOST: '127.0.0.1', PATCHLINE_PORT: '0', PATCHLINE_LOG_LEVEL: 'warn', PATCHLINE_ACCESS_KEY_ID: TEST_ADMIN.accessKeyId, PATCHLINE_SECRET_ACCESS_KEY: TEST_ADMIN.secretAccessKey, ...env }),
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
    if (m) return { child, endpoint: m[1]!, output: () => out };
    if (child.exitCode !== null) throw new Error(`patchline serve exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`patchline serve did not start within 60 s:\n${out}`);
    }
    await sleep(50);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

async function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** Waits until no process of the group is left (cluster workers may outlive the primary by a moment). */
async function waitGroupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(25);
  }
  throw new Error(`process group ${pgid} is still alive`);
}

function verify(args: string[]): { code: number | null; result: any; text: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'verify', '--json', ...args], { cwd: ROOT, env: childEnv({}), encoding: 'utf8', timeout: 60_000 });
  let result: any;
  try {
    result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    result = undefined;
  }
  return { code: r.status, result, text: `${r.stdout}\n${r.stderr}` };
}

/** Version `v` of node `i`'s report: its BaselineId names the version, its rows and group follow from it. */
function version(i: number, v: number): { baselineId: string; group: string; rows: PatchEntry[] } {
  const states = ['Installed', 'Missing', 'InstalledOther', 'Failed', 'NotApplicable'];
  const n = 3 + ((v * 7 + i) % 25);
  return {
    baselineId: `pb-crashtest-v${String(v).padStart(8, '0')}`,
    group: GROUPS[(v + i) % GROUPS.length]!,
    rows: Array.from({ length: n }, (_, k) => patchEntry(`KB-${v}-${String(k).padStart(3, '0')}`, states[(k + v) % states.length]!, { Classification: k % 2 === 0 ? 'Security' : 'Bugfix' })),
  };
}

const versionOf = (baselineId: string) => Number(/-v(\d{8})$/.exec(baselineId)?.[1] ?? NaN);

for (const { engine, skip } of engines()) {
  describe(`crash safety of reports (${engine})`, { skip, timeout: 240_000 }, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    for (const workers of [1, 2]) {
      test(`SIGKILL with ${workers} worker process(es) mid-flight: every node has one complete report; verify finds and repairs differences`, async (t) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'patchline-crash-'));
        cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
        const pgdb = engine === 'postgres' ? await createPostgresDatabase() : undefined;
        if (pgdb) cleanups.push(() => pgdb.drop());
        const env: Record<string, string> = { PATCHLINE_DATA_DIR: dataDir, PATCHLINE_WORKERS: String(workers), ...(pgdb ? { PATCHLINE_DATABASE_URL: pgdb.url } : {}) };
        const dbArgs = ['--data-dir', dataDir, ...(pgdb ? ['--database-url', pgdb.url] : [])];

        let server = await startServe(env);
        cleanups.push(() => killGroup(server.child, 'SIGKILL'));
        const ids = Array.from({ length: NODES }, (_, i) => nodeId(i, 'crash'));
        const acked = new Array<number>(NODES).fill(0);
        const sent = new Array<number>(NODES).fill(0);

        // Each node sends versions 1, 2, 3, … in order, as fast as it can, until the server dies.
        let stop = false;
        const clients: SSMClient[] = [];
        const loops = ids.map(async (id, i) => {
          const client = new SSMClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_ADMIN, maxAttempts: 1 });
          clients.push(client);
          for (let v = 1; !stop; v++) {
            const r = version(i, v);
            sent[i] = v;
            try {
              await client.send(new PutInventoryCommand(patchReport(id, { patchGroup: r.group, baselineId: r.baselineId, counters: stateCounters(r.rows) }, r.rows)));
            } catch {
              return; // the server is gone
            }
            acked[i] = v;
          }
        });
        // Let the fleet get going (every node acknowledged at least twice), then kill everything mid-flight.
        const until = Date.now() + 30_000;
        while (acked.some((v) => v < 2) && Date.now() < until) await sleep(20);
        assert.ok(acked.every((v) => v >= 2), `every node reported before the kill: ${acked}\n${server.output()}`);
        await sleep(150);
        killGroup(server.child, 'SIGKILL');
        const pgid = server.child.pid!;
        await waitExit(server.child);
        await waitGroupGone(pgid);
        stop = true;
        await Promise.all(loops);
        clients.forEach((c) => c.destroy());
        assert.equal(server.child.signalCode, 'SIGKILL');

        // Restart on the same data.
        server = await startServe(env);
        const ssm = new SSMClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_ADMIN, maxAttempts: 1 });
        cleanups.push(() => ssm.destroy());
        const states: InstancePatchState[] = [];
        for (let k = 0; k < ids.length; k += 50) {
          states.push(...(await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: ids.slice(k, k + 50), MaxResults: 100 }))).InstancePatchStates!);
        }
        assert.equal(states.length, NODES, 'every node still has a patch state');
        let inFlightStored = 0;
        for (const [i, id] of ids.entries()) {
          const s = states.find((x) => x.InstanceId === id)!;
          const v = versionOf(s.BaselineId!);
          assert.ok(v >= acked[i]! && v <= sent[i]!, `${id}: stored version ${v}, acknowledged ${acked[i]}, sent ${sent[i]}`);
          if (v > acked[i]!) inFlightStored++;
          const want = version(i, v);
          assert.equal(s.PatchGroup, want.group, `${id}: group of version ${v}`);
          const counters = stateCounters(want.rows);
          for (const n of COUNTER_NAMES) assert.equal(member(s, n), n === 'UnreportedNotApplicableCount' ? -1 : counters[n], `${id} v${v}: ${n}`);
          const rows: PatchComplianceData[] = [];
          let NextToken: string | undefined;
          do {
            const page = await ssm.send(new DescribeInstancePatchesCommand({ InstanceId: id, MaxResults: 100, NextToken }));
            rows.push(...page.Patches!);
            NextToken = page.NextToken;
          } while (NextToken);
          assert.deepEqual(rows.map((r) => [r.KBId, r.State]).sort(), want.rows.map((r) => [r.KBId, camelState(r.State)]).sort(), `${id}: the rows of version ${v}, whole`);
          const hist = (await callPatchline(server.endpoint, TEST_ADMIN, 'DescribeInstancePatchStateHistory', { InstanceId: id, MaxResults: 1000 })).History as Array<{ BaselineId: string }>;
          assert.equal(hist[hist.length - 1]!.BaselineId, s.BaselineId, `${id}: the last history entry is the stored report`);
          assert.ok(hist.length >= acked[i]!, `${id}: one history entry per acknowledged report`);
        }
        for (const g of GROUPS) {
          assert.deepEqual(groupStateMembers(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: g }))), groupStateOf(states.filter((s) => s.PatchGroup === g)), g);
        }
        const clean = verify(dbArgs);
        assert.equal(clean.code, 0, clean.text);
        assert.deepEqual(clean.result.differences, [], clean.text);
        assert.equal(clean.result.nodes, NODES);
        // How many in-flight reports made it varies from run to run; both outcomes are valid.
        t.diagnostic(`${inFlightStored} of ${NODES} nodes hold a report that was in flight at the kill; acknowledged ${acked.reduce((a, b) => a + b, 0)} reports`);

        // A difference injected by hand is found, then repaired.
        const inject = 'UPDATE patch_group_counts SET instances = instances + 3, with_missing = with_missing + 1 WHERE patch_group = \'g1\' AND shard = (SELECT MIN(shard) FROM patch_group_counts WHERE patch_group = \'g1\')';
        if (pgdb) {
          const c = new pg.Client({ connectionString: pgdb.url });
          await c.connect();
          assert.equal((await c.query(inject)).rowCount, 1);
          await c.end();
        } else {
          const db = new Database(join(dataDir, 'patchline.db'));
          db.pragma('busy_timeout = 10000');
          assert.equal(db.prepare(inject).run().changes, 1);
          db.close();
        }
        const g1 = groupStateOf(states.filter((s) => s.PatchGroup === 'g1'));
        const corrupted = groupStateMembers(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'g1' })));
        assert.equal(corrupted.Instances, g1.Instances! + 3, 'the injected difference is visible');
        const found = verify(dbArgs);
        assert.equal(found.code, 1, found.text);
        assert.equal(found.result.repaired, false);
        assert.deepEqual(found.result.differences.map((d: any) => [d.table, d.key, d.column, d.expected, d.actual]).sort(), [
          ['patch_group_counts', 'g1', 'instances', g1.Instances, g1.Instances! + 3],
          ['patch_group_counts', 'g1', 'with_missing', g1.InstancesWithMissingPatches, g1.InstancesWithMissingPatches! + 1],
        ].sort());
        const repaired = verify([...dbArgs, '--repair']);
        assert.equal(repaired.code, 0, repaired.text);
        assert.equal(repaired.result.repaired, true);
        assert.equal(repaired.result.differences.length, 2);
        const again = verify(dbArgs);
        assert.equal(again.code, 0, again.text);
        assert.deepEqual(again.result.differences, []);
        assert.deepEqual(groupStateMembers(await ssm.send(new DescribePatchGroupStateCommand({ PatchGroup: 'g1' }))), g1);

        // The repaired counters keep moving correctly with new reports.
        const r = version(0, 1000);
        await ssm.send(new PutInventoryCommand(patchReport(ids[0]!, { patchGroup: 'g1', baselineId: r.baselineId, counters: stateCounters(r.rows) }, r.rows)));
        assert.deepEqual(verify(dbArgs).result.differences, []);

        killGroup(server.child, 'SIGTERM');
        await waitExit(server.child);
      });
    }
  });
}
