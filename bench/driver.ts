// The load driver: a separate process (forked by bench/run.ts, talking over the IPC channel) that holds the fleet,
// signs every request with SigV4 and drives the server over keep-alive loopback connections, one request in
// flight per connection (closed loop). It measures each request's latency (from the first byte written to the last
// byte of the answer read) into a histogram, counts errors by HTTP status and __type, and measures its own CPU.

import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { Connection, type HttpResponse } from './http.ts';
import { Signer } from './sigv4.ts';
import { Fleet, type FleetOptions, type ReportBody } from './fleet.ts';
import { ScanFleet, type ScanFleetOptions } from './scan-fleet.ts';
import { Histogram, type LatencySummary } from './histogram.ts';

export interface InitCommand {
  cmd: 'init';
  host: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  fleet: FleetOptions;
}
export interface IngestCommand {
  cmd: 'ingest';
  concurrency: number;
  /** Node indexes [from, to) are reported once each, in order. */
  from: number;
  to: number;
  windowMs: number;
}
export interface PutExtraCommand {
  cmd: 'put-extra';
  patches: number;
}
export interface GroupStateCommand {
  cmd: 'group-state';
  group: string;
  expectedInstances: number;
  connections: number;
  durationS: number;
  warmupS: number;
  /** Another server to send the same requests to (the http-floor reference). */
  port?: number;
}
export interface InstancePatchesCommand {
  cmd: 'instance-patches';
  instanceId: string;
  state: string;
  maxResults: number;
  expectedRows: number;
  connections: number;
  durationS: number;
  warmupS: number;
}
export interface CalibrateCommand {
  cmd: 'calibrate';
  bodies: number;
}
/** Builds the `reevaluate` scenario's fleet of raw scans (bench/scan-fleet.ts). */
export interface ScanFleetCommand {
  cmd: 'scan-fleet';
  fleet: ScanFleetOptions;
  /** Node indexes whose instance ids to answer (`sampleIds`). */
  sample?: number[];
}
/** Sends nodes [from, to) of the scan fleet once each through Patchline.PutScanReport. */
export interface ScanIngestCommand {
  cmd: 'scan-ingest';
  concurrency: number;
  from: number;
  to: number;
  windowMs: number;
}
/** One signed request; answers its status, parsed body and latency. */
export interface CallCommand {
  cmd: 'call';
  target: string;
  body: unknown;
}
/**
 * Sends `change` (if any), then polls Patchline.GetEvaluationStatus every `pollMs` until it says Current; the
 * elapsed time runs from just before the change is sent to the answer that says Current.
 */
export interface UntilCurrentCommand {
  cmd: 'until-current';
  change?: { target: string; body: unknown };
  pollMs: number;
  timeoutS: number;
}
export type DriverCommand =
  | InitCommand | IngestCommand | PutExtraCommand | GroupStateCommand | InstancePatchesCommand | CalibrateCommand
  | ScanFleetCommand | ScanIngestCommand | CallCommand | UntilCurrentCommand;

export interface DriverCpu {
  userS: number;
  systemS: number;
  /** CPU seconds per wall second (1 = one core busy). */
  cores: number;
}

export interface LoadResult {
  connections: number;
  elapsedS: number;
  count: number;
  ok: number;
  /** Count of failed requests by "<HTTP status> <__type>" (or "socket <code>", or "200 WrongAnswer"). */
  errors: Record<string, number>;
  errorSamples: string[];
  requestsPerS: number;
  latencyMs: LatencySummary;
  driverCpu: DriverCpu;
  /** TCP connections opened (equals `connections` when keep-alive held throughout). */
  tcpConnectionsOpened: number;
}

interface Request {
  target: string;
  chunks: Buffer[];
  length: number;
  sha256: string;
}

let signer: Signer | undefined;
let fleet: Fleet | undefined;
let scanFleet: ScanFleet | undefined;
let host = '127.0.0.1';
let port = 0;

