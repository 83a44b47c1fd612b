// One conformance suite for every scanner, run on real command output (test/fixtures/agent/<os>/, each with a
// SOURCES.md; the shared Debian host capture in shared/fixtures/hosts): a FixtureHost answers the scanner's
// commands from the captured files, so the scanner runs exactly as on a node. Every implementation must give
// packages whose versions are valid in the OS's version scheme, updates of installed packages only and newer
// than them, and a report the server's model validation and scan checks accept. Then per-OS expectations.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult, Host, RunOptions } from '../../src/agent/host.ts';
import { AptScanner, changelogSince, parseDpkgQuery, parseSimulation, parseSourceField } from '../../src/agent/scanners/apt.ts';
import { RpmScanner, parseCheckUpdate } from '../../src/agent/scanners/rpm.ts';
import { ZypperScanner } from '../../src/agent/scanners/zypper.ts';
import { parseApkList, splitApkName } from '../../src/agent/scanners/apk.ts';
import { compareKernelReleases } from '../../src/agent/scanners/reboot.ts';
import { detectPlatform } from '../../src/agent/platform.ts';
import { buildReport } from '../../src/agent/report.ts';
import type { ScanResult, Scanner } from '../../src/agent/scanners/types.ts';
import { createRequestValidator } from '../../src/server/validate.ts';
import { toNodeScan } from '../../src/domain/scan-report.ts';
import { compareVersions, validateVersion, type VersionScheme } from '../../src/domain/versions/index.ts';
import { ROOT } from './helpers.ts';

const FIX = join(ROOT, 'test/fixtures/agent');
const SHARED = join(ROOT, '../shared/fixtures/hosts');

type Responder = (args: string[]) => CommandResult | undefined;

/** A node made of captured files: commands answered by responders, files from a map. */
class FixtureHost implements Host {
  readonly root = '/';
  readonly calls: string[] = [];
  constructor(readonly responders: Record<string, Responder>, readonly files: Record<string, string | Buffer> = {}, readonly kernel = '6.1.0-0-amd64') {}
  async run(command: string, args: string[], _o?: RunOptions): Promise<CommandResult> {
    this.calls.push(`${command} ${args.slice(0, 4).join(' ')}`);
    return this.responders[command]?.(args) ?? { code: 127, stdout: '', stderr: `${command}: no capture for this call` };
  }
  async has(command: string) { return command in this.responders; }
  readFile(path: string) { const f = this.files[path]; return f === undefined ? undefined : String(f); }
  readBinary(path: string) { const f = this.files[path]; return f === undefined ? undefined : Buffer.from(f); }
  exists(path: string) { return path in this.files || Object.keys(this.files).some((f) => f.startsWith(`${path}/`)); }
  listDir(path: string) { return [...new Set(Object.keys(this.files).filter((f) => f.startsWith(`${path}/`)).map((f) => f.slice(path.length + 1).split('/')[0]!))]; }
  mtime() { return undefined; }
  kernelRelease() { return this.kernel; }
}

const ok = (file: string, code = 0): CommandResult => ({ code, stdout: readFileSync(file, 'utf8'), stderr: '' });
const none = (code = 100): CommandResult => ({ code, stdout: '', stderr: 'not captured' });

interface Case {
  name: string;
  skip: string | false;
  scheme: VersionScheme;
  make(): { scanner: Scanner; host: FixtureHost };
  expect(result: ScanResult, host: FixtureHost): void;
}

function debianHost(dir: string, full: boolean): FixtureHost {
  return new FixtureHost({
    'dpkg-query': () => ok(join(dir, 'dpkg-query.tsv')),
    dpkg: (a) => (a[0] === '--print-architecture' ? (full ? ok(join(dir, 'dpkg-print-architecture.txt')) : { code: 0, stdout: 'amd64\n', stderr: '' }) : undefined),
    'apt-get': (a) => (a.includes('dist-upgrade') ? ok(join(dir, 'apt-get-s-dist-upgrade.txt')) : undefined),
    'apt-cache': (a) => {
      if (a[0] === 'show') return full ? ok(join(dir, 'apt-cache-show.txt')) : none();
      if (a[0] === 'policy' && a.length === 1) return full ? ok(join(dir, 'apt-cache-policy.txt')) : none();
      if (a[0] === 'policy') return ok(join(dir, full ? 'apt-cache-policy-installed.txt' : 'apt-cache-policy.txt'));
      return undefined;
    },
  }, { '/etc/os-release': readFileSync(join(dir, 'os-release'), 'utf8') });
}

