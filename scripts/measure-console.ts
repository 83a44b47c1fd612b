// Measures the console's fleet reads on a large fleet (docs/console.md): Patchline.GetFleetSummary and the first
// page of Patchline.ListNodes, over HTTP with SigV4 on a real in-process server. The fleet is written straight
// through ReportingStore.applyPatchReportsIn in batches (the same transactional write every report takes, counters
// included), so 100,000 nodes take about a minute instead of a full ingest benchmark.
//
//   node --import tsx scripts/measure-console.ts [--nodes 100000] [--rows 40] [--database-url postgres://…]
//
// Prints one JSON document: build time, and the median / p95 ms of each query over --repeat runs (default 20).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { createHttpServer } from '../src/server/http-server.ts';
import { createLogger } from '../src/server/logger.ts';
import { loadServerConfig } from '../src/config.ts';
import { countersFromRows, summarizePatchRows, type PatchRow, PATCH_STATES } from '../src/domain/patch-state.ts';
import { sortPatchRows } from '../src/domain/patch-rows.ts';
import { rowSetOf } from '../src/domain/row-set.ts';
import type { PatchReportWrite } from '../src/store/reporting-store.ts';
import { signedRequest } from '../test/helpers/raw-request.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100000' },
    rows: { type: 'string', default: '40' },
    repeat: { type: 'string', default: '20' },
    batch: { type: 'string', default: '1000' },
    'database-url': { type: 'string' },
  },
});
const NODES = Number(values.nodes);
const ROWS = Number(values.rows);
const REPEAT = Number(values.repeat);
const BATCH = Number(values.batch);
const ADMIN = { accessKeyId: 'AKPLMEASURECONSOLE01', secretAccessKey: 'measure-console-secret-0123456789abcdef' };

let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** A catalogue of 2,000 patches; each node reports ROWS of them, most installed, some missing or failed. */
const CATALOGUE = Array.from({ length: 2000 }, (_, i) => ({
  Title: `package-${i} 1.${i % 17}.${i % 5}`,
  KBId: `package-${i}`,
  Classification: i % 3 === 0 ? 'Security' : 'Bugfix',
  Severity: ['Critical', 'Important', 'Moderate', 'Low'][i % 4]!,
  CVEIds: i % 3 === 0 ? `CVE-2026-${String(10000 + (i % 700))}` : '',
}));

function nodeRows(): PatchRow[] {
  const picked = new Set<number>();
  while (picked.size < ROWS) picked.add(Math.floor(Math.pow(random(), 2) * CATALOGUE.length));
  const rows = [...picked].map((i): PatchRow => {
    const c = CATALOGUE[i]!;
    const x = random();
    const State = x < 0.977 ? 'Installed' : x < 0.99 ? 'Missing' : x < 0.995 ? 'Failed' : 'InstalledPendingReboot';
    const row: PatchRow = { Title: c.Title, KBId: c.KBId, Classification: c.Classification, Severity: c.Severity, State: State as (typeof PATCH_STATES)[number], InstalledTime: State === 'Installed' ? 1_760_000_000 : 0 };
    if (c.CVEIds !== '') row.CVEIds = c.CVEIds;
    row.ComplianceLevel = c.Severity === 'Critical' ? 'CRITICAL' : 'UNSPECIFIED';
    return row;
  });
  return sortPatchRows(rows);
}

