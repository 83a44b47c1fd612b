// Tests for the Debian Security Tracker parsers (JSON dump, streamed JSON, DSA/DLA list, CVE list)
// against the real samples in /work/shared/fixtures/debian-security-tracker plus malformed input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdvisoryParseError } from '../../../src/domain/advisories/advisory.ts';
import type { Advisory } from '../../../src/domain/advisories/advisory.ts';
import {
  jsonObjectMembers,
  parseDebianAdvisoryList,
  parseDebianCveList,
  parseDebianTracker,
  parseDebianTrackerStream,
} from '../../../src/domain/advisories/debian-security-tracker.ts';

const FIXTURES = process.env['PATCHLINE_FIXTURES'] ?? '/work/shared/fixtures';
const DIR = join(FIXTURES, 'debian-security-tracker');
const skip = existsSync(DIR) ? false : `fixtures not found at ${DIR} (set PATCHLINE_FIXTURES)`;
const iso = (s: string): number => Date.parse(s) / 1000;
const read = (f: string): string => readFileSync(join(DIR, f), 'utf8');

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

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const fixedBy = (a: Advisory): Array<[string | undefined, string]> => a.packages.map((p) => [p.distribution, p.fixedVersion]);

test('osv.dev tracker mock: never-affected CVEs are dropped, open releases kept as unfixed', { skip }, () => {
  const list = parseDebianTracker(read('osv-dev-debian_security_tracker_mock.json'));
  // CVE-2014-1424 is resolved with fixed_version "0" everywhere: never affected.
  assert.deepEqual(list.map((a) => a.id), ['CVE-2016-1585', 'CVE-2017-6507']);

  const a = byId(list, 'CVE-2016-1585');
  assert.equal(a.key, 'debian-security-tracker|dpkg|CVE-2016-1585|apparmor');
  assert.equal(a.source, 'debian-security-tracker');
  assert.equal(a.family, 'dpkg');
  assert.equal(a.classification, 'Security');
  assert.deepEqual(a.cveIds, ['CVE-2016-1585']);
  assert.equal(a.severity, 'Negligible'); // urgency "unimportant"
  assert.equal(a.vendorSeverity, 'unimportant');
  assert.equal(a.description, 'In all versions of AppArmor mount rules are accidentally widened when compiled.');
  assert.deepEqual(fixedBy(a), [
    ['debian:sid', '3.0.12-1'],
    ['debian:13', '3.0.12-1'],
  ]);
  assert.ok(a.packages.every((p) => p.name === 'apparmor' && p.sourceName === 'apparmor'));
  assert.deepEqual(
    a.unfixedPackages?.map((u) => [u.distribution, u.status]),
    [
      ['debian:12', 'open'],
      ['debian:11', 'open'],
      ['debian:10', 'open'],
    ],
  );
  assert.ok(a.references?.includes('https://bugs.debian.org/929990'));
  assert.ok(a.references?.includes('https://security-tracker.debian.org/tracker/CVE-2016-1585'));

  const b = byId(list, 'CVE-2017-6507');
  assert.equal(b.severity, undefined); // "not yet assigned"
  assert.deepEqual(fixedBy(b), [
    ['debian:12', '2.11.0-3'],
    ['debian:11', '2.11.0-3'],
    ['debian:10', '2.11.0-3'],
    ['debian:sid', '2.11.0-3'],
    ['debian:13', '2.11.0-3'],
  ]);
  assert.equal(b.unfixedPackages, undefined);
  assert.equal(b.distribution, undefined);
});

