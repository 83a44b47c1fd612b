// Console render benchmark (not part of npm test; see bench/README.md "Console render"). Against the built server
// (dist/cli.js, dist/console) holding the benchmark's fleet (bench/fleet.ts: 1,000 + --nodes nodes, loaded here
// with PutInventory over keep-alive connections, or an existing data directory with --reuse-data-dir), Chromium
// (Debian's /usr/bin/chromium through playwright-core) signs in once, then measures, on fresh page loads:
//   dashboard   navigation start → the dashboard's figures rendered (GetConsoleSession + GetFleetSummary)
//   nodeTable   navigation start → the node table's first page rendered (GetConsoleSession + ListNodes)
// plus a filtered/sorted table (Critical, most critical first), a search, and next-page / in-app route changes.
// Times are taken in the page (performance.now(), whose origin is the navigation start) by a MutationObserver
// installed before the page's own scripts. Targets: dashboard and nodeTable ≤ 1,000 ms (median of the runs).
// The result goes to stdout and bench/results/<date>-console-render[-label].json.
//
//   node scripts/build.mjs && node --import tsx bench/console-render.ts [--nodes 100000] [--patches 50] [--runs 7]
//   node --import tsx bench/console-render.ts --reuse-data-dir /tmp/patchline-bench-sqlite-XXXX   (after npm run bench -- --keep)

import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Fleet } from './fleet.ts';
import { Connection } from './http.ts';
import { Signer } from './sigv4.ts';
import { REPO_ROOT, freePort, startServer } from './server.ts';
import { launch, signIn } from '../test/console/browser.ts';

const KEY = { accessKeyId: 'AKPLBENCHADMIN000001', secretAccessKey: 'bench-admin-secret-0123456789abcdefghij' };
const TARGET_MS = 1000;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100000' },
    patches: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    workers: { type: 'string', default: '2' },
    runs: { type: 'string', default: '7' },
    seed: { type: 'string', default: '1' },
    label: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'reuse-data-dir': { type: 'string' },
    'skip-build': { type: 'boolean', default: false },
    'tmp-dir': { type: 'string', default: tmpdir() },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
  process.exit(0);
}
const log = (s: string) => process.stderr.write(`[console-render] ${s}\n`);

if (!values['skip-build']) {
  log('building dist/ (server, agent, console)');
  const b = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
  if (!existsSync(join(REPO_ROOT, 'dist/console/index.html'))) {
    const c = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build-console.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (c.status !== 0) process.exit(c.status ?? 1);
  }
}

const reuse = values['reuse-data-dir'];
const dataDir = reuse ?? mkdtempSync(join(values['tmp-dir']!, 'patchline-console-bench-'));
const port = await freePort();
const endpoint = `http://127.0.0.1:${port}`;
const server = await startServer({ port, workers: Number(values.workers), dataDir, ...KEY });
log(`server pid ${server.pid} on ${endpoint}, data ${dataDir}`);

const fleet = new Fleet({ seed: Number(values.seed), patches: Number(values.patches), smallNodes: 1000, largeNodes: Number(values.nodes) });
let load: Record<string, unknown> = { reusedDataDir: reuse ?? null };

async function call(target: string, body: object): Promise<any> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target, ...(await sigHeaders(target, JSON.stringify(body))) },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${target}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function sigHeaders(target: string, body: string): Promise<Record<string, string>> {
  const { createHash } = await import('node:crypto');
  const head = new Signer({ ...KEY, region: 'us-east-1', host: `127.0.0.1:${port}` }).head(target, createHash('sha256').update(body).digest('hex'), Buffer.byteLength(body));
  const out: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && /^(x-amz-date|authorization)$/.test(line.slice(0, i))) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

