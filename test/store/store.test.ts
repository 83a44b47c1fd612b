// Store conformance: the same calls against SQLite and PostgreSQL must behave the same. Each engine gets a fresh
// database migrated to the latest schema; the Store methods are called directly.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenDatabase } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrations.ts';
import { Store } from '../../src/store/store.ts';
import type { BaselinesTable } from '../../src/store/schema.ts';
import { createPostgresDatabase, engines } from '../helpers/engines.ts';

/** An epoch in milliseconds beyond 2^32, so a 32-bit column or a string-typed bigint would show. */
const T0 = 1_790_000_000_123;

function baselineRow(id: string, overrides: Partial<BaselinesTable> = {}): BaselinesTable {
  return {
    baseline_id: id,
    name: `name-${id}`,
    operating_system: 'AMAZON_LINUX_2',
    description: null,
    document: JSON.stringify({ ApprovedPatches: [], RejectedPatches: [] }),
    created_at: T0,
    modified_at: T0,
    client_token: null,
    request_hash: null,
    ...overrides,
  };
}

let idCounter = 0;
/** A fresh `pb-` id (17 hex characters) per call. */
function newId(): string {
  idCounter++;
  return `pb-${idCounter.toString(16).padStart(17, '0')}`;
}

class Rollback extends Error {}

