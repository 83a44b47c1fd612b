// Patch group operations through the real AWS SDK, on every store engine: RegisterPatchBaselineForPatchGroup,
// DeregisterPatchBaselineForPatchGroup, GetPatchBaselineForPatchGroup, DescribePatchGroups
// (reference: patch-manager-api.md §2). A group holds at most one baseline per operating system.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreatePatchBaselineCommand, DeregisterPatchBaselineForPatchGroupCommand, DescribePatchGroupsCommand, GetDefaultPatchBaselineCommand,
  GetPatchBaselineCommand, GetPatchBaselineForPatchGroupCommand, RegisterDefaultPatchBaselineCommand, RegisterPatchBaselineForPatchGroupCommand,
  paginateDescribePatchGroups,
  type OperatingSystem, type PatchGroupPatchBaselineMapping, type PatchOrchestratorFilter, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { rejectsWith } from '../helpers/assertions.ts';

for (const { engine, skip } of engines()) {
  describe(`patch groups (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;

    const create = async (Name: string, OperatingSystem: OperatingSystem) =>
      (await ssm.send(new CreatePatchBaselineCommand({ Name, OperatingSystem }))).BaselineId!;
    const register = (BaselineId: string, PatchGroup: string) => ssm.send(new RegisterPatchBaselineForPatchGroupCommand({ BaselineId, PatchGroup }));
    const deregister = (BaselineId: string, PatchGroup: string) => ssm.send(new DeregisterPatchBaselineForPatchGroupCommand({ BaselineId, PatchGroup }));
    const resolve = async (PatchGroup: string, OperatingSystem?: OperatingSystem) =>
      (await ssm.send(new GetPatchBaselineForPatchGroupCommand({ PatchGroup, OperatingSystem }))).BaselineId;
    const groupsOf = async (BaselineId: string) => (await ssm.send(new GetPatchBaselineCommand({ BaselineId }))).PatchGroups;
    const osDefault = async (OperatingSystem: OperatingSystem) => (await ssm.send(new GetDefaultPatchBaselineCommand({ OperatingSystem }))).BaselineId!;
    const mappings = async (filters: PatchOrchestratorFilter[]) => {
      const out: PatchGroupPatchBaselineMapping[] = [];
      for await (const page of paginateDescribePatchGroups({ client: ssm }, { Filters: filters })) out.push(...(page.Mappings ?? []));
      return out;
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
    });
    after(async () => {
      await server?.close();
    });

    test('register, register again (no-op), conflict on the same OS, another OS in the same group', async () => {
      const al2 = await create('web-al2', 'AMAZON_LINUX_2');
      const r = await register(al2, 'web');
      assert.equal(r.BaselineId, al2);
      assert.equal(r.PatchGroup, 'web');
      const again = await register(al2, 'web');
      assert.deepEqual([again.BaselineId, again.PatchGroup], [al2, 'web']);
      assert.equal((await mappings([{ Key: 'NAME_PREFIX', Values: ['web'] }])).length, 1, 'registering twice leaves one mapping');

      const otherAl2 = await create('web-al2-other', 'AMAZON_LINUX_2');
      await rejectsWith(register(otherAl2, 'web'), 'AlreadyExistsException', /AMAZON_LINUX_2/);
      assert.equal(await resolve('web', 'AMAZON_LINUX_2'), al2, 'the conflict did not replace the registration');
      assert.deepEqual(await groupsOf(otherAl2), []);

      const windows = await create('web-windows', 'WINDOWS');
      await register(windows, 'web');
      assert.equal(await resolve('web', 'AMAZON_LINUX_2'), al2);
      assert.equal(await resolve('web', 'WINDOWS'), windows);
      assert.equal(await resolve('web'), windows, 'OperatingSystem defaults to WINDOWS');

      const web = await mappings([{ Key: 'NAME_PREFIX', Values: ['web'] }]);
      assert.deepEqual(
        web.map((m) => [m.PatchGroup, m.BaselineIdentity!.BaselineId, m.BaselineIdentity!.OperatingSystem]).sort(),
        [['web', al2, 'AMAZON_LINUX_2'], ['web', windows, 'WINDOWS']].sort(),
      );
      const identity = web.find((m) => m.BaselineIdentity!.BaselineId === al2)!.BaselineIdentity!;
      assert.equal(identity.BaselineName, 'web-al2');
      assert.equal(identity.DefaultBaseline, false);
    });

    test('concurrent registrations of different baselines of one OS to one group: exactly one wins', async () => {
      const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => create(`race-${i}`, 'RASPBIAN')));
      const outcomes = await Promise.all(ids.map((id) => register(id, 'race').then(() => 'ok', (err: Error) => err.name)));
      assert.equal(outcomes.filter((o) => o === 'ok').length, 1, outcomes.join(', '));
      assert.equal(outcomes.filter((o) => o === 'AlreadyExistsException').length, ids.length - 1, outcomes.join(', '));
      const winner = ids[outcomes.indexOf('ok')]!;
      assert.equal(await resolve('race', 'RASPBIAN'), winner);
      const same = await Promise.all(Array.from({ length: 4 }, () => register(winner, 'race').then(() => 'ok', (err: Error) => err.name)));
      assert.deepEqual(same, ['ok', 'ok', 'ok', 'ok'], 'repeating the winning registration concurrently stays a no-op');
      assert.equal((await mappings([{ Key: 'NAME_PREFIX', Values: ['race'] }])).length, 1);
    });

    test('an unknown or malformed baseline is refused', async () => {
      await rejectsWith(register('pb-0123456789abcdef0', 'ghost'), 'DoesNotExistException');
      await rejectsWith(register('abcdefghijklmnopqrstuvwxyz', 'ghost'), 'InvalidResourceId');
      assert.deepEqual(await mappings([{ Key: 'NAME_PREFIX', Values: ['ghost'] }]), []);
    });

    test('GetPatchBaselineForPatchGroup falls back to the OS default, including a custom default', async () => {
      assert.equal(await resolve('nobody-registered', 'UBUNTU'), await osDefault('UBUNTU'));
      assert.match(await resolve('nobody-registered', 'UBUNTU') ?? '', /^arn:aws:ssm:/);
      const r = await ssm.send(new GetPatchBaselineForPatchGroupCommand({ PatchGroup: 'nobody-registered' }));
      assert.deepEqual([r.BaselineId, r.PatchGroup, r.OperatingSystem], [await osDefault('WINDOWS'), 'nobody-registered', 'WINDOWS']);

      const custom = await create('custom-rocky-default', 'ROCKY_LINUX');
      const awsRocky = await osDefault('ROCKY_LINUX');
      await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: custom }));
      try {
        assert.equal(await resolve('nobody-registered', 'ROCKY_LINUX'), custom);
      } finally {
        await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: awsRocky }));
      }
      assert.equal(await resolve('nobody-registered', 'ROCKY_LINUX'), awsRocky);
    });

    test('GetPatchBaseline lists the groups a baseline is registered to', async () => {
      const id = await create('multi-group', 'CENTOS');
      assert.deepEqual(await groupsOf(id), []);
      for (const g of ['mg-b', 'mg-a', 'mg-c']) await register(id, g);
      assert.deepEqual([...(await groupsOf(id))!].sort(), ['mg-a', 'mg-b', 'mg-c']);
    });

    test('DescribePatchGroups filters by NAME_PREFIX and OPERATING_SYSTEM; the paginator visits each mapping once', async () => {
      const suse = await create('pg-suse', 'SUSE');
      const macos = await create('pg-macos', 'MACOS');
      const expected: string[] = [];
      for (let i = 0; i < 5; i++) {
        await register(suse, `fleet-${i}`);
        expected.push(`fleet-${i}|SUSE`);
      }
      for (let i = 0; i < 2; i++) {
        await register(macos, `fleet-${i}`);
        expected.push(`fleet-${i}|MACOS`);
      }
      await register(macos, 'other-fleet');

      const key = (m: PatchGroupPatchBaselineMapping) => `${m.PatchGroup}|${m.BaselineIdentity!.OperatingSystem}`;
      const fleet = await mappings([{ Key: 'NAME_PREFIX', Values: ['fleet-'] }]);
      assert.deepEqual(fleet.map(key).sort(), [...expected].sort());
      const fleetMac = await mappings([{ Key: 'NAME_PREFIX', Values: ['fleet-'] }, { Key: 'OPERATING_SYSTEM', Values: ['MACOS'] }]);
      assert.deepEqual(fleetMac.map(key).sort(), ['fleet-0|MACOS', 'fleet-1|MACOS']);
      const allMac = await mappings([{ Key: 'OPERATING_SYSTEM', Values: ['MACOS'] }]);
      assert.deepEqual(allMac.map(key).sort(), ['fleet-0|MACOS', 'fleet-1|MACOS', 'other-fleet|MACOS']);

      const seen: string[] = [];
      let pages = 0;
      for await (const page of paginateDescribePatchGroups({ client: ssm, pageSize: 2 }, { Filters: [{ Key: 'NAME_PREFIX', Values: ['fleet-'] }] })) {
        pages++;
        assert.ok(page.Mappings!.length <= 2);
        seen.push(...page.Mappings!.map(key));
      }
      assert.equal(new Set(seen).size, seen.length, 'no mapping twice');
      assert.deepEqual(seen.sort(), [...expected].sort());
      assert.equal(pages, Math.ceil(expected.length / 2));

      const everything = await mappings([]);
      const unpaged = await ssm.send(new DescribePatchGroupsCommand({ MaxResults: 100 }));
      assert.equal(unpaged.NextToken, undefined);
      assert.deepEqual(everything.map(key).sort(), unpaged.Mappings!.map(key).sort());

      await rejectsWith(ssm.send(new DescribePatchGroupsCommand({ Filters: [{ Key: 'OWNER', Values: ['Self'] }] })), 'ValidationException');
      const first = await ssm.send(new DescribePatchGroupsCommand({ MaxResults: 2, Filters: [{ Key: 'NAME_PREFIX', Values: ['fleet-'] }] }));
      await rejectsWith(ssm.send(new DescribePatchGroupsCommand({ MaxResults: 2, NextToken: first.NextToken, Filters: [{ Key: 'NAME_PREFIX', Values: ['other'] }] })), 'ValidationException');
    });

    test('deregister removes the mapping; deregistering again succeeds', async () => {
      const id = await create('dereg-al2023', 'AMAZON_LINUX_2023');
      await register(id, 'dereg');
      assert.equal(await resolve('dereg', 'AMAZON_LINUX_2023'), id);
      const r = await deregister(id, 'dereg');
      assert.deepEqual([r.BaselineId, r.PatchGroup], [id, 'dereg']);
      assert.equal(await resolve('dereg', 'AMAZON_LINUX_2023'), await osDefault('AMAZON_LINUX_2023'));
      assert.deepEqual(await groupsOf(id), []);
      assert.deepEqual(await mappings([{ Key: 'NAME_PREFIX', Values: ['dereg'] }]), []);
      const again = await deregister(id, 'dereg');
      assert.deepEqual([again.BaselineId, again.PatchGroup], [id, 'dereg']);
      // Once free, the group takes another baseline of that OS.
      const other = await create('dereg-al2023-b', 'AMAZON_LINUX_2023');
      await register(other, 'dereg');
      assert.equal(await resolve('dereg', 'AMAZON_LINUX_2023'), other);
    });

    test('deregistering a baseline that is not the registered one leaves the registration alone', async () => {
      const registered = await create('keep-registered', 'ORACLE_LINUX');
      const stranger = await create('stranger', 'ORACLE_LINUX');
      await register(registered, 'keep');
      await deregister(stranger, 'keep');
      assert.equal(await resolve('keep', 'ORACLE_LINUX'), registered);
    });

    test('AWS-provided baselines can be registered by ARN', async () => {
      const arn = await osDefault('DEBIAN');
      assert.match(arn, /^arn:aws:ssm:/);
      const r = await register(arn, 'aws-debian');
      assert.equal(r.BaselineId, arn);
      assert.equal(await resolve('aws-debian', 'DEBIAN'), arn);
      assert.deepEqual(await groupsOf(arn), ['aws-debian']);
      const [mapping] = await mappings([{ Key: 'NAME_PREFIX', Values: ['aws-debian'] }]);
      assert.equal(mapping!.BaselineIdentity!.BaselineId, arn);
      assert.equal(mapping!.BaselineIdentity!.BaselineName, 'AWS-DebianDefaultPatchBaseline');
      assert.equal(mapping!.BaselineIdentity!.DefaultBaseline, true);
      const custom = await create('debian-custom', 'DEBIAN');
      await rejectsWith(register(custom, 'aws-debian'), 'AlreadyExistsException');
      await deregister(arn, 'aws-debian');
      assert.deepEqual(await groupsOf(arn), []);
    });

    test('group names with unicode letters, spaces and the model\'s punctuation are accepted', async () => {
      const id = await create('unicode-groups', 'WINDOWS');
      const names = ['Produktion Ünïcode 東京', 'web servers', 'a_b.c:d/e=f+g-h@i', 'Ελληνικά 123', '1'];
      for (const name of names) {
        const r = await register(id, name);
        assert.equal(r.PatchGroup, name);
        assert.equal(await resolve(name, 'WINDOWS'), id);
        const [m] = await mappings([{ Key: 'NAME_PREFIX', Values: [name] }]);
        assert.equal(m?.PatchGroup, name);
      }
      assert.deepEqual([...(await groupsOf(id))!].sort(), [...names].sort());
      await rejectsWith(register(id, 'bad#name'), 'ValidationException', /patchGroup/);
      await rejectsWith(register(id, 'x'.repeat(257)), 'ValidationException', /patchGroup/);
      await rejectsWith(register(id, ''), 'ValidationException', /patchGroup/);
    });
  });
}
