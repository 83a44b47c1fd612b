// The advisory catalogue end to end, on every store engine (real server, SDK and signed raw requests):
// `patchline advisories import` through the CLI (a child process on the server's database) and through the service
// function; counts per format; idempotent re-import; a cut-off file imports nothing and is reported; labels applied
// at evaluation without a new scan (a real Debian 12 host snapshot from ../shared/fixtures/hosts sent through
// Patchline.PutScanReport, an Amazon Linux 2023 node labelled from updateinfo); the CVE index behind
// Patchline.DescribeInstancesForCve / Patchline.DescribeCvesForInstance, fed by scans and by PutInventory.
//
// The Debian advisory files written by this test are SYNTHETIC (tracker JSON and DSA list shapes, made-up CVE ids
// CVE-2099-…): the fixture feeds name no package that the host snapshot can upgrade.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeregisterManagedInstanceCommand, paginateDescribeInstancePatches, PutInventoryCommand, type PatchComplianceData as Patch, type SSMClient } from '@aws-sdk/client-ssm';
import { engines } from '../helpers/engines.ts';
import { startTestServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';
import { callPatchline, nodeId, patchEntry, patchReport } from '../helpers/fleet.ts';
import { aptCandidates, hostFixturesDir, readAptListUpgradable, readDpkgQuery } from '../domain/evaluation/support.ts';
import { importAdvisories, type ImportSummary } from '../../src/services/advisory-import.ts';
import { AdvisoryStore } from '../../src/store/advisory-store.ts';
import { rejectsWith } from '../helpers/assertions.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(repoRoot, '..', 'shared', 'fixtures');
const FEEDS = ['updateinfo', 'osv', 'debian-security-tracker'];
const NO_FIXTURES = FEEDS.every((d) => existsSync(join(FIXTURES, d))) && hostFixturesDir !== undefined
  ? false
  : 'fixtures not found: ../shared/fixtures (updateinfo, osv, debian-security-tracker, hosts) relative to the repository root is absent';

/** What importing the whole fixtures directory yields (each count checked by hand against the files). */
const FIXTURE_FORMATS = {
  updateinfo: { files: 4, records: 11, packages: 97 },
  osv: { files: 6, records: 6, packages: 21 },
  'debian-tracker-json': { files: 2, records: 7, packages: 26 },
  'debian-cve-list': { files: 1, records: 2, packages: 1 },
  'debian-advisory-list': { files: 2, records: 11, packages: 10 },
};
const FIXTURE_RECORDS = 37;
const FIXTURE_SKIPPED = 23; // SOURCES.md / README.md, the hosts snapshot, the version vectors, MSRC CVRF XML

// ---- synthetic advisory files for the Debian host (bookworm) ------------------------------------------------------

function trackerJson(expatFixed: string): string {
  return JSON.stringify({
    openssl: {
      'CVE-2099-0101': { description: 'synthetic', scope: 'remote', releases: {
        bookworm: { status: 'resolved', repositories: { bookworm: '3.0.19-1~deb12u2' }, fixed_version: '3.0.20-1~deb12u1', urgency: 'medium' },
        bullseye: { status: 'resolved', repositories: { bullseye: '1.1.1w-0+deb11u1' }, fixed_version: '1.1.1w-0+deb11u5', urgency: 'medium' },
      } },
      // Fixed only in a version newer than the host's candidate: no label.
      'CVE-2099-0102': { description: 'synthetic', scope: 'remote', releases: {
        bookworm: { status: 'resolved', repositories: { bookworm: '3.0.19-1~deb12u2' }, fixed_version: '3.0.23-1~deb12u1', urgency: 'high' },
        sid: { status: 'open', repositories: { sid: '3.5.0-1' }, urgency: 'high' },
      } },
    },
    expat: {
      'CVE-2099-0201': { description: 'synthetic', scope: 'remote', releases: {
        bookworm: { status: 'resolved', repositories: { bookworm: '2.5.0-1+deb12u1' }, fixed_version: expatFixed, urgency: 'high' },
      } },
    },
    curl: {
      // curl's candidate is from oldstable (not the security pocket): labelled, but its row stays InstalledOther.
      'CVE-2099-0301': { description: 'synthetic', scope: 'remote', releases: {
        bookworm: { status: 'resolved', repositories: { bookworm: '7.88.1-10+deb12u14' }, fixed_version: '7.88.1-10+deb12u15', urgency: 'low' },
      } },
    },
  });
}

const DSA_LIST = `[15 Jan 2026] DSA-9901-1 openssl - security update
\t{CVE-2099-0101 CVE-2099-0103}
\t[bookworm] - openssl 3.0.22-1~deb12u1
\t[bullseye] - openssl 1.1.1w-0+deb11u6
[10 Dec 2025] DSA-9902-1 jq - security update
\t{CVE-2099-0401}
\t[bookworm] - jq 1.6-2.1+deb12u2
`;

/** A synthetic updateinfo with `n` security updates TEST-2099-1nn (one package each). */
function updateinfo(prefix: string, n: number): string {
  let xml = '<?xml version="1.0" ?>\n<updates>';
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i + 1).padStart(3, '0')}`;
    xml += `<update status="final" type="security" version="1"><id>${id}</id><title>${id} synthetic</title>`
      + `<issued date="2025-01-0${(i % 9) + 1} 10:00" /><severity>Important</severity>`
      + `<references><reference href="https://example.invalid/${id}" id="CVE-2099-${String(5000 + i)}" type="cve" title="" /></references>`
      + `<pkglist><collection short="amazon-linux-2023"><name>Amazon Linux 2023</name>`
      + `<package name="synthetic${i}" version="1.0" release="${i + 2}.amzn2023" epoch="0" arch="x86_64"><filename>synthetic${i}.rpm</filename></package>`
      + '</collection></pkglist></update>\n';
  }
  return xml + '</updates>\n';
}

// ---- scans --------------------------------------------------------------------------------------------------------

const SCAN_TIMES = { OperationStartTime: Date.parse('2026-11-23T06:30:00Z') / 1000, OperationEndTime: Date.parse('2026-11-23T06:38:00Z') / 1000 };

/** The real Debian 12 host (789 installed, 135 upgradable) as Patchline.PutScanReport: no CVE data anywhere. */
function debianScan(instanceId: string): object {
  const dir = hostFixturesDir!;
  const installed = readDpkgQuery(dir).map((p) => ({
    Name: p.name, Version: p.version, Architecture: p.arch,
    ...(p.sourceName ? { SourceName: p.sourceName } : {}), ...(p.sourceVersion ? { SourceVersion: p.sourceVersion } : {}),
  }));
  const updates = aptCandidates(readAptListUpgradable(dir)).map((p) => ({
    Name: p.name, Version: p.version, Architecture: p.arch, Security: p.security === true, Repository: p.repository!, Priority: p.priority!,
  }));
  return {
    InstanceId: instanceId, Operation: 'Scan', ...SCAN_TIMES, RebootPending: false,
    Platform: { OperatingSystem: 'DEBIAN', Name: 'Debian GNU/Linux', Version: '12' }, Installed: installed, Updates: updates,
  };
}

/** An Amazon Linux 2023 node whose candidates carry no update notice (a plain `dnf check-update`). */
function al2023Scan(instanceId: string): object {
  const pkg = (name: string, version: string) => ({ Name: name, Version: version, Architecture: 'x86_64' });
  return {
    InstanceId: instanceId, Operation: 'Scan', ...SCAN_TIMES, RebootPending: false,
    Platform: { OperatingSystem: 'AMAZON_LINUX_2023', Name: 'Amazon Linux', Version: '2023' },
    Installed: [pkg('rsyslog', '8.2204.0-1.amzn2023'), pkg('rsyslog-openssl', '8.2204.0-1.amzn2023'), pkg('zlib', '1.2.11-32.amzn2023.0.3')],
    Updates: [
      { ...pkg('rsyslog', '8.2204.0-3.amzn2023.0.2'), Security: false },
      { ...pkg('rsyslog-openssl', '8.2204.0-3.amzn2023.0.2'), Security: false },
      { ...pkg('zlib', '1.2.11-33.amzn2023.0.4'), Security: false },
    ],
  };
}

// ---- helpers ------------------------------------------------------------------------------------------------------

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), ...args], {
      cwd: repoRoot, env: { ...process.env, NODE_NO_WARNINGS: '1' }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000,
    }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }));
  });
}

const byKb = (patches: Patch[]) => new Map(patches.map((p) => [p.KBId!, p]));

for (const { engine, skip } of engines()) {
  describe(`advisory catalogue and CVE view (${engine})`, { skip: skip || NO_FIXTURES }, () => {
    let server: TestServer;
    let ssm: SSMClient;
    let work: string;
    const call = (operation: string, body: object) => callPatchline(server.endpoint, TEST_ADMIN, operation, body);
    const dbArgs = () => ['--data-dir', server.dataDir, '--database-url', server.config.databaseUrl];
    const debian = nodeId(1, 'deb');
    const rpmNode = nodeId(1, 'amzn');

    /** Waits until every scanned node's evaluation is current (the background loop has relabelled them). */
    const settled = async () => {
      for (let i = 0; i < 600; i++) {
        const s = await call('GetEvaluationStatus', {});
        if (s.Current === true) return s;
        await sleep(50);
      }
      throw new Error('evaluation did not become current within 30 s');
    };
    const patches = async (InstanceId: string): Promise<Patch[]> => {
      const out: Patch[] = [];
      for await (const page of paginateDescribeInstancePatches({ client: ssm, pageSize: 100 }, { InstanceId })) out.push(...(page.Patches ?? []));
      return out;
    };
    const scanSeq = async (id: string) => Number((await server.app.scans.getScan(id))!.scan_seq);
    const allPages = async (operation: string, body: Record<string, unknown>, member: string) => {
      const items: any[] = [];
      const pages: any[] = [];
      let NextToken: string | undefined;
      do {
        const page = await call(operation, { ...body, ...(NextToken ? { NextToken } : {}) });
        pages.push(page);
        items.push(...page[member]);
        NextToken = page.NextToken;
      } while (NextToken !== undefined && pages.length < 100);
      return { items, pages };
    };

    before(async () => {
      server = await startTestServer({ engine });
      ssm = server.client();
      work = mkdtempSync(join(tmpdir(), 'patchline-advisories-'));
    });
    after(async () => {
      await server?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('before any import: the Debian host and an AL2023 node are evaluated without advisory labels', async () => {
      const d = await call('PutScanReport', debianScan(debian));
      assert.equal(d.InstancePatchState.MissingCount, 81, 'AWS-DebianDefaultPatchBaseline: the 81 security-pocket candidates');
      const missing = (await patches(debian)).filter((p) => (p.State as string) === 'Missing');
      assert.equal(missing.length, 81);
      assert.ok(missing.every((p) => p.CVEIds === undefined || p.CVEIds === ''), 'no CVE data in the scan, none in the rows');
      const r = await call('PutScanReport', al2023Scan(rpmNode));
      // AWS-AmazonLinux2023DefaultPatchBaseline: packages outside any update notice are not approved (EnableNonSecurity false).
      assert.equal(r.InstancePatchState.MissingCount, 0);
      assert.deepEqual((await patches(rpmNode)).map((p) => [p.KBId, p.State]).sort(), [
        ['rsyslog-openssl.x86_64', 'InstalledOther'], ['rsyslog.x86_64', 'InstalledOther'], ['zlib.x86_64', 'InstalledOther'],
      ]);
      assert.equal((await call('DescribeCvesForInstance', { InstanceId: debian })).Cves.length, 0);
    });

    test('CLI (child process, --json): imports every fixture file; files and records per format; the AL2023 node is relabelled from updateinfo without a new scan', async () => {
      const seq = await scanSeq(rpmNode);
      const res = await runCli(['advisories', 'import', FIXTURES, ...dbArgs(), '--json']);
      assert.equal(res.code, 0, res.stderr);
      const summary = JSON.parse(res.stdout) as ImportSummary;
      assert.equal(summary.imported, 15);
      assert.equal(summary.skipped, FIXTURE_SKIPPED);
      assert.equal(summary.failed, 0);
      assert.equal(summary.records, FIXTURE_RECORDS);
      assert.equal(summary.added, FIXTURE_RECORDS);
      for (const [format, want] of Object.entries(FIXTURE_FORMATS)) {
        const got = summary.byFormat[format as keyof typeof summary.byFormat]!;
        assert.deepEqual({ files: got.files, records: got.records, packages: got.packages }, want, format);
      }
      assert.deepEqual(summary.families, ['apk', 'dpkg', 'rpm']);
      assert.ok(summary.operatingSystems.includes('DEBIAN') && summary.operatingSystems.includes('AMAZON_LINUX_2023') && !summary.operatingSystems.includes('WINDOWS'));
      assert.equal(summary.nodesMarked, 2, 'both scanned nodes: DEBIAN and AMAZON_LINUX_2023 are touched');
      assert.deepEqual(summary.catalogue, { advisories: 37, packages: 155, byFamily: { apk: 1, dpkg: 23, rpm: 13 } });
      assert.notEqual(summary.catalogueVersion, '');

      await settled();
      assert.equal(await scanSeq(rpmNode), seq, 'no new scan');
      const rows = byKb(await patches(rpmNode));
      for (const kb of ['rsyslog.x86_64', 'rsyslog-openssl.x86_64']) {
        assert.deepEqual({ ...rows.get(kb), InstalledTime: undefined }, {
          Title: `${kb}:0:8.2204.0-3.amzn2023.0.2`, KBId: kb, Classification: 'Security', Severity: 'Important', State: 'Missing',
          InstalledTime: undefined, CVEIds: 'CVE-2014-3634,CVE-2022-24903',
        }, kb);
      }
      assert.equal(rows.get('zlib.x86_64')!.State, 'InstalledOther', 'no advisory names zlib');
      const states = await ssm.send(new (await import('@aws-sdk/client-ssm')).DescribeInstancePatchStatesCommand({ InstanceIds: [rpmNode] }));
      assert.equal(states.InstancePatchStates![0]!.MissingCount, 2);
      assert.equal(states.InstancePatchStates![0]!.SecurityNonCompliantCount, 2);
      // The fixture feeds name nothing the Debian host can upgrade: its rows are unchanged.
      assert.ok((await patches(debian)).every((p) => !p.CVEIds), 'no Debian label from the fixtures');
    });

    test('the service function re-imports the same files: idempotent (nothing rewritten, the version stays); plain CLI output names each file', async () => {
      const store = new AdvisoryStore(server.app.store);
      const version = await store.version();
      const counts = await store.counts();
      const again = await importAdvisories(server.app.store, [FIXTURES]);
      assert.deepEqual({ imported: again.imported, failed: again.failed, skipped: again.skipped, added: again.added, updated: again.updated, unchanged: again.unchanged },
        { imported: 15, failed: 0, skipped: FIXTURE_SKIPPED, added: 0, updated: 0, unchanged: FIXTURE_RECORDS });
      for (const [format, want] of Object.entries(FIXTURE_FORMATS)) {
        const got = again.byFormat[format as keyof typeof again.byFormat]!;
        assert.deepEqual({ files: got.files, records: got.records, unchanged: got.unchanged, packages: got.packages }, { ...want, unchanged: want.records, packages: 0 }, format);
      }
      assert.deepEqual(again.families, []);
      assert.equal(again.nodesMarked, 0);
      assert.equal(await store.version(), version);
      assert.deepEqual(await store.counts(), counts);

      const plain = await runCli(['advisories', 'import', join(FIXTURES, 'debian-security-tracker'), ...dbArgs()]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /imported {2}\S+vunnel-DSA-list\.txt \(debian-advisory-list\): 10 records \(0 new, 0 updated, 10 unchanged\)/);
      assert.match(plain.stdout, /skipped {3}\S+SOURCES\.md: not a recognised advisory file/);
      assert.match(plain.stdout, /The catalogue did not change; no node needs re-evaluation\./);
      assert.equal(plain.stderr, '', 'no progress bar when stderr is not a terminal');
    });

    test('a cut-off file imports nothing from it and is reported (exit 1); the other files of the import go in', async () => {
      const dir = join(work, 'cut');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a-good.xml'), updateinfo('TESTGOOD-2099', 2));
      const whole = updateinfo('TESTCUT-2099', 3);
      writeFileSync(join(dir, 'b-cut.xml'), whole.slice(0, whole.indexOf('TESTCUT-2099-003') + 40));
      const tracker = readFileSync(join(FIXTURES, 'debian-security-tracker', 'vunnel-tracker-data.json'), 'utf8');
      writeFileSync(join(dir, 'c-cut.json'), tracker.slice(0, Math.floor(tracker.length * 0.6)));
      const store = new AdvisoryStore(server.app.store);
      const before = await store.counts();
      const version = await store.version();
      const res = await runCli(['advisories', 'import', dir, ...dbArgs(), '--json']);
      assert.equal(res.code, 1, 'a failed file makes the exit status 1');
      const summary = JSON.parse(res.stdout) as ImportSummary;
      assert.deepEqual(summary.files.map((f) => [f.path.slice(dir.length + 1), f.status, f.records]), [
        ['a-good.xml', 'imported', 2], ['b-cut.xml', 'failed', 0], ['c-cut.json', 'failed', 0],
      ]);
      assert.match(summary.files[1]!.error!, /updateinfo/i);
      assert.match(summary.files[2]!.error!, /truncated JSON/);
      assert.equal(summary.byFormat.updateinfo!.failed, 1);
      assert.equal(summary.byFormat['debian-tracker-json']!.failed, 1);
      const keys = (await server.app.store.db.selectFrom('advisories').select('id').where('id', 'like', 'TEST%').orderBy('id').execute()).map((r) => r.id);
      assert.deepEqual(keys, ['TESTGOOD-2099-001', 'TESTGOOD-2099-002'], 'nothing from the cut-off file, although two of its updates were complete');
      assert.equal((await store.counts()).advisories, before.advisories + 2);
      assert.notEqual(await store.version(), version, 'the good file changed the catalogue');
      const text = await runCli(['advisories', 'import', join(dir, 'b-cut.xml'), ...dbArgs()]);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /FAILED {4}\S+b-cut\.xml \(updateinfo\): .* — nothing imported from this file/);
    });

    test('a Debian node scanned without CVE data gets CVE ids on its Missing rows after importing tracker + DSA data, without a new scan', async () => {
      writeFileSync(join(work, 'tracker.json'), trackerJson('2.5.0-1+deb12u2'));
      writeFileSync(join(work, 'DSA-list'), DSA_LIST);
      const seq = await scanSeq(debian);
      const summary = await importAdvisories(server.app.store, [join(work, 'tracker.json'), join(work, 'DSA-list')]);
      assert.deepEqual(summary.files.map((f) => [f.format, f.status, f.records]), [['debian-tracker-json', 'imported', 4], ['debian-advisory-list', 'imported', 2]]);
      assert.deepEqual(summary.families, ['dpkg']);
      assert.deepEqual(summary.operatingSystems, ['UBUNTU', 'DEBIAN', 'RASPBIAN']);
      assert.equal(summary.nodesMarked, 1, 'the Debian node only');
      await settled();
      assert.equal(await scanSeq(debian), seq, 'no new scan');
      const rows = await patches(debian);
      const missing = rows.filter((p) => (p.State as string) === 'Missing');
      assert.equal(missing.length, 81, 'labels do not change which candidates apt approves');
      const cves = Object.fromEntries(missing.filter((p) => p.CVEIds).map((p) => [p.KBId, p.CVEIds]));
      assert.deepEqual(cves, {
        // tracker CVE-2099-0101 (fixed 3.0.20-1~deb12u1) + DSA-9901-1 (fixed 3.0.22-1~deb12u1); not CVE-2099-0102 (fixed 3.0.23).
        'openssl.amd64': 'CVE-2099-0101,CVE-2099-0103',
        'libssl3.amd64': 'CVE-2099-0101,CVE-2099-0103', // binaries of source openssl (dpkg-query's Source)
        'libssl-dev.amd64': 'CVE-2099-0101,CVE-2099-0103',
        'libexpat1.amd64': 'CVE-2099-0201',
        'libexpat1-dev.amd64': 'CVE-2099-0201',
        'jq.amd64': 'CVE-2099-0401',
        'libjq1.amd64': 'CVE-2099-0401',
      });
      const byKbRows = byKb(rows);
      assert.equal(byKbRows.get('openssl.amd64')!.Classification, 'Security');
      assert.equal(byKbRows.get('openssl.amd64')!.Severity, 'optional', 'apt rows keep the Debian priority as severity (AWS agent)');
      assert.equal(byKbRows.get('curl.amd64')!.State, 'InstalledOther', 'security-ness is the pocket: curl comes from oldstable');
      assert.equal(byKbRows.get('curl.amd64')!.CVEIds ?? '', '');
    });

    test('DescribeInstancesForCve / DescribeCvesForInstance: answers, pagination, PatchGroup, both report sources, unknown node, malformed CVE id', async () => {
      // Two more scanned Debian nodes (labelled at once by PutScanReport) and three nodes reporting through PutInventory.
      const d2 = nodeId(2, 'deb');
      const d3 = nodeId(3, 'deb');
      for (const id of [d2, d3]) {
        const r = await call('PutScanReport', debianScan(id));
        assert.equal(r.InstancePatchState.MissingCount, 81);
      }
      const inv = [nodeId(1, 'ab'), nodeId(2, 'ab'), nodeId(3, 'ab')]; // hex ids: DeregisterManagedInstance takes mi-[0-9a-f]{17}
      const missingRow = patchEntry('KB-openssl', 'Missing', { Title: 'openssl.x86_64:1:3.0.8-1.amzn2023', CVEIds: 'CVE-2099-0101, CVE-2099-0999' });
      await ssm.send(new PutInventoryCommand(patchReport(inv[0]!, { patchGroup: 'web', counters: { MissingCount: 1 } }, [missingRow])));
      await ssm.send(new PutInventoryCommand(patchReport(inv[1]!, { patchGroup: 'web', counters: { FailedCount: 1 } }, [{ ...missingRow, State: 'FAILED' }])));
      // Listed on an Installed row only: not exposed.
      await ssm.send(new PutInventoryCommand(patchReport(inv[2]!, { patchGroup: 'web', counters: { InstalledCount: 1 } }, [patchEntry('KB-openssl', 'Installed', { CVEIds: 'CVE-2099-0101' })])));

      const all = await allPages('DescribeInstancesForCve', { CveId: 'CVE-2099-0101', MaxResults: 2 }, 'Instances');
      const expected = [debian, d2, d3, inv[0]!, inv[1]!].sort();
      assert.deepEqual(all.items.map((i) => i.InstanceId), expected, 'every exposed node once, in id order');
      assert.deepEqual(all.pages.map((p) => p.Instances.length), [2, 2, 1]);
      assert.ok(all.pages.every((p) => p.CveId === 'CVE-2099-0101'));
      const deb = all.items.find((i) => i.InstanceId === debian);
      assert.equal(deb.PatchGroup, '');
      assert.deepEqual(deb.Patches.map((p: any) => [p.KBId, p.Title, p.State]).sort(), [
        ['libssl-dev.amd64', 'libssl-dev.amd64:3.0.22-1~deb12u2', 'Missing'],
        ['libssl3.amd64', 'libssl3.amd64:3.0.22-1~deb12u2', 'Missing'],
        ['openssl.amd64', 'openssl.amd64:3.0.22-1~deb12u2', 'Missing'],
      ]);
      const failed = all.items.find((i) => i.InstanceId === inv[1]);
      assert.deepEqual(failed, { InstanceId: inv[1], PatchGroup: 'web', Patches: [{ KBId: 'KB-openssl', Title: 'openssl.x86_64:1:3.0.8-1.amzn2023', State: 'Failed', Classification: 'Security', Severity: 'Important' }] });

      const web = await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0101', PatchGroup: 'web' });
      assert.deepEqual(web.Instances.map((i: any) => i.InstanceId), [inv[0], inv[1]]);
      assert.equal(web.NextToken, undefined);
      assert.deepEqual((await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0999' })).Instances.map((i: any) => i.InstanceId), [inv[0], inv[1]]);
      assert.deepEqual(await call('DescribeInstancesForCve', { CveId: 'CVE-2099-77777' }), { CveId: 'CVE-2099-77777', Instances: [] });
      // Fixed in a version newer than the candidate: nobody is listed as missing the fix.
      assert.deepEqual((await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0102' })).Instances, []);
      await rejectsWith(call('DescribeInstancesForCve', { CveId: 'cve-2099-0101' }), 'ValidationException', /CVE-\\d\{4\}-\\d\{4,\}/);
      await rejectsWith(call('DescribeInstancesForCve', { CveId: 'CVE-99-0101' }), 'ValidationException');
      await rejectsWith(call('DescribeInstancesForCve', {}), 'ValidationException');
      await rejectsWith(call('DescribeInstancesForCve', { CveId: 'CVE-2099-0101', MaxResults: 0 }), 'ValidationException');
      const first = await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0101', MaxResults: 2 });
      await rejectsWith(call('DescribeInstancesForCve', { CveId: 'CVE-2099-0201', MaxResults: 2, NextToken: first.NextToken }), 'InvalidNextToken');

      const cves = await allPages('DescribeCvesForInstance', { InstanceId: debian, MaxResults: 3 }, 'Cves');
      assert.deepEqual(cves.items.map((c) => c.CveId), ['CVE-2099-0101', 'CVE-2099-0103', 'CVE-2099-0201', 'CVE-2099-0401']);
      assert.deepEqual(cves.pages.map((p) => p.Cves.length), [3, 1]);
      assert.ok(cves.pages.every((p) => p.InstanceId === debian));
      const expat = cves.items.find((c) => c.CveId === 'CVE-2099-0201');
      assert.deepEqual(expat.Patches.map((p: any) => [p.KBId, p.State, p.Classification, p.Severity]).sort(), [
        ['libexpat1-dev.amd64', 'Missing', 'Security', 'optional'], ['libexpat1.amd64', 'Missing', 'Security', 'optional'],
      ]);
      assert.deepEqual((await call('DescribeCvesForInstance', { InstanceId: inv[0] })).Cves.map((c: any) => c.CveId), ['CVE-2099-0101', 'CVE-2099-0999']);
      assert.deepEqual((await call('DescribeCvesForInstance', { InstanceId: inv[2] })).Cves, [], 'an Installed row exposes nothing');
      await rejectsWith(call('DescribeCvesForInstance', { InstanceId: nodeId(99, 'nobody') }), 'InvalidInstanceId');
      await rejectsWith(call('DescribeCvesForInstance', { InstanceId: 'not-a-node' }), 'ValidationException');

      // A new report replaces the node's entries; deregistering a node removes them.
      await ssm.send(new PutInventoryCommand(patchReport(inv[0]!, { patchGroup: 'web', counters: { InstalledCount: 1 } }, [patchEntry('KB-openssl', 'Installed')])));
      await ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: inv[1]! }));
      assert.deepEqual((await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0101', PatchGroup: 'web' })).Instances, []);
      assert.deepEqual((await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0999' })).Instances, []);
      // The index lists no set of theirs under the CVEs any more, and the deregistered node's rows are gone.
      const left = await server.app.store.db.selectFrom('patch_row_set_cves').innerJoin('node_patches', 'node_patches.row_set', 'patch_row_set_cves.row_set')
        .select('node_patches.instance_id').where('node_patches.instance_id', 'in', [inv[0]!, inv[1]!]).execute();
      assert.deepEqual(left, []);
      assert.equal(await server.app.reports.getPatchRows(inv[1]!), undefined);
    });

    test('a re-import that changes a record updates it in place and relabels every node (no new scan)', async () => {
      const seqs = await Promise.all([debian, nodeId(2, 'deb')].map(scanSeq));
      writeFileSync(join(work, 'tracker.json'), trackerJson('2.5.0-1+deb12u6')); // expat now fixed after the host's candidate
      const summary = await importAdvisories(server.app.store, [join(work, 'tracker.json')]);
      assert.deepEqual([summary.added, summary.updated, summary.unchanged], [0, 1, 3]);
      assert.equal(summary.nodesMarked, 3);
      const stored = await server.app.store.db.selectFrom('advisory_packages').select('fixed_version')
        .where('advisory_key', '=', 'debian-security-tracker|dpkg|CVE-2099-0201|expat').execute();
      assert.deepEqual(stored, [{ fixed_version: '2.5.0-1+deb12u6' }], 'one record, its package replaced');
      await settled();
      assert.deepEqual(await Promise.all([debian, nodeId(2, 'deb')].map(scanSeq)), seqs, 'no new scan');
      assert.deepEqual((await call('DescribeInstancesForCve', { CveId: 'CVE-2099-0201' })).Instances, []);
      const rows = byKb(await patches(debian));
      assert.equal(rows.get('libexpat1.amd64')!.CVEIds ?? '', '');
      assert.equal(rows.get('openssl.amd64')!.CVEIds, 'CVE-2099-0101,CVE-2099-0103');
    });
  });
}