const cases: Case[] = [
  {
    name: 'apt — this machine (Debian 12, own capture)',
    skip: false,
    scheme: 'dpkg',
    make() {
      const host = debianHost(join(FIX, 'debian'), true);
      return { host, scanner: new AptScanner(host, { changelogs: false }) };
    },
    expect(r) {
      const sim = parseSimulation(readFileSync(join(FIX, 'debian/apt-get-s-dist-upgrade.txt'), 'utf8'), 'amd64').filter((s) => s.oldVersion);
      assert.equal(r.updates.length, sim.length, 'one candidate per apt upgrade');
      const security = sim.filter((s) => s.origins.some((o) => /-security$/.test(o.suite)));
      assert.deepEqual(r.updates.filter((u) => u.Security).map((u) => `${u.Name}=${u.Version}`).sort(), security.map((s) => `${s.name}=${s.version}`).sort());
      for (const u of r.updates) {
        assert.ok(u.Priority && u.Section, `${u.Name} has Priority and Section from apt-cache show`);
        assert.ok(u.SourceName && u.SourceVersion);
      }
      const bash = r.updates.find((u) => u.Name === 'bash')!;
      assert.deepEqual([bash.Version, bash.SourceName, bash.SourceVersion, bash.Priority, bash.Section, bash.Security], ['5.2.15-2+b13', 'bash', '5.2.15-2', 'required', 'shells', false]);
      const libc = r.installed.find((p) => p.Name === 'libc6');
      assert.ok(libc, 'libc6 installed');
      assert.ok(r.installed.some((p) => p.Security), 'some installed versions come from the security pocket');
      assert.ok(r.installed.every((p) => p.Priority !== undefined || p.Section !== undefined || p.Name.length > 0));
    },
  },
  {
    name: 'apt — shared Debian 12 host capture (dpkg-query with 5 columns, no apt-cache show)',
    skip: existsSync(SHARED) ? false : `shared fixtures not found at ${SHARED}`,
    scheme: 'dpkg',
    make() {
      const host = debianHost(SHARED, false);
      return { host, scanner: new AptScanner(host, { changelogs: false }) };
    },
    expect(r) {
      assert.equal(r.installed.length, 789);
      assert.equal(r.updates.length, 135);
      const byName = new Map(r.updates.map((u) => [u.Name, u]));
      assert.equal(byName.get('openssl')!.Version, '3.0.22-1~deb12u2');
      assert.equal(byName.get('openssl')!.Security, true);
      assert.equal(byName.get('openssh-client')!.Version, '1:9.2p1-2+deb12u10');
      assert.equal(byName.get('openssh-client')!.Security, false, "apt's candidate comes from main, not the security pocket");
      assert.equal(byName.get('krb5-locales')!.Security, true, 'published in both main and security');
      assert.equal(byName.get('libcap2')!.Version, '1:2.66-4+deb12u3+b1');
      const bash = r.installed.find((p) => p.Name === 'bash')!;
      assert.deepEqual([bash.SourceName, bash.SourceVersion], ['bash', '5.2.15-2']);
      const cpp = r.installed.find((p) => p.Name === 'cpp')!;
      assert.deepEqual([cpp.Version, cpp.SourceName, cpp.SourceVersion], ['4:12.2.0-3', 'gcc-defaults', '1.203']);
      const binutilsCommon = r.installed.find((p) => p.Name === 'binutils-common')!;
      assert.deepEqual([binutilsCommon.SourceName, binutilsCommon.SourceVersion], ['binutils', '2.40-2']);
      const sec = r.updates.filter((u) => u.Security).length;
      assert.equal(sec, 81, 'SOURCES.md: 81 upgrades include oldstable-security');
    },
  },
  {
    name: 'dnf — captured from real dnf on an rpm-md repository with updateinfo',
    skip: false,
    scheme: 'rpm',
    make() {
      const dir = join(FIX, 'rpm');
      const host = new FixtureHost({
        rpm: () => ok(join(dir, 'rpm-qa.tsv')),
        dnf: (a) => (a.includes('check-update') ? ok(join(dir, 'dnf-check-update.txt'), 100) : a.includes('list') ? ok(join(dir, 'dnf-updateinfo-list.txt')) : a.includes('info') ? ok(join(dir, 'dnf-updateinfo-info.txt')) : undefined),
      });
      return { host, scanner: new RpmScanner(host, 'dnf') };
    },
    expect(r) {
      assert.deepEqual(r.installed.map((p) => `${p.Name}.${p.Architecture}:${p.Version}`).sort(), ['plbase.noarch:1.0-1', 'plquiet.noarch:3.0-1', 'pltool.x86_64:1:2.0-1']);
      const key = (u: { Name: string; Version: string }) => `${u.Name}:${u.Version}`;
      const got = new Map(r.updates.map((u) => [key(u), u]));
      assert.deepEqual([...got.keys()].sort(), ['plbase:1.1-1', 'plbase:1.2-1', 'plquiet:3.1-1', 'pltool:1:2.1-1']);
      assert.deepEqual(got.get('plbase:1.1-1'), {
        Name: 'plbase', Version: '1.1-1', Architecture: 'noarch', Security: true, AdvisoryIds: ['PLSA-2026:0001'], Classification: 'Security', Severity: 'Important',
        ReleaseTime: Date.UTC(2026, 9, 2) / 1000, CVEIds: ['CVE-2026-10001'], BugzillaIds: ['1001'],
      });
      assert.equal(got.get('plbase:1.2-1')!.Classification, 'Bugfix');
      assert.equal(got.get('plbase:1.2-1')!.Security, false);
      assert.equal(got.get('plbase:1.2-1')!.Repository, 'pl');
      assert.deepEqual(got.get('pltool:1:2.1-1')!.CVEIds, ['CVE-2026-10002', 'CVE-2026-10003']);
      assert.equal(got.get('pltool:1:2.1-1')!.Severity, 'Critical');
      assert.equal(got.get('plquiet:3.1-1')!.Classification, undefined, 'outside any notice');
    },
  },
  {
    name: 'zypper — captured from real zypper on the same repository',
    skip: false,
    scheme: 'rpm',
    make() {
      const dir = join(FIX, 'suse');
      const host = new FixtureHost({
        rpm: () => ok(join(dir, 'rpm-qa.tsv')),
        zypper: (a) => (a.includes('list-updates') ? ok(join(dir, 'zypper-list-updates.xml')) : a.includes('list-patches') ? ok(join(dir, 'zypper-list-patches.xml')) : undefined),
      }, { '/var/cache/zypp/raw/pl/repodata/updateinfo.xml': readFileSync(join(dir, 'updateinfo.xml')) });
      return { host, scanner: new ZypperScanner(host) };
    },
    expect(r) {
      const got = new Map(r.updates.map((u) => [`${u.Name}:${u.Version}`, u]));
      assert.deepEqual([...got.keys()].sort(), ['plbase:1.1-1', 'plbase:1.2-1', 'plquiet:3.1-1', 'pltool:1:2.1-1']);
      const sec = got.get('plbase:1.1-1')!;
      assert.deepEqual([sec.Security, sec.Classification, sec.Severity, sec.CVEIds, sec.AdvisoryIds], [true, 'Security', 'Important', ['CVE-2026-10001'], ['PLSA-2026:0001']]);
      assert.equal(sec.ReleaseTime, 1790899200);
      assert.equal(got.get('plbase:1.2-1')!.Classification, 'Recommended');
      assert.equal(got.get('plbase:1.2-1')!.Repository, 'pl');
      assert.equal(got.get('pltool:1:2.1-1')!.Severity, 'Critical');
    },
  },
];