test('vunnel tracker data: urgencies, end-of-life, releases: [] edge case', { skip }, () => {
  const list = parseDebianTracker(read('vunnel-tracker-data.json'));
  assert.deepEqual(
    list.map((a) => [a.id, a.packages[0]?.sourceName ?? a.unfixedPackages?.[0]?.sourceName, a.severity ?? null]),
    [
      ['CVE-2008-7220', 'prototypejs', 'High'], // high**
      // CVE-2007-2383: fixed_version "0" everywhere, dropped
      ['CVE-2013-1444', 'txt2man', 'Low'], // low**
      ['CVE-2005-3111', 'backupninja', 'Medium'],
      ['CVE-2022-0456', 'chromium', null], // not yet assigned / end-of-life
      ['CVE-2025-53603', 'sope', null],
      // chromium-browser CVE-2022-0358 has "releases": [] and yields nothing
    ],
  );
  const proto = byId(list, 'CVE-2008-7220');
  assert.equal(proto.vendorSeverity, 'high**');
  assert.deepEqual(fixedBy(proto), [
    ['debian:9', '1.6.0.2-1'],
    ['debian:8', '1.6.0.2-1'],
    ['debian:10', '1.6.0.2-1'],
    ['debian:sid', '1.6.0.2-1'],
  ]);
  assert.ok(proto.references?.includes('https://bugs.debian.org/555217'));

  const chromium = byId(list, 'CVE-2022-0456');
  assert.equal(chromium.description, undefined);
  assert.deepEqual(fixedBy(chromium), [
    ['debian:12', '98.0.4758.80-1'],
    ['debian:11', '98.0.4758.80-1~deb11u1'],
    ['debian:sid', '98.0.4758.80-1'],
  ]);
  assert.deepEqual(
    chromium.unfixedPackages?.map((u) => [u.distribution, u.status]),
    [
      ['debian:10', 'end-of-life'],
      ['debian:9', 'end-of-life'],
    ],
  );

  const sope = byId(list, 'CVE-2025-53603');
  assert.deepEqual(fixedBy(sope), [
    ['debian:12', '5.8.0-1+deb12u1'],
    ['debian:11', '5.0.1-2+deb11u1'],
    ['debian:sid', '5.12.1-2'],
    ['debian:13', '5.12.1-2'],
  ]);
  assert.ok(sope.references?.includes('https://bugs.debian.org/1108798'));
});

test('streamed tracker JSON equals the one-shot parse for any chunking', { skip }, async () => {
  for (const file of ['osv-dev-debian_security_tracker_mock.json', 'vunnel-tracker-data.json']) {
    const text = read(file);
    const whole = parseDebianTracker(text);
    for (const size of [1, 3, 64, 100000]) {
      assert.deepEqual(await collect(parseDebianTrackerStream(chunks(text, size))), whole, `${file} / ${size}`);
    }
    assert.deepEqual(await collect(parseDebianTrackerStream([Buffer.from(text)])), whole);
  }
});

test('jsonObjectMembers handles escapes, primitives and whitespace', async () => {
  const text = ' { "a\\"b" : {"x":"}{\\\\"} , "n": 12 ,"s":"q\\u00e9", "t" :true,"arr":[1,[2],{"k":"]"}]}  \n';
  const expected = Object.entries(JSON.parse(text) as Record<string, unknown>);
  for (const size of [1, 2, 5, 1000]) {
    assert.deepEqual(await collect(jsonObjectMembers(chunks(text, size))), expected, String(size));
  }
  assert.deepEqual(await collect(jsonObjectMembers(['{}'])), []);
});

test('malformed tracker JSON fails with AdvisoryParseError, never hangs', { timeout: 5000 }, async () => {
  const bad = ['', '[]', '{"apparmor": {"CVE-1": {}}', '{"a": }', '{"a" {}}', '{"a": {}} x', '{,}', '{"a": {}, }', 'nope', '{"a": tru}'];
  for (const text of bad) {
    await assert.rejects(collect(parseDebianTrackerStream(chunks(text, 2))), AdvisoryParseError, JSON.stringify(text));
  }
  for (const text of ['', '[]', '{"a": {}', 'null', '42']) {
    assert.throws(() => parseDebianTracker(text), AdvisoryParseError, JSON.stringify(text));
  }
  await assert.rejects(collect(parseDebianTrackerStream(['{"apparmor": {"CVE-1"'])), /truncated JSON/);
});

