// Compliance history (beyond AWS, whose reports are overwritten by the next scan): every node report is kept in
// node_history as it is written; each patch group's counters are snapshotted into patch_group_history once per
// interval; both are pruned past the retention. Snapshots are idempotent per (group, bucket), so several servers
// sharing a database may all run this.

import { sql } from 'kysely';
import type { App } from '../app.ts';
import { COUNTER_COLUMN, COUNTER_NAMES } from '../domain/patch-state.ts';
import { pruneSnapshots } from '../store/snapshot-store.ts';
import { sweepRowSets } from '../store/reporting-store.ts';

const GROUP_COLUMNS = ['instances', ...COUNTER_NAMES.map((n) => `with_${COUNTER_COLUMN[n]}`)];

export async function snapshotGroupHistory(app: App, now = Date.now()): Promise<number> {
  const interval = app.config.historyIntervalMinutes * 60_000;
  const bucket = Math.floor(now / interval) * interval;
  const groups = await app.store.db.selectFrom('patch_group_counts')
    .select(['patch_group', ...GROUP_COLUMNS.map((c) => sql<number>`sum(${sql.ref(c)})`.as(c))])
    .groupBy('patch_group').execute();
  let written = 0;
  for (const g of groups) {
    const values: Record<string, unknown> = { patch_group: g.patch_group, bucket };
    for (const c of GROUP_COLUMNS) values[c] = Number((g as Record<string, unknown>)[c]);
    if (values.instances === 0) continue;
    const r = await app.store.db.insertInto('patch_group_history').values(values as never)
      .onConflict((oc) => oc.columns(['patch_group', 'bucket']).doNothing()).executeTakeFirst();
    written += Number(r.numInsertedOrUpdatedRows ?? 0n);
  }
  return written;
}

export async function pruneHistory(app: App, now = Date.now()): Promise<{ nodes: number; groups: number }> {
  const cutoff = now - app.config.historyRetentionDays * 86_400_000;
  const nodes = await app.store.db.deleteFrom('node_history').where('reported_at', '<', cutoff).executeTakeFirst();
  const groups = await app.store.db.deleteFrom('patch_group_history').where('bucket', '<', cutoff).executeTakeFirst();
  return { nodes: Number(nodes.numDeletedRows), groups: Number(groups.numDeletedRows) };
}

/**
 * Runs the snapshot at every interval boundary and the pruning hourly (history past its retention, deployable
 * patch snapshots past their 3 days, expired console sessions, row sets no node refers to); returns a stop function.
 */
export function startHistoryJobs(app: App): () => void {
  const interval = app.config.historyIntervalMinutes * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;
  const run = async () => {
    try {
      await snapshotGroupHistory(app);
      if (Date.now() - lastPrune > 3_600_000) {
        lastPrune = Date.now();
        await pruneHistory(app);
        await pruneSnapshots(app.store.db, Date.now());
        await app.sessions.prune();
        await sweepRowSets(app.store);
      }
    } catch (err) {
      app.log.warn('history job failed', { error: err });
    }
    timer = setTimeout(run, interval - (Date.now() % interval) + 1000);
    timer.unref();
  };
  timer = setTimeout(run, 5_000);
  timer.unref();
  return () => clearTimeout(timer);
}
