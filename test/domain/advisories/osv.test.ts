// Tests for the OSV parser against the real records in /work/shared/fixtures/osv (Debian DSA, Ubuntu
// USN and UBUNTU-CVE, Alpine, AlmaLinux ALSA) plus synthetic edge cases and malformed input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdvisoryParseError } from '../../../src/domain/advisories/advisory.ts';
import type { Advisory } from '../../../src/domain/advisories/advisory.ts';
import { parseOsv, parseOsvEcosystem } from '../../../src/domain/advisories/osv.ts';

const FIXTURES = process.env['PATCHLINE_FIXTURES'] ?? '/work/shared/fixtures';
const DIR = join(FIXTURES, 'osv');
const skip = existsSync(DIR) ? false : `fixtures not found at ${DIR} (set PATCHLINE_FIXTURES)`;
const iso = (s: string): number => Date.parse(s) / 1000;

function one(file: string): Advisory {
  const list = parseOsv(readFileSync(join(DIR, file)));
  assert.equal(list.length, 1, `${file}: one record`);
  return list[0]!;
}

test('ecosystems map to family and distribution', () => {
  assert.deepEqual(parseOsvEcosystem('Debian:12'), { family: 'dpkg', osId: 'debian', distribution: 'debian:12' });
  assert.deepEqual(parseOsvEcosystem('Debian:7'), { family: 'dpkg', osId: 'debian', distribution: 'debian:7' });
  assert.deepEqual(parseOsvEcosystem('Ubuntu:22.04:LTS'), { family: 'dpkg', osId: 'ubuntu', distribution: 'ubuntu:22.04' });
  assert.deepEqual(parseOsvEcosystem('Ubuntu:Pro:14.04:LTS'), { family: 'dpkg', osId: 'ubuntu', distribution: 'ubuntu:14.04' });
  assert.deepEqual(parseOsvEcosystem('Alpine:v3.18'), { family: 'apk', osId: 'alpine', distribution: 'alpine:3.18' });
  assert.deepEqual(parseOsvEcosystem('AlmaLinux:8'), { family: 'rpm', osId: 'almalinux', distribution: 'almalinux:8' });
  assert.deepEqual(parseOsvEcosystem('Rocky Linux:9'), { family: 'rpm', osId: 'rocky', distribution: 'rocky:9' });
  assert.deepEqual(parseOsvEcosystem('Red Hat:enterprise_linux:9::appstream'), {
    family: 'rpm',
    osId: 'rhel',
    distribution: 'rhel:9',
  });
  assert.deepEqual(parseOsvEcosystem('Debian'), { family: 'dpkg', osId: 'debian' });
  assert.equal(parseOsvEcosystem('PyPI'), undefined);
  assert.equal(parseOsvEcosystem('npm'), undefined);
});

test('DSA-3029-1 (Debian 7, CVE in aliases, no severity)', { skip }, () => {
  const a = one('DSA-3029-1.json');
  assert.equal(a.id, 'DSA-3029-1');
  assert.equal(a.key, 'osv|dpkg|DSA-3029-1');
  assert.equal(a.source, 'osv');
  assert.equal(a.family, 'dpkg');
  assert.equal(a.distribution, 'debian:7');
  assert.equal(a.classification, 'Security');
  assert.equal(a.severity, undefined);
  assert.equal(a.title, 'nginx - security update');
  assert.deepEqual(a.cveIds, ['CVE-2014-3616']);
  assert.equal(a.issued, iso('2014-09-20T00:00:00Z'));
  assert.equal(a.updated, iso('2014-09-20T08:18:07Z'));
  assert.deepEqual(a.packages, [
    {
      name: 'nginx',
      sourceName: 'nginx',
      fixedVersion: '1.2.1-2.2+wheezy3',
      ecosystem: 'Debian:7',
      distribution: 'debian:7',
    },
  ]);
  assert.equal(a.unfixedPackages, undefined);
  assert.deepEqual(a.references, ['https://www.debian.org/security/2014/dsa-3029']);
});

