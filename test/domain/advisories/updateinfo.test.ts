// Tests for the updateinfo.xml parser against the real fixtures in /work/shared/fixtures/updateinfo
// (Amazon Linux 2, Amazon Linux 2023 .gz, Rocky Linux 8, dnf5 test repo) plus malformed input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AdvisoryParseError } from '../../../src/domain/advisories/advisory.ts';
import type { Advisory } from '../../../src/domain/advisories/advisory.ts';
import {
  classificationForType,
  parseUpdateInfo,
  parseUpdateInfoStream,
} from '../../../src/domain/advisories/updateinfo.ts';
import { readUpdateInfo } from '../../../src/domain/advisories/read-advisory-file.ts';

const FIXTURES = process.env['PATCHLINE_FIXTURES'] ?? '/work/shared/fixtures';
const DIR = join(FIXTURES, 'updateinfo');
const skip = existsSync(DIR) ? false : `fixtures not found at ${DIR} (set PATCHLINE_FIXTURES)`;
const iso = (s: string): number => Date.parse(s) / 1000;

function byId(list: Advisory[], id: string): Advisory {
  const a = list.find((x) => x.id === id);
  assert.ok(a, `advisory ${id} not found`);
  return a;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

test('Amazon Linux 2 updateinfo', { skip }, () => {
  const warnings: string[] = [];
  const list = parseUpdateInfo(readFileSync(join(DIR, 'amazon-linux-2.updateinfo.xml')), {
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(
    list.map((a) => a.id),
    ['ALAS2-2018-942', 'ALAS2-2018-949'],
  );
  assert.deepEqual(warnings, []);

  const qemu = byId(list, 'ALAS2-2018-942');
  assert.equal(qemu.source, 'updateinfo');
  assert.equal(qemu.family, 'rpm');
  assert.equal(qemu.distribution, 'amzn:2');
  assert.equal(qemu.key, 'updateinfo|rpm|ALAS2-2018-942');
  assert.equal(qemu.classification, 'Security');
  assert.equal(qemu.severity, 'Important'); // lower-case 'important' in the file
  assert.equal(qemu.vendorSeverity, 'important');
  assert.equal(
    qemu.title,
    'Amazon Linux 2 2017.12 - ALAS2-2018-942: important priority package update for qemu-kvm',
  );
  assert.equal(qemu.issued, iso('2018-02-07T18:49:00Z'));
  assert.equal(qemu.updated, iso('2018-02-08T21:46:00Z'));
  assert.deepEqual(qemu.cveIds, ['CVE-2017-5715']);
  assert.deepEqual(qemu.bugzillaIds, []);
  assert.deepEqual(qemu.references, ['http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-5715']);
  // The double-escaped &amp;#039; is decoded to an apostrophe.
  assert.match(qemu.description ?? '', /microprocessor's data cache/);
  assert.doesNotMatch(qemu.description ?? '', /&#039;/);
  assert.deepEqual(
    qemu.packages.map((p) => p.name),
    ['qemu-kvm', 'qemu-img', 'qemu-kvm-common', 'qemu-kvm-tools', 'qemu-kvm-debuginfo'],
  );
  assert.deepEqual(qemu.packages[0], {
    name: 'qemu-kvm',
    epoch: '10',
    version: '1.5.3',
    release: '141.amzn2.5.3',
    arch: 'x86_64',
    fixedVersion: '10:1.5.3-141.amzn2.5.3',
    filename: 'Packages/qemu-kvm-1.5.3-141.amzn2.5.3.x86_64.rpm',
    distribution: 'amzn:2',
  });

  const java = byId(list, 'ALAS2-2018-949');
  assert.equal(java.cveIds.length, 15);
  assert.deepEqual(
    [...java.cveIds].sort(),
    [
      'CVE-2018-2579', 'CVE-2018-2582', 'CVE-2018-2588', 'CVE-2018-2599', 'CVE-2018-2602',
      'CVE-2018-2603', 'CVE-2018-2618', 'CVE-2018-2629', 'CVE-2018-2633', 'CVE-2018-2634',
      'CVE-2018-2637', 'CVE-2018-2641', 'CVE-2018-2663', 'CVE-2018-2677', 'CVE-2018-2678',
    ],
  );
  assert.equal(java.cveIds[0], 'CVE-2018-2677'); // document order is kept
  assert.equal(java.packages.length, 17);
  assert.ok(java.packages.every((p) => p.fixedVersion === '1:1.8.0.161-0.b14.amzn2'));
  assert.deepEqual(
    java.packages.filter((p) => p.arch === 'noarch').map((p) => p.name),
    [
      'java-1.8.0-openjdk-javadoc',
      'java-1.8.0-openjdk-javadoc-zip',
      'java-1.8.0-openjdk-javadoc-debug',
      'java-1.8.0-openjdk-javadoc-zip-debug',
    ],
  );
  assert.equal(java.issued, iso('2018-02-07T17:47:00Z'));
});

test('Amazon Linux 2023 updateinfo.xml.gz via the Buffer and path helpers', { skip }, async () => {
  const path = join(DIR, 'amazon-linux-2023.updateinfo.xml.gz');
  const fromPath = await collect(readUpdateInfo(path));
  const fromBuffer = await collect(readUpdateInfo(readFileSync(path)));
  assert.deepEqual(fromPath, fromBuffer);
  assert.equal(fromPath.length, 1);
  const a = fromPath[0]!;
  assert.equal(a.id, 'ALAS2023-2023-001');
  assert.equal(a.distribution, 'amzn:2023');
  assert.equal(a.classification, 'Security');
  assert.equal(a.severity, 'Important');
  assert.deepEqual(a.cveIds, ['CVE-2014-3634', 'CVE-2022-24903']);
  assert.equal(a.issued, iso('2023-02-17T20:41:00Z'));
  assert.equal(a.updated, iso('2023-02-22T23:22:00Z'));
  assert.equal(a.packages.length, 61);
  const arches = new Map<string, number>();
  for (const p of a.packages) arches.set(p.arch ?? '', (arches.get(p.arch ?? '') ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(arches), { x86_64: 20, i686: 20, aarch64: 20, noarch: 1 });
  const rsyslog = a.packages.find((p) => p.name === 'rsyslog' && p.arch === 'x86_64');
  assert.equal(rsyslog?.fixedVersion, '8.2204.0-3.amzn2023.0.2'); // epoch 0 is left out
  assert.equal(rsyslog?.epoch, '0');
});

test('AL2023 notices without <severity> get None', () => {
  const [a] = parseUpdateInfo(
    '<updates><update type="security"><id>ALAS2023-2024-999</id><issued date="1700000000"/>' +
      '<pkglist><collection short="amazon-linux-2023"><package name="x" version="1" release="1.amzn2023" epoch="0" arch="noarch"/></collection></pkglist>' +
      '</update></updates>',
  );
  assert.equal(a?.severity, 'None');
  assert.equal(a?.vendorSeverity, undefined);
  assert.equal(a?.issued, 1700000000); // epoch-seconds form
  assert.equal(a?.distribution, 'amzn:2023');
});

test('Rocky Linux 8 updateinfo', { skip }, () => {
  const list = parseUpdateInfo(readFileSync(join(DIR, 'rocky-linux-8.updateinfo.xml'), 'utf8'));
  assert.deepEqual(
    list.map((a) => [a.id, a.classification, a.severity]),
    [
      ['RLBA-2021:2580', 'Bugfix', 'None'],
      ['RLSA-2021:2575', 'Security', 'Moderate'],
      ['RLSA-2021:3057', 'Security', 'Important'],
      ['RLSA-2019:1972', 'Security', 'Important'],
    ],
  );
  for (const a of list) assert.equal(a.distribution, 'rocky:8'); // from <release>Rocky Linux 8</release>

  const fw = byId(list, 'RLBA-2021:2580');
  assert.deepEqual(fw.cveIds, []);
  assert.deepEqual(fw.references, ['https://access.redhat.com/errata/RHBA-2021:2580']);
  assert.equal(fw.issued, iso('2021-07-22T18:25:24Z'));
  assert.equal(fw.updated, iso('2021-06-29T00:00:00Z'));
  assert.deepEqual(
    fw.packages.map((p) => [p.name, p.sourceName, p.fixedVersion, p.arch]),
    [
      ['firewalld-filesystem', 'firewalld', '0.8.2-7.el8_4', 'noarch'],
      ['firewalld', 'firewalld', '0.8.2-7.el8_4', 'noarch'],
      ['python3-firewall', 'firewalld', '0.8.2-7.el8_4', 'noarch'],
    ],
  );

  const lz4 = byId(list, 'RLSA-2021:2575');
  assert.equal(lz4.title, 'Moderate: lz4 security update');
  assert.deepEqual(lz4.cveIds, ['CVE-2021-3520']);
  assert.deepEqual(lz4.packages.map((p) => p.fixedVersion), ['1.8.3-3.el8_4']);

  const kernel = byId(list, 'RLSA-2021:3057');
  assert.deepEqual(kernel.cveIds, ['CVE-2021-22543', 'CVE-2021-22555', 'CVE-2021-3609']);
  assert.equal(kernel.packages[0]?.fixedVersion, '4.18.0-305.12.1.el8_4');
  assert.equal(kernel.packages[0]?.sourceName, 'kernel');

  const ruby = byId(list, 'RLSA-2019:1972');
  assert.deepEqual(ruby.cveIds, ['CVE-2019-8324']);
  assert.deepEqual(ruby.bugzillaIds, ['1692520']);
  assert.equal(ruby.issued, iso('2019-07-30T11:16:25Z'));
  assert.equal(ruby.updated, iso('2023-02-02T12:55:31Z'));
  assert.deepEqual(
    ruby.packages.map((p) => [p.name, p.sourceName, p.fixedVersion, p.module]),
    [
      ['rubygem-abrt', 'rubygem-abrt', '0.3.0-4.module+el8.5.0+738+032c9c02', 'ruby:2.6'],
      ['rubygem-bson', 'rubygem-bson', '4.3.0-2.module+el8.4.0+592+03ff458a', 'ruby:2.6'],
    ],
  );
  assert.ok(ruby.references?.includes('https://errata.rockylinux.org/RLSA-2019:1972'));
});

test('dnf5 synthetic updateinfo: types, severities, collections, non-CVE cve refs', { skip }, () => {
  const warnings: string[] = [];
  const list = parseUpdateInfo(readFileSync(join(DIR, 'dnf5-test-repo1.updateinfo.xml')), {
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(
    list.map((a) => [a.id, a.classification, a.severity]),
    [
      ['DNF-2019-1', 'Security', 'Moderate'],
      ['DNF-2020-1', 'Bugfix', 'Critical'],
      ['PKG-NEWER', 'Enhancement', 'Low'],
      ['PKG-OLDER', 'Bugfix', 'Low'],
    ],
  );
  const a = byId(list, 'DNF-2019-1');
  // id="1111" title="CVE-2999" is not a CVE id: not in cveIds, reported as a warning.
  assert.deepEqual(a.cveIds, []);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /DNF-2019-1.*1111/);
  assert.equal(a.rebootSuggested, true);
  assert.equal(a.updated, undefined);
  assert.equal(a.issued, iso('2019-02-22T15:30:01Z'));
  assert.equal(a.distribution, 'fedora:29');
  // src="https://the.url/the.package.rpm" is not a source rpm name.
  assert.deepEqual(
    a.packages.map((p) => [p.name, p.fixedVersion, p.sourceName, p.module]),
    [
      ['pkg', '1.2-3', undefined, undefined], // two modules in the collection: ambiguous
      ['filesystem', '3.9-2.fc29', undefined, undefined],
    ],
  );
  const b = byId(list, 'DNF-2020-1');
  assert.deepEqual(b.bugzillaIds, ['2222']);
  assert.deepEqual(
    b.packages.map((p) => [p.name, p.fixedVersion, p.module]),
    [
      ['wget', '1.19.5-5.fc29', 'perl-DBI:master'],
      ['yum', '3.4.3-0', 'perl-DBI:master'],
      ['bitcoin', '2.5-1', 'perl:master'],
    ],
  );
  assert.equal(b.rebootSuggested, undefined);
  assert.deepEqual(byId(list, 'PKG-OLDER').packages.map((p) => p.fixedVersion), ['0.1-1']);
});

test('the stream parser gives the same records for any chunking', { skip }, async () => {
  for (const file of ['amazon-linux-2.updateinfo.xml', 'rocky-linux-8.updateinfo.xml', 'dnf5-test-repo1.updateinfo.xml']) {
    const buf = readFileSync(join(DIR, file));
    const whole = parseUpdateInfo(buf);
    for (const size of [1, 7, 4096]) {
      const streamed = await collect(parseUpdateInfoStream(chunked(buf, size)));
      assert.deepEqual(streamed, whole, `${file} in ${size}-byte chunks`);
    }
    const asStrings = await collect(parseUpdateInfoStream([buf.toString('utf8').slice(0, 100), buf.toString('utf8').slice(100)]));
    assert.deepEqual(asStrings, whole);
  }
});

test('the stream parser yields records before the input ends', async () => {
  const update = (i: number): string =>
    `<update type="bugfix"><id>X-${i}</id><severity>low</severity><pkglist><collection>` +
    `<package name="p${i}" version="1.${i}" release="1" epoch="0" arch="x86_64"/></collection></pkglist></update>`;
  let pulled = 0;
  const total = 2000;
  async function* source(): AsyncGenerator<string> {
    yield '<?xml version="1.0"?>\n<updates>';
    for (let i = 0; i < total; i++) {
      pulled++;
      yield update(i);
    }
    yield '</updates>';
  }
  let count = 0;
  let pulledAtFirst = -1;
  for await (const a of parseUpdateInfoStream(source())) {
    if (count === 0) pulledAtFirst = pulled;
    assert.equal(a.id, `X-${count}`);
    count++;
  }
  assert.equal(count, total);
  assert.ok(pulledAtFirst < 5, `first record after ${pulledAtFirst} chunks`);
});

test('non-ASCII text split across byte chunks survives', async () => {
  const xml = Buffer.from(
    '\uFEFF<updates><update type="enhancement"><id>E-1</id><title>Mise à jour ☃</title>' +
      '<description><![CDATA[a < b & c]]></description></update></updates>',
    'utf8',
  );
  const [a] = await collect(parseUpdateInfoStream(chunked(xml, 1)));
  assert.equal(a?.title, 'Mise à jour ☃');
  assert.equal(a?.description, 'a < b & c');
  assert.equal(a?.classification, 'Enhancement');
  assert.deepEqual(a?.packages, []);
});

test('notice types map to AWS classification spelling', () => {
  assert.equal(classificationForType('security'), 'Security');
  assert.equal(classificationForType('bugfix'), 'Bugfix');
  assert.equal(classificationForType('enhancement'), 'Enhancement');
  assert.equal(classificationForType('newpackage'), 'Newpackage');
  assert.equal(classificationForType('recommended'), 'Recommended');
  assert.equal(classificationForType('Security'), 'Security');
  assert.equal(classificationForType('optional'), 'Optional'); // SUSE
  assert.equal(classificationForType(undefined), 'Unspecified');
});

test('updates without an id or package versions are skipped with warnings', () => {
  const warnings: string[] = [];
  const list = parseUpdateInfo(
    '<updates><update type="security"><title>no id</title></update>' +
      '<update type="security"><id>A-1</id><pkglist><collection><package name="x" arch="x86_64"/>' +
      '<package name="y" version="2" release="1" arch="x86_64"/></collection></pkglist></update></updates>',
    { onWarning: (m) => warnings.push(m) },
  );
  assert.deepEqual(list.map((a) => a.id), ['A-1']);
  assert.deepEqual(list[0]?.packages.map((p) => p.fixedVersion), ['2-1']);
  assert.equal(warnings.length, 2);
});

test('the distribution option overrides inference', () => {
  const [a] = parseUpdateInfo('<updates><update type="security"><id>ALAS2-1</id></update></updates>', {
    distribution: 'amzn:2023',
  });
  assert.equal(a?.distribution, 'amzn:2023');
});

test('malformed XML fails with AdvisoryParseError, never hangs', { timeout: 5000 }, async () => {
  const bad = [
    '',
    'not xml at all',
    '<updates><update type="security"><id>X</id>',
    '<updates><update type="security"><id>X</id></updates>',
    '<html><body/></html>',
    '<updates><update><id>A</id></update></updates><updates/>',
    '<updates><update><id>&bogus;</id></update></updates>',
  ];
  for (const xml of bad) {
    assert.throws(() => parseUpdateInfo(xml), AdvisoryParseError, JSON.stringify(xml));
    await assert.rejects(collect(parseUpdateInfoStream([xml])), AdvisoryParseError, JSON.stringify(xml));
  }
  try {
    parseUpdateInfo('<updates>\n<update type="security">\n<id>X</id>');
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof AdvisoryParseError);
    assert.equal(err.format, 'updateinfo');
    assert.match(err.message, /updateinfo: malformed XML/);
    assert.equal(typeof err.line, 'number');
  }
  assert.throws(() => parseUpdateInfo('<cvrfdoc/>'), /root element is <cvrfdoc>/);
});

test('a truncated real file fails, records before the cut are yielded first', { skip }, async () => {
  const buf = readFileSync(join(DIR, 'rocky-linux-8.updateinfo.xml'));
  const cut = buf.subarray(0, Math.floor(buf.length * 0.6));
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const a of parseUpdateInfoStream(chunked(cut, 512))) seen.push(a.id);
  }, AdvisoryParseError);
  assert.ok(seen.length >= 1 && seen.length < 4, `yielded ${seen.length}`);
  assert.equal(seen[0], 'RLBA-2021:2580');
});

test('a gzip Buffer of a synthetic feed goes through readUpdateInfo', async () => {
  const gz = gzipSync('<updates><update type="newpackage"><id>N-1</id><severity>low</severity></update></updates>');
  const list = await collect(readUpdateInfo(gz));
  assert.deepEqual(list.map((a) => [a.id, a.classification, a.severity]), [['N-1', 'Newpackage', 'Low']]);
});
