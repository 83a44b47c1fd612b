// Tests for Alpine version validity and ordering: apk-tools' own test/unit/version.data (comparisons and
// validity lines) and its TSV extract, plus properties on generated versions (there is no apk binary here
// to ask, so generated versions are checked for grammar and for a consistent, antisymmetric order).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apkVersionInvalidAt, compareApkVersions, isValidApkVersion } from '../../../src/domain/versions/apk.ts';
import type { Vector } from './support.ts';
import { mismatches, NO_FIXTURES, readFixture, readVectors, report, Rng, versionFixturesDir } from './support.ts';

test('apk-version.tsv vectors hold in both directions', (t) => {
  const dir = versionFixturesDir;
  if (dir === undefined) return t.skip(NO_FIXTURES);
  const vectors = readVectors(dir, 'apk-version.tsv');
  assert.equal(vectors.length, 738);
  const failures = mismatches(vectors, compareApkVersions);
  assert.deepEqual(failures, [], report(failures, vectors.length));
  t.diagnostic(`apk-version.tsv: ${vectors.length} rows, ${2 * vectors.length} comparisons, 0 mismatches`);
});

test("apk-tools' version.data: every <, >, = line and every validity line holds", (t) => {
  const dir = versionFixturesDir;
  if (dir === undefined) return t.skip(NO_FIXTURES);
  const comparisons: Vector[] = [];
  const valid: string[] = [];
  const invalid: string[] = [];
  let fuzzy = 0;
  readFixture(dir, 'apk-version.data')
    .split('\n')
    .forEach((raw, index) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') return;
      const where = `apk-version.data:${index + 1}`;
      const fields = line.split(/\s+/);
      if (fields.length === 1) {
        const v = fields[0] ?? '';
        if (v.startsWith('!')) invalid.push(v.slice(1));
        else valid.push(v);
        return;
      }
      const [a = '', op = '', b = ''] = fields;
      if (fields.length !== 3) throw new Error(`${where}: cannot read ${JSON.stringify(raw)}`);
      const expected = ({ '<': -1, '=': 0, '>': 1 } as const)[op as '<' | '=' | '>'];
      if (expected === undefined) {
        // Fuzzy (prefix) matches: ~ <~ >~ !~. Patchline does not implement apk's fuzzy matching.
        if (!op.includes('~')) throw new Error(`${where}: unknown operator ${op}`);
        fuzzy++;
        return;
      }
      comparisons.push({ a, b, expected, where });
    });
  // The counts SOURCES.md gives for this snapshot: 738 comparisons, 16 fuzzy lines, 31 validity lines.
  assert.equal(comparisons.length, 738);
  assert.equal(fuzzy, 16);
  assert.equal(valid.length + invalid.length, 31);

  const failures = mismatches(comparisons, compareApkVersions);
  for (const v of valid) if (!isValidApkVersion(v)) failures.push(`${JSON.stringify(v)} should be valid`);
  for (const v of invalid) if (isValidApkVersion(v)) failures.push(`${JSON.stringify(v)} should be invalid`);
  assert.deepEqual(failures, [], report(failures, comparisons.length + valid.length + invalid.length));
  t.diagnostic(
    `apk-version.data: ${comparisons.length} comparisons (both directions), ${valid.length} valid + ${invalid.length} invalid ` +
      `versions, 0 mismatches; ${fuzzy} fuzzy-match lines not applicable`,
  );
});

test('apkVersionInvalidAt points at the first character that breaks the grammar', () => {
  assert.equal(apkVersionInvalidAt('1.2.3_rc1~abc-r4'), undefined);
  assert.equal(apkVersionInvalidAt(''), 0);
  assert.equal(apkVersionInvalidAt('v1.0'), 0);
  assert.equal(apkVersionInvalidAt('1.0bc'), 4);
  assert.equal(apkVersionInvalidAt('1.0_foo'), 3);
  assert.equal(apkVersionInvalidAt('1.0-r1-r2'), 6);
  assert.equal(apkVersionInvalidAt('1.0.'), 3);
  assert.equal(apkVersionInvalidAt('1.0~'), 3);
  assert.equal(apkVersionInvalidAt('1.0~ABC'), 3);
});

