// The labeller behind evaluation (src/services/advisory-labels.ts) on a real SQLite store: labelled candidates are
// shared objects per (candidate, installed version, distribution, catalogue version), the prepared scan is never
// modified, a catalogue change relabels; and the throughput of re-evaluating a synthetic Debian fleet with and
// without labels (docs/advisories.md "Labels on evaluation"). The throughput assertion is a loose floor only:
// shared CI machines are noisy, so the figures are printed as diagnostics.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { openDatabase, type OpenDatabase } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';
import { AdvisoryStore } from '../../src/store/advisory-store.ts';
import { AdvisoryLabeller } from '../../src/services/advisory-labels.ts';
import { importAdvisories } from '../../src/services/advisory-import.ts';
import { advisoryKey, type Advisory } from '../../src/domain/advisories/advisory.ts';
import { compileBaseline, createDecisionCache, evaluateNode, PackageIndex, prepareScan } from '../../src/domain/evaluation/index.ts';
import type { NodeScan, ScanPackage } from '../../src/domain/evaluation/index.ts';
import type { PreparedScan } from '../../src/domain/evaluation/prepare-scan.ts';
import { awsBaseline, nodeScan, utc } from '../domain/evaluation/support.ts';
import { startTestServer, TEST_ADMIN } from '../helpers/server.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const DSA_LIST = join(repoRoot, '..', 'shared', 'fixtures', 'debian-security-tracker', 'vunnel-DSA-list.txt');
const NOW = utc('2026-11-23T00:00:00Z');

function advisory(id: string, cves: string[], packages: Array<{ name: string; fixedVersion: string; distribution: string }>, severity?: string): Advisory {
  const a: Advisory = {
    key: advisoryKey({ source: 'debian-security-tracker', family: 'dpkg', id }), id, source: 'debian-security-tracker', family: 'dpkg',
    classification: 'Security', cveIds: cves, bugzillaIds: [], packages: packages.map((p) => ({ ...p, sourceName: p.name })),
  };
  if (severity !== undefined) a.severity = severity;
  return a;
}

