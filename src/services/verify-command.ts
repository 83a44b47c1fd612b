// The `patchline verify [--repair] [--json]` command around verifyAggregates.

import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrations.ts';
import { Store } from '../store/store.ts';
import { verifyAggregates } from './verify.ts';
import type { ServerConfig } from '../config.ts';

export async function runVerify(config: ServerConfig, options: { repair: boolean; json: boolean }): Promise<number> {
  const database = openDatabase({ url: config.databaseUrl, poolSize: 2 });
  try {
    await migrateToLatest(database.db, database.engine);
    const started = performance.now();
    const result = await verifyAggregates(new Store(database), { repair: options.repair });
    const ms = Math.round(performance.now() - started);
    if (options.json) {
      process.stdout.write(JSON.stringify({ ...result, ms, database: database.description }) + '\n');
    } else {
      process.stdout.write(`Checked the aggregates of ${result.nodes} nodes in ${database.description} (${ms} ms).\n`);
      if (result.differences.length === 0) process.stdout.write('Every aggregate equals its recomputation from per-node data.\n');
      if (result.unreferencedRowSets > 0) {
        process.stdout.write(`${result.unreferencedRowSets} stored row set(s) no node refers to (not a difference; the hourly sweep removes them${options.repair ? ', and --repair just did' : ''}).\n`);
      }
      for (const d of result.differences) process.stdout.write(`  ${d.table} ${JSON.stringify(d.key)} ${d.column}: stored ${d.actual}, recomputed ${d.expected}\n`);
      const unrepairable = result.differences.filter((d) => d.table === 'node_patches').length;
      const repairable = result.differences.length - unrepairable;
      if (result.repaired) process.stdout.write(`Repaired ${repairable} difference(s).\n`);
      else if (repairable > 0) process.stdout.write('Run with --repair to rewrite the aggregates.\n');
      if (unrepairable > 0) process.stdout.write(`${unrepairable} node(s) read their installed times from a scan they do not have (a new scan from each rewrites its rows).\n`);
    }
    return result.differences.some((d) => d.table === 'node_patches' || !result.repaired) ? 1 : 0;
  } finally {
    await database.close();
  }
}