const validator = createRequestValidator();

describe('scanner conformance', () => {
  for (const c of cases) {
    test(c.name, { skip: c.skip }, async () => {
      const { scanner, host } = c.make();
      const r = await scanner.scan();
      assert.ok(r.installed.length > 0);
      const seen = new Set<string>();
      const installed = new Map<string, string[]>();
      for (const p of r.installed) {
        assert.ok(p.Name && p.Version && p.Architecture, JSON.stringify(p));
        assert.equal(validateVersion(c.scheme, p.Version), undefined, `${p.Name} ${p.Version}`);
        const k = `${p.Name}\u0000${p.Architecture}\u0000${p.Version}`;
        assert.ok(!seen.has(k), `duplicate ${k}`);
        seen.add(k);
        installed.set(`${p.Name}\u0000${p.Architecture}`, [...(installed.get(`${p.Name}\u0000${p.Architecture}`) ?? []), p.Version]);
      }
      for (const u of r.updates) {
        assert.equal(typeof u.Security, 'boolean');
        assert.equal(validateVersion(c.scheme, u.Version), undefined, `${u.Name} ${u.Version}`);
        const cur = installed.get(`${u.Name}\u0000${u.Architecture}`);
        assert.ok(cur, `update ${u.Name}.${u.Architecture} is of an installed package`);
        assert.ok(cur.every((v) => compareVersions(c.scheme, u.Version, v) > 0), `${u.Name} ${u.Version} is newer than ${cur.join(',')}`);
      }
      const platform = c.scheme === 'dpkg'
        ? detectPlatform(host)
        : { operatingSystem: c.name.startsWith('zypper') ? 'SUSE' as const : 'ROCKY_LINUX' as const, name: 'fixture', version: '9', family: 'rpm' as const, id: 'fixture' };
      const report = buildReport({ instanceId: 'mi-0123456789abcdef0', platform, operation: 'Scan', start: new Date(1_790_000_000_000), end: new Date(1_790_000_005_000), scan: r });
      const outcome = validator.validate('Patchline.PutScanReport', JSON.parse(JSON.stringify(report)));
      assert.deepEqual(outcome, { ok: true });
      const checked = toNodeScan(report as never, []);
      assert.equal(checked.ok, true, checked.ok ? '' : checked.message);
      c.expect(r, host);
    });
  }
});

