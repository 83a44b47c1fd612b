// Raw scans for Patchline.PutScanReport and what the API tests of server-side evaluation read back after every
// change: wire-shaped body builders (the request shape of model/patchline-model.json), the Debian 12 host snapshot
// (../shared/fixtures/hosts) as a scan, waiting for Patchline.GetEvaluationStatus to say Current (polling, never a
// fixed sleep), and one call that gathers what each read API shows for a node so a test can compare them.

import assert from 'node:assert/strict';
import {
  DescribeInstancePatchStatesCommand, ListComplianceItemsCommand, ListInventoryEntriesCommand, ListResourceComplianceSummariesCommand,
  paginateDescribeInstancePatches, type ComplianceItem, type DescribeInstancePatchesRequest, type InstancePatchState,
  type PatchComplianceData, type ResourceComplianceSummaryItem, type SSMClient,
} from '@aws-sdk/client-ssm';
import { callPatchline, COUNTER_NAMES, type Counters } from './fleet.ts';
import { TEST_ADMIN, type TestServer } from './server.ts';
import type { Credentials } from './raw-request.ts';
import { aptCandidates, hostFixturesDir, readAptListUpgradable, readDpkgQuery } from '../domain/evaluation/support.ts';
import { verifyAggregates } from '../../src/services/verify.ts';

export const DAY = 86_400;
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

// ---- wire shapes --------------------------------------------------------------------------------------------------

export interface WirePackage {
  Name: string;
  Version: string;
  Architecture: string;
  [member: string]: unknown;
}

export interface WireUpdate extends WirePackage {
  Security: boolean;
}

export interface ScanInput {
  os: string;
  /** Platform.Name and Platform.Version. */
  platformName: string;
  platformVersion: string;
  product?: string;
  installed: WirePackage[];
  updates: WireUpdate[];
  operation?: 'Scan' | 'Install';
  rebootPending?: boolean;
  rebootOption?: 'RebootIfNeeded' | 'NoReboot';
  snapshotId?: string;
  failed?: Array<{ Name: string; Architecture: string; Version?: string }>;
  installedByOperation?: Array<{ Name: string; Architecture: string; Version?: string }>;
  notApplicable?: WireUpdate[];
  /** Epoch seconds; default: end = now, start = end − 60. */
  start?: number;
  end?: number;
}

/** A Patchline.PutScanReport request body. */
export function scanBody(instanceId: string, s: ScanInput): Record<string, unknown> {
  const end = s.end ?? nowSeconds();
  const body: Record<string, unknown> = {
    InstanceId: instanceId,
    Operation: s.operation ?? 'Scan',
    OperationStartTime: s.start ?? end - 60,
    OperationEndTime: end,
    RebootPending: s.rebootPending ?? false,
    Platform: { OperatingSystem: s.os, Name: s.platformName, Version: s.platformVersion, ...(s.product !== undefined ? { Product: s.product } : {}) },
    Installed: s.installed,
    Updates: s.updates,
  };
  if (s.rebootOption !== undefined) body.RebootOption = s.rebootOption;
  if (s.snapshotId !== undefined) body.SnapshotId = s.snapshotId;
  if (s.failed !== undefined) body.Failed = s.failed;
  if (s.installedByOperation !== undefined) body.InstalledByOperation = s.installedByOperation;
  if (s.notApplicable !== undefined) body.NotApplicable = s.notApplicable;
  return body;
}

export function putScan(server: TestServer, body: object, credentials: Credentials = TEST_ADMIN): Promise<{ InstancePatchState: InstancePatchState; EvaluatedAt: number }> {
  return callPatchline(server.endpoint, credentials, 'PutScanReport', body);
}

// ---- the Debian 12 host snapshot ------------------------------------------------------------------------------------

/** When every installed package of the Debian host scans is said to have been installed (epoch seconds). */
export const DEBIAN_INSTALLED_TIME = Date.UTC(2026, 10, 1, 8, 0, 0) / 1000;

export interface DebianHost {
  installed: WirePackage[];
  updates: WireUpdate[];
  /** name.arch of the candidates from a `-security` suite, with their candidate version. */
  security: Map<string, string>;
  /** name.arch → candidate version, every candidate. */
  candidates: Map<string, string>;
}

