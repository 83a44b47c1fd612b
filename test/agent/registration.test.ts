// Registration and what a node's own credentials may do, through the agent against the real server (both
// engines): an expired activation, a used-up registration limit, a wrong code (and repeated wrong codes ending in
// ThrottlingException), node credentials refused for another node and for every admin operation
// (AccessDeniedException), and DeregisterManagedInstance revoking them at once.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DeregisterManagedInstanceCommand, DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ApiClient } from '../../src/agent/http.ts';
import { ApiError } from '../../src/agent/errors.ts';
import { NODE_OPERATIONS } from '../../src/auth/node-policy.ts';
import { agent, createActivation, registerNode, tempStateDir } from './helpers.ts';

const register = (endpoint: string, id: string, code: string, stateDir = tempStateDir()) =>
  agent(['register', '--endpoint', endpoint, '--activation-id', id, '--activation-code', code, '--state-dir', stateDir, '--json']);

function nodeClient(stateDir: string): { client: ApiClient; instanceId: string } {
  const reg = JSON.parse(readFileSync(join(stateDir, 'registration.json'), 'utf8'));
  return {
    client: new ApiClient({ endpoint: reg.endpoint, region: reg.region, credentials: { accessKeyId: reg.accessKeyId, secretAccessKey: reg.secretAccessKey }, retry: { maxAttempts: 1 } }),
    instanceId: reg.instanceId,
  };
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an API error');
}

