// `patchline agent <command>` (and `node patchline-agent.js <command>`): register, scan, install, run, status.
// Progress goes to stderr when it is a terminal; the result to stdout, as text or, with --json, one JSON object.
// Exit codes: src/agent/errors.ts (EXIT).

import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { ApiClient, type RetryPolicy } from './http.ts';
import { AgentError, ApiError, EXIT, NetworkError, isRetryable } from './errors.ts';
import { StateDir, type Registration } from './state.ts';
import { LocalHost, type Host } from './host.ts';
import { ALPINE_REFUSAL, detectPlatform, type Platform } from './platform.ts';
import { createScanner } from './scanners/index.ts';
import { buildReport, flushOutbox, primaryAddress, submitReport, type PutScanReport, type SendOutcome } from './report.ts';
import type { InstallOutcome, ScanResult } from './scanners/types.ts';
import { AGENT_VERSION } from './version.ts';

export const USAGE = `Usage: patchline agent <command> [options]    (or: node patchline-agent.js <command> [options])

Commands:
  register  --endpoint URL --activation-id ID --activation-code CODE [--region R] [--ca-file PEM] [--force]
            Register this node with a hybrid activation (CreateActivation); stores the node's own credentials.
            The code may come from PATCHLINE_ACTIVATION_CODE instead of the command line.
  scan      [--refresh] [--no-send]
            Scan installed packages and available updates with the native package manager and report them.
  install   [--reboot-option NoReboot|RebootIfNeeded] [--snapshot-id UUID] [--reboot-command CMD] [--refresh]
            Install what the node's patch baseline approves (its patch snapshot), then report the outcome.
  run       [--interval 6h] [--jitter 0.1] [--refresh] [--once]
            Scan and report at an interval (with jitter); reports that cannot be sent wait in the outbox.
  status    Show the registration, the last scan, install and report, and the outbox.

Options for every command:
  --state-dir DIR   state and credentials (PATCHLINE_AGENT_DIR; default /var/lib/patchline-agent), root-only
  --json            machine-readable output (one JSON object on stdout)
  --timeout SEC     time limit for one request to the server (default 30)

Exit codes: 0 ok, 1 failure, 2 usage or not registered, 3 server unreachable (report kept in the outbox),
4 request refused by the server, 5 another operation is running, 6 state directory not writable (disk full).
`;

export interface AgentIO {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Whether progress lines are shown (default: stderr is a terminal). */
  progress?: boolean;
  /** The node to act on (tests). Default: the local machine, re-rooted by --root. */
  host?: Host;
  /** Retry policy override (tests). */
  retry?: Partial<RetryPolicy>;
  /** Abort signal for `run` (tests; SIGINT/SIGTERM otherwise). */
  signal?: AbortSignal;
}

const COMMON = {
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  root: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  register: { ...COMMON, endpoint: { type: 'string' }, 'activation-id': { type: 'string' }, 'activation-code': { type: 'string' }, region: { type: 'string' }, 'ca-file': { type: 'string' }, force: { type: 'boolean' } },
  scan: { ...COMMON, refresh: { type: 'boolean' }, 'no-send': { type: 'boolean' } },
  install: { ...COMMON, 'reboot-option': { type: 'string' }, 'snapshot-id': { type: 'string' }, 'snapshot-file': { type: 'string' }, 'reboot-command': { type: 'string' }, refresh: { type: 'boolean' } },
  run: { ...COMMON, interval: { type: 'string' }, jitter: { type: 'string' }, refresh: { type: 'boolean' }, once: { type: 'boolean' } },
  status: { ...COMMON },
} as const;

type Command = keyof typeof OPTIONS;
type Values = Record<string, string | boolean | undefined>;