test('USN-6986-1 (two Ubuntu releases, binaries, cves_map priority)', { skip }, () => {
  const a = one('USN-6986-1.json');
  assert.equal(a.id, 'USN-6986-1');
  assert.equal(a.family, 'dpkg');
  assert.equal(a.distribution, undefined); // 22.04 and 24.04
  assert.equal(a.title, 'openssl vulnerability');
  // 'UBUNTU-CVE-2024-6119' in upstream and the cves_map entry give the CVE.
  assert.deepEqual(a.cveIds, ['CVE-2024-6119']);
  // Ubuntu priority 'medium' wins over the CVSS vectors (7.5 → High).
  assert.equal(a.severity, 'Medium');
  assert.equal(a.vendorSeverity, 'medium');
  assert.equal(a.issued, iso('2024-09-03T14:33:38Z'));
  assert.equal(a.updated, iso('2026-04-27T14:11:36Z'));
  assert.deepEqual(
    a.packages.map((p) => [p.name, p.sourceName, p.fixedVersion, p.distribution]),
    [
      ['libssl3', 'openssl', '3.0.2-0ubuntu1.18', 'ubuntu:22.04'],
      ['openssl', 'openssl', '3.0.2-0ubuntu1.18', 'ubuntu:22.04'],
      ['libssl3t64', 'openssl', '3.0.13-0ubuntu3.4', 'ubuntu:24.04'],
      ['openssl', 'openssl', '3.0.13-0ubuntu3.4', 'ubuntu:24.04'],
    ],
  );
  assert.equal(a.packages[0]?.ecosystem, 'Ubuntu:22.04:LTS');
});

test('UBUNTU-CVE-2025-38094 (Ubuntu Pro, no fix, top-level Ubuntu severity)', { skip }, () => {
  const a = one('UBUNTU-CVE-2025-38094.json');
  assert.equal(a.id, 'UBUNTU-CVE-2025-38094');
  assert.deepEqual(a.cveIds, ['CVE-2025-38094']); // from upstream, aliases is empty
  assert.equal(a.severity, 'Medium');
  assert.equal(a.title, undefined);
  assert.deepEqual(a.packages, []); // only `introduced: 0`
  assert.deepEqual(a.unfixedPackages, [
    {
      name: 'linux',
      sourceName: 'linux',
      ecosystem: 'Ubuntu:Pro:14.04:LTS',
      distribution: 'ubuntu:14.04',
      status: 'affected',
    },
  ]);
  assert.equal(a.distribution, 'ubuntu:14.04');
  assert.equal(a.issued, iso('2025-07-04T00:00:00Z'));
});

test('CVE-2022-27449 Alpine (bare CVE id, per-release fixes)', { skip }, () => {
  const a = one('CVE-2022-27449.alpine.json');
  assert.equal(a.id, 'CVE-2022-27449');
  assert.equal(a.family, 'apk');
  assert.equal(a.key, 'osv|apk|CVE-2022-27449');
  assert.deepEqual(a.cveIds, ['CVE-2022-27449']);
  assert.equal(a.severity, undefined);
  assert.deepEqual(
    a.packages.map((p) => [p.distribution, p.fixedVersion]),
    [
      ['alpine:3.12', '10.4.25-r0'],
      ['alpine:3.13', '10.5.16-r0'],
      ['alpine:3.14', '10.5.16-r0'],
      ['alpine:3.15', '10.6.8-r0'],
      ['alpine:3.16', '10.6.8-r0'],
    ],
  );
  assert.ok(a.packages.every((p) => p.name === 'mariadb' && p.sourceName === 'mariadb'));
  assert.equal(a.issued, iso('2022-04-14T13:15:00Z'));
  assert.equal(a.updated, iso('2022-10-07T18:59:00Z'));
  // Duplicate reference URLs are collapsed.
  assert.equal(a.references?.filter((u) => u === 'https://jira.mariadb.org/browse/MDEV-28089').length, 1);
});