/**
 * The host snapshot as wire packages: dpkg-query.tsv is what is installed (each with DEBIAN_INSTALLED_TIME),
 * apt-list-upgradable.txt the candidates, `Security` when one of the version's suites is a `-security` pocket,
 * Priority `optional` (apt's listing carries none; Debian gives nearly every package that priority). With
 * `limit`, only the first `limit` installed packages and their candidates.
 */
export function debianHost(limit?: number): DebianHost {
  const dir = hostFixturesDir;
  if (dir === undefined) throw new Error('the Debian host fixtures are absent');
  const installed = readDpkgQuery(dir).slice(0, limit);
  const names = new Set(installed.map((p) => `${p.name}.${p.arch}`));
  const updates = aptCandidates(readAptListUpgradable(dir)).filter((u) => names.has(`${u.name}.${u.arch}`));
  const security = new Map<string, string>();
  const candidates = new Map<string, string>();
  for (const u of updates) {
    candidates.set(`${u.name}.${u.arch}`, u.version);
    if (u.security === true) security.set(`${u.name}.${u.arch}`, u.version);
  }
  return {
    installed: installed.map((p) => ({
      Name: p.name, Version: p.version, Architecture: p.arch, InstalledTime: DEBIAN_INSTALLED_TIME,
      ...(p.sourceName !== undefined ? { SourceName: p.sourceName } : {}), ...(p.sourceVersion !== undefined ? { SourceVersion: p.sourceVersion } : {}),
    })),
    updates: updates.map((u) => ({ Name: u.name, Version: u.version, Architecture: u.arch, Security: u.security === true, Repository: u.repository!, Priority: u.priority! })),
    security,
    candidates,
  };
}

export function debianScan(instanceId: string, host: DebianHost, more: Partial<ScanInput> = {}): Record<string, unknown> {
  return scanBody(instanceId, { os: 'DEBIAN', platformName: 'Debian GNU/Linux', platformVersion: '12', installed: host.installed, updates: host.updates, ...more });
}

// ---- evaluation status ----------------------------------------------------------------------------------------------

export interface EvaluationStatus {
  Current: boolean;
  PendingNodes: number;
  ScannedNodes: number;
  LastEvaluationTime?: number;
  NextScheduledChange?: number;
}

export function evaluationStatus(server: TestServer): Promise<EvaluationStatus> {
  return callPatchline(server.endpoint, TEST_ADMIN, 'GetEvaluationStatus', {});
}

/**
 * Polls Patchline.GetEvaluationStatus until it says Current (and, with `evaluatedSince`, until the last
 * evaluation is at or after that epoch-seconds time); fails after `timeoutMs`.
 */