for (const { engine, skip } of engines()) {
  describe(`agent registration (${engine})`, { skip }, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer({ engine }); });
    after(async () => { await server.close(); });

    test('register stores the node key root-only; the node shows up; a second register needs --force', async () => {
      const ssm = server.client();
      const act = await createActivation(ssm, { DefaultInstanceName: 'web-1' });
      const stateDir = tempStateDir();
      const r = await register(server.endpoint, act.id, act.code, stateDir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.json.instanceId, /^mi-[0-9a-f]{17}$/);
      assert.equal(statSync(stateDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(stateDir, 'registration.json')).mode & 0o777, 0o600);
      const reg = JSON.parse(readFileSync(join(stateDir, 'registration.json'), 'utf8'));
      assert.notEqual(reg.accessKeyId, act.id, 'the node gets a key of its own, not the activation');
      const info = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [r.json.instanceId] }] }));
      assert.equal(info.InstanceInformationList![0]!.Name, 'web-1');
      assert.equal(info.InstanceInformationList![0]!.AgentVersion, '1.0.0');
      const again = await register(server.endpoint, act.id, act.code, stateDir);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already registered as mi-.*--force/);
    });

    test('expired activation and registration limit: InvalidActivation, said plainly', async () => {
      const ssm = server.client();
      const expired = await createActivation(ssm);
      await server.app.store.db.updateTable('activations').set({ expiration_date: Date.now() - 1000 }).where('activation_id', '=', expired.id).execute();
      let r = await register(server.endpoint, expired.id, expired.code);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /Registration refused: InvalidActivation: Activation .* has expired\..*create a new activation/);

      const once = await createActivation(ssm, { RegistrationLimit: 1 });
      assert.equal((await register(server.endpoint, once.id, once.code)).code, 0);
      r = await register(server.endpoint, once.id, once.code);
      assert.equal(r.code, 4);
      assert.equal(r.json.code, 'InvalidActivation');
      assert.match(r.stderr, /reached its registration limit of 1/);

      r = await register(server.endpoint, '11111111-2222-3333-4444-555555555555', 'x'.repeat(20));
      assert.equal(r.code, 4);
      assert.match(r.stderr, /UnrecognizedClientException: .*no such activation/);
    });

    test('node credentials: only its own node, never another node, never an admin operation', async () => {
      const ssm = server.client();
      const a = await registerNode(ssm, server.endpoint);
      const b = await registerNode(ssm, server.endpoint);
      const { client, instanceId } = nodeClient(a.stateDir);
      assert.equal(instanceId, a.instanceId);
      const scanOf = (id: string) => ({
        InstanceId: id, Operation: 'Scan', OperationStartTime: 1_790_000_000, OperationEndTime: 1_790_000_001, RebootPending: false,
        Platform: { OperatingSystem: 'DEBIAN', Name: 'Debian GNU/Linux', Version: '12' }, Installed: [], Updates: [],
      });
      await client.call('Patchline.PutScanReport', scanOf(a.instanceId));
      for (const [target, input] of [
        ['Patchline.PutScanReport', scanOf(b.instanceId)],
        ['AmazonSSM.GetDeployablePatchSnapshotForInstance', { InstanceId: b.instanceId, SnapshotId: '11111111-2222-4333-8444-555555555555' }],
        ['AmazonSSM.PutInventory', { InstanceId: b.instanceId, Items: [] }],
      ] as const) {
        const e = await apiError(client.call(target, input));
        assert.equal(e.code, 'AccessDeniedException', target);
        assert.ok(e.message.includes(b.instanceId), e.message);
      }
      const admin = Object.keys(server.app.operations).filter((op) => !(op in NODE_OPERATIONS));
      assert.ok(admin.length > 30, `${admin.length} admin operations`);
      for (const op of admin) {
        const target = op.startsWith('Patchline.') ? op : `AmazonSSM.${op}`;
        const e = await apiError(client.call(target, { InstanceId: a.instanceId }));
        assert.equal(e.code, 'AccessDeniedException', `${op}: ${e.message}`);
      }
    });

    test('DeregisterManagedInstance revokes the node key at once; the agent says so plainly', async () => {
      const ssm = server.client();
      const { stateDir, instanceId } = await registerNode(ssm, server.endpoint);
      const { client } = nodeClient(stateDir);
      await client.call('Patchline.PutScanReport', {
        InstanceId: instanceId, Operation: 'Scan', OperationStartTime: 1_790_000_000, OperationEndTime: 1_790_000_001, RebootPending: false,
        Platform: { OperatingSystem: 'DEBIAN', Name: 'Debian GNU/Linux', Version: '12' }, Installed: [], Updates: [],
      });
      await ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: instanceId }));
      const e = await apiError(client.call('AmazonSSM.GetDeployablePatchSnapshotForInstance', { InstanceId: instanceId, SnapshotId: '11111111-2222-4333-8444-555555555555' }));
      assert.equal(e.code, 'UnrecognizedClientException');
      const r = await agent(['install', '--state-dir', stateDir, '--json']);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /UnrecognizedClientException: The security token included in the request is invalid.*was it deregistered\?/);
    });

    test('wrong codes: InvalidSignatureException, and after ten of them ThrottlingException (even for the right code)', async () => {
      const ssm = server.client();
      const act = await createActivation(ssm);
      const wrong = act.code.slice(0, -1) + (act.code.endsWith('A') ? 'B' : 'A');
      // The limiter counts failures per source address and per activation: this server already saw three failed
      // registrations from 127.0.0.1 in the tests above, so the tenth failure overall trips it.
      let wrongCodes = 0;
      for (;;) {
        const r = await register(server.endpoint, act.id, wrong);
        assert.equal(r.code, 4);
        if (r.json.code === 'ThrottlingException') break;
        assert.match(r.stderr, /InvalidSignatureException: The request signature we calculated does not match.*the activation code does not match the activation id/);
        assert.ok(!r.stderr.includes('Canonical String'), 'the SigV4 debugging text is not shown to a person');
        wrongCodes++;
        assert.ok(wrongCodes <= 10, 'throttled within ten failures');
      }
      assert.equal(wrongCodes, 7);
      const r = await register(server.endpoint, act.id, act.code);
      assert.equal(r.code, 4);
      assert.equal(r.json.code, 'ThrottlingException');
      assert.match(r.stderr, /Registration refused: ThrottlingException: Too many failed registration attempts.*wait before trying again/);
    });
  });
}
