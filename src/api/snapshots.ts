// Deployable patch snapshots: GetDeployablePatchSnapshotForInstance (freeze the node's baseline for a run and hand
// out the node's snapshot document by a presigned URL), Patchline.GetPatchSnapshot (the same document through the
// API, for agents), and the presigned download route GET /snapshots/<SnapshotId>.json (src/server/http-server.ts).
//
// A snapshot is keyed as AWS keys it — (SnapshotId, patch group, OS), plus the BaselineOverride if one was given —
// so every node of one run shares one frozen baseline and one evaluation time. Each node's document lists what it
// should install: its latest scan's Missing/Failed rows under the frozen baseline at the snapshot's creation time.
// Document format: docs/api.md "Snapshot document".

import { createHash } from 'node:crypto';
import { ServiceError, Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { stableJson } from '../server/next-token.ts';
import { applyDefinitionInput, checkDefinition, emptyDefinition, ruleMembers, type Baseline, type BaselineDefinition } from '../domain/baseline.ts';
import { compileBaseline, evaluateNode } from '../domain/evaluation/index.ts';
import { getSnapshotDocument, putSnapshotDocument, sharedSnapshot } from '../store/snapshot-store.ts';
import type { App } from '../app.ts';
import type { SignedRequest } from '../server/sigv4.ts';
import type { StoredScanRow, PatchSnapshotsTable } from '../store/schema.ts';
import type {
  BaselineOverride, GetDeployablePatchSnapshotForInstanceRequest, PatchlineGetPatchSnapshotRequest,
} from '../generated/ssm-types.ts';

/** The BaselineId a BaselineOverride is evaluated under (it has none of its own; the document leaves it out). */
const OVERRIDE_ID = 'BaselineOverride';

/** The GetPatchBaseline-shaped baseline of a snapshot document (BaselineId and Name absent for an override). */
export interface SnapshotBaseline {
  BaselineId?: string;
  Name?: string;
  OperatingSystem: string;
  Description?: string;
  GlobalFilters: BaselineDefinition['GlobalFilters'];
  ApprovalRules: BaselineDefinition['ApprovalRules'];
  ApprovedPatches: string[];
  ApprovedPatchesComplianceLevel: string;
  ApprovedPatchesEnableNonSecurity: boolean;
  RejectedPatches: string[];
  RejectedPatchesAction: string;
  Sources: BaselineDefinition['Sources'];
  AvailableSecurityUpdatesComplianceStatus?: string;
}

export interface SnapshotInstallItem {
  Name: string;
  Architecture: string;
  Version: string;
  KBId: string;
  Title: string;
  ComplianceLevel: string;
  CVEIds?: string;
}

export interface SnapshotDocument {
  SnapshotId: string;
  InstanceId: string;
  /** Epoch seconds: when the run's snapshot was created (the evaluation time of Install). */
  CreatedTime: number;
  OperatingSystem: string;
  Product: string;
  /** The node's patch group, '' for none. */
  PatchGroup: string;
  Baseline: SnapshotBaseline;
  Install: SnapshotInstallItem[];
  Rejected: { Action: string; Names: string[] };
}

function snapshotBaseline(b: BaselineDefinition & { BaselineId: string }, override: boolean): SnapshotBaseline {
  return {
    ...(override ? {} : { BaselineId: b.BaselineId, Name: b.Name }),
    OperatingSystem: b.OperatingSystem,
    ...(override || b.Description === undefined ? {} : { Description: b.Description }),
    ...ruleMembers(b),
  };
}

/** A snapshot baseline as the engine compiles it. */
function definitionOf(b: SnapshotBaseline): BaselineDefinition & { BaselineId: string } {
  return { ...b, Name: b.Name ?? OVERRIDE_ID, BaselineId: b.BaselineId ?? OVERRIDE_ID };
}

/** A BaselineOverride as a full definition (AWS's defaults for what it leaves out), checked like CreatePatchBaseline. */
function overrideDefinition(override: BaselineOverride, nodeOs: string, instanceId: string): BaselineDefinition & { BaselineId: string } {
  const os = override.OperatingSystem ?? nodeOs;
  if (os !== nodeOs) {
    throw new ServiceError('UnsupportedOperatingSystem', `The BaselineOverride is for ${os}, but managed node ${instanceId} runs ${nodeOs}.`);
  }
  const def = applyDefinitionInput(emptyDefinition(OVERRIDE_ID, os), override as unknown as Record<string, unknown>, true);
  const problems = checkDefinition(def);
  if (problems.length > 0) throw Errors.validation(`BaselineOverride: ${problems.join('; ')}`);
  return { ...def, BaselineId: OVERRIDE_ID };
}

/** The node's Install list: its latest scan's Missing/Failed rows under the snapshot's baseline at `at` (epoch ms). */
async function installList(app: App, scan: StoredScanRow, baseline: SnapshotBaseline, at: number): Promise<SnapshotInstallItem[]> {
  const [stored] = await app.scans.decode([scan], app.evaluator.index);
  const result = evaluateNode(stored!.prepared, compileBaseline(definitionOf(baseline)), Math.floor(at / 1000));
  const install: SnapshotInstallItem[] = [];
  for (const row of result.rows) {
    if (row.State !== 'Missing' && row.State !== 'Failed') continue;
    const item: SnapshotInstallItem = {
      Name: row.package.name,
      Architecture: row.package.arch,
      Version: row.package.version,
      KBId: row.KBId,
      Title: row.Title,
      ComplianceLevel: row.ComplianceLevel ?? 'UNSPECIFIED',
    };
    if (row.CVEIds) item.CVEIds = row.CVEIds;
    install.push(item);
  }
  return install;
}

export const snapshotOperations = defineOperations({
  async GetDeployablePatchSnapshotForInstance(input: GetDeployablePatchSnapshotForInstanceRequest, ctx) {
    const { app, now } = ctx;
    const id = input.InstanceId;
    const [node, scan] = await Promise.all([app.reports.getNode(id), app.scans.getScan(id)]);
    if (node === undefined && scan === undefined) throw Errors.invalidInstanceId(`Instance ${id} is not a managed node known to Patchline.`);
    if (scan === undefined) {
      throw new ServiceError(
        'UnsupportedOperatingSystem',
        `Patchline does not know the operating system of managed node ${id} yet: it has not reported a scan (Patchline.PutScanReport). Scan first, then ask for a snapshot.`,
      );
    }
    const os = scan.operating_system;
    const group = node?.patch_group_tag ?? '';

    let definition: BaselineDefinition & { BaselineId: string };
    let source = '';
    if (input.BaselineOverride !== undefined) {
      definition = overrideDefinition(input.BaselineOverride, os, id);
      source = `override:${createHash('sha256').update(stableJson(snapshotBaseline(definition, true))).digest('hex')}`;
    } else {
      const resolved: Baseline = await app.evaluator.baselineFor(os, group === '' ? null : group, await app.evaluator.resolution());
      definition = resolved;
    }
    const candidate: PatchSnapshotsTable = {
      snapshot_id: input.SnapshotId,
      patch_group: group,
      operating_system: os,
      baseline_source: source,
      instance_id: id,
      created_at: now,
      baseline: JSON.stringify(snapshotBaseline(definition, source !== '')),
    };
    const shared = await sharedSnapshot(app.store.db, candidate, now);
    const baseline = JSON.parse(shared.baseline) as SnapshotBaseline;
    const document: SnapshotDocument = {
      SnapshotId: input.SnapshotId,
      InstanceId: id,
      CreatedTime: shared.created_at / 1000,
      OperatingSystem: os,
      Product: scan.product,
      PatchGroup: group,
      Baseline: baseline,
      Install: await installList(app, scan, baseline, shared.created_at),
      Rejected: { Action: baseline.RejectedPatchesAction, Names: baseline.RejectedPatches },
    };
    await putSnapshotDocument(app.store.db, {
      snapshot_id: input.SnapshotId,
      instance_id: id,
      patch_group: group,
      operating_system: os,
      baseline_source: source,
      created_at: shared.created_at,
      issued_at: now,
      document: JSON.stringify(document),
    });
    const origin = ctx.origin ?? { scheme: 'http' as const, host: undefined };
    const url = app.snapshotUrls.url(origin, `${app.config.host}:${app.config.port}`, input.SnapshotId, id);
    return { InstanceId: id, SnapshotId: input.SnapshotId, Product: scan.product, SnapshotDownloadUrl: url };
  },

  async 'Patchline.GetPatchSnapshot'(input: PatchlineGetPatchSnapshotRequest, ctx) {
    const row = await getSnapshotDocument(ctx.app.store.db, input.SnapshotId, input.InstanceId, ctx.now);
    if (row === undefined) {
      throw Errors.doesNotExist(`Snapshot ${input.SnapshotId} was not issued to managed node ${input.InstanceId} in the last 3 days. Call GetDeployablePatchSnapshotForInstance first.`);
    }
    return JSON.parse(row.document) as SnapshotDocument;
  },
});

const DOWNLOAD_PATH = /^\/snapshots\/([^/?]+)\.json$/;

/** GET /snapshots/<SnapshotId>.json?InstanceId=…&X-Amz-…: the node's document, once the URL's signature holds. */
export async function snapshotDownload(app: App, req: SignedRequest): Promise<SnapshotDocument> {
  await app.snapshotUrls.verify(req);
  const q = req.url.indexOf('?');
  const match = DOWNLOAD_PATH.exec(q < 0 ? req.url : req.url.slice(0, q));
  const instanceId = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1)).get('InstanceId');
  const notFound = new ServiceError('DoesNotExistException', 'No such snapshot document (it may be older than 3 days).', { status: 404 });
  if (match === null || instanceId === null) throw notFound;
  let snapshotId: string;
  try {
    snapshotId = decodeURIComponent(match[1]!);
  } catch {
    throw notFound;
  }
  const row = await getSnapshotDocument(app.store.db, snapshotId, instanceId, app.snapshotUrls.clock());
  if (row === undefined) throw notFound;
  return JSON.parse(row.document) as SnapshotDocument;
}
