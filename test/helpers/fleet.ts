// Builders for what the SSM agent sends through PutInventory after a patch Scan/Install (semantics §9):
// AWS:PatchSummary (one entry, every value a string), AWS:PatchCompliance (one entry per patch),
// AWS:ComplianceItem (entries + a Context naming the compliance type), Custom:… items, and small tools the
// reporting tests share: node ids, a seeded random source, random counters, and the recomputation of
// DescribePatchGroupState from per-node InstancePatchStates.

import type { InstancePatchState, InventoryItem, PutInventoryCommandInput } from '@aws-sdk/client-ssm';
import { signedRequest, type Credentials } from './raw-request.ts';

export const CAPTURE_TIME = '2026-03-01T12:00:00Z';
export const BASELINE_ID = 'pb-0123456789abcdef0';
export const OTHER_BASELINE_ID = 'pb-0fedcba9876543210';

export const COUNTER_NAMES = [
  'InstalledCount', 'InstalledOtherCount', 'InstalledPendingRebootCount', 'InstalledRejectedCount', 'MissingCount', 'FailedCount',
  'NotApplicableCount', 'UnreportedNotApplicableCount', 'AvailableSecurityUpdateCount', 'CriticalNonCompliantCount',
  'SecurityNonCompliantCount', 'OtherNonCompliantCount',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

/** DescribePatchGroupState member counting the nodes whose counter is > 0. */
export const GROUP_MEMBER: Record<CounterName, string> = {
  InstalledCount: 'InstancesWithInstalledPatches',
  InstalledOtherCount: 'InstancesWithInstalledOtherPatches',
  InstalledPendingRebootCount: 'InstancesWithInstalledPendingRebootPatches',
  InstalledRejectedCount: 'InstancesWithInstalledRejectedPatches',
  MissingCount: 'InstancesWithMissingPatches',
  FailedCount: 'InstancesWithFailedPatches',
  NotApplicableCount: 'InstancesWithNotApplicablePatches',
  UnreportedNotApplicableCount: 'InstancesWithUnreportedNotApplicablePatches',
  AvailableSecurityUpdateCount: 'InstancesWithAvailableSecurityUpdates',
  CriticalNonCompliantCount: 'InstancesWithCriticalNonCompliantPatches',
  SecurityNonCompliantCount: 'InstancesWithSecurityNonCompliantPatches',
  OtherNonCompliantCount: 'InstancesWithOtherNonCompliantPatches',
};

/** The 13 members of DescribePatchGroupStateResult. */
export const GROUP_STATE_MEMBERS = ['Instances', ...COUNTER_NAMES.map((n) => GROUP_MEMBER[n])] as const;

export function zeroCounters(): Counters {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Counters;
}

/** A managed-node id `mi-` + 17 word characters: a short tag (letters) then the number, zero-padded. */
export function nodeId(n: number, tag = 'a'): string {
  if (!/^[a-z]{1,8}$/.test(tag)) throw new Error(`nodeId tag must be 1-8 lower-case letters: ${tag}`);
  return `mi-${tag}${String(n).padStart(17 - tag.length, '0')}`;
}

/** An EC2 instance id `i-` + 17 hex-ish word characters. */
export function ec2Id(n: number): string {
  return `i-${String(n).padStart(17, '0')}`;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with the seed it prints. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** Counters where each is 0 about half the time (so every DescribePatchGroupState member moves), -1 for Unreported sometimes. */
export function randomCounters(r: () => number): Counters {
  const c = zeroCounters();
  for (const n of COUNTER_NAMES) c[n] = r() < 0.5 ? 0 : 1 + Math.floor(r() * 40);
  if (r() < 0.3) c.UnreportedNotApplicableCount = -1;
  return c;
}

// ---- AWS:PatchSummary -------------------------------------------------------------------------------------------

export interface SummaryInput {
  patchGroup?: string;
  baselineId?: string;
  snapshotId?: string;
  ownerInformation?: string;
  /** Counters to send; missing ones are sent as "0", except UnreportedNotApplicableCount which is then left out. */
  counters?: Partial<Counters>;
  operation?: 'Scan' | 'Install';
  /** ISO-8601 UTC. */
  start?: string;
  end?: string;
  rebootOption?: 'RebootIfNeeded' | 'NoReboot';
  installOverrideList?: string;
  lastNoRebootInstall?: string;
  executionId?: string;
  /** Attributes merged over the built entry last (for malformed reports); undefined values delete a key. */
  override?: Record<string, string | undefined>;
  contentHash?: string;
  schemaVersion?: string;
  captureTime?: string;
}

export function summaryEntry(input: SummaryInput = {}): Record<string, string> {
  const e: Record<string, string> = {
    PatchGroup: input.patchGroup ?? '',
    BaselineId: input.baselineId ?? BASELINE_ID,
    OperationType: input.operation ?? 'Scan',
    OperationStartTime: input.start ?? '2026-03-01T11:50:00Z',
    OperationEndTime: input.end ?? '2026-03-01T11:55:00Z',
  };
  if (input.snapshotId !== undefined) e.SnapshotId = input.snapshotId;
  if (input.ownerInformation !== undefined) e.OwnerInformation = input.ownerInformation;
  for (const n of COUNTER_NAMES) {
    const v = input.counters?.[n];
    if (v !== undefined) e[n] = String(v);
    else if (n !== 'UnreportedNotApplicableCount') e[n] = '0';
  }
  if (input.rebootOption !== undefined) e.RebootOption = input.rebootOption;
  if (input.installOverrideList !== undefined) e.InstallOverrideList = input.installOverrideList;
  if (input.lastNoRebootInstall !== undefined) e.LastNoRebootInstallOperationTime = input.lastNoRebootInstall;
  if (input.executionId !== undefined) e.ExecutionId = input.executionId;
  for (const [k, v] of Object.entries(input.override ?? {})) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

export function patchSummary(input: SummaryInput = {}): InventoryItem {
  const item: InventoryItem = {
    TypeName: 'AWS:PatchSummary',
    SchemaVersion: input.schemaVersion ?? '1.0',
    CaptureTime: input.captureTime ?? CAPTURE_TIME,
    Content: [summaryEntry(input)],
  };
  if (input.contentHash !== undefined) item.ContentHash = input.contentHash;
  return item;
}

// ---- AWS:PatchCompliance ----------------------------------------------------------------------------------------

/** One AWS:PatchCompliance entry as the agent sends it (State in either spelling; InstalledTime ISO or ''). */
export interface PatchEntry {
  Title: string;
  KBId: string;
  Classification: string;
  Severity: string;
  State: string;
  InstalledTime: string;
  CVEIds?: string;
}

/** The two spellings of each state: CamelCase (AWS output) → the model enum's UPPER_SNAKE. */
export const STATE_SPELLINGS: Record<string, string> = {
  Installed: 'INSTALLED',
  InstalledOther: 'INSTALLED_OTHER',
  InstalledPendingReboot: 'INSTALLED_PENDING_REBOOT',
  InstalledRejected: 'INSTALLED_REJECTED',
  Missing: 'MISSING',
  Failed: 'FAILED',
  NotApplicable: 'NOT_APPLICABLE',
};
const CAMEL_OF = new Map(Object.entries(STATE_SPELLINGS).flatMap(([camel, snake]) => [[camel, camel], [snake, camel]]));

/** Either spelling → CamelCase (what the read APIs return). */
export function camelState(state: string): string {
  const s = CAMEL_OF.get(state);
  if (s === undefined) throw new Error(`not a patch state: ${state}`);
  return s;
}

const INSTALLED_STATES = new Set(['Installed', 'InstalledOther', 'InstalledPendingReboot', 'InstalledRejected']);
const NON_COMPLIANT_STATES = new Set(['Missing', 'Failed', 'InstalledRejected', 'InstalledPendingReboot']);

export function isInstalledState(state: string): boolean {
  return INSTALLED_STATES.has(camelState(state));
}

export function isNonCompliantState(state: string): boolean {
  return NON_COMPLIANT_STATES.has(camelState(state));
}

/** A patch entry; installed states get an InstalledTime, Missing/Failed get CVEIds unless given. */
export function patchEntry(kb: string, state: string, more: Partial<PatchEntry> = {}): PatchEntry {
  const installed = isInstalledState(state);
  const e: PatchEntry = {
    Title: `${kb} title`,
    KBId: kb,
    Classification: 'Security',
    Severity: 'Important',
    State: state,
    InstalledTime: installed ? '2026-02-20T08:30:00Z' : '',
    ...more,
  };
  return e;
}

export function patchCompliance(entries: PatchEntry[], options: { contentHash?: string; schemaVersion?: string } = {}): InventoryItem {
  const item: InventoryItem = {
    TypeName: 'AWS:PatchCompliance',
    SchemaVersion: options.schemaVersion ?? '1.0',
    CaptureTime: CAPTURE_TIME,
    Content: entries.map((e) => ({ ...e }) as Record<string, string>),
  };
  if (options.contentHash !== undefined) item.ContentHash = options.contentHash;
  return item;
}

/**
 * The counters a list of patch entries implies, without UnreportedNotApplicableCount (so the summary leaves it
 * out). Critical stays 0 (it needs the baseline's compliance levels); Security/Other split on Classification.
 */
export function stateCounters(entries: readonly PatchEntry[]): Partial<Counters> {
  const c: Partial<Counters> = zeroCounters();
  delete c.UnreportedNotApplicableCount;
  const field: Record<string, CounterName> = {
    Installed: 'InstalledCount', InstalledOther: 'InstalledOtherCount', InstalledPendingReboot: 'InstalledPendingRebootCount',
    InstalledRejected: 'InstalledRejectedCount', Missing: 'MissingCount', Failed: 'FailedCount', NotApplicable: 'NotApplicableCount',
  };
  for (const e of entries) c[field[camelState(e.State)]!]! += 1;
  c.SecurityNonCompliantCount = entries.filter((e) => isNonCompliantState(e.State) && e.Classification === 'Security').length;
  c.OtherNonCompliantCount = entries.filter((e) => isNonCompliantState(e.State) && e.Classification !== 'Security').length;
  return c;
}

/** `n` patches KB0000000…, cycling through the given states; deterministic per index. */
export function manyPatches(n: number, states: readonly string[] = ['Installed', 'Missing', 'InstalledOther', 'Failed'], prefix = 'KB'): PatchEntry[] {
  const classes = ['Security', 'Bugfix', 'Enhancement'];
  const severities = ['Critical', 'Important', 'Medium', 'Low'];
  return Array.from({ length: n }, (_, i) => patchEntry(`${prefix}${String(i).padStart(7, '0')}`, states[i % states.length]!, {
    Classification: classes[i % classes.length]!,
    Severity: severities[i % severities.length]!,
  }));
}

// ---- AWS:ComplianceItem -----------------------------------------------------------------------------------------

export interface ComplianceContext {
  ComplianceType: string;
  ExecutionId?: string;
  ExecutionType?: string;
  ExecutionTime?: string;
}

export function complianceItem(context: ComplianceContext, entries: Array<Record<string, string>>, options: { contentHash?: string } = {}): InventoryItem {
  const item: InventoryItem = {
    TypeName: 'AWS:ComplianceItem',
    SchemaVersion: '1.0',
    CaptureTime: CAPTURE_TIME,
    Content: entries,
    Context: { ...context } as Record<string, string>,
  };
  if (options.contentHash !== undefined) item.ContentHash = options.contentHash;
  return item;
}

/** AWS:ComplianceItem entries of type Patch as AWS-RunPatchBaseline builds them from its patch rows. */
export function patchComplianceItemEntries(patches: readonly PatchEntry[], context: { baselineId?: string; patchGroup?: string; severity?: string } = {}): Array<Record<string, string>> {
  return patches.map((p) => {
    const state = camelState(p.State);
    const e: Record<string, string> = {
      Id: p.KBId,
      Title: p.Title,
      Status: state === 'NotApplicable' ? '' : isNonCompliantState(state) ? 'NON_COMPLIANT' : 'COMPLIANT',
      Severity: context.severity ?? 'UNSPECIFIED',
      DocumentName: 'AWS-RunPatchBaseline',
      DocumentVersion: '1',
      Classification: p.Classification,
      PatchBaselineId: context.baselineId ?? BASELINE_ID,
      PatchSeverity: p.Severity,
      PatchState: state,
      PatchGroup: context.patchGroup ?? '',
      InstalledTime: p.InstalledTime,
    };
    if (p.CVEIds !== undefined) e.CVEIds = p.CVEIds;
    return e;
  });
}

// ---- other items and whole reports ------------------------------------------------------------------------------

export function customItem(typeName: string, entries: Array<Record<string, string>>, options: { contentHash?: string; schemaVersion?: string; context?: Record<string, string> } = {}): InventoryItem {
  const item: InventoryItem = { TypeName: typeName, SchemaVersion: options.schemaVersion ?? '1.0', CaptureTime: CAPTURE_TIME, Content: entries };
  if (options.contentHash !== undefined) item.ContentHash = options.contentHash;
  if (options.context !== undefined) item.Context = options.context;
  return item;
}

export function instanceInformation(entry: Record<string, string>): InventoryItem {
  return { TypeName: 'AWS:InstanceInformation', SchemaVersion: '1.0', CaptureTime: CAPTURE_TIME, Content: [entry] };
}

/** A full patch report: summary (+ rows when given) (+ any further items). */
export function patchReport(instanceId: string, summary: SummaryInput, patches?: PatchEntry[], ...more: InventoryItem[]): PutInventoryCommandInput {
  const items = [patchSummary(summary)];
  if (patches !== undefined) items.push(patchCompliance(patches));
  items.push(...more);
  return { InstanceId: instanceId, Items: items };
}

/** DescribePatchGroupState recomputed from the nodes' summaries: 1 per node, 1 per counter > 0. */
export function groupStateOf(states: readonly InstancePatchState[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(GROUP_STATE_MEMBERS.map((m) => [m, 0]));
  for (const s of states) {
    out.Instances!++;
    for (const n of COUNTER_NAMES) if (((s as unknown as Record<string, number | undefined>)[n] ?? 0) > 0) out[GROUP_MEMBER[n]]!++;
  }
  return out;
}

/** The 13 members of a DescribePatchGroupState answer (absent members read as 0). */
export function groupStateMembers(result: object): Record<string, number> {
  const r = result as Record<string, unknown>;
  return Object.fromEntries(GROUP_STATE_MEMBERS.map((m) => [m, typeof r[m] === 'number' ? (r[m] as number) : 0]));
}

// ---- Patchline's own operations (not in the AWS SDK) ------------------------------------------------------------

/** Calls `Patchline.<operation>` with a signed raw request; returns the parsed body or throws an Error named by the code. */
export async function callPatchline(endpoint: string, credentials: Credentials, operation: string, body: object): Promise<any> {
  const res = await signedRequest(endpoint, { target: `Patchline.${operation}`, body, credentials });
  if (res.status !== 200) {
    const err = new Error(String(res.json?.message ?? res.text));
    err.name = String(res.headers['x-amzn-errortype'] ?? res.json?.__type ?? `HTTP${res.status}`);
    throw err;
  }
  return res.json;
}

/** A member of an SDK output by name (counters of InstancePatchState, members of DescribePatchGroupState). */
export function member(output: object, name: string): unknown {
  return (output as Record<string, unknown>)[name];
}
