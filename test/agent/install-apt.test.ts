// The install path for real, inside an isolated dpkg/apt root the test builds (test/agent/apt-root.ts): a local
// -security repository with one package that upgrades (its postinst asks for a reboot, as kernels do) and one
// whose upgrade fails in its preinst. The agent scans the root, fetches its patch snapshot from the real server,
// installs through apt-get, and reports Operation Install: the upgraded package is InstalledPendingReboot (then
// Installed once the reboot signal clears), the other Failed. The machine's own dpkg database is never touched.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreatePatchBaselineCommand, DescribeInstancePatchStatesCommand, RegisterDefaultPatchBaselineCommand,
} from '@aws-sdk/client-ssm';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { agent, allPatches, registerNode } from './helpers.ts';
import { buildAptRoot, hasDebTools, rootVersions } from './apt-root.ts';

const skip = hasDebTools && process.getuid?.() === 0 ? false : 'needs root, dpkg-deb, dpkg-scanpackages and apt-get';
const hostStatus = () => createHash('sha256').update(readFileSync('/var/lib/dpkg/status')).digest('hex');

describe('agent install in an isolated apt root', { skip }, () => {
  let server: TestServer;
  const roots: string[] = [];
  before(async () => { server = await startTestServer({ engine: 'sqlite' }); });
  after(async () => {
    await server.close();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  test('one upgrade installs (pending reboot), one fails in its preinst; the report says so', { timeout: 60_000 }, async () => {
    const before = hostStatus();
    const root = buildAptRoot(
      [{ name: 'plhello', version: '1.0' }, { name: 'plfail', version: '1.0' }],
      [
        { name: 'plhello', version: '1.1', postinst: 'mkdir -p "$DPKG_ROOT/run"; echo plhello >> "$DPKG_ROOT/run/reboot-required"' },
        { name: 'plfail', version: '1.1', preinst: 'echo "plfail: this upgrade refuses to install" >&2; exit 1' },
      ],
    );
    roots.push(root);
    const ssm = server.client();
    const { stateDir, instanceId } = await registerNode(ssm, server.endpoint);

    const scan = await agent(['scan', '--root', root, '--state-dir', stateDir, '--json']);
    assert.equal(scan.code, 0, scan.stderr);
    assert.equal(scan.json.installed, 2);
    assert.equal(scan.json.securityUpdates, 2);
    assert.deepEqual((await allPatches(ssm, instanceId, 'Missing')).map((p) => p.Title).sort(), ['plfail.all:1.1', 'plhello.all:1.1']);

    const inst = await agent(['install', '--root', root, '--state-dir', stateDir, '--json', '--reboot-option', 'NoReboot']);
    assert.equal(inst.code, 1, 'a failed package makes the command fail');
    assert.deepEqual(inst.json.installed.map((i: any) => `${i.Name} ${i.Version}`), ['plhello 1.1']);
    assert.deepEqual(inst.json.failed.map((i: any) => `${i.Name} ${i.Version}`), ['plfail 1.1']);
    assert.match(inst.json.failed[0].reason, /plfail/);
    assert.equal(inst.json.rebootPending, true);
    assert.equal(inst.json.sent, 1);

    const versions = rootVersions(root);
    assert.deepEqual(versions.get('plhello'), { version: '1.1', status: 'install ok installed' });
    assert.deepEqual(versions.get('plfail'), { version: '1.0', status: 'install ok installed' }, 'the failed upgrade left the old version intact');
    assert.equal(hostStatus(), before, "the machine's own dpkg database is untouched");

    const states = new Map((await allPatches(ssm, instanceId)).map((p) => [p.KBId, p.State]));
    assert.equal(states.get('plhello.all'), 'InstalledPendingReboot');
    assert.equal(states.get('plfail.all'), 'Failed');
    const summary = (await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [instanceId] }))).InstancePatchStates![0]!;
    assert.equal(summary.Operation, 'Install');
    assert.equal(summary.FailedCount, 1);
    assert.equal(summary.InstalledPendingRebootCount, 1);

    // The reboot signal is live: once it is gone (as /run is after a reboot), the next scan shows Installed.
    rmSync(join(root, 'run/reboot-required'));
    const again = await agent(['scan', '--root', root, '--state-dir', stateDir, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.rebootPending, false);
    const after = new Map((await allPatches(ssm, instanceId)).map((p) => [p.KBId, p.State]));
    assert.equal(after.get('plhello.all'), 'Installed');
    assert.equal(after.get('plfail.all'), 'Missing');
  });

  test('BLOCK: an upgrade that would pull a rejected package is refused; RebootIfNeeded runs the reboot command; a second install is refused while one runs', { timeout: 60_000 }, async () => {
    const root = buildAptRoot(
      [{ name: 'plapp', version: '1.0' }, { name: 'pllib', version: '1.0' }, { name: 'plkernel', version: '1.0' }],
      [
        { name: 'plapp', version: '2.0', depends: 'pllib (>= 2.0)' },
        { name: 'pllib', version: '2.0' },
        { name: 'plkernel', version: '1.1', postinst: 'mkdir -p "$DPKG_ROOT/run"; touch "$DPKG_ROOT/run/reboot-required"' },
      ],
    );
    roots.push(root);
    const ssm = server.client();
    // A baseline for Debian that approves security updates and rejects pllib with BLOCK, as the default for DEBIAN.
    const baseline = await ssm.send(new CreatePatchBaselineCommand({
      Name: 'agent-block', OperatingSystem: 'DEBIAN', RejectedPatches: ['pllib'], RejectedPatchesAction: 'BLOCK',
      ApprovalRules: { PatchRules: [{ PatchFilterGroup: { PatchFilters: [{ Key: 'PRIORITY', Values: ['*'] }] }, ApproveAfterDays: 0 }] },
    }));
    await ssm.send(new RegisterDefaultPatchBaselineCommand({ BaselineId: baseline.BaselineId! }));
    const { stateDir, instanceId } = await registerNode(ssm, server.endpoint);
    assert.equal((await agent(['scan', '--root', root, '--state-dir', stateDir, '--json'])).code, 0);

    const marker = join(root, 'rebooted');
    const first = agent(['install', '--root', root, '--state-dir', stateDir, '--json', '--reboot-option', 'RebootIfNeeded', '--reboot-command', `touch ${marker}`]);
    const second = await agent(['install', '--root', root, '--state-dir', stateDir, '--json']);
    assert.equal(second.code, 5, 'the lock refuses a concurrent install');
    assert.match(second.stderr, /Another agent operation is running \(install/);
    const inst = await first;
    assert.equal(inst.code, 1, inst.stderr);
    assert.deepEqual(inst.json.installed.map((i: any) => i.Name), ['plkernel']);
    assert.deepEqual(inst.json.failed.map((i: any) => i.Name), ['plapp']);
    assert.match(inst.json.failed[0].reason, /rejected package\(s\) pllib/);
    assert.equal(inst.json.rebooted, true);
    assert.ok(existsSync(marker), 'the reboot command ran');
    const versions = rootVersions(root);
    assert.equal(versions.get('pllib')!.version, '1.0', 'the rejected package was never installed');
    assert.equal(versions.get('plapp')!.version, '1.0');
    const states = new Map((await allPatches(ssm, instanceId)).map((p) => [p.KBId, p.State]));
    assert.equal(states.get('plapp.all'), 'Failed');
    assert.equal(states.get('pllib.all'), 'InstalledRejected');
    assert.equal(states.get('plkernel.all'), 'InstalledPendingReboot');
  });

  test('--snapshot-file: installs exactly the given Install list, nothing else', { timeout: 60_000 }, async () => {
    const root = buildAptRoot(
      [{ name: 'pla', version: '1.0' }, { name: 'plb', version: '1.0' }],
      [{ name: 'pla', version: '1.1' }, { name: 'pla', version: '1.2' }, { name: 'plb', version: '1.1' }],
    );
    roots.push(root);
    const ssm = server.client();
    const { stateDir } = await registerNode(ssm, server.endpoint);
    const file = join(root, 'snapshot.json');
    writeFileSync(file, JSON.stringify({
      SnapshotId: '11111111-2222-4333-8444-555555555555',
      Install: [{ Name: 'pla', Architecture: 'all', Version: '1.1', KBId: 'pla.all', Title: 'pla.all:1.1' }],
      Rejected: { Action: 'ALLOW_AS_DEPENDENCY', Names: [] },
    }));
    const inst = await agent(['install', '--root', root, '--state-dir', stateDir, '--json', '--snapshot-file', file]);
    assert.equal(inst.code, 0, inst.stderr + inst.stdout);
    assert.equal(inst.json.snapshotId, '11111111-2222-4333-8444-555555555555');
    const versions = rootVersions(root);
    assert.equal(versions.get('pla')!.version, '1.1', 'the pinned version, not the newest');
    assert.equal(versions.get('plb')!.version, '1.0', 'not in the Install list: untouched');
  });
});
