// The server under test as a child process (`node dist/cli.js serve`), and what the benchmark reads about it from
// /proc: its process tree (the primary and, with PATCHLINE_WORKERS > 1, its cluster workers), their resident
// memory and CPU time. Also the store on each engine: a fresh PostgreSQL database, and on-disk sizes.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const REPO_ROOT = new URL('..', import.meta.url).pathname;

const PAGE_SIZE = Number(tryExec('getconf', ['PAGESIZE']) ?? 4096);
const CLOCK_TICKS = Number(tryExec('getconf', ['CLK_TCK']) ?? 100);

function tryExec(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// ---- /proc ------------------------------------------------------------------------------------------------------

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') out.push(...text.split(/\s+/).map(Number));
    }
    return out;
  } catch {
    // No /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN off): scan every process's parent.
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === pid) out.push(Number(name));
      } catch {
        // exited meanwhile
      }
    }
    return out;
  }
}

/** The pid and all its descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

function rssBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_SIZE;
  } catch {
    return 0;
  }
}

function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

/** Busy jiffies of the whole machine (all CPUs) from /proc/stat: everything but idle and iowait. */
function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - (f[3] ?? 0) - (f[4] ?? 0);
}

interface Totals {
  t: number;
  server: number;
  database: number;
  driver: number;
  bench: number;
  machine: number;
}

export interface TimelineSample {
  /** Epoch ms at the end of the interval. */
  t: number;
  /**
   * CPU cores used over the interval by the server's process tree, the PostgreSQL server's processes (0 on
   * SQLite), the driver, this orchestrator, and the whole machine.
   */
  server: number;
  database: number;
  driver: number;
  bench: number;
  machine: number;
  /** Machine CPU used by none of them (other sessions' tests, services): what contaminates a measurement. */
  other: number;
  serverRssBytes: number;
}

export interface PhaseUsage {
  seconds: number;
  /** Mean cores over the phase. */
  serverCores: number;
  databaseCores: number;
  driverCores: number;
  benchCores: number;
  machineCores: number;
  otherCores: number;
  /** Highest 1-second mean of otherCores in the phase. */
  otherCoresMax1s: number;
  peakServerRssMiB: number;
}

/**
 * Samples every `intervalMs`: the server's process tree (the primary and its workers, found as its children) for
 * resident memory (summed) and CPU time, the driver process's CPU, this process's CPU, and the machine's busy
 * time from /proc/stat. CPU is kept per pid, so a process that exits keeps its last reading.
 */
export class Sampler {
  readonly #server: number;
  readonly #database: number | undefined;
  #driver: number | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #ticks = new Map<number, number>();
  readonly #serverPids = new Set<number>();
  readonly #databasePids = new Set<number>();
  readonly timeline: TimelineSample[] = [];
  #last: Totals;
  #phase = 'startup';
  readonly #phases: Array<{ name: string; from: number; to?: number }> = [{ name: 'startup', from: Date.now() }];
  peakRssBytes = 0;
  readonly peakRssByPhase: Record<string, number> = {};
  processCount = 0;

  /** `databasePid`: the PostgreSQL postmaster, whose process tree is the database server. */
  constructor(serverPid: number, intervalMs = 200, databasePid?: number) {
    this.#server = serverPid;
    this.#database = databasePid;
    this.#last = this.#read().totals;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  setDriver(pid: number): void {
    this.#driver = pid;
    this.#last = this.#read().totals;
  }

