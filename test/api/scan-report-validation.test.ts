// Bad raw scans (Patchline.PutScanReport) through the real server on every store engine: each gets a
// ValidationException whose message names the offending field, and changes nothing — neither the node it names (its
// state, rows, history), nor the evaluation status, nor the patch catalogue, nor (for an id never seen) creates the
// node. Checked: an unknown OperatingSystem, a malformed dpkg version (`Installed[3].Version …`), a malformed RPM
// version, Failed on a Scan, OperationEndTime before OperationStartTime, lists past the model's maximum (AdvisoryIds
// over 1,000, Installed over 50,000), missing required members. A node's own key (CreateActivation +
// Patchline.RegisterManagedInstance) may report its own scan but not another node's (AccessDeniedException).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateActivationCommand, DescribeInstancePatchStatesCommand, paginateDescribeAvailablePatches, type SSMClient,
} from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { callPatchline, nodeId } from '../helpers/fleet.ts';
import { signedRequest, type Credentials } from '../helpers/raw-request.ts';
import { evaluationStatus, nodeView, nowSeconds, putScan, scanBody, type NodeView, type ScanInput } from '../helpers/scans.ts';

const debianInput = (): ScanInput => ({
  os: 'DEBIAN', platformName: 'Debian GNU/Linux', platformVersion: '12',
  installed: [
    { Name: 'base-files', Version: '12.4+deb12u11', Architecture: 'amd64' },
    { Name: 'bash', Version: '5.2.15-2+b8', Architecture: 'amd64' },
    { Name: 'libssl3', Version: '3.0.19-1~deb12u2', Architecture: 'amd64' },
    { Name: 'openssl', Version: '3.0.19-1~deb12u2', Architecture: 'amd64' },
  ],
  updates: [
    { Name: 'libssl3', Version: '3.0.22-1~deb12u2', Architecture: 'amd64', Security: true, Repository: 'bookworm-security', Priority: 'optional' },
    { Name: 'openssl', Version: '3.0.22-1~deb12u2', Architecture: 'amd64', Security: true, Repository: 'bookworm-security', Priority: 'optional' },
  ],
});

const rpmInput = (): ScanInput => ({
  os: 'AMAZON_LINUX_2023', platformName: 'Amazon Linux', platformVersion: '2023',
  installed: [{ Name: 'rsyslog', Version: '8.2204.0-3.amzn2023.0.1', Architecture: 'x86_64' }, { Name: 'curl', Version: '8.5.0-1.amzn2023.0.1', Architecture: 'x86_64' }],
  updates: [{ Name: 'rsyslog', Version: '8.2204.0-3.amzn2023.0.2', Architecture: 'x86_64', Security: true, Classification: 'Security', Severity: 'Important', AdvisoryIds: ['ALAS2023-2023-001'] }],
});