test('ALSA-2024:2433 (AlmaLinux 9, CVEs in related, severity from summary)', { skip }, () => {
  const a = one('ALSA-2024-2433.json');
  assert.equal(a.id, 'ALSA-2024:2433');
  assert.equal(a.family, 'rpm');
  assert.equal(a.distribution, 'almalinux:9');
  assert.equal(a.classification, 'Security');
  assert.equal(a.severity, 'Moderate');
  assert.deepEqual(a.cveIds, ['CVE-2023-38469', 'CVE-2023-38470', 'CVE-2023-38471', 'CVE-2023-38472', 'CVE-2023-38473']);
  assert.deepEqual(a.bugzillaIds, ['2191687', '2191690', '2191691', '2191692', '2191694']);
  assert.equal(a.packages.length, 10);
  assert.equal(a.packages[0]?.sourceName, undefined); // AlmaLinux names binary rpms
  assert.deepEqual(a.packages[0], {
    name: 'avahi',
    fixedVersion: '0.8-20.el9',
    version: '0.8',
    release: '20.el9',
    ecosystem: 'AlmaLinux:9',
    distribution: 'almalinux:9',
  });
  assert.deepEqual(
    a.packages.map((p) => p.name),
    [
      'avahi', 'avahi-compat-howl', 'avahi-compat-howl-devel', 'avahi-compat-libdns_sd',
      'avahi-compat-libdns_sd-devel', 'avahi-devel', 'avahi-glib', 'avahi-glib-devel', 'avahi-libs', 'avahi-tools',
    ],
  );
  assert.equal(a.issued, iso('2024-04-30T00:00:00Z'));
  assert.equal(a.updated, iso('2024-05-07T15:04:20Z'));
});

test('ALSA-2023:4520 (AlmaLinux 8 python3-requests)', { skip }, () => {
  const a = one('ALSA-2023-4520.json');
  assert.equal(a.id, 'ALSA-2023:4520');
  assert.equal(a.distribution, 'almalinux:8');
  assert.deepEqual(a.cveIds, ['CVE-2023-32681']);
  assert.deepEqual(a.bugzillaIds, ['2209469']);
  assert.deepEqual(a.packages.map((p) => [p.name, p.fixedVersion]), [['python3-requests', '2.20.0-3.el8_8']]);
});

test('multi-range, last_affected, epochs, CVSS-only severity, bugfix ids, mixed ecosystems', () => {
  const record = {
    id: 'ALBA-2099:0001',
    modified: '2099-01-01T00:00:00Z',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    aliases: ['GHSA-xxxx-yyyy-zzzz', 'CVE-2099-0001'],
    affected: [
      {
        package: { ecosystem: 'AlmaLinux:9', name: 'foo' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2:1.0-1.el9' }, { introduced: '2:2.0-1.el9' }, { fixed: '2:2.0-3.el9' }] }],
      },
      { package: { ecosystem: 'AlmaLinux:9', name: 'bar' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '1.0' }] }] },
      { package: { ecosystem: 'PyPI', name: 'requests' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '9' }] }] },
      { package: { ecosystem: 'Debian:12', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0-1+deb12u1' }] }] },
      { package: { ecosystem: 'AlmaLinux:9', name: 'baz' }, ranges: [{ type: 'GIT', repo: 'x', events: [{ introduced: 'abc' }, { fixed: 'def' }] }] },
    ],
  };
  const list = parseOsv(JSON.stringify(record));
  assert.deepEqual(list.map((a) => a.key), ['osv|rpm|ALBA-2099:0001', 'osv|dpkg|ALBA-2099:0001']);
  const rpm = list[0]!;
  assert.equal(rpm.classification, 'Bugfix');
  assert.equal(rpm.severity, 'Critical'); // 9.8
  assert.equal(rpm.vendorSeverity, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H');
  assert.deepEqual(rpm.cveIds, ['CVE-2099-0001']);
  assert.deepEqual(
    rpm.packages.map((p) => [p.name, p.fixedVersion, p.epoch, p.version, p.release, p.introducedVersion]),
    [
      ['foo', '2:1.0-1.el9', '2', '1.0', '1.el9', undefined],
      ['foo', '2:2.0-3.el9', '2', '2.0', '3.el9', '2:2.0-1.el9'],
    ],
  );
  assert.deepEqual(rpm.unfixedPackages?.map((u) => u.name), ['bar']);
  const deb = list[1]!;
  assert.equal(deb.classification, 'Security');
  assert.equal(deb.severity, 'Critical');
  assert.deepEqual(deb.packages.map((p) => p.fixedVersion), ['1.0-1+deb12u1']);
});