// ---------------------------------------------------------------------------------------------------------
// Generated versions

const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p'];

function number(rng: Rng): string {
  const r = rng.int(100);
  if (r < 10) return '0' + rng.digits(0, 2);
  if (r < 14) return rng.digits(20, 30);
  return String(1 + rng.int(rng.pick([9, 20, 200, 30000])));
}

/** A version in apk's grammar: digits{.digits}[letter]{_suffix[N]}[~hash][-rN]. */
function apkVersion(rng: Rng): string {
  let s = number(rng);
  for (let k = rng.int(4); k > 0; k--) s += '.' + number(rng);
  if (rng.chance(0.15)) s += rng.pick(['a', 'b', 'c', 'p', 'z']);
  for (let k = rng.int(3) - rng.int(2); k > 0; k--) s += '_' + rng.pick(SUFFIXES) + (rng.chance(0.6) ? number(rng) : '');
  if (rng.chance(0.1)) s += '~' + rng.pick(['0', 'a', '1f', 'deadbeef', '0badc0de', '1234', '12345']);
  if (rng.chance(0.5)) s += '-r' + number(rng);
  return s;
}

/** Edits that always leave apk's grammar. */
const BREAKERS: ((s: string) => string)[] = [
  (s) => s + '_',
  (s) => s + '.',
  (s) => 'v' + s,
  (s) => s + '-r',
  (s) => s + '~',
  (s) => s + '_unknown1',
  (s) => s + '-r1-r2',
  (s) => s + 'A',
  (s) => s.replace(/^\d+/, (run) => run + '..'),
  (s) => s + ' ',
  (s) => s + '-1',
];

test('generated versions in apk grammar are valid, and the grammar-breaking edits are not', () => {
  const rng = new Rng(0xa1b2_2026);
  const failures: string[] = [];
  let checked = 0;
  for (let k = 0; k < 3000; k++) {
    const v = apkVersion(rng);
    checked++;
    if (!isValidApkVersion(v)) failures.push(`${JSON.stringify(v)} should be valid`);
    const broken = rng.pick(BREAKERS)(v);
    checked++;
    if (isValidApkVersion(broken)) failures.push(`${JSON.stringify(broken)} should be invalid`);
  }
  assert.deepEqual(failures, [], report(failures, checked));
});

test('compareApkVersions is antisymmetric and its order is consistent (transitive) on generated versions', (t) => {
  const rng = new Rng(0xa1b3_2026);
  const pool: string[] = [];
  for (let k = 0; k < 2000; k++) pool.push(apkVersion(rng));
  // A few invalid ones too: apk still orders them.
  for (let k = 0; k < 200; k++) pool.push(rng.pick(BREAKERS)(rng.pick(pool)));
  const sorted = [...pool].sort(compareApkVersions);
  const failures: string[] = [];
  const pairs = 30000;
  for (let n = 0; n < pairs; n++) {
    let i = rng.int(sorted.length);
    let j = rng.int(sorted.length);
    if (i > j) [i, j] = [j, i];
    const a = sorted[i] ?? '';
    const b = sorted[j] ?? '';
    const forward = compareApkVersions(a, b);
    if (forward !== -compareApkVersions(b, a)) failures.push(`not antisymmetric: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    if (forward > 0) failures.push(`sorted order broken: ${JSON.stringify(a)} (position ${i}) > ${JSON.stringify(b)} (position ${j})`);
  }
  assert.deepEqual(failures, [], report(failures, pairs));
  t.diagnostic(`apk generated: ${pool.length} versions sorted, ${pairs} pairs checked for antisymmetry and order, 0 failures`);
});