for (const { engine, skip } of engines()) {
  describe(`bad raw scans change nothing (${engine})`, { skip }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    const good = nodeId(1, 'good'); // has a valid scan; bad ones for it must leave it as it is
    const fresh = nodeId(2, 'fresh'); // never reported; bad scans must not create it
    let snapshot: { view: NodeView; status: { ScannedNodes: number; PendingNodes: number }; catalogue: number };

    const catalogueSize = async () => {
      let n = 0;
      for await (const page of paginateDescribeAvailablePatches({ client: ssm, pageSize: 100 }, {})) n += page.Patches?.length ?? 0;
      return n;
    };
    const observe = async () => {
      const status = await evaluationStatus(server);
      return { view: await nodeView(server, ssm, good), status: { ScannedNodes: status.ScannedNodes, PendingNodes: status.PendingNodes }, catalogue: await catalogueSize() };
    };

    /** Sends `body`; expects `code` with a message matching `message`; then checks that nothing changed. */
    const rejects = async (body: object, message: RegExp, code = 'ValidationException', credentials: Credentials = TEST_ADMIN) => {
      const res = await signedRequest(server.endpoint, { target: 'Patchline.PutScanReport', body, credentials });
      assert.equal(res.status, 400, res.text.slice(0, 300));
      assert.equal(res.json?.__type, code, res.text.slice(0, 300));
      assert.match(String(res.json?.message), message);
      const now = await observe();
      assert.deepEqual(now.status, snapshot.status, 'evaluation status unchanged');
      assert.equal(now.catalogue, snapshot.catalogue, 'no catalogue entry added');
      assert.deepEqual(now.view.state, snapshot.view.state, 'the node\'s state unchanged');
      assert.deepEqual(now.view.patches, snapshot.view.patches, 'the node\'s rows unchanged');
      assert.equal(now.view.history.length, snapshot.view.history.length, 'no history point');
      const freshState = await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [fresh] }));
      assert.deepEqual(freshState.InstancePatchStates, [], 'an unseen node is not created');
      return res.json.message as string;
    };
    const bodies = (mutate: (b: Record<string, any>) => void, input: () => ScanInput = debianInput) =>
      [good, fresh].map((id) => {
        const b = scanBody(id, input()) as Record<string, any>;
        mutate(b);
        return b;
      });

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      await putScan(server, scanBody(good, debianInput()));
      await putScan(server, scanBody(nodeId(3, 'good'), rpmInput()));
      snapshot = await observe();
      assert.equal(snapshot.view.state.MissingCount, 2);
      assert.equal(snapshot.status.ScannedNodes, 2);
    });
    after(() => server.close());

    test('an OperatingSystem outside the model\'s enum names Platform.OperatingSystem', async () => {
      for (const b of bodies((b) => { b.Platform.OperatingSystem = 'BEOS'; })) {
        await rejects(b, /Value 'BEOS' at 'platform\.operatingSystem' failed to satisfy constraint: Member must satisfy enum value set/);
      }
    });

    test('a malformed dpkg version names Installed[3].Version; a malformed candidate version names Updates[i].Version', async () => {
      for (const b of bodies((b) => { b.Installed[3].Version = '3.0.19 1~deb12u2'; })) {
        await rejects(b, /^Installed\[3\]\.Version '3\.0\.19 1~deb12u2' is not a valid dpkg version/);
      }
      for (const b of bodies((b) => { b.Updates[1].Version = 'x:3.0.22-1~deb12u2'; })) {
        await rejects(b, /^Updates\[1\]\.Version 'x:3\.0\.22-1~deb12u2' is not a valid dpkg version/);
      }
    });

    test('a malformed RPM version (epoch not a number, empty release) names its field', async () => {
      for (const b of bodies((b) => { b.Updates[0].Version = 'x:8.2204.0-3.amzn2023.0.2'; }, rpmInput)) {
        await rejects(b, /^Updates\[0\]\.Version 'x:8\.2204\.0-3\.amzn2023\.0\.2' is not a valid rpm version/);
      }
      for (const b of bodies((b) => { b.Installed[1].Version = '8.5.0-'; }, rpmInput)) {
        await rejects(b, /^Installed\[1\]\.Version '8\.5\.0-' is not a valid rpm version/);
      }
    });

    test('Failed (or InstalledByOperation) on a Scan operation', async () => {
      for (const b of bodies((b) => { b.Failed = [{ Name: 'openssl', Architecture: 'amd64' }]; })) {
        await rejects(b, /Failed and InstalledByOperation belong to Install operations/);
      }
      for (const b of bodies((b) => { b.InstalledByOperation = [{ Name: 'openssl', Architecture: 'amd64' }]; })) {
        await rejects(b, /Failed and InstalledByOperation belong to Install operations/);
      }
    });

    test('OperationEndTime before OperationStartTime', async () => {
      for (const b of bodies((b) => { b.OperationEndTime = b.OperationStartTime - 1; })) {
        await rejects(b, /OperationEndTime is earlier than OperationStartTime/);
      }
    });

    test('lists past the model\'s maximum: Updates[].AdvisoryIds over 1,000 and Installed over 50,000 entries', async () => {
      for (const b of bodies((b) => { b.Updates[0].AdvisoryIds = Array.from({ length: 1001 }, (_, i) => `DSA-${5000 + i}-1`); })) {
        await rejects(b, /at 'updates\.1\.member\.advisoryIds' failed to satisfy constraint: Member must have length less than or equal to 1000/);
      }
      const many = Array.from({ length: 50_001 }, (_, i) => ({ Name: `pkg${i}`, Version: '1.0-1', Architecture: 'amd64' }));
      for (const b of bodies((b) => { b.Installed = many; b.Updates = []; })) {
        await rejects(b, /at 'installed' failed to satisfy constraint: Member must have length less than or equal to 50000/);
      }
    });

    test('missing required members: RebootPending, Platform.Version, Updates[].Security, Installed[].Architecture', async () => {
      for (const b of bodies((b) => { delete b.RebootPending; })) await rejects(b, /Value null at 'rebootPending' failed to satisfy constraint: Member must not be null/);
      for (const b of bodies((b) => { delete b.Platform.Version; })) await rejects(b, /Value null at 'platform\.version' failed to satisfy constraint: Member must not be null/);
      for (const b of bodies((b) => { delete b.Updates[0].Security; })) await rejects(b, /Value null at 'updates\.1\.member\.security' failed to satisfy constraint: Member must not be null/);
      for (const b of bodies((b) => { delete b.Installed[2].Architecture; })) await rejects(b, /Value null at 'installed\.3\.member\.architecture' failed to satisfy constraint: Member must not be null/);
    });

    test('a package installed twice with the same version is refused', async () => {
      for (const b of bodies((b) => { b.Installed.push({ ...b.Installed[1] }); })) await rejects(b, /^Installed\[4\] repeats bash 5\.2\.15-2\+b8 \(amd64\)/);
    });

    test('a node key may send its own scan but not another node\'s (AccessDeniedException), nor ask for the evaluation status', async () => {
      const activation = await ssm.send(new CreateActivationCommand({ IamRole: 'SSMServiceRole', RegistrationLimit: 2 }));
      const activationKey = { accessKeyId: activation.ActivationId!, secretAccessKey: activation.ActivationCode! };
      const a = await callPatchline(server.endpoint, activationKey, 'RegisterManagedInstance', { ComputerName: 'node-a', PlatformType: 'Linux' });
      const b = await callPatchline(server.endpoint, activationKey, 'RegisterManagedInstance', { ComputerName: 'node-b', PlatformType: 'Linux' });
      const keyA = { accessKeyId: a.AccessKeyId, secretAccessKey: a.SecretAccessKey };
      // Not for node b, nor for the admin-reported node `good`.
      for (const id of [b.InstanceId, good]) {
        const res = await signedRequest(server.endpoint, { target: 'Patchline.PutScanReport', body: scanBody(id, debianInput()), credentials: keyA });
        assert.equal(res.status, 400);
        assert.equal(res.json?.__type, 'AccessDeniedException');
      }
      assert.deepEqual((await ssm.send(new DescribeInstancePatchStatesCommand({ InstanceIds: [b.InstanceId] }))).InstancePatchStates, [], 'node b has no report');
      assert.deepEqual((await nodeView(server, ssm, good)).state, snapshot.view.state);
      const denied = await signedRequest(server.endpoint, { target: 'Patchline.GetEvaluationStatus', body: {}, credentials: keyA });
      assert.equal(denied.json?.__type, 'AccessDeniedException');
      // Its own scan is accepted and evaluated.
      const own = await putScan(server, { ...scanBody(a.InstanceId, debianInput()), ComputerName: 'node-a' }, keyA);
      assert.equal(own.InstancePatchState.MissingCount, 2);
      assert.equal((await evaluationStatus(server)).ScannedNodes, 3);
    });
  });
}