class Output {
  readonly json: boolean;
  readonly #io: Required<Pick<AgentIO, 'stdout' | 'stderr'>> & { progress: boolean };
  constructor(io: AgentIO, json: boolean) {
    this.json = json;
    this.#io = {
      stdout: io.stdout ?? ((t) => process.stdout.write(t)),
      stderr: io.stderr ?? ((t) => process.stderr.write(t)),
      progress: io.progress ?? (process.stderr.isTTY === true),
    };
  }
  /** Progress: only on a terminal. */
  progress = (line: string): void => {
    if (this.#io.progress) this.#io.stderr(`${line}\n`);
  };
  /** A warning: always, on stderr. */
  warn = (line: string): void => {
    this.#io.stderr(`patchline-agent: ${line}\n`);
  };
  /** The result: text lines, or the JSON object with --json. */
  result(text: string[], json: Record<string, unknown>): void {
    this.#io.stdout(this.json ? `${JSON.stringify(json, null, 2)}\n` : `${text.join('\n')}\n`);
  }
  error(err: AgentError): void {
    const code = (err as { code?: unknown }).code;
    if (this.json) this.#io.stdout(`${JSON.stringify({ ok: false, error: err.message, ...(typeof code === 'string' ? { code } : {}), exitCode: err.exitCode }, null, 2)}\n`);
    this.#io.stderr(`patchline-agent: ${err.message}\n`);
  }
}

export async function runAgent(argv: string[], io: AgentIO = {}): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (io.stdout ?? ((t: string) => process.stdout.write(t)))(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === 'version') {
    (io.stdout ?? ((t: string) => process.stdout.write(t)))(`${AGENT_VERSION}\n`);
    return EXIT.ok;
  }
  if (!(command in OPTIONS)) {
    (io.stderr ?? ((t: string) => process.stderr.write(t)))(`patchline-agent: unknown command '${command}'\n\n${USAGE}`);
    return EXIT.usage;
  }
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: OPTIONS[command as Command], strict: true, allowPositionals: false }).values as Values;
  } catch (err) {
    (io.stderr ?? ((t: string) => process.stderr.write(t)))(`patchline-agent: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const out = new Output(io, values.json === true);
  if (values.help) {
    out.result([USAGE], { usage: USAGE });
    return EXIT.ok;
  }
  const env = io.env ?? process.env;
  const state = StateDir.resolve(values['state-dir'] as string | undefined, env);
  const ctx: Ctx = {
    values, out, state, env, io,
    host: io.host ?? new LocalHost((values.root as string | undefined) ?? '/'),
    timeoutMs: values.timeout ? Math.max(1, Number(values.timeout)) * 1000 : 30_000,
  };
  try {
    if (values.timeout !== undefined && !Number.isFinite(Number(values.timeout))) throw new AgentError(`--timeout must be a number of seconds, not '${values.timeout}'.`, EXIT.usage);
    switch (command as Command) {
      case 'register': return await register(ctx);
      case 'scan': return await scan(ctx);
      case 'install': return await install(ctx);
      case 'run': return await run(ctx);
      case 'status': return status(ctx);
    }
  } catch (err) {
    let e = err instanceof AgentError ? err : new AgentError(err instanceof Error ? err.message : String(err));
    if (e instanceof ApiError && (e.code === 'UnrecognizedClientException' || e.code === 'InvalidSignatureException') && command !== 'register') {
      e = Object.assign(new AgentError(`${e.brief} — the server no longer accepts this node's credentials (was it deregistered?). Register again with --force.`, EXIT.refused), { code: e.code });
    }
    out.error(e);
    try {
      if (state.readRegistration() !== undefined) state.updateStatus((s) => { s.lastError = { time: new Date().toISOString(), message: e.message }; });
    } catch { /* the state directory itself may be the problem */ }
    return e.exitCode;
  }
  return EXIT.failure;
}

interface Ctx {
  values: Values;
  out: Output;
  state: StateDir;
  env: NodeJS.ProcessEnv;
  io: AgentIO;
  host: Host;
  timeoutMs: number;
}

function nodeClient(ctx: Ctx, reg: Registration): ApiClient {
  return new ApiClient({
    endpoint: reg.endpoint,
    region: reg.region,
    credentials: { accessKeyId: reg.accessKeyId, secretAccessKey: reg.secretAccessKey },
    timeoutMs: ctx.timeoutMs,
    ...(reg.caFile ? { caFile: reg.caFile } : {}),
    ...(ctx.io.retry ? { retry: ctx.io.retry } : {}),
    onRetry: ({ attempt, delayMs, error }) => ctx.out.progress(`  retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: ${error.message}`),
  });
}