  #ticksOf(pids: number[]): number {
    let sum = 0;
    for (const pid of pids) {
      const t = cpuTicks(pid);
      if (t !== undefined) this.#ticks.set(pid, t);
    }
    for (const pid of pids) sum += this.#ticks.get(pid) ?? 0;
    return sum;
  }

  #read(): { totals: Totals; rss: number; pids: number[] } {
    const pids = processTree(this.#server);
    let rss = 0;
    for (const pid of pids) rss += rssBytes(pid);
    // Server ticks include exited server processes (kept in #serverPids): a replaced worker keeps its CPU.
    for (const pid of pids) this.#serverPids.add(pid);
    this.#ticksOf(pids);
    let server = 0;
    for (const pid of this.#serverPids) server += this.#ticks.get(pid) ?? 0;
    let database = 0;
    if (this.#database !== undefined) {
      const dbPids = processTree(this.#database);
      for (const pid of dbPids) this.#databasePids.add(pid);
      this.#ticksOf(dbPids);
      for (const pid of this.#databasePids) database += this.#ticks.get(pid) ?? 0;
    }
    const driver = this.#driver === undefined ? 0 : this.#ticksOf([this.#driver]);
    const bench = this.#ticksOf([process.pid]);
    return { totals: { t: Date.now(), server, database, driver, bench, machine: machineBusyTicks() }, rss, pids };
  }

  sample(): void {
    const { totals, rss, pids } = this.#read();
    const dt = (totals.t - this.#last.t) / 1000;
    if (dt > 0.05) {
      const cores = (a: number, b: number) => Math.max(0, (a - b) / CLOCK_TICKS / dt);
      const server = cores(totals.server, this.#last.server);
      const database = cores(totals.database, this.#last.database);
      const driver = cores(totals.driver, this.#last.driver);
      const bench = cores(totals.bench, this.#last.bench);
      const machine = cores(totals.machine, this.#last.machine);
      this.timeline.push({ t: totals.t, server, database, driver, bench, machine, other: Math.max(0, machine - server - database - driver - bench), serverRssBytes: rss });
      this.#last = totals;
    }
    this.processCount = pids.length;
    if (rss > this.peakRssBytes) this.peakRssBytes = rss;
    if (rss > (this.peakRssByPhase[this.#phase] ?? 0)) this.peakRssByPhase[this.#phase] = rss;
  }

  /** Starts a new phase (for per-phase figures); samples at the boundary. */
  phase(name: string): void {
    this.sample();
    const now = Date.now();
    this.#phases[this.#phases.length - 1]!.to = now;
    this.#phases.push({ name, from: now });
    this.#phase = name;
  }

  /** Mean usage between two epoch-ms times (from the timeline). */
  usage(from: number, to: number): PhaseUsage {
    const samples = this.timeline.filter((s) => s.t > from && s.t <= to + 100);
    const mean = (f: (s: TimelineSample) => number) => (samples.length === 0 ? 0 : samples.reduce((a, s) => a + f(s), 0) / samples.length);
    let otherMax = 0;
    for (let i = 0; i < samples.length; i++) {
      const window = samples.filter((s) => s.t > samples[i]!.t - 1000 && s.t <= samples[i]!.t);
      if (samples[i]!.t - from < 900) continue;
      const o = window.reduce((a, s) => a + s.other, 0) / Math.max(1, window.length);
      if (o > otherMax) otherMax = o;
    }
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      seconds: r((to - from) / 1000),
      serverCores: r(mean((s) => s.server)),
      databaseCores: r(mean((s) => s.database)),
      driverCores: r(mean((s) => s.driver)),
      benchCores: r(mean((s) => s.bench)),
      machineCores: r(mean((s) => s.machine)),
      otherCores: r(mean((s) => s.other)),
      otherCoresMax1s: r(otherMax),
      peakServerRssMiB: Math.round(Math.max(0, ...samples.map((s) => s.serverRssBytes)) / 1024 / 102.4) / 10,
    };
  }

  /** CPU seconds used by the server's processes so far (samples first). */
  serverCpuSeconds(): number {
    this.sample();
    let ticks = 0;
    for (const pid of this.#serverPids) ticks += this.#ticks.get(pid) ?? 0;
    return ticks / CLOCK_TICKS;
  }

  pids(): number[] {
    return processTree(this.#server);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

// ---- the server ---------------------------------------------------------------------------------------------------

export interface ServerOptions {
  port: number;
  workers: number;
  dataDir: string;
  databaseUrl?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Extra node arguments for the server process (e.g. --cpu-prof); cluster workers inherit them. */
  nodeArgs?: string[];
}

export interface ServerHandle {
  pid: number;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  /** Everything the server wrote to stderr (warnings and errors at PATCHLINE_LOG_LEVEL=warn). */
  stderr(): string;
  stop(): Promise<number | null>;
}

export function serverEnv(options: Pick<ServerOptions, 'port' | 'workers' | 'dataDir' | 'databaseUrl' | 'accessKeyId' | 'secretAccessKey'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PATCHLINE_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    PATCHLINE_PORT: String(options.port),
    PATCHLINE_HOST: '127.0.0.1',
    PATCHLINE_DATA_DIR: options.dataDir,
    PATCHLINE_ACCESS_KEY_ID: options.accessKeyId,
    PATCHLINE_SECRET_ACCESS_KEY: options.secretAccessKey,
    PATCHLINE_LOG_LEVEL: 'warn',
    PATCHLINE_WORKERS: String(options.workers),
  });
  if (options.databaseUrl !== undefined) env.PATCHLINE_DATABASE_URL = options.databaseUrl;
  return env;
}

async function healthy(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startServer(options: ServerOptions): Promise<ServerHandle> {
  const env = serverEnv(options);
  const cli = join(REPO_ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run node scripts/build.mjs first`);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cli, 'serve'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.on('data', () => {});
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    if (err.length > 1_000_000) err = err.slice(-500_000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exited = code;
    resolve(code);
  }));
  const deadline = Date.now() + 120_000;
  while (!(await healthy(options.port))) {
    if (exited !== undefined) throw new Error(`the server exited with code ${exited} before it was ready:\n${err}`);
    if (Date.now() > deadline) throw new Error(`the server was not ready within 120 s:\n${err}`);
    await sleep(100);
  }
  if (options.workers > 1) {
    // The banner comes with the first worker listening; wait for the others (children of the primary).
    while (processTree(child.pid!).length < options.workers + 1 && Date.now() < deadline) await sleep(100);
    await sleep(1000);
  }
  return {
    pid: child.pid!,
    child,
    env,
    stderr: () => err,
    stop: async () => {
      if (exited === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const code = await exit;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

/** Runs `node dist/cli.js <args>` with the server's environment; resolves with its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

// ---- stores -------------------------------------------------------------------------------------------------------

export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function createPostgresDatabase(adminUrl = POSTGRES_ADMIN_URL): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `patchline_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The PostgreSQL postmaster's pid (the first line of its postmaster.pid), for CPU accounting. */
export async function postgresPostmasterPid(url: string): Promise<number | undefined> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const dir = (await c.query<{ d: string }>("select current_setting('data_directory') as d")).rows[0]!.d;
    return Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  } catch {
    return undefined;
  } finally {
    await c.end();
  }
}

export async function postgresInfo(url: string): Promise<{ serverVersion: string; settings: Record<string, string> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const version = (await c.query<{ v: string }>('select version() as v')).rows[0]!.v;
    const names = ['shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'max_connections'];
    const rows = (await c.query<{ name: string; setting: string; unit: string | null }>('select name, setting, unit from pg_settings where name = any($1)', [names])).rows;
    return { serverVersion: version, settings: Object.fromEntries(rows.map((r) => [r.name, `${r.setting}${r.unit ? ` ${r.unit}` : ''}`])) };
  } finally {
    await c.end();
  }
}

export async function postgresSize(url: string): Promise<{ databaseBytes: number; tables: Record<string, number> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const size = Number((await c.query<{ s: string }>('select pg_database_size(current_database()) as s')).rows[0]!.s);
    const tables = (await c.query<{ name: string; bytes: string }>(
      `select c.relname as name, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind = 'r' and n.nspname = 'public' order by 2 desc limit 10`,
    )).rows;
    return { databaseBytes: size, tables: Object.fromEntries(tables.map((t) => [t.name, Number(t.bytes)])) };
  } finally {
    await c.end();
  }
}

/** Apparent size of every file under a directory (the SQLite database, its WAL and shared-memory files, keys). */
export function directorySize(dir: string): { totalBytes: number; files: Record<string, number> } {
  const files: Record<string, number> = {};
  let total = 0;
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path, `${rel}${name}/`);
      else {
        files[`${rel}${name}`] = st.size;
        total += st.size;
      }
    }
  };
  walk(dir, '');
  return { totalBytes: total, files };
}
