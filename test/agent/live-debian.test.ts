// The agent on THIS machine (a real Debian 12): it registers against a real server, scans with dpkg and apt, and
// the API then shows as Missing exactly the security-pocket upgrades apt itself reports (`apt-get -s
// dist-upgrade` lines whose origin is a -security suite), with apt's versions, under the default Debian baseline.
// Skipped where the machine is not Debian-family or apt is missing.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DescribeInstanceInformationCommand, DescribeInstancePatchStatesCommand } from '@aws-sdk/client-ssm';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { agent, allPatches, registerNode } from './helpers.ts';

const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
const notDebian = /^ID=debian$/m.test(osRelease) && existsSync('/usr/bin/apt-get') ? false : 'this machine is not a Debian system with apt';

/** apt's own answer: the `Inst` lines of apt-get -s dist-upgrade that upgrade a package from a -security origin. */
function aptSecurityUpgrades(): Map<string, string> {
  const r = spawnSync('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^Inst (\S+) \[[^\]]+\] \((\S+) (.*) \[(\S+)\]\)/.exec(line);
    if (m && /-security\b/.test(m[3]!)) {
      const name = m[1]!.split(':')[0]!;
      out.set(`${name}.${m[4]}`, m[2]!);
    }
  }
  return out;
}

describe('agent on this Debian machine', { skip: notDebian }, () => {
  let server: TestServer;
  before(async () => { server = await startTestServer({ engine: 'sqlite' }); });
  after(async () => { await server.close(); });

  test('register + scan: Missing = apt\'s security-pocket upgrades, same versions', { timeout: 90_000 }, async () => {
    const ssm = server.client();
    const { stateDir, instanceId } = await registerNode(ssm, server.endpoint);
    assert.match(instanceId, /^mi-[0-9a-f]{17}$/);
    const expected = aptSecurityUpgrades();
    const r = await agent(['scan', '--state-dir', stateDir, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.json.sent, 1);
    assert.equal(r.json.operatingSystem, 'DEBIAN');

    const missing = await allPatches(ssm, instanceId, 'Missing');
    const got = new Map(missing.map((p) => [p.KBId!, p.Title!.slice(p.KBId!.length + 1)]));
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'Missing patches = apt security upgrades');
    for (const [kb, version] of expected) assert.equal(got.get(kb), version, `${kb} version`);
    for (const p of missing) assert.equal(p.Classification, 'Security');

    const state = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [instanceId] }))).InstancePatchStates![0]!;
    assert.equal(state.MissingCount, expected.size);
    assert.equal(state.Operation, 'Scan');
    const info = (await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }))).InstanceInformationList![0]!;
    assert.equal(info.PlatformType, 'Linux');
    assert.equal(info.PlatformName, 'Debian GNU/Linux');

    // status shows what happened; the outbox is empty.
    const st = await agent(['status', '--state-dir', stateDir, '--json']);
    assert.equal(st.code, 0);
    assert.equal(st.json.registration.instanceId, instanceId);
    assert.equal(st.json.registration.secretAccessKey, undefined, 'status never prints the secret');
    assert.deepEqual(st.json.outbox, []);
    assert.equal(st.json.lastScan.updates, r.json.updates);
  });
});