/** Best effort: a full disk must not turn a successful operation into a failure. */
function saveStatus(ctx: Ctx, change: Parameters<StateDir['updateStatus']>[0]): void {
  try {
    ctx.state.updateStatus(change);
  } catch (err) {
    ctx.out.warn(`could not record the status: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------- register

async function register(ctx: Ctx): Promise<number> {
  const v = ctx.values;
  const endpoint = v.endpoint as string | undefined;
  const activationId = v['activation-id'] as string | undefined;
  const code = (v['activation-code'] as string | undefined) ?? ctx.env.PATCHLINE_ACTIVATION_CODE;
  if (!endpoint || !activationId || !code) {
    throw new AgentError('register needs --endpoint, --activation-id and --activation-code (or PATCHLINE_ACTIVATION_CODE).', EXIT.usage);
  }
  const existing = ctx.state.readRegistration();
  if (existing && !v.force) {
    throw new AgentError(`This node is already registered as ${existing.instanceId} with ${existing.endpoint}. Use --force to register again (the old registration and its queued reports are dropped).`, EXIT.usage);
  }
  const region = (v.region as string | undefined) ?? ctx.env.AWS_REGION ?? 'us-east-1';
  let platform: Platform | undefined;
  try {
    platform = detectPlatform(ctx.host);
  } catch (err) {
    ctx.out.warn(`${(err as Error).message} Registering without platform details.`);
  }
  const client = new ApiClient({
    endpoint, region, credentials: { accessKeyId: activationId, secretAccessKey: code }, timeoutMs: ctx.timeoutMs,
    ...(v['ca-file'] ? { caFile: v['ca-file'] as string } : {}),
    // Registration failures other than the network's are final: retrying a wrong code only moves the rate limit closer.
    retry: { maxAttempts: 3, ...ctx.io.retry },
    retryable: (err) => err instanceof NetworkError || (err instanceof ApiError && err.status >= 500),
    onRetry: ({ attempt, delayMs, error }) => ctx.out.progress(`  retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: ${error.message}`),
  });
  ctx.out.progress(`Registering with ${endpoint} (activation ${activationId})…`);
  ctx.state.ensure();
  const request: Record<string, unknown> = { AgentVersion: AGENT_VERSION, PlatformType: 'Linux' };
  const computer = hostname();
  if (computer) request.ComputerName = computer.slice(0, 255);
  const ip = primaryAddress();
  if (ip) request.IPAddress = ip;
  if (platform) {
    request.PlatformName = platform.name;
    request.PlatformVersion = platform.version;
  }
  let answer: { InstanceId?: string; AccessKeyId?: string; SecretAccessKey?: string; Region?: string };
  try {
    answer = await client.call('Patchline.RegisterManagedInstance', request);
  } catch (err) {
    if (err instanceof ApiError) throw Object.assign(new AgentError(`Registration refused: ${err.brief}${registrationHint(err.code)}`, EXIT.refused), { code: err.code });
    throw err;
  }
  if (!answer.InstanceId || !answer.AccessKeyId || !answer.SecretAccessKey) {
    throw new NetworkError(`The server's answer to RegisterManagedInstance lacks InstanceId or credentials: is ${endpoint} a Patchline server?`);
  }
  const reg: Registration = {
    endpoint, region: answer.Region ?? region, instanceId: answer.InstanceId, accessKeyId: answer.AccessKeyId,
    secretAccessKey: answer.SecretAccessKey, activationId, registeredAt: new Date().toISOString(),
    ...(v['ca-file'] ? { caFile: v['ca-file'] as string } : {}),
  };
  // A new identity: reports queued for the old one can never be accepted.
  for (const f of ctx.state.outboxFiles()) ctx.state.removeFromOutbox(f);
  ctx.state.writeRegistration(reg);
  saveStatus(ctx, (s) => { delete s.lastError; });
  ctx.out.result(
    [`Registered as ${reg.instanceId} with ${endpoint} (region ${reg.region}).`, `Credentials saved in ${ctx.state.dir}/registration.json (mode 0600).`, 'Next: patchline agent scan'],
    { ok: true, instanceId: reg.instanceId, endpoint, region: reg.region, stateDir: ctx.state.dir },
  );
  return EXIT.ok;
}

function registrationHint(code: string): string {
  switch (code) {
    case 'InvalidSignatureException': return ' — the activation code does not match the activation id.';
    case 'UnrecognizedClientException': return ' — no such activation (wrong id, or it was deleted).';
    case 'ThrottlingException': return ' — too many failed registrations from here; wait before trying again.';
    case 'InvalidActivation': return ' — create a new activation (CreateActivation).';
    default: return '';
  }
}

// ---------------------------------------------------------------- scan

interface ScanRun {
  platform: Platform;
  manager: string;
  result: ScanResult;
  start: Date;
  end: Date;
}

async function doScan(ctx: Ctx, refresh: boolean): Promise<ScanRun> {
  const platform = detectPlatform(ctx.host);
  const scanner = await createScanner(platform, ctx.host);
  const start = new Date();
  ctx.out.progress(`Scanning ${platform.name} ${platform.version} with ${scanner.manager}${refresh ? ' (refreshing package lists first)' : ''}…`);
  const result = await scanner.scan({ refresh });
  for (const n of result.notes) ctx.out.progress(`  note: ${n}`);
  return { platform, manager: scanner.manager, result, start, end: new Date() };
}

function scanSummary(s: ScanRun): { text: string; json: Record<string, unknown> } {
  const sec = s.result.updates.filter((u) => u.Security).length;
  return {
    text: `Scanned ${s.platform.name} ${s.platform.version} with ${s.manager}: ${s.result.installed.length} installed packages, ${s.result.updates.length} updates (${sec} security); reboot pending: ${s.result.rebootPending ? 'yes' : 'no'}.`,
    json: {
      operatingSystem: s.platform.operatingSystem ?? null, platformName: s.platform.name, platformVersion: s.platform.version, manager: s.manager,
      installed: s.result.installed.length, updates: s.result.updates.length, securityUpdates: sec, rebootPending: s.result.rebootPending, notes: s.result.notes,
    },
  };
}

function sendSummary(o: SendOutcome): { text: string[]; json: Record<string, unknown> } {
  const text: string[] = [];
  const last = o.sent[o.sent.length - 1]?.answer.InstancePatchState as Record<string, unknown> | undefined;
  if (o.sent.length > 0) text.push(`Sent ${o.sent.length} report(s).`);
  if (last) {
    text.push(`Patch state (baseline ${last.BaselineId}): Missing ${last.MissingCount ?? 0}, Failed ${last.FailedCount ?? 0}, Installed ${last.InstalledCount ?? 0}, ` +
      `InstalledOther ${last.InstalledOtherCount ?? 0}, InstalledPendingReboot ${last.InstalledPendingRebootCount ?? 0}, InstalledRejected ${last.InstalledRejectedCount ?? 0}.`);
  }
  for (const r of o.rejected) text.push(`Refused for good by the server: ${r.error} (kept in ${r.file}).`);
  if (o.error) text.push(`Not sent: ${o.error.message}`);
  if (o.pending > 0) text.push(`${o.pending} report(s) wait in the outbox and will be sent later (patchline agent run, or the next scan).`);
  if (!o.saved) text.push(`The report could not be saved in the outbox: ${o.saveError?.message ?? ''}`);
  return { text, json: { sent: o.sent.length, pending: o.pending, rejected: o.rejected, patchState: last ?? null, saved: o.saved, ...(o.error ? { sendError: o.error.message } : {}) } };
}

/** The exit code after sending: 0 sent, 3 kept for later, 6 neither sent nor saved, or the server's refusal. */
function sendExit(o: SendOutcome): number {
  if (o.error) {
    if (!o.saved && o.sent.every((s) => s.file !== '(unsaved)')) {
      throw new AgentError(`The report could not be sent (${o.error.message}) and could not be saved (${o.saveError?.message ?? 'disk full'}). Reports queued earlier are intact.`, EXIT.state);
    }
    return isRetryable(o.error) ? EXIT.unreachable : o.error.exitCode;
  }
  if (!o.saved) return EXIT.state;
  return EXIT.ok;
}

async function scan(ctx: Ctx): Promise<number> {
  const noSend = ctx.values['no-send'] === true;
  const reg = noSend ? ctx.state.readRegistration() : ctx.state.requireRegistration();
  const release = noSend ? () => {} : ctx.state.lock('scan');
  try {
    const s = await doScan(ctx, ctx.values.refresh === true);
    const summary = scanSummary(s);
    if (noSend) {
      ctx.out.result([summary.text, ...s.result.updates.map((u) => `  ${u.Name} ${u.Version} ${u.Architecture}${u.Security ? ' [security]' : ''}${u.CVEIds ? ` ${u.CVEIds.join(',')}` : ''}`)],
        { ok: true, ...summary.json, scan: s.result });
      return EXIT.ok;
    }
    if (s.platform.operatingSystem === undefined) throw new AgentError(ALPINE_REFUSAL, EXIT.failure);
    const report = buildReport({ instanceId: reg!.instanceId, platform: s.platform, operation: 'Scan', start: s.start, end: s.end, scan: s.result });
    const sent = await submitReport(ctx.state, nodeClient(ctx, reg!), report, ctx.out.progress, ctx.out.warn);
    saveStatus(ctx, (st) => {
      st.lastScan = { time: s.end.toISOString(), operation: 'Scan', installed: s.result.installed.length, updates: s.result.updates.length, rebootPending: s.result.rebootPending };
      if (sent.sent.length > 0) st.lastSent = { time: new Date().toISOString(), file: sent.sent[sent.sent.length - 1]!.file };
      if (sent.error) st.lastError = { time: new Date().toISOString(), message: sent.error.message };
      else delete st.lastError;
    });
    const ss = sendSummary(sent);
    const code = sendExit(sent);
    ctx.out.result([summary.text, ...ss.text], { ok: code === EXIT.ok, instanceId: reg!.instanceId, ...summary.json, ...ss.json });
    return code;
  } finally {
    release();
  }
}

// ---------------------------------------------------------------- install

export interface SnapshotDocument {
  SnapshotId?: string;
  Install: Array<{ Name: string; Architecture: string; Version: string; KBId?: string; Title?: string }>;
  Rejected?: { Action?: 'BLOCK' | 'ALLOW_AS_DEPENDENCY'; Names?: string[] };
  Baseline?: Record<string, unknown>;
}

function asSnapshot(value: unknown): SnapshotDocument {
  let v = value as Record<string, unknown>;
  for (const key of ['Snapshot', 'Document', 'SnapshotDocument']) {
    const inner = v[key];
    if (typeof inner === 'string') { try { v = JSON.parse(inner); } catch { /* not JSON */ } }
    else if (inner && typeof inner === 'object' && !Array.isArray(inner) && !Array.isArray(v.Install)) v = inner as Record<string, unknown>;
  }
  if (!Array.isArray(v.Install)) throw new AgentError('The patch snapshot has no Install list; the server and agent disagree on its format.');
  for (const i of v.Install as unknown[]) {
    const it = i as Record<string, unknown>;
    if (typeof it.Name !== 'string' || typeof it.Architecture !== 'string' || typeof it.Version !== 'string') {
      throw new AgentError(`The patch snapshot's Install list has an entry without Name, Architecture and Version: ${JSON.stringify(i)}`);
    }
  }
  return v as unknown as SnapshotDocument;
}

async function fetchSnapshot(ctx: Ctx, client: ApiClient, reg: Registration, snapshotId: string): Promise<SnapshotDocument> {
  const file = ctx.values['snapshot-file'] as string | undefined;
  if (file) {
    // Offline / air-gapped use, and the seam tests use: the same document GetPatchSnapshot returns.
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (err) { throw new AgentError(`Cannot read the snapshot file ${file}: ${(err as Error).message}`, EXIT.usage); }
    try { return asSnapshot(JSON.parse(text)); } catch (err) { throw err instanceof AgentError ? err : new AgentError(`${file} is not a JSON patch snapshot.`, EXIT.usage); }
  }
  ctx.out.progress(`Fetching the patch snapshot ${snapshotId}…`);
  await client.call('AmazonSSM.GetDeployablePatchSnapshotForInstance', { InstanceId: reg.instanceId, SnapshotId: snapshotId });
  try {
    return asSnapshot(await client.call('Patchline.GetPatchSnapshot', { SnapshotId: snapshotId, InstanceId: reg.instanceId }));
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'UnknownOperationException' || err.code === 'UnsupportedOperationException')) {
      throw new AgentError(`This server cannot hand out patch snapshots yet (${err.code}): upgrade the server, or pass the snapshot with --snapshot-file.`, EXIT.refused);
    }
    throw err;
  }
}

