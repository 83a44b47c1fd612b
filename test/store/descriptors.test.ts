// The shared descriptor dictionary (src/store/descriptors.ts) under concurrent interning, on every store engine:
// processes that see the same new values at once (nodes of one image reporting their packages, each listing them
// in its own order) each insert the ones they do not know. Every call must get the same id for the same key, and
// on PostgreSQL none may fail with a deadlock (overlapping multi-row inserts must take their keys in one order).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenDatabase } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrations.ts';
import { DescriptorDictionary } from '../../src/store/descriptors.ts';
import { createPostgresDatabase, engines } from '../helpers/engines.ts';
import { rng } from '../helpers/fleet.ts';

const CALLERS = 16;
const KEYS = 1500;

for (const { engine, skip } of engines()) {
  describe(`descriptor dictionary (${engine})`, { skip }, () => {
    let open: OpenDatabase;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (engine === 'postgres') {
        const pgdb = await createPostgresDatabase();
        open = openDatabase({ url: pgdb.url, poolSize: CALLERS });
        cleanup = pgdb.drop;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'patchline-descriptors-'));
        open = openDatabase({ url: `sqlite:${join(dir, 'store.db')}` });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      }
      await migrateToLatest(open.db, open.engine);
    });
    after(async () => {
      await open?.close();
      await cleanup?.();
    });

    test(`${CALLERS} dictionaries (as in as many processes) intern the same ${KEYS} new keys at once, each in its own order`, async () => {
      const keys = Array.from({ length: KEYS }, (_, i) => `p\u001ftest-${i}`);
      const random = rng(11);
      const orders = Array.from({ length: CALLERS }, () => {
        const out = [...keys];
        for (let i = out.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [out[i], out[j]] = [out[j]!, out[i]!];
        }
        return out;
      });
      const results = await Promise.allSettled(orders.map((order) => new DescriptorDictionary<{ key: string }>(open.db).intern(order, (i) => ({ key: order[i]! }))));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      assert.deepEqual(failures, [], 'every caller gets its ids');
      const idOf = new Map<string, number>();
      results.forEach((r, c) => {
        const ids = (r as PromiseFulfilledResult<number[]>).value;
        orders[c]!.forEach((key, i) => {
          const seen = idOf.get(key);
          if (seen === undefined) idOf.set(key, ids[i]!);
          else assert.equal(ids[i], seen, `${key}: one id whoever asks`);
        });
      });
      assert.equal(new Set(idOf.values()).size, KEYS, 'one entry per key');
      const stored = await open.db.selectFrom('patch_descriptors').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(stored.n), KEYS);
      const reader = new DescriptorDictionary<{ key: string }>(open.db);
      await reader.load(idOf.values());
      for (const [key, id] of idOf) assert.equal(reader.get(id).key, key, 'each id holds the value given for its key');
    });
  });
}
