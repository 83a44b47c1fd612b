// Builds Patchline.PutScanReport requests from a scan, and sends reports through the outbox: every report is
// saved first (so a server that is down, or goes away mid-request, loses nothing), then the queue is sent
// oldest first. A report that cannot be saved (disk full) is still sent directly, and the error says so.

import { hostname, networkInterfaces } from 'node:os';
import type { ApiClient } from './http.ts';
import { AgentError, ApiError, EXIT, isRetryable } from './errors.ts';
import type { Platform } from './platform.ts';
import type { StateDir } from './state.ts';
import type { InstallItem, ScanResult } from './scanners/types.ts';
import { AGENT_VERSION } from './version.ts';

export interface PutScanReport {
  InstanceId: string;
  Operation: 'Scan' | 'Install';
  OperationStartTime: number;
  OperationEndTime: number;
  SnapshotId?: string;
  RebootOption?: 'NoReboot' | 'RebootIfNeeded';
  Platform: { OperatingSystem: string; Name: string; Version: string; Product?: string };
  RebootPending: boolean;
  Installed: ScanResult['installed'];
  Updates: ScanResult['updates'];
  Failed?: Array<{ Name: string; Architecture: string; Version?: string }>;
  InstalledByOperation?: Array<{ Name: string; Architecture: string; Version?: string }>;
  AgentVersion: string;
  ComputerName?: string;
  IPAddress?: string;
}

/** The node's first non-internal IPv4 address (else IPv6), as SSM reports it. */
export function primaryAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flat().filter((a) => a !== undefined && !a.internal);
  return (all.find((a) => a!.family === 'IPv4') ?? all[0])?.address;
}

export function buildReport(input: {
  instanceId: string;
  platform: Platform;
  operation: 'Scan' | 'Install';
  start: Date;
  end: Date;
  scan: ScanResult;
  snapshotId?: string;
  rebootOption?: 'NoReboot' | 'RebootIfNeeded';
  failed?: InstallItem[];
  installedByOperation?: InstallItem[];
}): PutScanReport {
  if (input.platform.operatingSystem === undefined) throw new AgentError(`${input.platform.name} has no AWS OperatingSystem value and cannot be reported.`);
  const ref = (i: InstallItem) => ({ Name: i.Name, Architecture: i.Architecture, Version: i.Version });
  const report: PutScanReport = {
    InstanceId: input.instanceId,
    Operation: input.operation,
    OperationStartTime: Math.floor(input.start.getTime() / 1000),
    OperationEndTime: Math.max(Math.floor(input.start.getTime() / 1000), Math.floor(input.end.getTime() / 1000)),
    Platform: {
      OperatingSystem: input.platform.operatingSystem,
      Name: input.platform.name,
      Version: input.platform.version,
      ...(input.platform.product ? { Product: input.platform.product } : {}),
    },
    RebootPending: input.scan.rebootPending,
    Installed: dedupeInstalled(input.scan.installed),
    Updates: input.scan.updates,
    AgentVersion: AGENT_VERSION,
  };
  const computer = hostname();
  if (computer) report.ComputerName = computer.slice(0, 255);
  const ip = primaryAddress();
  if (ip) report.IPAddress = ip;
  if (input.snapshotId) report.SnapshotId = input.snapshotId;
  if (input.rebootOption) report.RebootOption = input.rebootOption;
  if (input.operation === 'Install') {
    report.Failed = (input.failed ?? []).map(ref);
    report.InstalledByOperation = (input.installedByOperation ?? []).map(ref);
  }
  return report;
}

/** The server refuses a report that lists the same name+arch+version twice (dpkg can list a package twice while half-removed). */
function dedupeInstalled(list: ScanResult['installed']): ScanResult['installed'] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.Name}\u0000${p.Architecture}\u0000${p.Version}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface SendOutcome {
  /** Reports the server accepted, oldest first, with its answer. */
  sent: Array<{ file: string; operation: string; answer: Record<string, unknown> }>;
  /** Reports still queued. */
  pending: number;
  /** Reports the server refused for good, moved to outbox/rejected. */
  rejected: Array<{ file: string; error: string }>;
  /** Set when sending stopped early (server unreachable, credentials refused). */
  error?: AgentError;
  /** The report given to `submit` was saved in the outbox before sending (false: the disk was full). */
  saved: boolean;
  saveError?: AgentError;
}

/** Saves `report` in the outbox, then sends everything queued. */
export async function submitReport(state: StateDir, client: ApiClient, report: PutScanReport, log: (line: string) => void, warn: (line: string) => void = log): Promise<SendOutcome> {
  let saveError: AgentError | undefined;
  try {
    state.enqueue(report);
  } catch (err) {
    saveError = err instanceof AgentError ? err : new AgentError(String(err), EXIT.state);
    warn(`${saveError.message} The report is sent directly instead.`);
  }
  const outcome = await flushOutbox(state, client, log, saveError ? report : undefined);
  outcome.saved = saveError === undefined;
  if (saveError) outcome.saveError = saveError;
  return outcome;
}

/** Sends the queued reports oldest first; `unsaved` (a report that could not be queued) goes last. */
export async function flushOutbox(state: StateDir, client: ApiClient, log: (line: string) => void, unsaved?: PutScanReport): Promise<SendOutcome> {
  const outcome: SendOutcome = { sent: [], pending: 0, rejected: [], saved: true };
  const queue: Array<{ file: string; body: Record<string, unknown> | undefined }> = state.outboxFiles().map((file) => ({ file, body: state.readOutbox(file) }));
  if (unsaved) queue.push({ file: '(unsaved)', body: unsaved as unknown as Record<string, unknown> });
  for (let i = 0; i < queue.length; i++) {
    const { file, body } = queue[i]!;
    if (body === undefined) {
      outcome.rejected.push({ file, error: 'unreadable report file' });
      state.rejectFromOutbox(file);
      continue;
    }
    try {
      const answer = await client.call<Record<string, unknown>>('Patchline.PutScanReport', body);
      if (file !== '(unsaved)') state.removeFromOutbox(file);
      outcome.sent.push({ file, operation: String(body.Operation), answer });
      log(`sent ${body.Operation} report of ${new Date(Number(body.OperationEndTime) * 1000).toISOString()}`);
    } catch (err) {
      if (err instanceof ApiError && !err.retryable && (err.code === 'ValidationException' || err.code === 'SerializationException')) {
        // It will never be accepted: keep it aside for a person, and go on with the rest.
        const where = file === '(unsaved)' ? file : state.rejectFromOutbox(file);
        outcome.rejected.push({ file: where, error: err.message });
        log(`the server refused a report for good (${err.message}); kept in ${where}`);
        continue;
      }
      outcome.error = err instanceof AgentError ? err : new AgentError(String(err));
      outcome.pending = Math.max(0, queue.length - (unsaved ? 1 : 0) - i);
      if (isRetryable(err)) log(`the server could not take the report now: ${outcome.error.message}`);
      return outcome;
    }
  }
  return outcome;
}