describe('advisory labeller on a store', () => {
  let dir: string;
  let database: OpenDatabase;
  let store: Store;
  let labeller: AdvisoryLabeller;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'patchline-labels-'));
    database = openDatabase({ url: `sqlite:${join(dir, 'patchline.db')}` });
    await migrateToLatest(database.db, database.engine);
    store = new Store(database);
    labeller = new AdvisoryLabeller(new AdvisoryStore(store));
  });
  after(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('labelled candidates are shared between nodes; the prepared scan is not modified; a catalogue change relabels', async (t) => {
    if (!existsSync(DSA_LIST)) return t.skip('fixtures not found: ../shared/fixtures/debian-security-tracker is absent');
    // Real data: DSA-5970-1 fixes sope 5.8.0-1+deb12u1 in bookworm (CVE-2025-53603).
    const summary = await importAdvisories(store, [DSA_LIST]);
    assert.equal(summary.records, 10);
    const index = new PackageIndex('identity');
    const installed: ScanPackage = { name: 'sope', arch: 'amd64', version: '5.8.0-1' };
    const candidate: ScanPackage = { name: 'sope', arch: 'amd64', version: '5.8.0-1+deb12u1', security: true, priority: 'optional' };
    const other: ScanPackage = { name: 'bash', arch: 'amd64', version: '5.2.15-2+b13', security: false, priority: 'optional' };
    const bashInstalled: ScanPackage = { name: 'bash', arch: 'amd64', version: '5.2.15-2+b8' };
    const scan = (product: string): NodeScan => nodeScan('DEBIAN', product, { installed: [installed, bashInstalled], updates: [candidate, other] });
    const a = prepareScan(scan('Debian12'), index);
    const b = prepareScan(scan('Debian12'), index);
    await labeller.refresh();
    const la = await labeller.label(a);
    const lb = await labeller.label(b);
    assert.notEqual(la, a);
    const sopeAt = (p: typeof a) => p.candidates[p.byName.get('sope')!]![0]!;
    assert.deepEqual(sopeAt(la), { ...candidate, classification: 'Security', cveIds: ['CVE-2025-53603'], advisoryIds: ['DSA-5970-1'], releaseTime: utc('2025-07-31T00:00:00Z') });
    assert.equal(sopeAt(la), sopeAt(lb), 'one labelled object for both nodes');
    assert.equal(la.candidateIds![a.byName.get('sope')!]![0], index.idOf(sopeAt(la)), 'its PackageIndex id travels with it');
    assert.equal(sopeAt(a), candidate, 'the prepared scan still holds the scan\'s own object');
    assert.equal(candidate.cveIds, undefined);
    assert.equal(la.candidates[a.byName.get('bash')!]![0], other, 'no advisory for bash: the same object');
    // Another distribution: nothing applies, the same prepared scan comes back.
    const c = prepareScan(scan('Debian11'), index);
    assert.equal(await labeller.label(c), c);
    // The engine sees the labels.
    const compiled = compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline'));
    const row = evaluateNode(la, compiled, NOW, createDecisionCache(compiled, { keying: 'identity' })).rows.find((r) => r.KBId === 'sope.amd64')!;
    assert.deepEqual([row.State, row.CVEIds], ['Missing', 'CVE-2025-53603']);

    // A re-import that changes the record: a new catalogue version, new labelled objects.
    const advisories = new AdvisoryStore(store);
    await store.transaction(async (trx) => {
      await advisories.writeBatchIn(trx, [advisory('CVE-2025-53603', ['CVE-2025-53603'], [{ name: 'sope', fixedVersion: '5.8.0-1+deb12u1', distribution: 'debian:12' }], 'High')], Date.now());
      await advisories.bumpVersionIn(trx);
    });
    assert.equal(await labeller.refresh(), true);
    const again = await labeller.label(a);
    assert.notEqual(sopeAt(again), sopeAt(la));
    assert.deepEqual(sopeAt(again).cveIds, ['CVE-2025-53603']);
    assert.deepEqual(sopeAt(again).advisoryIds, ['DSA-5970-1']);
    assert.equal(sopeAt(again).severity, 'High');
    assert.equal(await labeller.refresh(), false, 'unchanged version: nothing dropped');
  });

  test('throughput: re-evaluating 100,000 Debian nodes with and without labels', async (t) => {
    // Catalogue: 1,500 of 3,000 source packages have an advisory fixed in bookworm (and one for bullseye each).
    const NAMES = 3000;
    const advisories = new AdvisoryStore(store);
    const list: Advisory[] = [];
    for (let k = 0; k < NAMES; k += 2) {
      list.push(advisory(`DSA-8${String(k).padStart(3, '0')}-1`, [`CVE-2098-${10000 + k}`], [
        { name: `pkg${k}`, fixedVersion: '1.3-1+deb12u1', distribution: 'debian:12' },
        { name: `pkg${k}`, fixedVersion: '1.3-1+deb11u1', distribution: 'debian:11' },
      ], k % 3 === 0 ? 'High' : 'Medium'));
    }
    await store.transaction(async (trx) => {
      await advisories.writeBatchIn(trx, list, Date.now());
      await advisories.bumpVersionIn(trx);
    });

    // Fleet: nodes of 300 installed packages from a shared pool (as the server's dictionary holds them), about
    // 20% with a candidate; 5,000 distinct nodes, each re-evaluated 20 times = 100,000 node evaluations.
    let seed = 4242;
    const r = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
    const installedPool: ScanPackage[][] = [];
    const updatePool: ScanPackage[][] = [];
    for (let k = 0; k < NAMES; k++) {
      installedPool.push([0, 1, 2].map((v) => ({ name: `pkg${k}`, arch: 'amd64', version: `1.${v}-1` })));
      updatePool.push([0, 1].map((v) => ({ name: `pkg${k}`, arch: 'amd64', version: `1.${3 + v}-1+deb12u1`, security: r() < 0.6, priority: 'optional' })));
    }
    const DISTINCT = 5000;
    const ROUNDS = 20;
    const index = new PackageIndex('identity');
    const prepared: PreparedScan[] = [];
    for (let n = 0; n < DISTINCT; n++) {
      const installed: ScanPackage[] = [];
      const updates: ScanPackage[] = [];
      const start = Math.floor(r() * NAMES);
      for (let k = 0; k < 300; k++) {
        const i = (start + k) % NAMES;
        installed.push(installedPool[i]![Math.floor(r() * 3)]!);
        if (r() < 0.2) updates.push(updatePool[i]![Math.floor(r() * 2)]!);
      }
      prepared.push(prepareScan(nodeScan('DEBIAN', 'Debian12', { installed, updates }), index));
    }
    const compiled = compileBaseline(awsBaseline('AWS-DebianDefaultPatchBaseline'));
    const fresh = new AdvisoryLabeller(advisories);
    await fresh.refresh();
    await fresh.index('dpkg');

    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const pass = async (labelled: boolean, memo: ReturnType<typeof createDecisionCache>, rounds: number): Promise<{ ms: number; cves: number }> => {
      const t0 = cpuMs();
      let cves = 0;
      for (let round = 0; round < rounds; round++) {
        for (const p of prepared) {
          const scan = labelled ? await fresh.label(p) : p;
          const result = evaluateNode(scan, compiled, NOW, memo);
          if (round === 0) for (const row of result.rows) if (row.CVEIds) cves++;
        }
      }
      return { ms: cpuMs() - t0, cves };
    };
    const plainMemo = createDecisionCache(compiled, { keying: 'identity' });
    const labelMemo = createDecisionCache(compiled, { keying: 'identity' });
    // Cold: every distinct node once, with fresh memos (and, labelled, every labelled object made). Warm: 100,000.
    const coldPlain = await pass(false, plainMemo, 1);
    const coldLabelled = await pass(true, labelMemo, 1);
    const made = fresh.made;
    const plainMs = (await pass(false, plainMemo, ROUNDS)).ms;
    const labelledMs = (await pass(true, labelMemo, ROUNDS)).ms;
    const total = DISTINCT * ROUNDS;
    const rate = (ms: number, nodes = total) => Math.round(nodes / (ms / 1000));
    assert.equal(coldPlain.cves, 0, 'the scans carry no CVE data');
    assert.ok(coldLabelled.cves > DISTINCT, `labels reach the rows (${coldLabelled.cves} rows with CVE ids)`);
    assert.equal(fresh.made, made, 'warm passes make no new labelled objects');
    t.diagnostic(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; warm: ${total} node evaluations (${DISTINCT} distinct nodes × ${ROUNDS}), 300 installed / ~60 candidates each; CPU time`);
    t.diagnostic(`labelled objects made: ${made} (one per candidate and label set, shared by every node); cold pass ${rate(coldLabelled.ms, DISTINCT)} nodes/s with labels vs ${rate(coldPlain.ms, DISTINCT)} without`);
    t.diagnostic(`warm: without labels ${rate(plainMs)} nodes/s (100,000 in ${(plainMs / 1000).toFixed(2)} s); with labels ${rate(labelledMs)} nodes/s (100,000 in ${(labelledMs / 1000).toFixed(2)} s); cost +${(((labelledMs / plainMs) - 1) * 100).toFixed(0)}%`);
    assert.ok(rate(labelledMs) >= 2000, `labelled re-evaluation at ${rate(labelledMs)} nodes/s is far too slow`);
  });

  test('throughput: server re-evaluation (decode, label, evaluate, write) of 1,000 scanned nodes with and without labels', async (t) => {
    const server = await startTestServer({ engine: 'sqlite', background: false });
    try {
      const app = server.app;
      const NAMES = 3000;
      let seed = 777;
      const r = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
      const put = app.operations['Patchline.PutScanReport']!;
      const N = 1000;
      for (let n = 0; n < N; n++) {
        const Installed = [];
        const Updates = [];
        const start = Math.floor(r() * NAMES);
        for (let k = 0; k < 300; k++) {
          const i = (start + k) % NAMES;
          Installed.push({ Name: `pkg${i}`, Version: `1.${Math.floor(r() * 3)}-1`, Architecture: 'amd64' });
          if (r() < 0.2) Updates.push({ Name: `pkg${i}`, Version: `1.${3 + Math.floor(r() * 2)}-1+deb12u1`, Architecture: 'amd64', Security: r() < 0.6, Priority: 'optional' });
        }
        const ctx = { requestId: 'throughput', operation: 'Patchline.PutScanReport', principal: { accessKeyId: TEST_ADMIN.accessKeyId, kind: 'admin' }, signingRegion: 'us-east-1', now: Date.now(), log: app.log, app };
        await put({
          InstanceId: `mi-${String(n).padStart(17, '0')}`, Operation: 'Scan', OperationStartTime: 1_760_000_000, OperationEndTime: 1_760_000_100, RebootPending: false,
          Platform: { OperatingSystem: 'DEBIAN', Name: 'Debian GNU/Linux', Version: '12' }, Installed, Updates,
        }, ctx as never);
      }
      const reevaluate = async (): Promise<number> => {
        await app.evaluator.notify({ all: true });
        const t0 = performance.now();
        let total = 0;
        for (let k = await app.evaluator.runBatch(500); k > 0; k = await app.evaluator.runBatch(500)) total += k;
        assert.equal(total, N);
        return Math.round(N / ((performance.now() - t0) / 1000));
      };
      const plain = Math.max(await reevaluate(), await reevaluate());
      const advisories = new AdvisoryStore(app.store);
      const list: Advisory[] = [];
      for (let k = 0; k < NAMES; k += 2) list.push(advisory(`DSA-7${String(k).padStart(4, '0')}-1`, [`CVE-2097-${10000 + k}`], [{ name: `pkg${k}`, fixedVersion: '1.3-1+deb12u1', distribution: 'debian:12' }]));
      await app.store.transaction(async (trx) => {
        await advisories.writeBatchIn(trx, list, Date.now());
        await advisories.bumpVersionIn(trx);
      });
      const relabel = await reevaluate();
      const labelled = Math.max(await reevaluate(), await reevaluate());
      const exposed = await app.store.db.selectFrom('patch_row_set_cves').innerJoin('node_patches', 'node_patches.row_set', 'patch_row_set_cves.row_set')
        .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.ok(Number(exposed.n) > N, 'the labels reached the CVE index');
      t.diagnostic(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; SQLite; ${N} Debian nodes × 300 installed / ~60 candidates; ${Number(exposed.n)} node × CVE pairs after labelling`);
      t.diagnostic(`re-evaluation without labels ${plain} nodes/s; first pass after the import (rows change) ${relabel} nodes/s; with labels ${labelled} nodes/s`);
    } finally {
      await server.close();
    }
  });
});
