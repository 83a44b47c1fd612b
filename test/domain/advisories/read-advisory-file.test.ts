// Tests for advisory file reading: content-based format detection, gzip handling, directory walks
// over the real fixture tree, and clear errors for truncated/unsupported files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AdvisoryParseError } from '../../../src/domain/advisories/advisory.ts';
import type { Advisory, AdvisoryFormatName } from '../../../src/domain/advisories/advisory.ts';
import {
  decompressBuffer,
  detectAdvisoryFormat,
  detectCompression,
  detectFileFormat,
  parseAdvisoryBuffer,
  readAdvisories,
  readAdvisoryFile,
} from '../../../src/domain/advisories/read-advisory-file.ts';

const FIXTURES = process.env['PATCHLINE_FIXTURES'] ?? '/work/shared/fixtures';
const skip = existsSync(join(FIXTURES, 'updateinfo')) ? false : `fixtures not found at ${FIXTURES} (set PATCHLINE_FIXTURES)`;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const EXPECTED_FORMATS: Record<string, AdvisoryFormatName | undefined> = {
  'updateinfo/amazon-linux-2.updateinfo.xml': 'updateinfo',
  'updateinfo/amazon-linux-2023.updateinfo.xml.gz': 'updateinfo',
  'updateinfo/rocky-linux-8.updateinfo.xml': 'updateinfo',
  'updateinfo/dnf5-test-repo1.updateinfo.xml': 'updateinfo',
  'osv/ALSA-2023-4520.json': 'osv',
  'osv/ALSA-2024-2433.json': 'osv',
  'osv/CVE-2022-27449.alpine.json': 'osv',
  'osv/DSA-3029-1.json': 'osv',
  'osv/UBUNTU-CVE-2025-38094.json': 'osv',
  'osv/USN-6986-1.json': 'osv',
  'debian-security-tracker/osv-dev-debian_security_tracker_mock.json': 'debian-tracker-json',
  'debian-security-tracker/vunnel-tracker-data.json': 'debian-tracker-json',
  'debian-security-tracker/vunnel-DSA-list.txt': 'debian-advisory-list',
  'debian-security-tracker/vuln-list-update-DLA-list.txt': 'debian-advisory-list',
  'debian-security-tracker/vuln-list-update-CVE-list.txt': 'debian-cve-list',
  'windows/msrc-cvrf-2017-Jan.xml': undefined,
  'hosts/dpkg-query.tsv': undefined,
  'updateinfo/SOURCES.md': undefined,
};

test('formats are detected from content for every fixture', { skip }, async () => {
  for (const [rel, expected] of Object.entries(EXPECTED_FORMATS)) {
    assert.equal(await detectFileFormat(join(FIXTURES, rel)), expected, rel);
  }
  // The head alone is enough for plain files.
  const head = readFileSync(join(FIXTURES, 'updateinfo/amazon-linux-2.updateinfo.xml')).subarray(0, 300);
  assert.equal(detectAdvisoryFormat(head), 'updateinfo');
});

test('detection of small inputs', () => {
  assert.equal(detectAdvisoryFormat('\uFEFF<?xml version="1.0"?>\n<updates/>'), 'updateinfo');
  assert.equal(detectAdvisoryFormat('<updates>'), 'updateinfo');
  assert.equal(detectAdvisoryFormat('<cvrfdoc xmlns="x">'), undefined);
  assert.equal(detectAdvisoryFormat('{"id": "DSA-1-1"}'), 'osv');
  assert.equal(detectAdvisoryFormat('[{"id": "A"}]'), 'osv');
  assert.equal(detectAdvisoryFormat('{\n  "openssl": {\n    "CVE-2024-1": {'), 'debian-tracker-json');
  assert.equal(detectAdvisoryFormat('{"openssl": {"TEMP-0000000-1": {'), 'debian-tracker-json');
  assert.equal(detectAdvisoryFormat('[01 Aug 2002] DSA-141 mpack - buffer overflow\n'), 'debian-advisory-list');
  assert.equal(detectAdvisoryFormat('garbage\n[19 Jul 2021] DLA-2711-1 x - y\n'), 'debian-advisory-list');
  assert.equal(detectAdvisoryFormat('CVE-2021-36373 (x)\n\t- ant <unfixed>\n'), 'debian-cve-list');
  assert.equal(detectAdvisoryFormat('# Title\n'), undefined);
  assert.equal(detectAdvisoryFormat(''), undefined);
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from('PK\x03\x04')), 'zip');
  assert.equal(detectCompression(Buffer.from('<updates>')), undefined);
});