for (const { engine, skip } of engines()) {
  describe(`store conformance (${engine})`, { skip }, () => {
    let open: OpenDatabase;
    let store: Store;
    let cleanup: () => Promise<void>;

    before(async () => {
      if (engine === 'postgres') {
        const pgdb = await createPostgresDatabase();
        open = openDatabase({ url: pgdb.url, poolSize: 4 });
        cleanup = pgdb.drop;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'patchline-store-'));
        open = openDatabase({ url: `sqlite:${join(dir, 'store.db')}` });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      }
      const applied = await migrateToLatest(open.db, open.engine);
      assert.ok(applied.length > 0, 'a fresh database runs migrations');
      store = new Store(open);
      assert.equal(store.engine, engine);
    });
    after(async () => {
      await open?.close();
      await cleanup?.();
    });

    test('migrating again is a no-op', async () => {
      assert.deepEqual(await migrateToLatest(open.db, open.engine), []);
    });

    describe('baselines', () => {
      test('insert, get, list, count', async () => {
        const before = await store.countBaselines();
        const a = newId();
        const b = newId();
        await store.insertBaseline(baselineRow(b, { created_at: T0 + 5, modified_at: T0 + 5, description: 'second' }));
        await store.insertBaseline(baselineRow(a, { name: 'first', operating_system: 'DEBIAN' }));
        const got = await store.getBaseline(a);
        assert.deepEqual(got, baselineRow(a, { name: 'first', operating_system: 'DEBIAN' }));
        assert.equal(typeof got!.created_at, 'number', 'bigint columns come back as numbers on every engine');
        assert.equal((await store.getBaseline(b))!.description, 'second');
        assert.equal(await store.getBaseline(newId()), undefined);
        assert.equal(await store.countBaselines(), before + 2);
        assert.equal(typeof (await store.countBaselines()), 'number');
        const listed = (await store.listBaselines()).map((r) => r.baseline_id);
        assert.ok(listed.indexOf(a) >= 0 && listed.indexOf(a) < listed.indexOf(b), 'listed by created_at');
      });

      test('list order is created_at, then id', async () => {
        const ids = [newId(), newId(), newId()];
        const late = T0 + 1_000_000;
        await store.insertBaseline(baselineRow(ids[2]!, { created_at: late }));
        await store.insertBaseline(baselineRow(ids[0]!, { created_at: late }));
        await store.insertBaseline(baselineRow(ids[1]!, { created_at: late - 1 }));
        const listed = (await store.listBaselines()).map((r) => r.baseline_id).filter((id) => ids.includes(id));
        assert.deepEqual(listed, [ids[1], ids[0], ids[2]]);
      });

      test('a duplicate baseline id is refused', async () => {
        const id = newId();
        await store.insertBaseline(baselineRow(id));
        await assert.rejects(store.insertBaseline(baselineRow(id, { name: 'dup' })));
        assert.equal((await store.getBaseline(id))!.name, `name-${id}`);
      });

      test('update changes the given fields only', async () => {
        const id = newId();
        await store.insertBaseline(baselineRow(id, { client_token: `tok-upd-${id}`, request_hash: 'h1' }));
        const changed = await store.updateBaseline(id, { name: 'renamed', description: 'now described', document: '{"x":1}', modified_at: T0 + 99 });
        assert.equal(changed, true);
        assert.deepEqual(await store.getBaseline(id), baselineRow(id, {
          name: 'renamed', description: 'now described', document: '{"x":1}', modified_at: T0 + 99, client_token: `tok-upd-${id}`, request_hash: 'h1',
        }));
        assert.equal(await store.updateBaseline(newId(), { name: 'x', description: null, document: '{}', modified_at: T0 }), false);
        await store.updateBaseline(id, { name: 'renamed', description: null, document: '{"x":1}', modified_at: T0 + 100 });
        assert.equal((await store.getBaseline(id))!.description, null);
      });

      test('delete removes the baseline and its tags, and nothing else', async () => {
        const id = newId();
        const other = newId();
        await store.insertBaseline(baselineRow(id));
        await store.insertBaseline(baselineRow(other));
        await store.putTags('PatchBaseline', id, [{ Key: 'a', Value: '1' }]);
        await store.putTags('PatchBaseline', other, [{ Key: 'a', Value: '2' }]);
        await store.putTags('ManagedInstance', id, [{ Key: 'same-id-other-type', Value: 'kept' }]);
        await store.deleteBaseline(id);
        assert.equal(await store.getBaseline(id), undefined);
        assert.deepEqual(await store.listTags('PatchBaseline', id), []);
        assert.deepEqual(await store.listTags('PatchBaseline', other), [{ Key: 'a', Value: '2' }]);
        assert.deepEqual(await store.listTags('ManagedInstance', id), [{ Key: 'same-id-other-type', Value: 'kept' }]);
        assert.notEqual(await store.getBaseline(other), undefined);
        await store.deleteBaseline(id); // deleting a missing baseline is not an error
      });

      test('client tokens: lookup by token, unique when set, any number of baselines without one', async () => {
        const id = newId();
        await store.insertBaseline(baselineRow(id, { client_token: 'token-abc', request_hash: 'hash-1' }));
        const found = await store.getBaselineByClientToken('token-abc');
        assert.equal(found?.baseline_id, id);
        assert.equal(found?.request_hash, 'hash-1');
        assert.equal(await store.getBaselineByClientToken('token-unknown'), undefined);
        await assert.rejects(store.insertBaseline(baselineRow(newId(), { client_token: 'token-abc' })));
        await store.insertBaseline(baselineRow(newId()));
        await store.insertBaseline(baselineRow(newId()));
        assert.equal(await store.getBaselineByClientToken('Token-ABC'), undefined, 'tokens are case-sensitive');
      });
    });

    describe('default baselines', () => {
      test('set, replace, clear, per operating system', async () => {
        assert.deepEqual(await store.getDefaultBaselineIds(), new Map());
        await store.setDefaultBaseline('DEBIAN', 'pb-00000000000000d01');
        await store.setDefaultBaseline('WINDOWS', 'pb-00000000000000w01');
        assert.deepEqual(await store.getDefaultBaselineIds(), new Map([['DEBIAN', 'pb-00000000000000d01'], ['WINDOWS', 'pb-00000000000000w01']]));
        await store.setDefaultBaseline('DEBIAN', 'pb-00000000000000d02');
        assert.equal((await store.getDefaultBaselineIds()).get('DEBIAN'), 'pb-00000000000000d02');
        await store.setDefaultBaseline('DEBIAN', null);
        assert.deepEqual(await store.getDefaultBaselineIds(), new Map([['WINDOWS', 'pb-00000000000000w01']]));
        await store.setDefaultBaseline('DEBIAN', null); // clearing twice is fine
        await store.setDefaultBaseline('WINDOWS', null);
        assert.deepEqual(await store.getDefaultBaselineIds(), new Map());
      });
    });

    describe('patch groups', () => {
      test('register, look up, list in order, groups of a baseline, deregister', async () => {
        const linux = newId();
        const windows = newId();
        await store.registerPatchGroup('web', 'AMAZON_LINUX_2', linux, T0);
        await store.registerPatchGroup('web', 'WINDOWS', windows, T0 + 1);
        await store.registerPatchGroup('db', 'AMAZON_LINUX_2', linux, T0 + 2);
        await store.registerPatchGroup('Ünïcode group 東京', 'WINDOWS', windows, T0 + 3);

        assert.deepEqual(await store.getPatchGroupBaseline('web', 'AMAZON_LINUX_2'), { patch_group: 'web', operating_system: 'AMAZON_LINUX_2', baseline_id: linux, registered_at: T0 });
        assert.equal(await store.getPatchGroupBaseline('web', 'UBUNTU'), undefined);
        assert.equal(await store.getPatchGroupBaseline('WEB', 'AMAZON_LINUX_2'), undefined, 'group names are case-sensitive');
        assert.equal((await store.getPatchGroupBaseline('Ünïcode group 東京', 'WINDOWS'))?.baseline_id, windows);

        const listed = (await store.listPatchGroupBaselines()).map((r) => `${r.patch_group}/${r.operating_system}`);
        assert.deepEqual(listed.filter((k) => !k.startsWith('Ü')), ['db/AMAZON_LINUX_2', 'web/AMAZON_LINUX_2', 'web/WINDOWS']);
        assert.deepEqual(await store.patchGroupsOfBaseline(linux), ['db', 'web']);
        // Order between ASCII and non-ASCII names follows the database collation (C vs. a locale), so compare as sets.
        assert.deepEqual([...(await store.patchGroupsOfBaseline(windows))].sort(), ['web', 'Ünïcode group 東京']);

        await assert.rejects(store.registerPatchGroup('web', 'AMAZON_LINUX_2', newId(), T0), 'one baseline per (group, OS)');
        assert.equal((await store.getPatchGroupBaseline('web', 'AMAZON_LINUX_2'))?.baseline_id, linux);

        assert.equal(await store.deregisterPatchGroup('web', windows), 1);
        assert.equal(await store.deregisterPatchGroup('web', windows), 0);
        assert.equal(await store.deregisterPatchGroup('db', windows), 0, 'only the registered baseline is removed');
        assert.deepEqual(await store.patchGroupsOfBaseline(windows), ['Ünïcode group 東京']);
        assert.equal(await store.getPatchGroupBaseline('web', 'WINDOWS'), undefined);
        assert.equal((await store.getPatchGroupBaseline('web', 'AMAZON_LINUX_2'))?.baseline_id, linux);
        assert.equal(typeof (await store.getPatchGroupBaseline('web', 'AMAZON_LINUX_2'))!.registered_at, 'number');
      });
    });

    describe('tags', () => {
      test('upsert, list sorted by key, remove', async () => {
        const id = newId();
        await store.putTags('PatchBaseline', id, [{ Key: 'team', Value: 'ops' }, { Key: 'env', Value: 'prod' }]);
        assert.deepEqual(await store.listTags('PatchBaseline', id), [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'ops' }]);
        await store.putTags('PatchBaseline', id, [{ Key: 'env', Value: 'staging' }, { Key: 'Ünï 東京', Value: 'välue' }, { Key: 'blank', Value: '' }]);
        const tags = await store.listTags('PatchBaseline', id);
        assert.deepEqual(new Map(tags.map((t) => [t.Key, t.Value])), new Map([['env', 'staging'], ['team', 'ops'], ['Ünï 東京', 'välue'], ['blank', '']]));
        assert.deepEqual(tags.filter((t) => /^[a-z]/.test(t.Key)).map((t) => t.Key), ['blank', 'env', 'team']);
        await store.putTags('PatchBaseline', id, []);
        await store.removeTags('PatchBaseline', id, []);
        assert.equal((await store.listTags('PatchBaseline', id)).length, 4);
        await store.removeTags('PatchBaseline', id, ['team', 'no-such-key', 'Ünï 東京']);
        assert.deepEqual(await store.listTags('PatchBaseline', id), [{ Key: 'blank', Value: '' }, { Key: 'env', Value: 'staging' }]);
        assert.deepEqual(await store.listTags('ManagedInstance', id), [], 'tags belong to (type, id)');
        assert.deepEqual(await store.listTags('PatchBaseline', newId()), []);
      });
    });

    describe('meta', () => {
      test('get and set (overwrite)', async () => {
        assert.equal(await store.getMeta('conformance-key'), undefined);
        await store.setMeta('conformance-key', 'one');
        assert.equal(await store.getMeta('conformance-key'), 'one');
        await store.setMeta('conformance-key', 'two');
        assert.equal(await store.getMeta('conformance-key'), 'two');
        await store.setMeta('conformance-empty', '');
        assert.equal(await store.getMeta('conformance-empty'), '');
      });
    });

    describe('transactions', () => {
      test('a transaction that throws leaves nothing behind; the error reaches the caller', async () => {
        const id = newId();
        const before = await store.countBaselines();
        await assert.rejects(
          store.transaction(async (trx) => {
            await store.insertBaseline(baselineRow(id, { client_token: `tok-${id}` }), trx);
            await store.putTags('PatchBaseline', id, [{ Key: 'k', Value: 'v' }], trx);
            await store.registerPatchGroup('rolled-back', 'SUSE', id, T0, trx);
            await store.setDefaultBaseline('SUSE', id, trx);
            await store.setMeta('rolled-back', 'x', trx);
            assert.notEqual(await store.getBaseline(id, trx), undefined, 'visible inside the transaction');
            throw new Rollback('abort');
          }),
          Rollback,
        );
        assert.equal(await store.getBaseline(id), undefined);
        assert.equal(await store.getBaselineByClientToken(`tok-${id}`), undefined);
        assert.equal(await store.countBaselines(), before);
        assert.deepEqual(await store.listTags('PatchBaseline', id), []);
        assert.equal(await store.getPatchGroupBaseline('rolled-back', 'SUSE'), undefined);
        assert.equal((await store.getDefaultBaselineIds()).get('SUSE'), undefined);
        assert.equal(await store.getMeta('rolled-back'), undefined);
      });

      test('a failing statement rolls back the earlier writes of its transaction', async () => {
        const id = newId();
        await store.insertBaseline(baselineRow(id));
        const fresh = newId();
        await assert.rejects(store.transaction(async (trx) => {
          await store.insertBaseline(baselineRow(fresh), trx);
          await store.updateBaseline(id, { name: 'changed-in-trx', description: null, document: '{}', modified_at: T0 + 1 }, trx);
          await store.insertBaseline(baselineRow(id), trx); // duplicate key
        }));
        assert.equal(await store.getBaseline(fresh), undefined);
        assert.equal((await store.getBaseline(id))!.name, `name-${id}`);
      });

      test('a transaction that returns commits everything and passes its value through', async () => {
        const id = newId();
        const value = await store.transaction(async (trx) => {
          await store.insertBaseline(baselineRow(id), trx);
          await store.putTags('PatchBaseline', id, [{ Key: 'k', Value: 'v' }], trx);
          return 'done';
        });
        assert.equal(value, 'done');
        assert.notEqual(await store.getBaseline(id), undefined);
        assert.deepEqual(await store.listTags('PatchBaseline', id), [{ Key: 'k', Value: 'v' }]);
      });
    });
  });
}