function jsonRequest(target: string, body: unknown): Request {
  const buf = Buffer.from(JSON.stringify(body), 'utf8');
  return { target, chunks: [buf], length: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

function reportRequest(r: ReportBody): Request {
  return { target: 'AmazonSSM.PutInventory', chunks: r.chunks, length: r.length, sha256: r.sha256 };
}

function errorKey(resp: HttpResponse): { key: string; message: string } {
  let type = '-';
  let message = '';
  try {
    const parsed = JSON.parse(resp.body.toString('utf8')) as { __type?: string; message?: string };
    type = parsed.__type ?? '-';
    message = parsed.message ?? '';
  } catch {
    message = resp.body.toString('utf8', 0, Math.min(resp.body.length, 200));
  }
  return { key: `${resp.status} ${type}`, message };
}

interface Loop {
  /** The next request for connection `worker`, or undefined when this connection is done. */
  next(worker: number): Request | undefined;
  /** Checks a 200 answer; returns a problem description to count it as an error. */
  check?(worker: number, resp: HttpResponse, started: number): string | undefined;
  /** Called after every completed request (success or not), with its completion time. */
  done?(worker: number, ok: boolean, finished: number): void;
}

/**
 * Runs `connections` closed loops until each loop's next() returns undefined or `until` (performance.now() ms)
 * passes. Latencies are recorded only when `record` is true (warm-up phases pass false).
 */
async function runLoops(connections: number, loop: Loop, options: { until?: number; record: boolean; port?: number }): Promise<LoadResult> {
  const histogram = new Histogram();
  const errors: Record<string, number> = {};
  const errorSamples: string[] = [];
  let count = 0;
  let ok = 0;
  const conns = Array.from({ length: connections }, () => new Connection(host, options.port ?? port));
  const fail = (key: string, message: string) => {
    errors[key] = (errors[key] ?? 0) + 1;
    if (errorSamples.length < 8) errorSamples.push(`${key}: ${message.slice(0, 300)}`);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const s = signer!;
  await Promise.all(conns.map(async (conn, worker) => {
    for (;;) {
      if (options.until !== undefined && performance.now() >= options.until) return;
      const req = loop.next(worker);
      if (req === undefined) return;
      const head = s.head(req.target, req.sha256, req.length);
      const started = performance.now();
      let good = false;
      try {
        const resp = await conn.request(head, req.chunks);
        const finished = performance.now();
        if (options.record) histogram.recordMs(finished - started);
        count += 1;
        if (resp.status !== 200) {
          const { key, message } = errorKey(resp);
          fail(key, message);
        } else {
          const problem = loop.check?.(worker, resp, started);
          if (problem !== undefined) fail('200 WrongAnswer', problem);
          else {
            ok += 1;
            good = true;
          }
        }
        loop.done?.(worker, good, finished);
      } catch (err) {
        count += 1;
        fail(`socket ${(err as NodeJS.ErrnoException).code ?? 'error'}`, (err as Error).message);
        loop.done?.(worker, false, performance.now());
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  conns.forEach((c) => c.close());
  return {
    connections,
    elapsedS: round(elapsedMs / 1000, 3),
    count,
    ok,
    errors,
    errorSamples,
    requestsPerS: round(count / (elapsedMs / 1000), 1),
    latencyMs: histogram.summary(),
    driverCpu: { userS: round(cpu.user / 1e6, 2), systemS: round(cpu.system / 1e6, 2), cores: round((cpu.user + cpu.system) / 1000 / elapsedMs, 3) },
    tcpConnectionsOpened: conns.reduce((n, c) => n + c.opened, 0),
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function ingest(c: IngestCommand) {
  const f = fleet!;
  let nextIndex = c.from;
  const windows: Array<{ reports: number; rows: number }> = [];
  let t0 = 0;
  let lastProgress = 0;
  let rows = 0;
  let reports = 0;
  const loop: Loop = {
    next: () => {
      if (nextIndex >= c.to) return undefined;
      return reportRequest(f.report(nextIndex++));
    },
    done: (_w, ok, finished) => {
      if (!ok) return;
      const k = Math.floor((finished - t0) / c.windowMs);
      while (windows.length <= k) windows.push({ reports: 0, rows: 0 });
      windows[k]!.reports += 1;
      windows[k]!.rows += f.options.patches;
      reports += 1;
      rows += f.options.patches;
      if (finished - lastProgress >= 10_000) {
        lastProgress = finished;
        const last = windows.length >= 2 ? windows[windows.length - 2]!.reports / (c.windowMs / 1000) : 0;
        process.stderr.write(`[driver] ingest ${reports}/${c.to - c.from} reports, ${Math.round(reports / ((finished - t0) / 1000))}/s overall, ${last}/s in the last full window\n`);
      }
    },
  };
  t0 = performance.now();
  const startedAtEpochMs = Date.now();
  lastProgress = t0;
  const result = await runLoops(c.concurrency, loop, { record: true });
  // Full windows only for min/median/max (the last one is partial).
  const elapsedMs = result.elapsedS * 1000;
  const full = windows.slice(0, Math.floor(elapsedMs / c.windowMs));
  const perS = full.map((w) => w.reports / (c.windowMs / 1000));
  const rowsPerS = full.map((w) => w.rows / (c.windowMs / 1000));
  const stats = (xs: number[]) => (xs.length === 0 ? null : { min: Math.min(...xs), median: round(median(xs), 1), max: Math.max(...xs) });
  return {
    ...result,
    reports,
    rows,
    startedAtEpochMs,
    reportsPerS: round(reports / result.elapsedS, 1),
    rowsPerS: Math.round(rows / result.elapsedS),
    windowS: c.windowMs / 1000,
    windows: {
      full: full.length,
      reportsPerS: stats(perS),
      rowsPerS: stats(rowsPerS),
      series: perS,
    },
    bodyBytes: f.report(c.from).length,
  };
}

async function putExtra(c: PutExtraCommand) {
  const f = fleet!;
  const body = f.extraNode(c.patches);
  const conn = new Connection(host, port);
  const started = performance.now();
  const resp = await conn.request(signer!.head('AmazonSSM.PutInventory', body.sha256, body.length), body.chunks);
  const ms = performance.now() - started;
  conn.close();
  if (resp.status !== 200) throw new Error(`PutInventory of the extra node failed: ${resp.status} ${resp.body.toString('utf8').slice(0, 300)}`);
  return { instanceId: body.instanceId, patches: c.patches, bodyBytes: body.length, ms: round(ms, 2), counts: body.stats.counts };
}

async function timed(warmupS: number, durationS: number, connections: number, make: () => Loop, targetPort?: number) {
  const p = targetPort === undefined ? {} : { port: targetPort };
  if (warmupS > 0) await runLoops(connections, make(), { until: performance.now() + warmupS * 1000, record: false, ...p });
  return runLoops(connections, make(), { until: performance.now() + durationS * 1000, record: true, ...p });
}

async function groupState(c: GroupStateCommand) {
  const req = jsonRequest('AmazonSSM.DescribePatchGroupState', { PatchGroup: c.group });
  let sample: unknown;
  const result = await timed(c.warmupS, c.durationS, c.connections, () => ({
    next: () => req,
    check: (_w, resp) => {
      const answer = JSON.parse(resp.body.toString('utf8')) as { Instances?: number };
      sample ??= answer;
      return answer.Instances === c.expectedInstances ? undefined : `Instances ${String(answer.Instances)}, expected ${c.expectedInstances}`;
    },
  }), c.port);
  return { ...result, group: c.group, expectedInstances: c.expectedInstances, sampleAnswer: sample };
}

async function instancePatches(c: InstancePatchesCommand) {
  const base = { InstanceId: c.instanceId, Filters: [{ Key: 'State', Values: [c.state] }], MaxResults: c.maxResults };
  const first = jsonRequest('AmazonSSM.DescribeInstancePatches', base);
  let chains = 0;
  let pages = 0;
  const make = (): Loop => {
    const token: Array<string | undefined> = Array.from({ length: c.connections }, () => undefined);
    const seen = new Array<number>(c.connections).fill(0);
    return {
      next: (w) => (token[w] === undefined ? first : jsonRequest('AmazonSSM.DescribeInstancePatches', { ...base, NextToken: token[w] })),
      check: (w, resp) => {
        const answer = JSON.parse(resp.body.toString('utf8')) as { Patches?: Array<{ State?: string }>; NextToken?: string };
        const patches = answer.Patches ?? [];
        pages += 1;
        if (patches.length > c.maxResults) return `${patches.length} patches in a page of at most ${c.maxResults}`;
        const wrong = patches.find((p) => p.State !== c.state);
        if (wrong) return `a patch in state ${String(wrong.State)} under a State=${c.state} filter`;
        seen[w]! += patches.length;
        token[w] = answer.NextToken;
        if (answer.NextToken === undefined) {
          const total = seen[w]!;
          seen[w] = 0;
          chains += 1;
          if (total !== c.expectedRows) return `a full pass returned ${total} patches, expected ${c.expectedRows}`;
        }
        return undefined;
      },
      done: (w, ok) => {
        if (!ok) {
          token[w] = undefined; // start over after an error
          seen[w] = 0;
        }
      },
    };
  };
  const result = await timed(c.warmupS, c.durationS, c.connections, () => {
    chains = 0;
    pages = 0;
    return make();
  });
  return { ...result, instanceId: c.instanceId, state: c.state, maxResults: c.maxResults, expectedRows: c.expectedRows, pagesPerPass: Math.ceil(c.expectedRows / c.maxResults), completePasses: chains, pages };
}

/** Every node of the scan fleet in [from, to) reports its raw scan once (Patchline.PutScanReport). */
async function scanIngest(c: ScanIngestCommand) {
  const f = scanFleet!;
  let next = c.from;
  let reports = 0;
  const perWindow: number[] = [];
  let t0 = 0;
  let lastProgress = 0;
  const loop: Loop = {
    next: () => {
      if (next >= c.to) return undefined;
      const b = f.report(next++);
      return { target: 'Patchline.PutScanReport', chunks: b.chunks, length: b.length, sha256: b.sha256 };
    },
    done: (_w, ok, finished) => {
      if (!ok) return;
      reports += 1;
      const k = Math.floor((finished - t0) / c.windowMs);
      while (perWindow.length <= k) perWindow.push(0);
      perWindow[k]! += 1;
      if (finished - lastProgress >= 10_000) {
        lastProgress = finished;
        process.stderr.write(`[driver] scan-ingest ${reports}/${c.to - c.from} scans, ${Math.round(reports / ((finished - t0) / 1000))}/s overall\n`);
      }
    },
  };
  t0 = performance.now();
  lastProgress = t0;
  const startedAtEpochMs = Date.now();
  const result = await runLoops(c.concurrency, loop, { record: true });
  const full = perWindow.slice(0, Math.floor((result.elapsedS * 1000) / c.windowMs)).map((n) => n / (c.windowMs / 1000));
  return {
    ...result,
    startedAtEpochMs,
    reports,
    scansPerS: round(reports / result.elapsedS, 1),
    windowS: c.windowMs / 1000,
    windows: { series: full, min: full.length ? Math.min(...full) : null, median: full.length ? median(full) : null, max: full.length ? Math.max(...full) : null },
    bodyBytes: f.report(c.from).length,
  };
}

let callConnection: Connection | undefined;

/** One signed request over a kept connection. */
async function call(target: string, body: unknown): Promise<{ status: number; json: any; ms: number }> {
  callConnection ??= new Connection(host, port);
  const req = jsonRequest(target, body);
  const started = performance.now();
  let resp: HttpResponse;
  try {
    resp = await callConnection.request(signer!.head(target, req.sha256, req.length), req.chunks);
  } catch {
    // The server may have closed an idle keep-alive connection: once more on a new one.
    callConnection.close();
    callConnection = new Connection(host, port);
    resp = await callConnection.request(signer!.head(target, req.sha256, req.length), req.chunks);
  }
  const ms = performance.now() - started;
  const text = resp.body.toString('utf8');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = text.slice(0, 500);
  }
  return { status: resp.status, json, ms: round(ms, 2) };
}

async function untilCurrent(c: UntilCurrentCommand) {
  const startedAtEpochMs = Date.now();
  const t0 = performance.now();
  let change: { status: number; json: unknown; ms: number } | undefined;
  if (c.change !== undefined) {
    change = await call(c.change.target, c.change.body);
    if (change.status !== 200) throw new Error(`${c.change.target} failed: ${change.status} ${JSON.stringify(change.json).slice(0, 300)}`);
  }
  // [seconds since the change was sent, PendingNodes]
  const series: Array<[number, number]> = [];
  for (;;) {
    const status = await call('Patchline.GetEvaluationStatus', {});
    if (status.status !== 200) throw new Error(`GetEvaluationStatus failed: ${status.status} ${JSON.stringify(status.json).slice(0, 300)}`);
    const elapsedS = (performance.now() - t0) / 1000;
    series.push([round(elapsedS, 3), Number(status.json.PendingNodes)]);
    if (status.json.Current === true) {
      return { startedAtEpochMs, elapsedS: round(elapsedS, 3), changeMs: change?.ms, markedNodes: series[0]![1], polls: series.length, pollMs: c.pollMs, series, finalStatus: status.json };
    }
    if (elapsedS > c.timeoutS) throw new Error(`evaluation not current after ${c.timeoutS} s: ${JSON.stringify(status.json)}`);
    await new Promise((resolve) => setTimeout(resolve, c.pollMs));
  }
}

/** The driver's cost to build and sign one report body (µs), measured over `bodies` nodes. */
function calibrate(c: CalibrateCommand) {
  const f = fleet!;
  const s = signer!;
  const n = Math.min(c.bodies, f.total);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = f.report(i);
    bytes += s.head('AmazonSSM.PutInventory', r.sha256, r.length).length + r.length;
  }
  const buildMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const small = jsonRequest('AmazonSSM.DescribePatchGroupState', { PatchGroup: 'bench-large' });
  const t1 = performance.now();
  for (let i = 0; i < 20_000; i++) s.head(small.target, createHash('sha256').update(small.chunks[0]!).digest('hex'), small.length);
  const signUs = ((performance.now() - t1) * 1000) / 20_000;
  return {
    bodies: n,
    usPerReportBody: round((buildMs * 1000) / n, 2),
    cpuUsPerReportBody: round((cpu.user + cpu.system) / n, 2),
    averageBodyBytes: Math.round(bytes / n),
    usPerSmallRequestSignature: round(signUs, 2),
  };
}

async function handle(command: DriverCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'init': {
      host = command.host;
      port = command.port;
      signer = new Signer({ accessKeyId: command.accessKeyId, secretAccessKey: command.secretAccessKey, region: command.region, host: `${host}:${port}` });
      const t0 = performance.now();
      fleet = new Fleet(command.fleet);
      return { fleetBuildMs: round(performance.now() - t0, 1), total: fleet.total };
    }
    case 'calibrate': return calibrate(command);
    case 'ingest': return ingest(command);
    case 'put-extra': return putExtra(command);
    case 'group-state': return groupState(command);
    case 'instance-patches': return instancePatches(command);
    case 'scan-fleet': {
      const t0 = performance.now();
      scanFleet = new ScanFleet(command.fleet);
      return {
        buildMs: round(performance.now() - t0, 1), nodes: scanFleet.total, profiles: scanFleet.options.profiles, distinctPackages: scanFleet.distinctPackages,
        bodyBytes: scanFleet.report(0).length, sampleIds: (command.sample ?? []).map((i) => scanFleet!.instanceId(i)),
      };
    }
    case 'scan-ingest': return scanIngest(command);
    case 'call': return call(command.target, command.body);
    case 'until-current': return untilCurrent(command);
  }
}

if (process.send !== undefined) {
  process.on('message', (message: DriverCommand) => {
    handle(message).then(
      (result) => process.send!({ ok: true, result }),
      (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