try {
  if (!reuse) {
    const total = fleet.total;
    log(`loading ${total} nodes × ${values.patches} patches over ${values.concurrency} connections`);
    const started = performance.now();
    let next = 0;
    let done = 0;
    let errors = 0;
    const signer = new Signer({ ...KEY, region: 'us-east-1', host: `127.0.0.1:${port}` });
    await Promise.all(
      Array.from({ length: Number(values.concurrency) }, async () => {
        const conn = new Connection('127.0.0.1', port);
        for (;;) {
          const i = next++;
          if (i >= total) break;
          const body = fleet.report(i);
          const resp = await conn.request(signer.head('AmazonSSM.PutInventory', body.sha256, body.length), body.chunks);
          if (resp.status !== 200) {
            errors++;
            if (errors < 5) log(`PutInventory ${i}: ${resp.status} ${resp.body.toString('utf8').slice(0, 200)}`);
          }
          if (++done % 10_000 === 0) log(`  ${done} / ${total} (${Math.round(done / ((performance.now() - started) / 1000))} reports/s)`);
        }
        conn.close();
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    load = { nodes: total, patchesPerNode: Number(values.patches), seconds: Math.round(seconds), reportsPerS: Math.round(total / seconds), errors };
    log(`loaded in ${Math.round(seconds)} s`);
  }

  const summary = await call('Patchline.GetFleetSummary', {});
  const firstPage = await call('Patchline.ListNodes', { MaxResults: 50 });
  log(`fleet: ${summary.Nodes} nodes (${summary.NonCompliant} non-compliant), ListNodes TotalCount ${firstPage.TotalCount}`);

  // API latency alone (no browser), for reference.
  const apiMs: Record<string, number[]> = { GetFleetSummary: [], ListNodes: [], 'ListNodes Critical by critical count': [], 'ListNodes search': [] };
  for (let r = 0; r < Number(values.runs); r++) {
    for (const [name, target, body] of [
      ['GetFleetSummary', 'Patchline.GetFleetSummary', { StaleDays: 7, Top: 10 }],
      ['ListNodes', 'Patchline.ListNodes', { MaxResults: 50 }],
      ['ListNodes Critical by critical count', 'Patchline.ListNodes', { MaxResults: 50, Filters: [{ Key: 'NonCompliantLevel', Values: ['Critical'] }], SortBy: 'CriticalNonCompliantCount', SortOrder: 'Descending' }],
      ['ListNodes search', 'Patchline.ListNodes', { MaxResults: 50, Filters: [{ Key: 'Search', Values: [firstPage.Nodes[7]?.InstanceId.slice(3, 11) ?? 'mi-'] }] }],
    ] as const) {
      const t = performance.now();
      await call(target, body);
      apiMs[name]!.push(Math.round((performance.now() - t) * 10) / 10);
    }
  }

  const b = await launch();
  const { page } = b;
  // Marks when the figures / the first table row appear, timed from the navigation start.
  // (Page code as text: this file is type-checked without the DOM library.)
  await page.addInitScript({
    content: `window.__marks = {};
      new MutationObserver(() => {
        if (window.__marks.dashboard === undefined && document.querySelector('[data-testid=stat-nodes]')?.textContent) window.__marks.dashboard = performance.now();
        if (window.__marks.nodeTable === undefined && document.querySelector('[data-testid=nodes-table] tbody tr')) window.__marks.nodeTable = performance.now();
      }).observe(document, { childList: true, subtree: true, characterData: true });`,
  });
  await signIn(page, endpoint, KEY);

  const measure = async (hash: string, mark: 'dashboard' | 'nodeTable'): Promise<number> => {
    await page.goto('about:blank');
    await page.goto(`${endpoint}/${hash}`);
    // (Page code refers to globalThis: this file is type-checked without the DOM library; no string predicates,
    // which would need eval under the console's CSP.)
    await page.waitForFunction((m) => (globalThis as any).__marks[m] !== undefined, mark, { timeout: 60_000 });
    return Math.round(await page.evaluate((m) => (globalThis as any).__marks[m] as number, mark));
  };
  const figures: Record<string, number[]> = { dashboard: [], nodeTable: [], nodeTableCriticalSorted: [], nodeTableSearch: [], nextPage: [], routeDashboardToNodes: [] };
  const search = firstPage.Nodes[7]?.InstanceId.slice(3, 11) ?? '';
  for (let r = 0; r < Number(values.runs); r++) {
    figures.dashboard!.push(await measure('#/', 'dashboard'));
    figures.nodeTable!.push(await measure('#/nodes', 'nodeTable'));
    figures.nodeTableCriticalSorted!.push(await measure('#/nodes?level=Critical&sort=CriticalNonCompliantCount&order=Descending', 'nodeTable'));
    figures.nodeTableSearch!.push(await measure(`#/nodes?q=${search}`, 'nodeTable'));
    // Next page (NextToken) and an in-app route change, timed from the click.
    await page.goto(`${endpoint}/#/nodes`);
    await page.getByTestId('nodes-table').waitFor();
    let t = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText(/Showing 51–100/).waitFor();
    figures.nextPage!.push(Math.round(await page.evaluate(() => performance.now()) - t));
    await page.goto(`${endpoint}/#/`);
    await page.getByTestId('stat-nodes').waitFor();
    t = await page.evaluate(() => performance.now());
    await page.getByRole('link', { name: 'Nodes', exact: true }).first().click();
    await page.getByTestId('nodes-table').locator('tbody tr').first().waitFor();
    figures.routeDashboardToNodes!.push(Math.round(await page.evaluate(() => performance.now()) - t));
  }
  const shownNodes = await page.goto(`${endpoint}/#/`).then(() => page.getByTestId('stat-nodes').textContent());
  await b.close();

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    return { runs: s.length, median: at(0.5), p90: at(0.9), min: s[0]!, max: s[s.length - 1]!, all: xs };
  };
  const result = {
    benchmark: 'console-render',
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model,
      cpus: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      chromium: spawnSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).stdout.trim(),
      gitCommit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim(),
    },
    settings: { nodes: fleet.total, patches: Number(values.patches), workers: Number(values.workers), runs: Number(values.runs), store: 'sqlite', dataDir },
    load,
    fleet: { Nodes: summary.Nodes, NonCompliant: summary.NonCompliant, ListNodesTotalCount: firstPage.TotalCount, dashboardShows: shownNodes },
    apiMs: Object.fromEntries(Object.entries(apiMs).map(([k, v]) => [k, stats(v)])),
    renderMs: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, stats(v)])),
    targets: {
      dashboard: { targetMs: TARGET_MS, medianMs: stats(figures.dashboard!).median, pass: stats(figures.dashboard!).median <= TARGET_MS },
      nodeTable: { targetMs: TARGET_MS, medianMs: stats(figures.nodeTable!).median, pass: stats(figures.nodeTable!).median <= TARGET_MS },
    },
    pass: stats(figures.dashboard!).median <= TARGET_MS && stats(figures.nodeTable!).median <= TARGET_MS,
  };
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(json + '\n');
  const dir = join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.date.slice(0, 10)}-console-render${values.label ? `-${values.label}` : ''}.json`);
  writeFileSync(file, json + '\n');
  log(`wrote ${file}`);
} finally {
  await server.stop();
  if (!reuse && !values.keep) rmSync(dataDir, { recursive: true, force: true });
  else log(`data directory kept: ${dataDir}`);
}