describe('parsers', () => {
  test('${Source} forms', () => {
    assert.deepEqual(parseSourceField('', 'bash', '5.2'), { SourceName: 'bash', SourceVersion: '5.2' });
    assert.deepEqual(parseSourceField('bash (5.2.15-2)', 'bash', '5.2.15-2+b8'), { SourceName: 'bash', SourceVersion: '5.2.15-2' });
    assert.deepEqual(parseSourceField('util-linux', 'bsdextrautils', '2.38.1-5+deb12u3'), { SourceName: 'util-linux', SourceVersion: '2.38.1-5+deb12u3' });
  });

  test('dpkg-query: packages not on disk (config-files, not-installed) are left out', () => {
    const rows = parseDpkgQuery('a\t1\tamd64\t\tinstall ok installed\nb\t1\tamd64\t\tdeinstall ok config-files\nc\t1\tall\t\tinstall ok half-configured\n');
    assert.deepEqual(rows.map((r) => r.Name), ['a', 'c']);
  });

  test('apt simulation lines: multi-arch, several origins, origins without a version', () => {
    const s = parseSimulation([
      'Inst libc6:i386 [2.36-9] (2.36-9+deb12u1 Debian:12.5/stable, Debian-Security:12/stable-security [i386]) []',
      'Inst plfail [1.0] (1.1 Patchline-Test-Security:bookworm-security [all])',
      'Inst newdep (1.0 Debian:12.5/stable [amd64])',
    ].join('\n'), 'amd64');
    assert.deepEqual(s.map((x) => [x.name, x.arch, x.oldVersion, x.version, x.origins.map((o) => o.suite).join(',')]), [
      ['libc6', 'i386', '2.36-9', '2.36-9+deb12u1', 'stable,stable-security'],
      ['plfail', 'all', '1.0', '1.1', 'bookworm-security'],
      ['newdep', 'amd64', undefined, '1.0', 'stable'],
    ]);
  });

  test('changelog: CVEs and the highest urgency of the entries newer than the installed version (real changelog of this machine)', { skip: existsSync(join(FIX, 'debian/changelog.Debian.txt')) ? false : 'no changelog fixture' }, () => {
    const text = readFileSync(join(FIX, 'debian/changelog.Debian.txt'), 'utf8');
    const entries = [...text.matchAll(/^\S+ \(([^)]+)\)/gm)].map((m) => m[1]!);
    const since = changelogSince(text, entries[1]);
    const firstBody = text.slice(0, text.indexOf(`(${entries[1]})`));
    assert.deepEqual(since.cves, [...new Set(firstBody.match(/CVE-\d{4}-\d{4,}/g) ?? [])].sort());
    assert.equal(since.urgency, /urgency=(\w+)/.exec(text)![1]!.toLowerCase());
    assert.deepEqual(changelogSince(text, 'not-a-version').cves, since.cves, 'unknown installed version: only the newest entry');
  });

  test('check-update with wrapped long names', () => {
    const rows = parseCheckUpdate(readFileSync(join(FIX, 'rpm/dnf-check-update.txt'), 'utf8'));
    assert.equal(rows.length, 3);
    assert.deepEqual(parseCheckUpdate('a-very-long-package-name-that-wraps.x86_64\n                      1.2-3.el9     baseos\n').map((r) => r.name), ['a-very-long-package-name-that-wraps']);
  });

  test('apk names and kernel release order', () => {
    assert.deepEqual(splitApkName('py3-foo-bar-1.0.2-r0'), { name: 'py3-foo-bar', version: '1.0.2-r0' });
    assert.deepEqual(parseApkList('musl-1.2.4-r3 x86_64 {musl} (MIT) [upgradable from: musl-1.2.4-r2]').map((p) => [p.name, p.version, p.from]), [['musl', '1.2.4-r3', '1.2.4-r2']]);
    assert.ok(compareKernelReleases('6.1.0-28-amd64', '6.1.0-9-amd64') > 0);
    assert.ok(compareKernelReleases('5.14.0-162.6.1.el9_1.x86_64', '5.14.0-162.12.1.el9_1.x86_64') < 0);
  });
});