test('Debian ecosystem urgency in ecosystem_specific and RPM CVSS wording', () => {
  const [deb] = parseOsv({
    id: 'DEBIAN-CVE-2099-12345',
    modified: '2099-01-01T00:00:00Z',
    affected: [
      {
        package: { ecosystem: 'Debian:12', name: 'x' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1-1' }] }],
        ecosystem_specific: { urgency: 'high**' },
      },
    ],
  });
  assert.equal(deb?.severity, 'High');
  assert.deepEqual(deb?.cveIds, ['CVE-2099-12345']); // the id's DEBIAN- prefix is dropped
  const [rpm] = parseOsv({
    id: 'RLSA-2099:1',
    modified: '2099-01-01T00:00:00Z',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }],
    affected: [{ package: { ecosystem: 'Rocky Linux:8', name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1-1.el8' }] }] }],
  });
  assert.equal(rpm?.severity, 'Important'); // CVSS 7.5 High in RHEL wording
});

test('records for non-OS ecosystems give no advisories; arrays of records are accepted', () => {
  assert.deepEqual(parseOsv({ id: 'GHSA-1', modified: 'x', affected: [{ package: { ecosystem: 'npm', name: 'x' } }] }), []);
  assert.deepEqual(parseOsv({ id: 'X-1', modified: '2020-01-01T00:00:00Z' }), []);
  const warnings: string[] = [];
  const withdrawn = {
    id: 'DSA-1-1',
    withdrawn: '2021-01-01T00:00:00Z',
    affected: [{ package: { ecosystem: 'Debian:12', name: 'a' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1' }] }] }],
  };
  assert.deepEqual(parseOsv(withdrawn, { onWarning: (m) => warnings.push(m) }), []);
  assert.deepEqual(warnings, ['OSV DSA-1-1: withdrawn; skipped']);
  const fromArray = parseOsv(
    JSON.stringify([
      { id: 'A', affected: [{ package: { ecosystem: 'Alpine:v3.18', name: 'a' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1-r0' }] }] }] },
      { id: 'B', affected: [{ package: { ecosystem: 'Alpine:v3.19', name: 'b' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2-r0' }] }] }] },
    ]),
  );
  assert.deepEqual(fromArray.map((a) => [a.id, a.distribution]), [['A', 'alpine:3.18'], ['B', 'alpine:3.19']]);
});

test('wrong JSON fails with a clear AdvisoryParseError', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['{"id": "DSA-1-1", "affected": [', /OSV: invalid JSON/],
    ['', /OSV: invalid JSON/],
    ['"just a string"', /not a JSON object/],
    ['{"affected": []}', /no string "id"/],
    ['{"id": 42}', /no string "id"/],
    ['{"id": "X", "affected": {}}', /"affected" must be an array/],
    ['[1, 2]', /record \[0\] is not a JSON object/],
    ['null', /not a JSON object/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseOsv(input), (err: unknown) => err instanceof AdvisoryParseError && err.format === 'osv' && re.test(err.message), String(input));
  }
});

test('junk inside affected entries is skipped with warnings', () => {
  const warnings: string[] = [];
  const list = parseOsv(
    { id: 'DSA-9-1', affected: [null, { package: {} }, { package: { ecosystem: 'Debian:12', name: 'ok' }, ranges: 'nope' }] },
    { onWarning: (m) => warnings.push(m) },
  );
  assert.equal(warnings.length, 2);
  assert.equal(list.length, 1);
  assert.deepEqual(list[0]?.packages, []);
});
