// `npm run bench`: starts the built server (dist/cli.js serve) on a fresh store, drives it from a separate driver
// process (bench/driver.ts) over loopback with SigV4-signed requests, and reports every figure against the targets
// of issue #3. Progress goes to stderr; the result is one JSON document on stdout, also written to
// bench/results/<YYYY-MM-DD>-<store>[-<label>].json. See bench/README.md.

import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir, availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import SQLite from 'better-sqlite3';
import {
  REPO_ROOT, Sampler, startServer, runCli, freePort, createPostgresDatabase, postgresInfo, postgresSize, postgresPostmasterPid, directorySize,
  POSTGRES_ADMIN_URL, type ServerHandle, type PhaseUsage, type TimelineSample,
} from './server.ts';
import { SMALL_GROUP, LARGE_GROUP } from './fleet.ts';
import type { DriverCommand } from './driver.ts';

const ALL_SCENARIOS = ['http-floor', 'ingest', 'group-state', 'instance-patches', 'reevaluate'] as const;
const DEFAULT_SCENARIOS = ['ingest', 'group-state', 'instance-patches'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
type Store = 'sqlite' | 'postgres';

const USAGE = `Usage: npm run bench -- [options]
  --store sqlite|postgres|both   store engine(s) (default sqlite)
  --nodes N                      nodes in patch group bench-large (default 100000; bench-small always has 1000)
  --patches N                    AWS:PatchCompliance entries per report (default 500)
  --workers N                    PATCHLINE_WORKERS for the server (default 2)
  --concurrency N                connections for ingest (default 16)
  --read-connections N           connections for group-state and instance-patches (default 64)
  --duration S                   seconds per read scenario (default 20), after --warmup S (default 3)
  --scenarios LIST               ingest,group-state,instance-patches (the default), and http-floor: a bare
                                 node:http server driven like group-state, for this machine's ceiling; reevaluate:
                                 --nodes raw scans of --patches packages (Patchline.PutScanReport), then the time from
                                 UpdatePatchBaseline to Patchline.GetEvaluationStatus Current
  --scan-profiles N              reevaluate: distinct package profiles of the scan fleet (default 300)
  --distinct-installed-times     reevaluate: every node's installed times its own (no two nodes' rows identical)
  --out DIR                      results directory (default bench/results)
  --label TEXT                   suffix for the result file name (trials)
  --seed N                       fleet seed (default 1)
  --postgres-url URL             server to create the bench database on (default ${POSTGRES_ADMIN_URL})
  --server-node-args="ARGS"      extra node arguments for the server (note the =), e.g. --server-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  --quiet-wait S                 before each measured phase, wait up to S seconds (default 300) for other processes'
                                 CPU use to fall below 0.15 cores; each result records how busy the machine was
  --tmp-dir DIR                  where the fresh data directory is created (default the OS temp dir); e.g. /dev/shm
                                 (tmpfs) to take the disk, and fsync, out of an SQLite measurement
  --skip-build                   run dist/cli.js as it is (by default node scripts/build.mjs runs first, so the
                                 benchmark measures the working tree; each result records dist/cli.js's sha256)
  --keep                         keep the data directory / database afterwards (printed on stderr)
  --reuse-data-dir DIR           run against an existing, already loaded data directory (SQLite; no load)
  --reuse-database-url URL       run against an existing, already loaded PostgreSQL database (no load)
`;

const TARGETS = {
  ingestReportsPerS: 300,
  groupStateRps: 5000,
  groupStateP99Ms: 10,
  groupStateSpread: 0.25,
  instancePatchesRps: 3000,
  instancePatchesP99Ms: 10,
  /** Issue #4: 100,000 nodes × 500 packages re-evaluated within 60 s, i.e. this many nodes per second. */
  reevaluateNodesPerS: 100_000 / 60,
};

/**
 * The `reevaluate` scenario's baseline, the custom AMAZON_LINUX_2023 default every scanned node resolves to: first
 * AWS's own rules, then (the measured change) wider ones, then back (a second measurement).
 */
const REEVALUATE_RULES = {
  initial: [
    { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Critical', 'Important'] }] }, ApproveAfterDays: 7, ComplianceLevel: 'UNSPECIFIED' },
    { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Bugfix'] }] }, ApproveAfterDays: 7, ComplianceLevel: 'UNSPECIFIED' },
  ],
  widened: [
    { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Security'] }, { Key: 'SEVERITY', Values: ['Critical', 'Important', 'Medium'] }] }, ApproveAfterDays: 0, ComplianceLevel: 'HIGH' },
    { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Bugfix'] }] }, ApproveAfterDays: 7, ComplianceLevel: 'MEDIUM' },
    { PatchFilterGroup: { PatchFilters: [{ Key: 'CLASSIFICATION', Values: ['Enhancement'] }] }, ApproveAfterDays: 14, ComplianceLevel: 'LOW' },
  ],
};

interface Settings {
  store: Store;
  nodes: number;
  smallNodes: number;
  totalNodes: number;
  patches: number;
  workers: number;
  concurrency: number;
  readConnections: number;
  durationS: number;
  warmupS: number;
  scenarios: Scenario[];
  seed: number;
  extraNodePatches: number;
  instancePatchesMaxResults: number;
  ingestWindowS: number;
  rssSampleMs: number;
  quietWaitS: number;
  serverNodeArgs: string[];
  scanProfiles: number;
  distinctInstalledTimes: boolean;
}

/** A phase starts when the machine's CPU outside the benchmark (other sessions' tests, …) is below this many cores. */
const QUIET_CORES = 0.15;

interface QuietWait {
  quiet: boolean;
  waitedS: number;
  otherCores: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForQuiet(sampler: Sampler, maxS: number): Promise<QuietWait> {
  const start = Date.now();
  let announced = false;
  for (;;) {
    const from = Date.now();
    await sleep(2000);
    sampler.sample();
    const other = sampler.usage(from, Date.now()).otherCores;
    const waitedS = round((Date.now() - start) / 1000, 1);
    if (other <= QUIET_CORES) return { quiet: true, waitedS, otherCores: other };
    if (Date.now() - start >= maxS * 1000) return { quiet: false, waitedS, otherCores: other };
    if (!announced) {
      log(`waiting (up to ${maxS} s) for other processes to leave the CPU: they use ${other} cores`);
      announced = true;
    }
  }
}

/** The timeline in buckets of `ms` (means), for the result file. */
function downsample(timeline: TimelineSample[], ms: number): Array<Record<string, number>> {
  const out: Array<Record<string, number>> = [];
  let bucket: TimelineSample[] = [];
  const flush = () => {
    if (bucket.length === 0) return;
    const mean = (f: (x: TimelineSample) => number) => round(bucket.reduce((a, x) => a + f(x), 0) / bucket.length, 2);
    out.push({ t: bucket[bucket.length - 1]!.t, server: mean((x) => x.server), database: mean((x) => x.database), driver: mean((x) => x.driver), other: mean((x) => x.other), rssMiB: mib(Math.max(...bucket.map((x) => x.serverRssBytes))) });
    bucket = [];
  };
  for (const x of timeline) {
    if (bucket.length > 0 && x.t - bucket[0]!.t >= ms) flush();
    bucket.push(x);
  }
  flush();
  return out;
}

/** At most `max` points of a [time, value] series, evenly spaced (the first and last kept). */
function downsampleSeries(series: Array<[number, number]>, max: number): Array<[number, number]> {
  if (series.length <= max) return series;
  const out: Array<[number, number]> = [];
  for (let k = 0; k < max; k++) out.push(series[Math.round((k * (series.length - 1)) / (max - 1))]!);
  return out;
}

interface TargetCheck {
  scenario: string;
  metric: string;
  target: string;
  measured: number | string;
  pass: boolean | null;
  /** measured / target for throughputs, target / measured for latencies (≥ 1 passes). */
  margin?: number;
  note?: string;
}

/** Cleanups to run when the benchmark is interrupted (SIGINT, SIGTERM): stop the servers, drop the database. */
const onInterrupt = new Set<() => Promise<void>>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}: stopping the server and removing the store\n`);
    Promise.allSettled([...onInterrupt].map((f) => f())).then(() => process.exit(130));
  });
}

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

// ---- the driver process --------------------------------------------------------------------------------------------

class Driver {
  readonly #child: ChildProcess;
  #waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    this.#child = fork(join(REPO_ROOT, 'bench', 'driver.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: { ok: boolean; result?: unknown; error?: string }) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(`driver: ${m.error}`));
    });
    this.#child.on('exit', (code) => {
      this.#waiting?.reject(new Error(`the driver exited with code ${code}`));
      this.#waiting = undefined;
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  send<T = Record<string, unknown>>(command: DriverCommand): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting = { resolve: resolve as (v: unknown) => void, reject };
      this.#child.send(command);
    });
  }

  close(): void {
    this.#child.disconnect();
  }
}

// ---- the machine ---------------------------------------------------------------------------------------------------

function machineInfo(): Record<string, unknown> {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(' ') ?? [];
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim() : undefined);
  const osRelease = read('/etc/os-release');
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    cpuModel: model,
    cpus: cpus().length,
    availableParallelism: availableParallelism(),
    cpuMHz: cpus()[0]?.speed,
    shaNi: flags.includes('sha_ni'),
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    kernel: release(),
    node: process.version,
    debian: read('/etc/debian_version'),
    os: osRelease ? /^PRETTY_NAME="?(.*?)"?$/m.exec(osRelease)?.[1] : undefined,
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    date: new Date().toISOString(),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirtyFilesUnderSrc: Number(git(['status', '--porcelain', '--', 'src'])?.split('\n').filter((l) => l !== '').length ?? 0),
  };
}

/** Which server build a run measures: dist/cli.js's hash and time (the tree changes while others work). */
function serverBuild(): { distCliSha256: string; distCliMtime: string; bytes: number } {
  const file = join(REPO_ROOT, 'dist', 'cli.js');
  return { distCliSha256: createHash('sha256').update(readFileSync(file)).digest('hex'), distCliMtime: statSync(file).mtime.toISOString(), bytes: statSync(file).size };
}

/** The filesystem type and device under a path (from /proc/self/mountinfo's longest matching mount point). */
function filesystemOf(path: string): string {
  try {
    let best = { point: '', text: 'unknown' };
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const f = line.split(' ');
      const point = f[4];
      const dash = f.indexOf('-');
      if (point === undefined || dash < 0) continue;
      if ((path === point || path.startsWith(point.endsWith('/') ? point : `${point}/`)) && point.length >= best.point.length) {
        best = { point, text: `${f[dash + 1]} ${f[dash + 2]} on ${point}` };
      }
    }
    return best.text;
  } catch {
    return 'unknown';
  }
}

// ---- one store --------------------------------------------------------------------------------------------------------

interface RunOptions {
  settings: Settings;
  postgresUrl: string;
  keep: boolean;
  /** Where the fresh data directory is made (the SQLite database lives there). */
  tmpDir: string;
  reuseDataDir?: string;
  reuseDatabaseUrl?: string;
}

async function runStore(o: RunOptions): Promise<Record<string, unknown>> {
  const s = o.settings;
  const reuse = o.reuseDataDir !== undefined || o.reuseDatabaseUrl !== undefined;
  const dataDir = o.reuseDataDir ?? mkdtempSync(join(o.tmpDir, `patchline-bench-${s.store}-`));
  const pgdb = s.store === 'postgres' && o.reuseDatabaseUrl === undefined ? await createPostgresDatabase(o.postgresUrl) : undefined;
  const databaseUrl = s.store === 'postgres' ? (o.reuseDatabaseUrl ?? pgdb!.url) : undefined;
  const key = { accessKeyId: 'AKPLBENCHADMIN000001', secretAccessKey: 'bench-admin-secret-0123456789abcdefghij' };
  const port = await freePort();
  const checks: TargetCheck[] = [];
  const scenarios: Record<string, unknown> = {};
  const resources: Record<string, unknown> = {};
  let server: ServerHandle | undefined;
  let sampler: Sampler | undefined;
  let driver: Driver | undefined;
  const started = Date.now();
  let cleanedUp = false;
  onInterrupt.add(cleanup);
  const machine = machineInfo();
  const build = serverBuild();
  log(`${s.store}: server build dist/cli.js sha256 ${build.distCliSha256.slice(0, 12)} (${build.distCliMtime}), git ${String(machine.gitCommit).slice(0, 10)}`);
  log(`${s.store}: data dir ${dataDir}${databaseUrl ? `, database ${databaseUrl}` : ''}, port ${port}, ${s.workers} worker(s)`);
  try {
    const t0 = Date.now();
    server = await startServer({ port, workers: s.workers, dataDir, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, nodeArgs: s.serverNodeArgs, ...(databaseUrl ? { databaseUrl } : {}) });
    const startupMs = Date.now() - t0;
    const postmaster = databaseUrl !== undefined ? await postgresPostmasterPid(databaseUrl) : undefined;
    sampler = new Sampler(server.pid, s.rssSampleMs, postmaster);
    log(`server pid ${server.pid} ready in ${startupMs} ms; processes ${sampler.pids().join(', ')}`);
    driver = new Driver();
    const init = await driver.send({
      cmd: 'init', host: '127.0.0.1', port, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, region: 'us-east-1',
      fleet: { seed: s.seed, patches: s.patches, smallNodes: s.smallNodes, largeNodes: s.nodes },
    });
    sampler.setDriver(driver.pid);
    const calibration = await driver.send({ cmd: 'calibrate', bodies: 2000 });
    log(`driver pid ${driver.pid}: fleet built in ${String(init.fleetBuildMs)} ms; ${String(calibration.usPerReportBody)} µs to build and sign a ${String(calibration.averageBodyBytes)}-byte report`);

    // A measured phase: first wait (up to --quiet-wait s) until the machine's CPU not used by the benchmark is below
    // QUIET_CORES, then run it; attach the server's CPU (seconds, cores) and the machine's usage over the phase.
    // A warm-up, when given, runs after the wait and before the measurement starts (so it is in no figure).
    const measured = async <T extends { elapsedS: number }>(phase: string, work: () => Promise<T>, warmup?: () => Promise<unknown>): Promise<T & { serverCpu: { seconds: number; cores: number; cpuMsPerRequest?: number }; machineUsage: PhaseUsage; quietWait: QuietWait; contaminated: boolean }> => {
      const quietWait = await waitForQuiet(sampler!, s.quietWaitS);
      if (!quietWait.quiet) log(`warning: other processes use ${quietWait.otherCores} cores of this machine; measuring ${phase} anyway`);
      if (warmup !== undefined) {
        sampler!.phase(`${phase} (warm-up)`);
        await warmup();
      }
      sampler!.phase(phase);
      const from = Date.now();
      const c0 = sampler!.serverCpuSeconds();
      const result = await work();
      const c1 = sampler!.serverCpuSeconds();
      sampler!.sample();
      const machineUsage = sampler!.usage(from, Date.now());
      const contaminated = machineUsage.otherCores > QUIET_CORES;
      if (contaminated) log(`warning: during ${phase} other processes used ${machineUsage.otherCores} cores on average (max ${machineUsage.otherCoresMax1s} over 1 s): the figures are contaminated`);
      const count = (result as { count?: number }).count;
      return {
        ...result,
        serverCpu: { seconds: round(c1 - c0), cores: round((c1 - c0) / result.elapsedS, 3), ...(count ? { cpuMsPerRequest: round(((c1 - c0) * 1000) / count, 3) } : {}) },
        machineUsage,
        quietWait,
        contaminated,
      };
    };

    // ---- http-floor (reference, no target) ---------------------------------------------------------------------
    if (s.scenarios.includes('http-floor')) scenarios['http-floor'] = await httpFloor(s, driver);

    // ---- ingest -------------------------------------------------------------------------------------------------
    const wantIngest = s.scenarios.includes('ingest');
    const needLoad = !reuse && (wantIngest || s.scenarios.some((x) => x === 'group-state' || x === 'instance-patches'));
    if (needLoad) {
      log(`${wantIngest ? 'ingest' : 'preload (ingest not selected, so not reported)'}: ${s.totalNodes} reports of ${s.patches} patches, ${s.concurrency} connections`);
      const ingest = await measured('ingest', () => driver!.send<{ startedAtEpochMs: number; windowS: number; elapsedS: number; reportsPerS: number; rowsPerS: number; count: number; ok: number; errors: Record<string, number>; windows: { reportsPerS: { min: number; median: number; max: number } | null; series: number[]; otherCoresPerWindow?: number[] }; latencyMs: { p99: number } }>({
        cmd: 'ingest', concurrency: s.concurrency, from: 0, to: s.totalNodes, windowMs: s.ingestWindowS * 1000,
      }));
      ingest.windows.otherCoresPerWindow = ingest.windows.series.map((_, k) => sampler!.usage(ingest.startedAtEpochMs + k * ingest.windowS * 1000, ingest.startedAtEpochMs + (k + 1) * ingest.windowS * 1000).otherCores);
      resources.diskAfterIngest = s.store === 'sqlite' ? { ...directorySize(dataDir), dataDir } : await postgresSize(databaseUrl!);
      log(`ingest: ${ingest.ok}/${s.totalNodes} reports in ${ingest.elapsedS} s = ${ingest.reportsPerS} reports/s (${ingest.rowsPerS} rows/s), windows min/median/max ${JSON.stringify(ingest.windows.reportsPerS)}, p99 ${ingest.latencyMs.p99} ms, errors ${JSON.stringify(ingest.errors)}`);
      log('verify: node dist/cli.js verify --json');
      const verify = await runCli(['verify', '--json'], server.env);
      let verifyResult: { differences?: unknown[]; nodes?: number; ms?: number } = {};
      try {
        verifyResult = JSON.parse(verify.stdout) as typeof verifyResult;
      } catch {
        verifyResult = {};
      }
      const differences = verifyResult.differences?.length ?? -1;
      log(`verify: exit ${verify.code}, ${differences} difference(s), ${String(verifyResult.nodes)} nodes, ${verify.ms} ms`);
      if (wantIngest) {
        scenarios.ingest = {
          ...ingest,
          verify: { command: 'node dist/cli.js verify --json', exitCode: verify.code, differences, nodes: verifyResult.nodes, verifyMs: verifyResult.ms, wallMs: verify.ms, stderr: verify.stderr.slice(0, 2000), firstDifferences: verifyResult.differences?.slice(0, 5) },
        };
        checks.push({
          scenario: 'ingest', metric: 'sustained reports/s (whole ingest)', target: `≥ ${TARGETS.ingestReportsPerS}${s.store === 'sqlite' ? '' : ' (set for the embedded store; informational here)'}`,
          measured: ingest.reportsPerS, pass: s.store === 'sqlite' ? ingest.reportsPerS >= TARGETS.ingestReportsPerS : null, margin: round(ingest.reportsPerS / TARGETS.ingestReportsPerS, 3),
        });
        checks.push({ scenario: 'ingest', metric: 'failed reports', target: '0', measured: ingest.count - ingest.ok, pass: ingest.count - ingest.ok === 0 && ingest.ok === s.totalNodes });
        checks.push({ scenario: 'ingest', metric: 'verify differences', target: '0', measured: differences, pass: differences === 0 && verify.code === 0 && verifyResult.nodes === s.totalNodes, note: `verify counted ${String(verifyResult.nodes)} nodes (expected ${s.totalNodes})` });
      }
    }

    // ---- group-state ----------------------------------------------------------------------------------------------
    if (s.scenarios.includes('group-state')) {
      const runs: Record<string, { requestsPerS: number; latencyMs: { p99: number }; count: number; ok: number; errors: Record<string, number> }> = {};
      for (const [group, expected] of [[SMALL_GROUP, s.smallNodes], [LARGE_GROUP, s.nodes]] as const) {
        log(`group-state: DescribePatchGroupState ${group} (${expected} nodes), ${s.readConnections} connections, ${s.warmupS} s warm-up + ${s.durationS} s`);
        const command = { cmd: 'group-state', group, expectedInstances: expected, connections: s.readConnections, durationS: s.durationS, warmupS: 0 } as const;
        const r = await measured(
          `group-state ${group}`,
          () => driver!.send<{ elapsedS: number; requestsPerS: number; latencyMs: { p50: number; p99: number }; count: number; ok: number; errors: Record<string, number> }>(command),
          s.warmupS > 0 ? () => driver!.send({ ...command, durationS: s.warmupS }) : undefined,
        );
        runs[group] = r;
        log(`group-state ${group}: ${r.requestsPerS} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, errors ${JSON.stringify(r.errors)}, server ${r.serverCpu.cores} cores`);
        checks.push({ scenario: `group-state ${group}`, metric: 'requests/s', target: `≥ ${TARGETS.groupStateRps}`, measured: r.requestsPerS, pass: r.requestsPerS >= TARGETS.groupStateRps, margin: round(r.requestsPerS / TARGETS.groupStateRps, 3) });
        checks.push({ scenario: `group-state ${group}`, metric: 'p99 ms', target: `≤ ${TARGETS.groupStateP99Ms}`, measured: r.latencyMs.p99, pass: r.latencyMs.p99 <= TARGETS.groupStateP99Ms, margin: round(TARGETS.groupStateP99Ms / Math.max(r.latencyMs.p99, 0.001), 3) });
        checks.push({ scenario: `group-state ${group}`, metric: `answers with Instances = ${expected}`, target: 'all', measured: `${r.ok}/${r.count}`, pass: r.ok === r.count && r.count > 0 });
      }
      const small = runs[SMALL_GROUP]!.requestsPerS;
      const large = runs[LARGE_GROUP]!.requestsPerS;
      const spread = small === 0 ? 1 : Math.abs(large - small) / small;
      scenarios['group-state'] = { [SMALL_GROUP]: runs[SMALL_GROUP], [LARGE_GROUP]: runs[LARGE_GROUP], largeVsSmall: round(large / Math.max(small, 1e-9), 3) };
      checks.push({ scenario: 'group-state', metric: `|rps(${LARGE_GROUP}) − rps(${SMALL_GROUP})| / rps(${SMALL_GROUP})`, target: `≤ ${TARGETS.groupStateSpread}`, measured: round(spread, 3), pass: spread <= TARGETS.groupStateSpread });
    }

    // ---- instance-patches --------------------------------------------------------------------------------------------
    if (s.scenarios.includes('instance-patches')) {
      sampler.phase('put-extra');
      const extra = await driver.send<{ instanceId: string; counts: Record<string, number>; ms: number; bodyBytes: number }>({ cmd: 'put-extra', patches: s.extraNodePatches });
      const installed = extra.counts.InstalledCount ?? 0;
      log(`instance-patches: PutInventory ${extra.instanceId} with ${s.extraNodePatches} patches (${extra.bodyBytes} bytes) in ${extra.ms} ms; ${installed} Installed; paging with MaxResults ${s.instancePatchesMaxResults}, ${s.readConnections} connections`);
      const command = {
        cmd: 'instance-patches', instanceId: extra.instanceId, state: 'Installed', maxResults: s.instancePatchesMaxResults, expectedRows: installed,
        connections: s.readConnections, durationS: s.durationS, warmupS: 0,
      } as const;
      const r = await measured(
        'instance-patches',
        () => driver!.send<{ elapsedS: number; requestsPerS: number; latencyMs: { p50: number; p99: number }; count: number; ok: number; errors: Record<string, number>; completePasses: number }>(command),
        s.warmupS > 0 ? () => driver!.send({ ...command, durationS: s.warmupS }) : undefined,
      );
      log(`instance-patches: ${r.requestsPerS} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${r.completePasses} complete passes, errors ${JSON.stringify(r.errors)}, server ${r.serverCpu.cores} cores`);
      scenarios['instance-patches'] = { put: extra, ...r };
      checks.push({ scenario: 'instance-patches', metric: 'requests/s', target: `≥ ${TARGETS.instancePatchesRps}`, measured: r.requestsPerS, pass: r.requestsPerS >= TARGETS.instancePatchesRps, margin: round(r.requestsPerS / TARGETS.instancePatchesRps, 3) });
      checks.push({ scenario: 'instance-patches', metric: 'p99 ms', target: `≤ ${TARGETS.instancePatchesP99Ms}`, measured: r.latencyMs.p99, pass: r.latencyMs.p99 <= TARGETS.instancePatchesP99Ms, margin: round(TARGETS.instancePatchesP99Ms / Math.max(r.latencyMs.p99, 0.001), 3) });
      checks.push({ scenario: 'instance-patches', metric: 'correct pages (all Installed, ≤ MaxResults, full passes complete)', target: 'all', measured: `${r.ok}/${r.count}`, pass: r.ok === r.count && r.count > 0 });
    }

    // ---- reevaluate (issue #4) -----------------------------------------------------------------------------------------
    if (s.scenarios.includes('reevaluate')) {
      const call = async (target: string, body: unknown) => {
        const r = await driver!.send<{ status: number; json: any; ms: number }>({ cmd: 'call', target, body });
        if (r.status !== 200) throw new Error(`${target}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
        return r.json;
      };
      const sampleIndexes = [0, 1, 2, 3, 4].map((k) => Math.floor((k * (s.nodes - 1)) / 4));
      const fleet = await driver.send<{ buildMs: number; profiles: number; distinctPackages: number; bodyBytes: number; sampleIds: string[] }>({
        cmd: 'scan-fleet', fleet: { seed: s.seed, patches: s.patches, nodes: s.nodes, profiles: s.scanProfiles, distinctInstalledTimes: s.distinctInstalledTimes }, sample: sampleIndexes,
      });
      log(`reevaluate: ${s.nodes} Amazon-Linux-2023-like nodes × ${s.patches} packages from ${fleet.profiles} profiles (${fleet.distinctPackages} distinct package versions, ${fleet.bodyBytes}-byte scans), built in ${fleet.buildMs} ms`);
      // The baseline every scanned node resolves to: a custom default for the OS, registered before the load.
      const baselineId = String((await call('AmazonSSM.CreatePatchBaseline', { OperatingSystem: 'AMAZON_LINUX_2023', Name: 'bench-reevaluate', ApprovalRules: { PatchRules: REEVALUATE_RULES.initial } })).BaselineId);
      await call('AmazonSSM.RegisterDefaultPatchBaseline', { BaselineId: baselineId });
      log(`reevaluate: load ${s.nodes} scans through Patchline.PutScanReport over ${s.concurrency} connections (default baseline ${baselineId})`);
      type ScanLoad = { elapsedS: number; count: number; ok: number; errors: Record<string, number>; errorSamples: string[]; scansPerS: number; latencyMs: { p50: number; p99: number }; windows: unknown };
      const load = await measured('reevaluate: load', () => driver!.send<ScanLoad>({ cmd: 'scan-ingest', concurrency: s.concurrency, from: 0, to: s.nodes, windowMs: s.ingestWindowS * 1000 }));
      log(`reevaluate: loaded ${load.ok}/${s.nodes} scans in ${load.elapsedS} s = ${load.scansPerS} scans/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms, errors ${JSON.stringify(load.errors)}`);
      const timeoutS = Math.max(900, Math.ceil(s.nodes / 50));
      type UntilCurrent = { elapsedS: number; changeMs?: number; markedNodes: number; polls: number; series: Array<[number, number]>; finalStatus: Record<string, unknown> };
      const settled = await driver.send<UntilCurrent>({ cmd: 'until-current', pollMs: 250, timeoutS });
      const states = async () => (await call('AmazonSSM.DescribeInstancePatchStates', { InstanceIds: fleet.sampleIds })).InstancePatchStates as Array<Record<string, unknown>>;
      const before = await states();
      const change = (rules: unknown[]) => ({ target: 'AmazonSSM.UpdatePatchBaseline', body: { BaselineId: baselineId, ApprovalRules: { PatchRules: rules } } });
      const runs: Record<string, unknown> = {};
      for (const [name, rules] of [['widened', REEVALUATE_RULES.widened], ['restored', REEVALUATE_RULES.initial]] as const) {
        log(`reevaluate: UpdatePatchBaseline (${name} rules), then Patchline.GetEvaluationStatus every 100 ms until Current`);
        const r = await measured(`reevaluate: ${name}`, () => driver!.send<UntilCurrent>({ cmd: 'until-current', change: change([...rules]), pollMs: 100, timeoutS }));
        const nodesPerS = round(s.nodes / r.elapsedS, 1);
        log(`reevaluate (${name}): ${s.nodes} nodes current ${r.elapsedS} s after UpdatePatchBaseline = ${nodesPerS} nodes/s (${r.markedNodes} pending at the first poll), server ${r.serverCpu.cores} cores, database ${r.machineUsage.databaseCores} cores`);
        runs[name] = { ...r, nodes: s.nodes, nodesPerS, secondsPer100kNodes: round((100_000 / s.nodes) * r.elapsedS, 2), series: downsampleSeries(r.series, 200), after: name === 'widened' ? await states() : undefined };
      }
      const after = (runs.widened as { after: Array<Record<string, unknown>> }).after;
      log('reevaluate: verify: node dist/cli.js verify --json');
      const verify = await runCli(['verify', '--json'], server.env);
      let verifyResult: { differences?: unknown[]; nodes?: number } = {};
      try {
        verifyResult = JSON.parse(verify.stdout) as typeof verifyResult;
      } catch {
        verifyResult = {};
      }
      const differences = verifyResult.differences?.length ?? -1;
      scenarios.reevaluate = {
        fleet: { ...fleet, nodes: s.nodes, packagesPerNode: s.patches, os: 'AMAZON_LINUX_2023' },
        baselineId, rules: REEVALUATE_RULES, load, settledAfterLoad: settled, runs,
        sampleStates: { before, afterWidened: after },
        verify: { exitCode: verify.code, differences, nodes: verifyResult.nodes, wallMs: verify.ms, firstDifferences: verifyResult.differences?.slice(0, 5) },
      };
      const widened = runs.widened as { elapsedS: number; nodesPerS: number; secondsPer100kNodes: number; contaminated: boolean };
      const restored = runs.restored as { elapsedS: number; nodesPerS: number };
      checks.push({ scenario: 'reevaluate', metric: 'failed scans in the load', target: '0', measured: load.count - load.ok, pass: load.count === s.nodes && load.ok === s.nodes });
      checks.push({
        scenario: 'reevaluate', metric: `nodes/s from UpdatePatchBaseline to GetEvaluationStatus Current (${s.nodes} nodes: ${widened.elapsedS} s)`,
        target: `≥ ${round(TARGETS.reevaluateNodesPerS, 1)} (100,000 × 500 in ≤ 60 s)`, measured: widened.nodesPerS, pass: widened.nodesPerS >= TARGETS.reevaluateNodesPerS,
        margin: round(widened.nodesPerS / TARGETS.reevaluateNodesPerS, 3), note: `${widened.secondsPer100kNodes} s per 100,000 nodes; the change back took ${restored.elapsedS} s (${restored.nodesPerS} nodes/s)`,
      });
      const moved = before.filter((b, k) => after[k] !== undefined && (after[k]!.MissingCount !== b.MissingCount || after[k]!.BaselineId !== b.BaselineId)).length;
      checks.push({ scenario: 'reevaluate', metric: 'sample nodes whose counters moved with the widened rules (same scan, no new report)', target: '≥ 1 of 5', measured: moved, pass: moved >= 1 && after.every((a) => a.BaselineId === baselineId) });
      checks.push({ scenario: 'reevaluate', metric: 'verify differences', target: '0', measured: differences, pass: differences === 0 && verify.code === 0 });
    }

    sampler.phase('shutdown');
    const processes = sampler.pids().length;
    const code = await server.stop();
    sampler.stop();
    resources.peakServerRssMiB = mib(sampler.peakRssBytes);
    resources.peakServerRssMiBByPhase = Object.fromEntries(Object.entries(sampler.peakRssByPhase).map(([k, v]) => [k, mib(v)]));
    resources.rssSamples = sampler.timeline.length;
    resources.machineTimeline1s = downsample(sampler.timeline, 1000);
    resources.serverProcesses = processes;
    resources.serverExitCode = code;
    if (s.store === 'sqlite') {
      const db = join(dataDir, 'patchline.db');
      const t = Date.now();
      try {
        const sqlite = new SQLite(db, { readonly: true });
        const rows = sqlite.prepare('select name, sum(pgsize) as bytes from dbstat group by name order by 2 desc limit 12').all() as Array<{ name: string; bytes: number }>;
        sqlite.close();
        resources.sqliteObjectBytes = Object.fromEntries(rows.map((r) => [r.name, r.bytes]));
        resources.sqliteDbstatMs = Date.now() - t;
      } catch (err) {
        resources.sqliteObjectBytes = `dbstat failed: ${(err as Error).message}`;
      }
      resources.diskAtEnd = directorySize(dataDir);
    } else {
      resources.postgres = await postgresInfo(databaseUrl!);
      resources.diskAtEnd = await postgresSize(databaseUrl!);
    }
    const stderr = server.stderr();
    const serverLog = stderr.split('\n').filter((l) => l.trim() !== '');
    return {
      benchmark: 'patchline npm run bench',
      machine: { ...machine, finishedAt: new Date().toISOString() },
      settings: { ...s, dataDir, dataDirFilesystem: filesystemOf(dataDir), database: s.store === 'sqlite' ? `sqlite:${join(dataDir, 'patchline.db')}` : databaseUrl!.replace(/\/\/[^@]*@/, '//…@'), reusedStore: reuse },
      server: { build, distChangedDuringRun: serverBuild().distCliSha256 !== build.distCliSha256, pid: server.pid, startupMs, workers: s.workers, logLinesAtWarn: serverLog.length, logSample: serverLog.slice(0, 10) },
      driver: { init, calibration, note: 'driver CPU per scenario is in each result as driverCpu (cores = CPU seconds per wall second)' },
      scenarios,
      resources,
      targets: checks,
      pass: checks.every((c) => c.pass !== false),
      wallS: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await cleanup();
  }

  async function cleanup(): Promise<void> {
    if (cleanedUp) return;
    cleanedUp = true;
    driver?.close();
    sampler?.stop();
    await server?.stop();
    if (o.keep || reuse) {
      log(`kept: ${s.store === 'sqlite' ? dataDir : databaseUrl}`);
    } else {
      rmSync(dataDir, { recursive: true, force: true });
      await pgdb?.drop();
    }
  }
}

/** The http-floor reference: a bare node:http server with the same worker count, driven like group-state. */
async function httpFloor(s: Settings, driver: Driver): Promise<Record<string, unknown>> {
  const port = await freePort();
  const everything = new Sampler(process.pid); // this process's tree: driver and Patchline server count as ours
  const quietWait = await waitForQuiet(everything, s.quietWaitS);
  everything.stop();
  const child = fork(join(REPO_ROOT, 'bench', 'floor-server.ts'), [], {
    env: { ...process.env, FLOOR_PORT: String(port), FLOOR_WORKERS: String(s.workers) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stopFloor = async () => {
    child.kill('SIGTERM');
  };
  onInterrupt.add(stopFloor);
  try {
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }).then((r) => r.ok, () => false);
      if (up) break;
      await sleep(100);
    }
    await sleep(1000);
    const sampler = new Sampler(child.pid!, s.rssSampleMs);
    sampler.setDriver(driver.pid);
    log(`http-floor: bare node:http server (${s.workers} worker(s)), ${s.readConnections} connections, ${s.warmupS} s warm-up + ${s.durationS} s`);
    const command = { cmd: 'group-state', group: SMALL_GROUP, expectedInstances: 1000, connections: s.readConnections, durationS: s.durationS, warmupS: 0, port } as const;
    if (s.warmupS > 0) await driver.send({ ...command, durationS: s.warmupS });
    const from = Date.now();
    const c0 = sampler.serverCpuSeconds();
    const r = await driver.send<{ requestsPerS: number; latencyMs: { p50: number; p99: number }; count: number; elapsedS: number }>(command);
    const c1 = sampler.serverCpuSeconds();
    sampler.sample();
    const machineUsage = sampler.usage(from, Date.now());
    sampler.stop();
    log(`http-floor: ${r.requestsPerS} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; floor server ${machineUsage.serverCores} cores, driver ${machineUsage.driverCores}, other ${machineUsage.otherCores}`);
    const serverCpu = { seconds: round(c1 - c0), cores: round((c1 - c0) / r.elapsedS, 3), cpuMsPerRequest: round(((c1 - c0) * 1000) / Math.max(1, r.count), 3) };
    return { ...r, serverCpu, machineUsage, quietWait, contaminated: machineUsage.otherCores > QUIET_CORES, note: 'reference only (no target): a bare node:http server answering a fixed JSON body, no SigV4 check, no database' };
  } finally {
    onInterrupt.delete(stopFloor);
    await stopFloor();
  }
}

// ---- main ---------------------------------------------------------------------------------------------------------------

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' }, nodes: { type: 'string' }, patches: { type: 'string' }, workers: { type: 'string' },
      concurrency: { type: 'string' }, 'read-connections': { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' },
      scenarios: { type: 'string' }, out: { type: 'string' }, label: { type: 'string' }, seed: { type: 'string' },
      'postgres-url': { type: 'string' }, 'server-node-args': { type: 'string' }, keep: { type: 'boolean' },
      'reuse-data-dir': { type: 'string' }, 'reuse-database-url': { type: 'string' }, 'quiet-wait': { type: 'string' }, 'tmp-dir': { type: 'string' }, 'skip-build': { type: 'boolean' }, 'scan-profiles': { type: 'string' }, 'distinct-installed-times': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const storeArg = values.store ?? 'sqlite';
  if (!['sqlite', 'postgres', 'both'].includes(storeArg)) throw new Error(`--store must be sqlite, postgres or both, got '${storeArg}'`);
  const stores: Store[] = storeArg === 'both' ? ['sqlite', 'postgres'] : [storeArg as Store];
  const scenarios = (values.scenarios ?? DEFAULT_SCENARIOS.join(',')).split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const x of scenarios) if (!(ALL_SCENARIOS as readonly string[]).includes(x)) throw new Error(`unknown scenario '${x}' (${ALL_SCENARIOS.join(', ')})`);
  if (values['reuse-data-dir'] !== undefined && stores.join() !== 'sqlite') throw new Error('--reuse-data-dir goes with --store sqlite');
  if (values['reuse-database-url'] !== undefined && stores.join() !== 'postgres') throw new Error('--reuse-database-url goes with --store postgres');
  const nodes = positive('nodes', values.nodes, 100_000);
  const smallNodes = 1000;
  const outDir = resolve(values.out ?? join(REPO_ROOT, 'bench', 'results'));
  if (values['skip-build'] !== true) {
    log('building the server: node scripts/build.mjs');
    const built = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (built.status !== 0) throw new Error('node scripts/build.mjs failed');
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run node scripts/build.mjs first');
  const runs: Array<Record<string, unknown>> = [];
  for (const store of stores) {
    const settings: Settings = {
      store,
      nodes,
      smallNodes,
      totalNodes: smallNodes + nodes,
      patches: positive('patches', values.patches, 500),
      workers: positive('workers', values.workers, 2),
      concurrency: positive('concurrency', values.concurrency, 16),
      readConnections: positive('read-connections', values['read-connections'], 64),
      durationS: positive('duration', values.duration, 20),
      warmupS: values.warmup === undefined ? 3 : Number(values.warmup),
      scenarios: scenarios as Scenario[],
      seed: positive('seed', values.seed, 1),
      extraNodePatches: 2000,
      instancePatchesMaxResults: 50,
      ingestWindowS: 10,
      rssSampleMs: 200,
      quietWaitS: values['quiet-wait'] === undefined ? 300 : Number(values['quiet-wait']),
      serverNodeArgs: values['server-node-args']?.split(' ').filter((x) => x !== '') ?? [],
      scanProfiles: positive('scan-profiles', values['scan-profiles'], 300),
      distinctInstalledTimes: values['distinct-installed-times'] === true,
    };
    const result = await runStore({
      settings,
      postgresUrl: values['postgres-url'] ?? POSTGRES_ADMIN_URL,
      keep: values.keep === true,
      tmpDir: resolve(values['tmp-dir'] ?? tmpdir()),
      ...(values['reuse-data-dir'] !== undefined ? { reuseDataDir: resolve(values['reuse-data-dir']) } : {}),
      ...(values['reuse-database-url'] !== undefined ? { reuseDatabaseUrl: values['reuse-database-url'] } : {}),
    });
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${new Date().toISOString().slice(0, 10)}-${store}${values.label ? `-${values.label}` : ''}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    log(`${store}: ${result.pass ? 'all targets pass' : 'some targets FAIL'}; written ${file}`);
    for (const c of result.targets as TargetCheck[]) log(`  ${c.pass === null ? 'info' : c.pass ? 'PASS' : 'FAIL'}  ${c.scenario}: ${c.metric} = ${c.measured} (target ${c.target})`);
    runs.push(result);
  }
  process.stdout.write(JSON.stringify(runs.length === 1 ? runs[0] : { runs }, null, 2) + '\n');
}

main().catch((err: unknown) => {
  if (interrupted) return;
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