async function install(ctx: Ctx): Promise<number> {
  const v = ctx.values;
  const rebootOption = (v['reboot-option'] as string | undefined) ?? 'NoReboot';
  if (rebootOption !== 'NoReboot' && rebootOption !== 'RebootIfNeeded') throw new AgentError(`--reboot-option must be NoReboot or RebootIfNeeded, not '${rebootOption}'.`, EXIT.usage);
  let snapshotId = (v['snapshot-id'] as string | undefined) ?? randomUUID();
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(snapshotId)) throw new AgentError(`--snapshot-id must be a UUID, not '${snapshotId}'.`, EXIT.usage);
  const reg = ctx.state.requireRegistration();
  const release = ctx.state.lock('install');
  try {
    const client = nodeClient(ctx, reg);
    const platform = detectPlatform(ctx.host);
    if (platform.operatingSystem === undefined) throw new AgentError(ALPINE_REFUSAL, EXIT.failure);
    const scanner = await createScanner(platform, ctx.host);
    // Anything queued goes first, so the server's view is in order.
    await flushOutbox(ctx.state, client, ctx.out.progress);
    const snapshot = await fetchSnapshot(ctx, client, reg, snapshotId);
    if (snapshot.SnapshotId && /^[0-9a-fA-F-]{36}$/.test(snapshot.SnapshotId)) snapshotId = snapshot.SnapshotId;
    const start = new Date();
    if (v.refresh) await scanner.scan({ refresh: true });
    const rejected = snapshot.Rejected?.Names ?? [];
    const block = (snapshot.Rejected?.Action ?? 'ALLOW_AS_DEPENDENCY') === 'BLOCK';
    ctx.out.progress(`Installing ${snapshot.Install.length} approved update(s) with ${scanner.manager}${rejected.length ? ` (rejected: ${rejected.join(', ')}; ${block ? 'BLOCK' : 'ALLOW_AS_DEPENDENCY'})` : ''}…`);
    const outcome: InstallOutcome = await scanner.install({ items: snapshot.Install, rejected, block, onProgress: (l) => ctx.out.progress(`  ${l}`) });
    ctx.out.progress('Scanning after the install…');
    const result = await scanner.scan({});
    const end = new Date();
    // Updates refused under BLOCK carry the rejected packages they would pull, so the server shows them Failed.
    for (const u of result.updates) {
      const by = outcome.blockedBy[u.Name];
      if (by) u.DependsOn = by;
    }
    const report = buildReport({
      instanceId: reg.instanceId, platform, operation: 'Install', start, end, scan: result, snapshotId,
      rebootOption: rebootOption as 'NoReboot' | 'RebootIfNeeded', failed: outcome.failed, installedByOperation: outcome.installed,
    });
    const sent = await submitReport(ctx.state, client, report, ctx.out.progress, ctx.out.warn);
    let rebooted = false;
    if (rebootOption === 'RebootIfNeeded' && result.rebootPending) {
      const cmd = (v['reboot-command'] as string | undefined) ?? ctx.env.PATCHLINE_AGENT_REBOOT_COMMAND ?? 'shutdown -r +1 "Patchline agent: rebooting to finish installing patches"';
      ctx.out.progress(`A reboot is needed; running: ${cmd}`);
      const r = await ctx.host.run('sh', ['-c', cmd]);
      rebooted = r.code === 0;
      if (!rebooted) ctx.out.warn(`the reboot command failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    saveStatus(ctx, (st) => {
      st.lastInstall = {
        time: end.toISOString(), snapshotId, installed: outcome.installed.map((i) => `${i.Name} ${i.Version}`),
        failed: outcome.failed.map((i) => `${i.Name} ${i.Version}: ${i.reason}`), rebootPending: result.rebootPending, rebooted,
      };
      st.lastScan = { time: end.toISOString(), operation: 'Install', installed: result.installed.length, updates: result.updates.length, rebootPending: result.rebootPending };
      if (sent.sent.length > 0) st.lastSent = { time: new Date().toISOString(), file: sent.sent[sent.sent.length - 1]!.file };
    });
    const ss = sendSummary(sent);
    const code = sendExit(sent);
    const text = [
      `Snapshot ${snapshotId}: ${outcome.installed.length} installed, ${outcome.failed.length} failed, ${outcome.alreadyCurrent.length} already current; reboot pending: ${result.rebootPending ? 'yes' : 'no'}${rebooted ? ' (reboot started)' : ''}.`,
      ...outcome.installed.map((i) => `  installed ${i.Name} ${i.Version} ${i.Architecture}`),
      ...outcome.failed.map((i) => `  FAILED    ${i.Name} ${i.Version} ${i.Architecture}: ${i.reason}`),
      ...ss.text,
    ];
    ctx.out.result(text, {
      ok: code === EXIT.ok && outcome.failed.length === 0, instanceId: reg.instanceId, snapshotId, rebootOption,
      installed: outcome.installed, failed: outcome.failed, alreadyCurrent: outcome.alreadyCurrent, rebootPending: result.rebootPending, rebooted, ...ss.json,
    });
    if (code !== EXIT.ok) return code;
    return outcome.failed.length > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    release();
  }
}

// ---------------------------------------------------------------- run

export function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new AgentError(`--interval must look like 30s, 15m, 6h or 1d, not '${text}'.`, EXIT.usage);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms < 1000) throw new AgentError('--interval must be at least 1s.', EXIT.usage);
  return ms;
}

async function run(ctx: Ctx): Promise<number> {
  const interval = parseInterval((ctx.values.interval as string | undefined) ?? '6h');
  const jitter = ctx.values.jitter !== undefined ? Number(ctx.values.jitter) : 0.1;
  if (!(jitter >= 0 && jitter < 1)) throw new AgentError('--jitter must be a fraction in [0, 1).', EXIT.usage);
  const reg = ctx.state.requireRegistration();
  const client = nodeClient(ctx, reg);
  const controller = new AbortController();
  const signal = ctx.io.signal ?? controller.signal;
  const onSignal = () => controller.abort();
  if (!ctx.io.signal) { process.once('SIGTERM', onSignal); process.once('SIGINT', onSignal); }
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
  let lastCode: number = EXIT.ok;
  try {
    for (let cycle = 1; !signal.aborted; cycle++) {
      lastCode = await runCycle(ctx, client, reg);
      if (ctx.values.once) break;
      const next = Date.now() + interval * (1 + jitter * (2 * Math.random() - 1));
      // While reports wait in the outbox, try again with back-off until the next scan is due.
      let backoff = Math.min(30_000, interval / 4);
      while (!signal.aborted && ctx.state.outboxFiles().length > 0 && Date.now() + backoff < next) {
        const wait = backoff / 2 + Math.random() * (backoff / 2);
        ctx.out.progress(`${ctx.state.outboxFiles().length} report(s) queued; retrying in ${Math.round(wait / 1000)} s`);
        await sleep(wait);
        if (signal.aborted) break;
        const o = await flushOutbox(ctx.state, client, ctx.out.progress);
        if (o.sent.length > 0) {
          ctx.out.result([`${new Date().toISOString()} Sent ${o.sent.length} queued report(s); ${o.pending} still waiting.`], { ok: o.pending === 0, sent: o.sent.length, pending: o.pending });
        }
        if (o.error && !isRetryable(o.error)) { ctx.out.warn(o.error.message); break; }
        backoff = Math.min(backoff * 2, 15 * 60_000);
      }
      const wait = next - Date.now();
      if (wait > 0 && !signal.aborted) {
        ctx.out.progress(`next scan at ${new Date(next).toISOString()}`);
        await sleep(wait);
      }
    }
  } finally {
    if (!ctx.io.signal) { process.off('SIGTERM', onSignal); process.off('SIGINT', onSignal); }
  }
  return ctx.values.once ? lastCode : EXIT.ok;
}

async function runCycle(ctx: Ctx, client: ApiClient, reg: Registration): Promise<number> {
  let release: () => void;
  try {
    release = ctx.state.lock('scan');
  } catch (err) {
    if (err instanceof AgentError && err.exitCode === EXIT.busy) {
      ctx.out.warn(`${err.message} Skipping this scan.`);
      return EXIT.busy;
    }
    throw err;
  }
  try {
    const s = await doScan(ctx, ctx.values.refresh === true);
    if (s.platform.operatingSystem === undefined) throw new AgentError(ALPINE_REFUSAL, EXIT.failure);
    const report: PutScanReport = buildReport({ instanceId: reg.instanceId, platform: s.platform, operation: 'Scan', start: s.start, end: s.end, scan: s.result });
    const sent = await submitReport(ctx.state, client, report, ctx.out.progress, ctx.out.warn);
    saveStatus(ctx, (st) => {
      st.lastScan = { time: s.end.toISOString(), operation: 'Scan', installed: s.result.installed.length, updates: s.result.updates.length, rebootPending: s.result.rebootPending };
      if (sent.sent.length > 0) st.lastSent = { time: new Date().toISOString(), file: sent.sent[sent.sent.length - 1]!.file };
      if (sent.error) st.lastError = { time: new Date().toISOString(), message: sent.error.message };
      else delete st.lastError;
    });
    const summary = scanSummary(s);
    const ss = sendSummary(sent);
    let code: number;
    try { code = sendExit(sent); } catch (err) { ctx.out.warn((err as Error).message); code = EXIT.state; }
    ctx.out.result([`${new Date().toISOString()} ${summary.text}`, ...ss.text], { ok: code === EXIT.ok, instanceId: reg.instanceId, ...summary.json, ...ss.json });
    return code;
  } catch (err) {
    const e = err instanceof AgentError ? err : new AgentError(String(err));
    ctx.out.warn(`scan failed: ${e.message}`);
    saveStatus(ctx, (st) => { st.lastError = { time: new Date().toISOString(), message: e.message }; });
    return e.exitCode;
  } finally {
    release();
  }
}

// ---------------------------------------------------------------- status

function status(ctx: Ctx): number {
  const reg = ctx.state.readRegistration();
  const st = reg ? ctx.state.readStatus() : {};
  const queued = ctx.state.outboxFiles();
  const holder = ctx.state.lockHolder();
  const text = reg
    ? [
      `Registered as ${reg.instanceId} with ${reg.endpoint} (region ${reg.region}) since ${reg.registeredAt}.`,
      `State directory: ${ctx.state.dir}`,
      `Last scan: ${st.lastScan ? `${st.lastScan.time} (${st.lastScan.operation}; ${st.lastScan.installed} installed, ${st.lastScan.updates} updates, reboot pending: ${st.lastScan.rebootPending ? 'yes' : 'no'})` : 'never'}`,
      `Last report sent: ${st.lastSent?.time ?? 'never'}`,
      `Last install: ${st.lastInstall ? `${st.lastInstall.time} (snapshot ${st.lastInstall.snapshotId}; ${st.lastInstall.installed.length} installed, ${st.lastInstall.failed.length} failed)` : 'never'}`,
      `Outbox: ${queued.length} report(s) waiting${queued.length ? ` (oldest ${queued[0]})` : ''}.`,
      ...(holder ? [`Running now: ${holder.what} (pid ${holder.pid}, since ${holder.since}).`] : []),
      ...(st.lastError ? [`Last error (${st.lastError.time}): ${st.lastError.message}`] : []),
    ]
    : [`Not registered (state directory ${ctx.state.dir}).`];
  const { secretAccessKey: _secret, ...publicReg } = reg ?? ({} as Partial<Registration>);
  ctx.out.result(text, { registered: reg !== undefined, stateDir: ctx.state.dir, ...(reg ? { registration: publicReg } : {}), ...st, outbox: queued, running: holder ?? null });
  return reg ? EXIT.ok : EXIT.usage;
}