export async function waitForCurrent(server: TestServer, options: { timeoutMs?: number; evaluatedSince?: number } = {}): Promise<EvaluationStatus> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: EvaluationStatus | undefined;
  for (;;) {
    last = await evaluationStatus(server);
    const recent = options.evaluatedSince === undefined || (last.LastEvaluationTime ?? 0) >= options.evaluatedSince;
    if (last.Current && recent) return last;
    if (Date.now() > deadline) throw new Error(`evaluation not current after ${options.timeoutMs ?? 30_000} ms: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- what the read APIs show ----------------------------------------------------------------------------------------

export async function allPatches(ssm: SSMClient, InstanceId: string, Filters?: DescribeInstancePatchesRequest['Filters'], pageSize = 100): Promise<PatchComplianceData[]> {
  const out: PatchComplianceData[] = [];
  for await (const page of paginateDescribeInstancePatches({ client: ssm, pageSize }, { InstanceId, ...(Filters ? { Filters } : {}) })) out.push(...(page.Patches ?? []));
  return out;
}

export interface NodeView {
  /** DescribeInstancePatchStates. */
  state: InstancePatchState;
  /** DescribeInstancePatches, every page. */
  patches: PatchComplianceData[];
  /** ListComplianceItems of type Patch, every page. */
  items: ComplianceItem[];
  /** ListResourceComplianceSummaries for the node's Patch compliance. */
  resource: ResourceComplianceSummaryItem;
  /** ListInventoryEntries AWS:PatchSummary (its one entry). */
  inventory: Record<string, string>;
  /** Patchline.DescribeInstancePatchStateHistory, oldest first. */
  history: Array<Record<string, unknown>>;
}

export async function nodeView(server: TestServer, ssm: SSMClient, InstanceId: string): Promise<NodeView> {
  const states = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [InstanceId] }))).InstancePatchStates ?? [];
  assert.equal(states.length, 1, `DescribeInstancePatchStates ${InstanceId}`);
  const patches = await allPatches(ssm, InstanceId);
  const items: ComplianceItem[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(new ListComplianceItemsCommand({ ResourceIds: [InstanceId], ResourceTypes: ['ManagedInstance'], Filters: [{ Key: 'ComplianceType', Values: ['Patch'], Type: 'EQUAL' }], MaxResults: 50, NextToken }));
    items.push(...(page.ComplianceItems ?? []));
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  const summaries = (await ssm.send(new ListResourceComplianceSummariesCommand({
    Filters: [{ Key: 'ComplianceType', Values: ['Patch'], Type: 'EQUAL' }, { Key: 'InstanceId', Values: [InstanceId], Type: 'EQUAL' }],
  }))).ResourceComplianceSummaryItems ?? [];
  assert.equal(summaries.length, 1, `ListResourceComplianceSummaries ${InstanceId}`);
  const inventory = (await ssm.send(new ListInventoryEntriesCommand({ InstanceId, TypeName: 'AWS:PatchSummary' }))).Entries ?? [];
  assert.equal(inventory.length, 1, `ListInventoryEntries AWS:PatchSummary ${InstanceId}`);
  const history: Array<Record<string, unknown>> = [];
  let token: string | undefined;
  do {
    const page = await callPatchline(server.endpoint, TEST_ADMIN, 'DescribeInstancePatchStateHistory', { InstanceId, MaxResults: 1000, ...(token ? { NextToken: token } : {}) });
    history.push(...page.History);
    token = page.NextToken;
  } while (token !== undefined);
  return { state: states[0]!, patches, items, resource: summaries[0]!, inventory: inventory[0]!, history };
}

/** The twelve counters of an InstancePatchState (absent members read as 0). */
export function countersOf(state: object): Counters {
  const s = state as Record<string, unknown>;
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, typeof s[n] === 'number' ? s[n] : 0])) as Counters;
}

/** Full counters from the ones given (the rest 0). */
export function counters(given: Partial<Counters>): Counters {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, given[n] ?? 0])) as Counters;
}

/** State → number of rows. */
export function stateTally(patches: readonly PatchComplianceData[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of patches) out[String(p.State)] = (out[String(p.State)] ?? 0) + 1;
  return out;
}

/**
 * Checks that every read API tells the same story about one node: the counters of DescribeInstancePatchStates
 * equal the rows' tallies and the AWS:PatchSummary entry; the Patch compliance items are the rows (Status from the
 * state, Severity = compliance level) and the resource summary counts them; the latest history point has the
 * same counters, baseline and group. `nonCompliantStates` lists the states counted as non-compliant (add
 * AvailableSecurityUpdate under a NON_COMPLIANT baseline option).
 */
export function assertConsistent(view: NodeView, nonCompliantStates: readonly string[] = ['Missing', 'Failed', 'InstalledRejected', 'InstalledPendingReboot']): void {
  const c = countersOf(view.state);
  const tally = stateTally(view.patches);
  const byState: Record<string, keyof Counters> = {
    Installed: 'InstalledCount', InstalledOther: 'InstalledOtherCount', InstalledPendingReboot: 'InstalledPendingRebootCount',
    InstalledRejected: 'InstalledRejectedCount', Missing: 'MissingCount', Failed: 'FailedCount', NotApplicable: 'NotApplicableCount',
    AvailableSecurityUpdate: 'AvailableSecurityUpdateCount',
  };
  for (const [state, counter] of Object.entries(byState)) assert.equal(c[counter], tally[state] ?? 0, `${counter} vs rows in state ${state}`);
  assert.equal(view.patches.length, Object.values(tally).reduce((a, b) => a + b, 0));
  for (const n of COUNTER_NAMES) assert.equal(view.inventory[n], String(c[n]), `AWS:PatchSummary ${n}`);
  assert.equal(view.inventory.BaselineId, view.state.BaselineId);
  assert.equal(view.inventory.PatchGroup, view.state.PatchGroup);
  assert.equal(view.inventory.OperationType, view.state.Operation);

  // Compliance items: one per row that is not NotApplicable… AWS lists them all; the status is '' for those.
  assert.equal(view.items.length, view.patches.length, 'one Patch compliance item per row');
  const rowByKb = new Map(view.patches.map((p) => [`${p.KBId}\u0000${p.Title}`, p]));
  let nonCompliant = 0;
  let compliant = 0;
  for (const item of view.items) {
    const row = rowByKb.get(`${item.Id}\u0000${item.Title}`);
    assert.ok(row !== undefined, `compliance item ${item.Id} ${item.Title} has a row`);
    const state = String(row.State);
    assert.equal(item.Details?.PatchState, state);
    assert.equal(item.Details?.Classification, row.Classification);
    assert.equal(item.Details?.PatchSeverity, row.Severity);
    assert.equal(item.Details?.PatchBaselineId, view.state.BaselineId);
    assert.equal(item.Details?.PatchGroup, view.state.PatchGroup);
    const expected = state === 'NotApplicable' ? undefined : nonCompliantStates.includes(state) ? 'NON_COMPLIANT' : 'COMPLIANT';
    if (expected !== undefined) assert.equal(item.Status, expected, `compliance item ${item.Id} (${state})`);
    if (expected === 'NON_COMPLIANT') nonCompliant++;
    if (expected === 'COMPLIANT') compliant++;
  }
  assert.equal(view.resource.NonCompliantSummary?.NonCompliantCount, nonCompliant, 'resource summary: non-compliant items');
  assert.equal(view.resource.CompliantSummary?.CompliantCount, compliant, 'resource summary: compliant items');
  assert.equal(view.resource.Status, nonCompliant > 0 ? 'NON_COMPLIANT' : 'COMPLIANT');

  const last = view.history[view.history.length - 1]!;
  assert.equal(last.BaselineId, view.state.BaselineId);
  assert.equal(last.PatchGroup, view.state.PatchGroup);
  for (const n of COUNTER_NAMES) assert.equal(last[n], c[n], `history ${n}`);
}

/** verifyAggregates finds every kept aggregate equal to the recomputation from the per-node rows. */
export async function assertAggregatesExact(server: TestServer, context = ''): Promise<void> {
  const { differences } = await verifyAggregates(server.app.store, { repair: false });
  assert.deepEqual(differences, [], `verifyAggregates ${context}`);
}

// ---- hand-written expected rows -------------------------------------------------------------------------------------

/** One expected DescribeInstancePatches row, with the compliance level its Patch compliance item must carry. */
export interface RowExpectation {
  kb: string;
  state: string;
  title: string;
  classification?: string;
  severity?: string;
  cves?: string;
  /** The Patch compliance item's Severity (the baseline's compliance level); default UNSPECIFIED. */
  level?: string;
  /** Epoch seconds; default `installedAt` for installed states, 0 otherwise. */
  installedTime?: number;
}

const INSTALLED_STATES = new Set(['Installed', 'InstalledOther', 'InstalledPendingReboot', 'InstalledRejected']);

/** The node's rows (by KBId) are exactly the table; Classification/Severity default to '', CVEIds to none. */
export function assertTable(view: NodeView, table: readonly RowExpectation[], installedAt: number, context: string): void {
  const levels = new Map(view.items.map((i) => [`${i.Id}\u0000${i.Title}`, i.Severity]));
  const actual = view.patches.map((p) => ({
    kb: p.KBId!, state: String(p.State), title: p.Title!, classification: p.Classification ?? '', severity: p.Severity ?? '', cves: p.CVEIds,
    level: levels.get(`${p.KBId}\u0000${p.Title}`), installedTime: p.InstalledTime!.getTime() / 1000,
  })).sort((a, b) => (a.kb < b.kb ? -1 : a.kb > b.kb ? 1 : 0));
  const expected = table.map((e) => ({
    kb: e.kb, state: e.state, title: e.title, classification: e.classification ?? '', severity: e.severity ?? '', cves: e.cves,
    level: e.level ?? 'UNSPECIFIED', installedTime: e.installedTime ?? (INSTALLED_STATES.has(e.state) ? installedAt : 0),
  })).sort((a, b) => (a.kb < b.kb ? -1 : a.kb > b.kb ? 1 : 0));
  assert.deepEqual(actual, expected, context);
}
