// Deployable patch snapshots (GetDeployablePatchSnapshotForInstance). patch_snapshots holds the frozen baseline of
// one run, keyed as AWS keys it — (SnapshotId, patch group, OS) — plus the BaselineOverride it was made from, so
// every node of the run shares it; patch_snapshot_nodes holds the document each node was handed. Both are kept
// three days (AWS: a snapshot can be re-issued for about 3 days), then pruned.

import type { Db } from './store.ts';
import type { PatchSnapshotNodesTable, PatchSnapshotsTable } from './schema.ts';

export const SNAPSHOT_RETENTION_MS = 3 * 86_400_000;

const KEY = ['snapshot_id', 'patch_group', 'operating_system', 'baseline_source'] as const;

function sharedRow(r: PatchSnapshotsTable): PatchSnapshotsTable {
  return { ...r, created_at: Number(r.created_at) };
}

/**
 * The run's shared snapshot: the stored one when it is younger than the retention, else `candidate`, stored in
 * its place. Concurrent calls with one key all get the same row (the first insert wins).
 */
export async function sharedSnapshot(db: Db, candidate: PatchSnapshotsTable, now: number): Promise<PatchSnapshotsTable> {
  const cutoff = now - SNAPSHOT_RETENTION_MS;
  await db.insertInto('patch_snapshots').values(candidate)
    .onConflict((oc) => oc.columns([...KEY])
      .doUpdateSet({ instance_id: candidate.instance_id, created_at: candidate.created_at, baseline: candidate.baseline })
      .where('patch_snapshots.created_at', '<', cutoff))
    .execute();
  const row = await db.selectFrom('patch_snapshots').selectAll()
    .where('snapshot_id', '=', candidate.snapshot_id).where('patch_group', '=', candidate.patch_group)
    .where('operating_system', '=', candidate.operating_system).where('baseline_source', '=', candidate.baseline_source)
    .executeTakeFirstOrThrow();
  return sharedRow(row);
}

/** Stores (or replaces) the document handed to one node for one SnapshotId. */
export async function putSnapshotDocument(db: Db, row: PatchSnapshotNodesTable): Promise<void> {
  const { snapshot_id: _s, instance_id: _i, ...rest } = row;
  await db.insertInto('patch_snapshot_nodes').values(row)
    .onConflict((oc) => oc.columns(['snapshot_id', 'instance_id']).doUpdateSet(rest))
    .execute();
}

/** The document a node was handed for a SnapshotId, unless it is older than the retention. */
export async function getSnapshotDocument(db: Db, snapshotId: string, instanceId: string, now: number): Promise<PatchSnapshotNodesTable | undefined> {
  const row = await db.selectFrom('patch_snapshot_nodes').selectAll()
    .where('snapshot_id', '=', snapshotId).where('instance_id', '=', instanceId).executeTakeFirst();
  if (row === undefined || Number(row.issued_at) < now - SNAPSHOT_RETENTION_MS) return undefined;
  return { ...row, created_at: Number(row.created_at), issued_at: Number(row.issued_at) };
}

/** Deletes snapshots created, and node documents issued, more than the retention ago. */
export async function pruneSnapshots(db: Db, now: number): Promise<{ snapshots: number; documents: number }> {
  const cutoff = now - SNAPSHOT_RETENTION_MS;
  const shared = await db.deleteFrom('patch_snapshots').where('created_at', '<', cutoff).executeTakeFirst();
  const nodes = await db.deleteFrom('patch_snapshot_nodes').where('issued_at', '<', cutoff).executeTakeFirst();
  return { snapshots: Number(shared.numDeletedRows), documents: Number(nodes.numDeletedRows) };
}
