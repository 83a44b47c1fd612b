// Tag operations through the real AWS SDK, on every store engine: AddTagsToResource, RemoveTagsFromResource,
// ListTagsForResource for PatchBaseline and ManagedInstance resources (reference: patch-manager-api.md §8).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddTagsToResourceCommand, CreatePatchBaselineCommand, DescribePatchBaselinesCommand, GetDefaultPatchBaselineCommand, ListTagsForResourceCommand,
  PutInventoryCommand, RemoveTagsFromResourceCommand,
  type ResourceTypeForTagging, type SSMClient, type Tag,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { rejectsWith } from '../helpers/assertions.ts';

const byKey = (tags: Tag[] | undefined) => [...(tags ?? [])].sort((a, b) => (a.Key! < b.Key! ? -1 : a.Key! > b.Key! ? 1 : 0));
const numbered = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${String(i).padStart(2, '0')}`, Value: `v${i}` }));

/**
 * The managed node to tag in the ManagedInstance tests: the one place that knows how a node comes to exist.
 * Tagging requires the node to exist; a node exists once it registers or first reports, so the node reports its
 * instance information with PutInventory, as the agent would. Adapt only this function if that changes.
 */
async function managedNode(ssm: SSMClient, suffix: string): Promise<string> {
  const id = `mi-0123456789abcd${suffix}`;
  await ssm.send(new PutInventoryCommand({
    InstanceId: id,
    Items: [{
      TypeName: 'AWS:InstanceInformation',
      SchemaVersion: '1.0',
      CaptureTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Content: [{ InstanceId: id, ComputerName: `node-${suffix}`, PlatformType: 'Linux', PlatformName: 'Ubuntu', PlatformVersion: '22.04', AgentVersion: '3.3.0.0' }],
    }],
  }));
  return id;
}

for (const { engine, skip } of engines()) {
  describe(`tags (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;

    const create = async (Name: string, Tags?: Tag[]) => (await ssm.send(new CreatePatchBaselineCommand({ Name, OperatingSystem: 'AMAZON_LINUX_2', Tags }))).BaselineId!;
    const list = async (ResourceId: string, ResourceType: ResourceTypeForTagging = 'PatchBaseline') =>
      byKey((await ssm.send(new ListTagsForResourceCommand({ ResourceType, ResourceId }))).TagList);
    const add = (ResourceId: string, Tags: Tag[], ResourceType: ResourceTypeForTagging = 'PatchBaseline') =>
      ssm.send(new AddTagsToResourceCommand({ ResourceType, ResourceId, Tags }));
    const remove = (ResourceId: string, TagKeys: string[], ResourceType: ResourceTypeForTagging = 'PatchBaseline') =>
      ssm.send(new RemoveTagsFromResourceCommand({ ResourceType, ResourceId, TagKeys }));

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('tags given at creation are listed; a baseline without tags has an empty list', async () => {
      const id = await create('tagged-at-create', [{ Key: 'team', Value: 'ops' }, { Key: 'env', Value: 'prod' }, { Key: 'empty', Value: '' }]);
      assert.deepEqual(await list(id), [{ Key: 'empty', Value: '' }, { Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'ops' }]);
      const bare = await create('untagged');
      assert.deepEqual(await list(bare), []);
    });

    test('AddTagsToResource adds keys and overwrites the values of existing ones', async () => {
      const id = await create('overwrite', [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'ops' }]);
      const r = await add(id, [{ Key: 'env', Value: 'staging' }, { Key: 'owner', Value: 'alice' }]);
      assert.equal(r.$metadata.httpStatusCode, 200);
      assert.deepEqual(await list(id), [{ Key: 'env', Value: 'staging' }, { Key: 'owner', Value: 'alice' }, { Key: 'team', Value: 'ops' }]);
    });

    test('RemoveTagsFromResource removes the given keys; unknown keys are ignored', async () => {
      const id = await create('remove', [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }, { Key: 'c', Value: '3' }]);
      await remove(id, ['a', 'c', 'not-there']);
      assert.deepEqual(await list(id), [{ Key: 'b', Value: '2' }]);
      await remove(id, ['b']);
      assert.deepEqual(await list(id), []);
    });

    test('a 51st tag → TooManyTagsError and nothing changes; overwriting at 50 is fine', async () => {
      const id = await create('fifty', numbered(50));
      assert.equal((await list(id)).length, 50);
      await rejectsWith(add(id, [{ Key: 'k00', Value: 'changed' }, { Key: 'one-too-many', Value: 'x' }]), 'TooManyTagsError');
      const after = await list(id);
      assert.deepEqual(after, numbered(50), 'neither the new key nor the overwrite landed');
      await add(id, [{ Key: 'k00', Value: 'changed' }]);
      assert.equal((await list(id)).find((t) => t.Key === 'k00')!.Value, 'changed');
      await remove(id, ['k49']);
      await add(id, [{ Key: 'replacement', Value: 'ok' }]);
      assert.equal((await list(id)).length, 50);
    });

    test('51 tags at creation → TooManyTagsError and no baseline is created', async () => {
      const count = async () => (await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'NAME_PREFIX', Values: ['too-many-tags'] }] }))).BaselineIdentities!.length;
      await rejectsWith(create('too-many-tags', numbered(51)), 'TooManyTagsError');
      assert.equal(await count(), 0);
      await create('too-many-tags-50', numbered(50));
      assert.equal(await count(), 1);
    });

    test('an unknown or malformed baseline → InvalidResourceId', async () => {
      for (const id of ['pb-0123456789abcdef0', 'abcdefghijklmnopqrstuvwxyz']) {
        await rejectsWith(list(id), 'InvalidResourceId');
        await rejectsWith(add(id, [{ Key: 'k', Value: 'v' }]), 'InvalidResourceId');
        await rejectsWith(remove(id, ['k']), 'InvalidResourceId');
      }
    });

    test('an AWS-provided baseline → InvalidResourceId', async () => {
      const arn = (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem: 'AMAZON_LINUX_2' }))).BaselineId!;
      await rejectsWith(list(arn), 'InvalidResourceId');
      await rejectsWith(add(arn, [{ Key: 'k', Value: 'v' }]), 'InvalidResourceId');
      await rejectsWith(remove(arn, ['k']), 'InvalidResourceId');
    });

    test('a resource type other than PatchBaseline / ManagedInstance → InvalidResourceType', async () => {
      const id = await create('wrong-type');
      for (const type of ['Document', 'MaintenanceWindow', 'Parameter'] as const) {
        await rejectsWith(list(id, type), 'InvalidResourceType');
        await rejectsWith(add(id, [{ Key: 'k', Value: 'v' }], type), 'InvalidResourceType');
        await rejectsWith(remove(id, ['k'], type), 'InvalidResourceType');
      }
      assert.deepEqual(await list(id), []);
    });

    test('ManagedInstance tags on an mi- node', async () => {
      const node = await managedNode(ssm, '001');
      await add(node, [{ Key: 'Patch Group', Value: 'web servers' }, { Key: 'owner', Value: 'ops' }], 'ManagedInstance');
      assert.deepEqual(await list(node, 'ManagedInstance'), [{ Key: 'Patch Group', Value: 'web servers' }, { Key: 'owner', Value: 'ops' }]);
      await add(node, [{ Key: 'Patch Group', Value: 'db servers' }], 'ManagedInstance');
      await remove(node, ['owner'], 'ManagedInstance');
      assert.deepEqual(await list(node, 'ManagedInstance'), [{ Key: 'Patch Group', Value: 'db servers' }]);
      // Each node has its own tag set.
      const other = await managedNode(ssm, '002');
      assert.deepEqual(await list(other, 'ManagedInstance'), []);
      await rejectsWith(list('mi-short', 'ManagedInstance'), 'InvalidResourceId');
      // A well-formed id of a node that never registered or reported is not a resource.
      await rejectsWith(add('mi-0123456789abcdeff', [{ Key: 'k', Value: 'v' }], 'ManagedInstance'), 'InvalidResourceId');
      await rejectsWith(list('mi-0123456789abcdeff', 'ManagedInstance'), 'InvalidResourceId');
      await rejectsWith(add('not-a-node-id', [{ Key: 'k', Value: 'v' }], 'ManagedInstance'), 'InvalidResourceId');
    });

    test('unicode keys and values are accepted and returned unchanged', async () => {
      const tags = [{ Key: 'Abteilung Ü', Value: 'Produktion 東京' }, { Key: 'Ελληνικά', Value: 'τιμή +=.@_:/-' }, { Key: 'key with spaces', Value: '値' }];
      const id = await create('unicode-tags', tags);
      assert.deepEqual(await list(id), byKey(tags));
      await add(id, [{ Key: 'Abteilung Ü', Value: 'Ünïcödé' }]);
      assert.equal((await list(id)).find((t) => t.Key === 'Abteilung Ü')!.Value, 'Ünïcödé');
      await remove(id, ['Ελληνικά']);
      assert.deepEqual((await list(id)).map((t) => t.Key), ['Abteilung Ü', 'key with spaces']);
    });

    test('keys with the reserved aws: prefix are refused, at creation and later', async () => {
      const id = await create('reserved-prefix', [{ Key: 'ok', Value: '1' }]);
      for (const key of ['aws:createdBy', 'AWS:thing', 'Aws:x']) {
        await rejectsWith(add(id, [{ Key: key, Value: 'x' }]), 'ValidationException', /aws:/i);
      }
      assert.deepEqual(await list(id), [{ Key: 'ok', Value: '1' }]);
      const before = (await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'NAME_PREFIX', Values: ['reserved-at-create'] }] }))).BaselineIdentities!;
      await rejectsWith(create('reserved-at-create', [{ Key: 'aws:x', Value: 'y' }]), 'ValidationException');
      const after = (await ssm.send(new DescribePatchBaselinesCommand({ Filters: [{ Key: 'NAME_PREFIX', Values: ['reserved-at-create'] }] }))).BaselineIdentities!;
      assert.deepEqual(after, before);
      // A key merely containing "aws" is fine.
      await add(id, [{ Key: 'my-aws:key', Value: 'fine' }]);
    });

    test('model constraints on tags are enforced (key length, pattern)', async () => {
      const id = await create('tag-constraints');
      await rejectsWith(add(id, [{ Key: 'k'.repeat(129), Value: 'v' }]), 'ValidationException');
      await rejectsWith(add(id, [{ Key: 'bad#key', Value: 'v' }]), 'ValidationException');
      await rejectsWith(add(id, [{ Key: 'k', Value: 'v'.repeat(257) }]), 'ValidationException');
      assert.deepEqual(await list(id), []);
    });
  });
}