function stats(samples: number[]): { median: number; p95: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 100) / 100;
  return { median: at(0.5), p95: at(0.95), min: Math.round(s[0]! * 100) / 100 };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchline-measure-'));
  const env: Record<string, string> = {
    PATCHLINE_DATA_DIR: dataDir, PATCHLINE_PORT: '0', PATCHLINE_LOG_LEVEL: 'silent',
    PATCHLINE_ACCESS_KEY_ID: ADMIN.accessKeyId, PATCHLINE_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    ...(values['database-url'] ? { PATCHLINE_DATABASE_URL: values['database-url'] } : {}),
  };
  const config = loadServerConfig({ flags: {}, env });
  const { app } = await createApp(config, createLogger('silent'));
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const started = performance.now();
    const now = Date.now();
    const groups = ['web', 'db', 'batch', 'edge', ''];
    for (let b = 0; b < NODES; b += BATCH) {
      const writes: PatchReportWrite[] = [];
      for (let i = b; i < Math.min(NODES, b + BATCH); i++) {
        const rows = nodeRows();
        const descriptorIds = await app.reports.internRows(rows);
        writes.push({
          instanceId: `mi-${i.toString(16).padStart(17, '0')}`,
          summary: { patchGroup: groups[i % groups.length]!, baselineId: 'pb-0123456789abcdef0', counters: countersFromRows(rows), operation: 'Scan', operationStart: now - 60_000, operationEnd: now },
          rowSet: rowSetOf(rows, descriptorIds),
          source: 'scan',
          compliance: { type: 'Patch', summary: summarizePatchRows(rows), executionTime: now },
          // Spread reports over 20 days, so the stale filter and LastReportTime sort have something to do.
          now: now - Math.floor(random() * 20 * 86_400_000),
        });
      }
      await app.store.transaction((trx) => app.reports.applyPatchReportsIn(trx, writes));
      if ((b / BATCH) % 10 === 0) process.stderr.write(`${Math.min(NODES, b + BATCH)} nodes\r`);
    }
    const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
    process.stderr.write(`\nfleet of ${NODES} nodes built in ${buildSeconds} s\n`);

    const time = async (target: string, body: object) => {
      const samples: number[] = [];
      let answer: any;
      for (let i = 0; i < REPEAT + 2; i++) {
        const t = performance.now();
        const res = await signedRequest(endpoint, { target, body, credentials: ADMIN });
        const ms = performance.now() - t;
        if (res.status !== 200) throw new Error(`${target}: ${res.status} ${res.text}`);
        answer = res.json;
        if (i >= 2) samples.push(ms); // two warm-up runs
      }
      return { ...stats(samples), answer };
    };
    const results: Record<string, unknown> = {};
    const summary = await time('Patchline.GetFleetSummary', {});
    results.GetFleetSummary = { ms: { median: summary.median, p95: summary.p95, min: summary.min }, nodes: summary.answer.Nodes, nonCompliant: summary.answer.NonCompliant, stale: summary.answer.Stale };
    const cases: Array<[string, object]> = [
      ['ListNodes first page, SortBy MissingCount Descending, ComplianceStatus NON_COMPLIANT', { SortBy: 'MissingCount', SortOrder: 'Descending', Filters: [{ Key: 'ComplianceStatus', Values: ['NON_COMPLIANT'] }] }],
      ['ListNodes first page, SortBy MissingCount Descending, ComplianceStatus COMPLIANT', { SortBy: 'MissingCount', SortOrder: 'Descending', Filters: [{ Key: 'ComplianceStatus', Values: ['COMPLIANT'] }] }],
      ['ListNodes first page, SortBy MissingCount Ascending, ComplianceStatus NON_COMPLIANT', { SortBy: 'MissingCount', SortOrder: 'Ascending', Filters: [{ Key: 'ComplianceStatus', Values: ['NON_COMPLIANT'] }] }],
      ['ListNodes first page, default (InstanceId), no filter', {}],
      ['ListNodes first page, SortBy CriticalNonCompliantCount Descending', { SortBy: 'CriticalNonCompliantCount', SortOrder: 'Descending' }],
      ['ListNodes first page, SortBy LastReportTime Ascending, ComplianceStatus STALE', { SortBy: 'LastReportTime', Filters: [{ Key: 'ComplianceStatus', Values: ['STALE'] }] }],
      ['ListNodes first page, Search (substring scan)', { Filters: [{ Key: 'Search', Values: ['00001f'] }] }],
    ];
    for (const [name, body] of cases) {
      const r = await time('Patchline.ListNodes', { MaxResults: 50, ...body });
      results[name] = { ms: { median: r.median, p95: r.p95, min: r.min }, totalCount: r.answer.TotalCount, returned: r.answer.Nodes.length };
    }
    process.stdout.write(`${JSON.stringify({ engine: app.store.engine, nodes: NODES, rowsPerNode: ROWS, buildSeconds, repeat: REPEAT, results }, null, 2)}\n`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