test('walking the whole fixture tree yields every advisory once', { skip }, async () => {
  const warnings: string[] = [];
  const files = new Map<string, AdvisoryFormatName | undefined>();
  const errors: string[] = [];
  const list = await collect(
    readAdvisories(FIXTURES, {
      onWarning: (m) => warnings.push(m),
      onFile: (p, f) => files.set(p.slice(FIXTURES.length + 1), f),
      onError: (p, e) => errors.push(`${p}: ${e.message}`),
    }),
  );
  assert.deepEqual(errors, []);
  for (const [rel, expected] of Object.entries(EXPECTED_FORMATS)) assert.equal(files.get(rel), expected, rel);
  const count = (pred: (a: Advisory) => boolean): number => list.filter(pred).length;
  assert.equal(count((a) => a.source === 'updateinfo'), 11); // 2 + 1 + 4 + 4
  assert.equal(count((a) => a.source === 'osv'), 6);
  assert.equal(count((a) => a.source === 'debian-security-tracker'), 2 + 5 + 10 + 1 + 2);
  assert.equal(list.length, 37);
  assert.equal(new Set(list.map((a) => a.key)).size, list.length, 'keys are unique');
  // Skipped (unrecognised) files are reported as warnings, e.g. SOURCES.md and the CVRF document.
  assert.ok(warnings.some((w) => w.endsWith('msrc-cvrf-2017-Jan.xml: not a recognised advisory file; skipped')));
  assert.ok(warnings.some((w) => /updateinfo[/\\]SOURCES\.md: not a recognised/.test(w)));
  // Every record is well-formed.
  for (const a of list) {
    assert.ok(a.id && a.key && a.classification, a.key);
    assert.ok(Array.isArray(a.cveIds) && Array.isArray(a.bugzillaIds), a.key);
    for (const p of a.packages) assert.ok(p.name && p.fixedVersion, `${a.key} ${p.name}`);
    for (const c of a.cveIds) assert.match(c, /^CVE-\d{4}-\d{4,}$/);
  }
});

test('parseAdvisoryBuffer handles gzip and plain buffers', { skip }, () => {
  const gz = readFileSync(join(FIXTURES, 'updateinfo/amazon-linux-2023.updateinfo.xml.gz'));
  const r = parseAdvisoryBuffer(gz);
  assert.equal(r.format, 'updateinfo');
  assert.deepEqual(r.advisories.map((a) => a.id), ['ALAS2023-2023-001']);
  const osv = parseAdvisoryBuffer(readFileSync(join(FIXTURES, 'osv/DSA-3029-1.json')));
  assert.equal(osv.format, 'osv');
  assert.equal(osv.advisories[0]?.id, 'DSA-3029-1');
  const text = parseAdvisoryBuffer(readFileSync(join(FIXTURES, 'debian-security-tracker/vunnel-DSA-list.txt'), 'utf8'));
  assert.equal(text.format, 'debian-advisory-list');
  assert.equal(text.advisories.length, 10);
  assert.throws(() => parseAdvisoryBuffer('hello'), /unrecognised advisory format/);
});

test('files in a scratch directory: gzip OSV, nested dirs, hidden files, bad files', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-advisories-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const al2 = readFileSync(join(FIXTURES, 'updateinfo/amazon-linux-2.updateinfo.xml'));
  mkdirSync(join(dir, 'a', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'a', 'deep', 'usn.json.gz'), gzipSync(readFileSync(join(FIXTURES, 'osv/USN-6986-1.json'))));
  writeFileSync(join(dir, 'b-truncated.xml.gz'), gzipSync(al2).subarray(0, 2000));
  writeFileSync(join(dir, 'c-cut.xml'), al2.subarray(0, 3000));
  writeFileSync(join(dir, 'd.xml.xz'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
  writeFileSync(join(dir, 'e-bad.json'), '{"id": "USN-1-1", "affected": [');
  writeFileSync(join(dir, 'f-multi.gz'), Buffer.concat([gzipSync(al2.subarray(0, 5000)), gzipSync(al2.subarray(5000))]));
  writeFileSync(join(dir, '.hidden.json'), '{"id": "HIDDEN"}');

  const errors = new Map<string, Error>();
  const list = await collect(readAdvisories(dir, { onError: (p, e) => errors.set(p.slice(dir.length + 1), e) }));
  // c-cut.xml is streamed: its first, complete <update> is yielded before the cut is hit.
  // f-multi.gz (two gzip members) reads as the whole AL2 file.
  assert.deepEqual(list.map((a) => a.id), ['USN-6986-1', 'ALAS2-2018-942', 'ALAS2-2018-942', 'ALAS2-2018-949']);
  assert.deepEqual([...errors.keys()].sort(), ['b-truncated.xml.gz', 'c-cut.xml', 'd.xml.xz', 'e-bad.json']);
  for (const e of errors.values()) assert.ok(e instanceof AdvisoryParseError, e.message);
  assert.match(errors.get('b-truncated.xml.gz')!.message, /truncated|malformed XML/);
  assert.match(errors.get('c-cut.xml')!.message, /updateinfo: malformed XML/);
  assert.match(errors.get('d.xml.xz')!.message, /xz compression is not supported/);
  assert.match(errors.get('e-bad.json')!.message, /OSV: invalid JSON/);

  // Without onError the first failure is thrown.
  await assert.rejects(collect(readAdvisories(dir)), AdvisoryParseError);
  // A file named directly must be recognisable.
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  await assert.rejects(collect(readAdvisoryFile(join(dir, 'notes.txt'))), /unrecognised advisory format/);
  // Missing paths fail with the usual ENOENT.
  await assert.rejects(collect(readAdvisories(join(dir, 'missing'))), { code: 'ENOENT' });
});

test('decompressBuffer: gzip round trip, plain passthrough, corrupt data', () => {
  assert.equal(decompressBuffer(gzipSync('abc')).toString(), 'abc');
  assert.equal(decompressBuffer(Buffer.from('plain')).toString(), 'plain');
  assert.throws(() => decompressBuffer(gzipSync('x'.repeat(1000)).subarray(0, 12)), /corrupt or truncated gzip/);
  assert.throws(() => decompressBuffer(Buffer.from('BZh91AY&SY')), /bzip2 compression is not supported/);
});

test('stopping early releases the file', { skip }, async () => {
  for await (const a of readAdvisoryFile(join(FIXTURES, 'updateinfo/rocky-linux-8.updateinfo.xml'))) {
    assert.equal(a.id, 'RLBA-2021:2580');
    break;
  }
});
