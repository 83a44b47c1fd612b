// Patchline's raw scan report and evaluation status: Patchline.PutScanReport (a node's installed packages and
// update candidates, evaluated by the server against the node's baseline at once) and
// Patchline.GetEvaluationStatus (whether every node's evaluation reflects the current baselines).

import { Errors } from '../server/errors.ts';
import { defineOperations } from '../server/operation.ts';
import { prepareScan } from '../domain/evaluation/prepare-scan.ts';
import { toNodeScan } from '../domain/scan-report.ts';
import { instancePatchState } from './patch-states.ts';
import { catalogueCandidateIds, recordCatalogueIn } from '../store/catalogue-store.ts';
import type { PatchlineGetEvaluationStatusRequest, PatchlinePutScanReportRequest } from '../generated/ssm-types.ts';

export const scanReportOperations = defineOperations({
  async 'Patchline.PutScanReport'(input: PatchlinePutScanReportRequest, ctx) {
    const { app, now } = ctx;
    const id = input.InstanceId;
    const epoch = await app.evaluator.epoch();
    const previous = await app.scans.getScan(id);
    const checked = toNodeScan(input, previous === undefined ? [] : app.scans.header(previous).pendingReboot);
    if (!checked.ok) throw Errors.validation(checked.message);
    const { scan, installedTimes } = await app.scans.canonicalize(checked.scan, checked.installedTimes);
    const prepared = prepareScan(scan, app.evaluator.index);
    const node = await app.reports.getNode(id);
    const group = node?.patch_group_tag ?? null;
    const baseline = await app.evaluator.baselineFor(scan.operatingSystem, group, await app.evaluator.resolution());
    const evaluation = await app.evaluator.evaluate(prepared, baseline, now);
    const lastNoReboot = input.Operation === 'Install' && input.RebootOption === 'NoReboot'
      ? Math.round(input.OperationEndTime * 1000)
      : previous?.last_no_reboot_install === undefined || previous.last_no_reboot_install === null ? null : Number(previous.last_no_reboot_install);
    const data = app.scans.encode(prepared, installedTimes);
    const scanRow = {
      instance_id: id,
      operating_system: scan.operatingSystem,
      product: scan.product,
      operation: input.Operation,
      operation_start: Math.round(input.OperationStartTime * 1000),
      operation_end: Math.round(input.OperationEndTime * 1000),
      snapshot_id: input.SnapshotId ?? null,
      reboot_option: input.RebootOption ?? null,
      last_no_reboot_install: lastNoReboot,
      data,
      scan_key: app.scans.fingerprint(data).key,
      received_at: now,
      evaluated_at: now,
      evaluated_baseline_id: baseline.BaselineId,
      next_change_at: evaluation.nextChangeAt ?? null,
    };
    const write = app.evaluator.reportWrite(id, scanRow, group, evaluation, now, true);
    write.nodeUpdate = {
      platform_type: scan.operatingSystem === 'WINDOWS' ? 'Windows' : scan.operatingSystem === 'MACOS' ? 'MacOS' : 'Linux',
      platform_name: input.Platform.Name,
      platform_version: input.Platform.Version,
      ...(input.AgentVersion ? { agent_version: input.AgentVersion } : {}),
      ...(input.ComputerName ? { computer_name: input.ComputerName } : {}),
      ...(input.IPAddress ? { ip_address: input.IPAddress } : {}),
    };
    await app.store.transaction(async (trx) => {
      await app.reports.applyPatchReportsIn(trx, [write]);
      await app.scans.putScanIn(trx, scanRow, previous === undefined ? 0 : Number(previous.dirty_seq));
      await recordCatalogueIn(trx, scan.product, scan.operatingSystem, catalogueCandidateIds(prepared, app.scans.packages), now);
    });
    // A change (baseline, registration, tag…) that landed while this scan was being evaluated: evaluate again.
    if ((await app.evaluator.epoch()) !== epoch) await app.scans.markDirty({ instanceIds: [id] });
    const state = await app.reports.getPatchState(id);
    return { InstancePatchState: instancePatchState(state!), EvaluatedAt: now / 1000 };
  },

  async 'Patchline.GetEvaluationStatus'(_input: PatchlineGetEvaluationStatusRequest, ctx) {
    const s = await ctx.app.scans.status(ctx.now);
    const out: Record<string, unknown> = { Current: s.pending === 0, PendingNodes: s.pending, ScannedNodes: s.scanned };
    if (s.lastEvaluation !== null) out.LastEvaluationTime = s.lastEvaluation / 1000;
    if (s.nextChange !== null) out.NextScheduledChange = s.nextChange / 1000;
    return out;
  },
});