test('odd tracker entries are skipped with warnings', () => {
  const warnings: string[] = [];
  const list = parseDebianTracker(
    { a: 'nope', b: { 'CVE-2020-1111': 5, 'TEMP-0000000-ABCDEF': { releases: { bookworm: { status: 'open', urgency: 'low' } } } } },
    { onWarning: (m) => warnings.push(m) },
  );
  assert.equal(warnings.length, 2);
  assert.equal(list.length, 1);
  assert.equal(list[0]?.id, 'TEMP-0000000-ABCDEF');
  assert.deepEqual(list[0]?.cveIds, []);
  assert.equal(list[0]?.distribution, 'debian:12');
  assert.deepEqual(list[0]?.packages, []);
  assert.equal(list[0]?.unfixedPackages?.[0]?.status, 'open');
});

test('DSA list: dates, CVEs, per-release fixes, notices without packages', { skip }, () => {
  const warnings: string[] = [];
  const list = parseDebianAdvisoryList(read('vunnel-DSA-list.txt'), { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    list.map((a) => a.id),
    ['DSA-141', 'DSA-140', 'DSA-139', 'DSA-138', 'DSA-2819-1', 'DSA-2808-2', 'DSA-3281-1', 'DSA-4205-1', 'DSA-4323-1', 'DSA-5970-1'],
  );
  const sope = byId(list, 'DSA-5970-1');
  assert.equal(sope.key, 'debian-security-tracker|dpkg|DSA-5970-1');
  assert.equal(sope.title, 'sope - security update');
  assert.equal(sope.issued, iso('2025-07-31T00:00:00Z'));
  assert.deepEqual(sope.cveIds, ['CVE-2025-53603']);
  assert.equal(sope.distribution, 'debian:12');
  assert.equal(sope.classification, 'Security');
  assert.deepEqual(sope.packages, [
    { name: 'sope', sourceName: 'sope', fixedVersion: '5.8.0-1+deb12u1', distribution: 'debian:12' },
  ]);

  const libpng = byId(list, 'DSA-140');
  assert.equal(libpng.issued, iso('2002-08-05T00:00:00Z'));
  assert.deepEqual(libpng.cveIds, ['CVE-2002-0660', 'CVE-2002-0728']);
  assert.equal(libpng.distribution, 'debian:3.0'); // woody
  assert.deepEqual(
    libpng.packages.map((p) => [p.name, p.fixedVersion]),
    [
      ['libpng', '1.0.12-3.woody.2'],
      ['libpng3', '1.2.1-1.1.woody.2'],
    ],
  );

  const openjpeg = byId(list, 'DSA-2808-2');
  assert.deepEqual(openjpeg.cveIds, []);
  assert.equal(openjpeg.distribution, undefined);
  assert.deepEqual(fixedBy(openjpeg), [
    ['debian:6', '1.3+dfsg-4+squeeze3'],
    ['debian:7', '1.3+dfsg-4.8'],
  ]);

  for (const id of ['DSA-2819-1', 'DSA-3281-1', 'DSA-4205-1']) {
    assert.deepEqual(byId(list, id).packages, [], id);
  }
  assert.equal(byId(list, 'DSA-3281-1').title, 'Debian Security Team PGP/GPG key change notice');
  assert.equal(byId(list, 'DSA-4205-1').issued, iso('2018-04-18T00:00:00Z'));
  assert.deepEqual(fixedBy(byId(list, 'DSA-4323-1')), [['debian:9', '7.52-2+deb9u5']]);
});

test('DLA list: epoch + ~deb9u1, malformed header skipped, no trailing newline', { skip }, () => {
  const warnings: string[] = [];
  const list = parseDebianAdvisoryList(read('vuln-list-update-DLA-list.txt'), { onWarning: (m) => warnings.push(m) });
  assert.equal(list.length, 1);
  const a = list[0]!;
  assert.equal(a.id, 'DLA-2711-1');
  assert.equal(a.title, 'thunderbird - security update');
  assert.equal(a.issued, iso('2021-07-19T00:00:00Z'));
  assert.deepEqual(a.cveIds, ['CVE-2021-29969', 'CVE-2021-29970', 'CVE-2021-29976', 'CVE-2021-30547']);
  assert.deepEqual(a.packages, [
    { name: 'thunderbird', sourceName: 'thunderbird', fixedVersion: '1:78.12.0-1~deb9u1', distribution: 'debian:9' },
  ]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /line 4: malformed advisory header/);
});

test('CVE list: sid lines, release lines, <no-dsa>/<unfixed>, urgency, placeholders', { skip }, () => {
  const warnings: string[] = [];
  const list = parseDebianCveList(read('vuln-list-update-CVE-list.txt'), { onWarning: (m) => warnings.push(m) });
  // CVE-2023-XXXX placeholders (2) are skipped with warnings; TODO / NOT-FOR-US entries have no packages.
  assert.deepEqual(list.map((a) => a.key), [
    'debian-security-tracker|dpkg|CVE-2021-36373|ant',
    'debian-security-tracker|dpkg|CVE-2021-36367|putty',
  ]);
  assert.equal(warnings.filter((w) => /placeholder/.test(w)).length, 2);
  assert.equal(warnings.length, 2);

  const ant = byId(list, 'CVE-2021-36373');
  assert.deepEqual(ant.packages, []);
  assert.deepEqual(ant.unfixedPackages, [{ name: 'ant', sourceName: 'ant', distribution: 'debian:sid', status: 'unfixed' }]);
  assert.equal(ant.severity, 'Negligible'); // (unimportant)
  assert.equal(ant.description, 'When reading a specially crafted TAR archive an Apache Ant build can b ...');

  const putty = byId(list, 'CVE-2021-36367');
  assert.deepEqual(fixedBy(putty), [['debian:sid', '0.75-3']]);
  assert.equal(putty.severity, 'Low'); // (low; bug #990901)
  assert.ok(putty.references?.includes('https://bugs.debian.org/990901'));
  assert.deepEqual(
    putty.unfixedPackages?.map((u) => [u.distribution, u.status]),
    [
      ['debian:11', 'no-dsa'],
      ['debian:10', 'no-dsa'],
    ],
  );
});

test('CVE list package lines with statuses and DSA references', () => {
  const text = [
    'CVE-2024-12345 (Something bad)',
    '\t{DSA-5555-1 DLA-3333-1}',
    '\t- foo 1.2-3 (high; bug #1000)',
    '\t[bookworm] - foo 1.2-2+deb12u1',
    '\t[bullseye] - foo <not-affected> (Vulnerable code not present)',
    '\t[buster] - foo <postponed> (Minor issue)',
    '\t- bar <removed>',
    '\t- baz <itp> (bug #2000)',
    'CVE-2024-23456',
    '\tRESERVED',
    'CVE-2024-34567 [x]',
    '\tREJECTED',
    'garbage header',
    '\t- ignored 1.0',
  ].join('\n');
  const warnings: string[] = [];
  const list = parseDebianCveList(text, { onWarning: (m) => warnings.push(m) });
  assert.equal(list.length, 1);
  const foo = list[0]!;
  assert.equal(foo.id, 'CVE-2024-12345');
  assert.equal(foo.description, 'Something bad');
  assert.equal(foo.severity, 'High');
  assert.deepEqual(fixedBy(foo), [
    ['debian:sid', '1.2-3'],
    ['debian:12', '1.2-2+deb12u1'],
  ]);
  assert.deepEqual(foo.unfixedPackages?.map((u) => [u.distribution, u.status]), [['debian:10', 'postponed']]);
  assert.ok(foo.references?.includes('https://security-tracker.debian.org/tracker/DSA-5555-1'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /malformed CVE header "garbage header"/);
});
