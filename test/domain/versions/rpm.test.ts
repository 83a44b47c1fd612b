// Tests for RPM version comparison: the shared fixture vectors (including rpm's own rpmvercmp.at), the
// EVR validity rules, and thousands of generated pairs checked against rpm 4.18's rpm.vercmp and rpm.ver.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compareRpmEvr, parseRpmEvr, rpmvercmp, splitRpmEvr } from '../../../src/domain/versions/rpm.ts';
import type { Vector } from './support.ts';
import { mismatches, NO_FIXTURES, readFixture, readVectors, report, Rng, rpmAnswers, toolMissing, versionFixturesDir } from './support.ts';

const rpmMissing = toolMissing('rpm');

test('rpm fixture vectors hold in both directions (rpmvercmp rows, claircore extras, EVR rows)', (t) => {
  const dir = versionFixturesDir;
  if (dir === undefined) return t.skip(NO_FIXTURES);
  const sets: [string, (a: string, b: string) => number][] = [
    ['rpm-vercmp.tsv', rpmvercmp],
    ['rpm-vercmp-extra.tsv', rpmvercmp],
    ['rpm-evr-generated.tsv', compareRpmEvr],
  ];
  let total = 0;
  for (const [name, cmp] of sets) {
    const vectors = readVectors(dir, name);
    assert.ok(vectors.length > 0, `${name} has no rows`);
    const failures = mismatches(vectors, cmp);
    assert.deepEqual(failures, [], report(failures, vectors.length));
    total += vectors.length;
  }
  t.diagnostic(`rpm fixture TSV vectors: ${total} rows, ${2 * total} comparisons, 0 mismatches`);
});

test("rpm's own rpmvercmp.at cases hold, including the dnl-commented oddities", (t) => {
  const dir = versionFixturesDir;
  if (dir === undefined) return t.skip(NO_FIXTURES);
  const active: Vector[] = [];
  const oddities: Vector[] = [];
  readFixture(dir, 'rpmvercmp.at')
    .split('\n')
    .forEach((line, index) => {
      const m = /^(dnl )?RPMVERCMP\((.*), (.*), (-?[01])\)$/.exec(line);
      if (m === null) return;
      const row: Vector = { a: m[2] ?? '', b: m[3] ?? '', expected: Number(m[4]) as -1 | 0 | 1, where: `rpmvercmp.at:${index + 1}` };
      (m[1] === undefined ? active : oddities).push(row);
    });
  // 91 active cases and 12 commented "oddities" in the snapshot described by SOURCES.md.
  assert.equal(active.length, 91);
  assert.equal(oddities.length, 12);
  const failures = mismatches([...active, ...oddities], rpmvercmp);
  assert.deepEqual(failures, [], report(failures, active.length + oddities.length));
  t.diagnostic(`rpmvercmp.at: ${active.length} active + ${oddities.length} oddity cases, 0 mismatches`);
});

test('rpmvercmp: digit runs of any length, leading zeros, separators, ~ and ^', () => {
  assert.equal(rpmvercmp('1.18446744073709551616', '1.18446744073709551615'), 1);
  assert.equal(rpmvercmp('1.000000000000000000000000001', '1.1'), 0);
  assert.equal(rpmvercmp('1.0~rc1', '1.0'), -1);
  assert.equal(rpmvercmp('1.0^1', '1.0'), 1);
  assert.equal(rpmvercmp('1.0^1', '1.0.1'), -1);
  assert.equal(rpmvercmp('1.0', '1.0.'), 0);
  assert.equal(rpmvercmp('1é0', '1.0'), 0);
  assert.equal(rpmvercmp('1a', '1.1'), -1);
});

test('splitRpmEvr splits like rpm (epoch only before the first colon after digits, release after the last hyphen)', () => {
  assert.deepEqual(splitRpmEvr('5:1.2-3.el8'), { epoch: '5', version: '1.2', release: '3.el8' });
  assert.deepEqual(splitRpmEvr('1.2'), { epoch: undefined, version: '1.2', release: undefined });
  assert.deepEqual(splitRpmEvr(':1.2'), { epoch: '0', version: '1.2', release: undefined });
  assert.deepEqual(splitRpmEvr('1.0-'), { epoch: undefined, version: '1.0', release: '' });
  assert.deepEqual(splitRpmEvr('-1'), { epoch: undefined, version: '', release: '1' });
  assert.deepEqual(splitRpmEvr('a:1'), { epoch: undefined, version: 'a:1', release: undefined });
  assert.deepEqual(splitRpmEvr('1:2:3-4-5'), { epoch: '1', version: '2:3-4', release: '5' });
});

test('parseRpmEvr accepts [epoch:]version[-release] under rpmbuild rules and names the problem otherwise', () => {
  const ok = (s: string) => {
    const r = parseRpmEvr(s);
    assert.ok(r.ok, `${JSON.stringify(s)} should parse: ${r.ok ? '' : r.message}`);
    return r.evr;
  };
  assert.deepEqual(ok('1.0'), { epoch: undefined, version: '1.0', release: undefined });
  assert.deepEqual(ok('2:4.18.0-305.12.1.el8_4'), { epoch: 2, version: '4.18.0', release: '305.12.1.el8_4' });
  assert.deepEqual(ok('0:0.3.0-4.module+el8.5.0+738+032c9c02'), { epoch: 0, version: '0.3.0', release: '4.module+el8.5.0+738+032c9c02' });
  assert.deepEqual(ok('1.0~rc1^git2-1%{dist}'), { epoch: undefined, version: '1.0~rc1^git2', release: '1%{dist}' });
  assert.deepEqual(ok('4294967295:1-1'), { epoch: 4294967295, version: '1', release: '1' });
  const cases: [string, string][] = [
    ['', 'empty'],
    [':1.0', 'epoch-empty'],
    ['a:1.0', 'epoch-not-number'],
    ['-1:1.0', 'epoch-not-number'],
    ['4294967296:1.0', 'epoch-too-big'],
    ['1:', 'version-empty'],
    ['-1', 'version-empty'],
    ['1.0-', 'release-empty'],
    ['1.0-1-2', 'invalid-character'],
    ['1:2:3', 'invalid-character'],
    ['1.0 -1', 'invalid-character'],
    ['1.0-1.el8\n', 'invalid-character'],
    ['1.0é', 'invalid-character'],
    ['1..0', 'double-dot'],
    ['1.0-1..el8', 'double-dot'],
  ];
  for (const [s, problem] of cases) {
    const r = parseRpmEvr(s);
    assert.ok(!r.ok, `${JSON.stringify(s)} should be refused`);
    assert.equal(r.problem, problem, JSON.stringify(s));
    assert.ok(r.message.length > 0);
  }
});

test('compareRpmEvr takes parsed EVRs as well as strings', () => {
  const a = parseRpmEvr('1:1.0-1');
  const b = parseRpmEvr('1.0-1');
  assert.ok(a.ok && b.ok);
  assert.equal(compareRpmEvr(a.evr, b.evr), 1);
  assert.equal(compareRpmEvr(b.evr, '0:1.0-1'), 0);
  assert.equal(compareRpmEvr('1.0', b.evr), -1);
});

// ---------------------------------------------------------------------------------------------------------
// Generated versions

const LETTERS = ['a', 'b', 'z', 'A', 'Z', 'rc', 'git', 'el', 'fc', 'p', 'pre', 'beta', 'alpha', 'module', 'amzn', 'svn', 'M', 'GA', 'xyz', 'aa'];

function segment(rng: Rng): string {
  const r = rng.int(100);
  if (r < 8) return '0' + rng.digits(1, 3);
  if (r < 12) return rng.digits(18, 40);
  if (r < 55) return rng.digits(1, 3);
  return rng.pick(LETTERS);
}

/**
 * A string for rpmvercmp itself: segments, separators of every kind, ~ and ^, non-ASCII characters; but no
 * `:` or `-`, because rpm 4.18's rpm.vercmp (our oracle) splits its arguments as EVRs first.
 */
function rawVersion(rng: Rng): string {
  let s = rng.chance(0.08) ? rng.pick(['.', '_', '~', '^', '+', 'α']) : '';
  const n = 1 + rng.int(6);
  for (let k = 0; k < n; k++) {
    if (k > 0) s += rng.pick(['.', '.', '.', '_', '+', '~', '^', '', '', '..', 'α', 'β', '%', '/', '~~', '^^', '.~', '^.', '~^']);
    s += segment(rng);
  }
  if (rng.chance(0.12)) s += rng.pick(['~', '^', '.', '~~', '^~', '+']);
  return s;
}

const DISTS = ['', '.el8', '.el8_4', '.el8_10', '.el9_3', '.el7', '.fc39', '.fc4', '.amzn2', '.amzn2023.0.2', '.amzn2.0.10',
  '.module+el8.5.0+738+032c9c02', '.module+el8.4.0+592+03ff458a', '.module_1710+b535a823', '~bpo', '^git1'];

function versionPart(rng: Rng): string {
  let s = segment(rng).replace(/^[A-Za-z]+/, '1');
  const n = rng.int(4);
  for (let k = 0; k < n; k++) s += rng.pick(['.', '.', '.', '_', '+', '']) + segment(rng);
  if (rng.chance(0.15)) s += rng.pick(['~rc1', '~beta2', '^git3', '^20240101', '~', '^', 'p1', 'a']);
  return s;
}

/** A realistic EVR: optional epoch, a version and, mostly, a release with a dist tag. */
function evr(rng: Rng): string {
  const epoch = rng.chance(0.3) ? rng.pick(['0', '1', '2', '10', '00', '01', '4294967295', '99999999999999999999']) + ':' : rng.chance(0.03) ? ':' : '';
  const release = rng.chance(0.75) ? `-${versionPart(rng)}${rng.pick(DISTS)}` : '';
  return epoch + versionPart(rng) + release;
}

const TAILS = ['', '~', '~~', '^', '^^', '.', '..', '_', '+', '-', '-1', ':', '0', '00', '1', 'a', 'A', 'z', 'α', '~a', '^a', '.a', '.1', '%'];

function mutate(rng: Rng, s: string): string {
  switch (rng.int(9)) {
    case 0: {
      const digits = [...s.matchAll(/\d/g)].map((m) => m.index);
      if (digits.length === 0) return s + '1';
      const at = rng.pick(digits);
      return s.slice(0, at) + String((Number(s[at]) + 1 + rng.int(9)) % 10) + s.slice(at + 1);
    }
    case 1: {
      const runs = [...s.matchAll(/\d+/g)].map((m) => m.index);
      const at = runs.length > 0 ? rng.pick(runs) : 0;
      return s.slice(0, at) + '0' + s.slice(at);
    }
    case 2:
      return s.replace(/[._+]/, () => rng.pick(['.', '_', '+', '', '~', '^', '-']));
    case 3:
      return s.includes('-') ? s.slice(0, s.lastIndexOf('-')) : `${s}-${rng.pick(['0', '1', '1.el8'])}`;
    case 4:
      return /^\d*:/.test(s) ? s.replace(/^\d*:/, rng.pick(['', '0:', '00:', '1:', ':'])) : rng.pick(['0:', '1:', ':']) + s;
    case 5:
      return s.replace(/[a-z]/i, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
    case 6:
      return s.length > 1 ? s.slice(0, -1) : s + '.';
    case 7: {
      const at = rng.int(s.length);
      return s.slice(0, at + 1) + s.slice(at);
    }
    default:
      return s.replace(/\d+/, (run) => rng.digits(run.length, run.length));
  }
}

/** Random, near (mutated), same-base-two-tails and sorted-neighbour pairs over one pool of strings. */
function pairsFor(rng: Rng, pool: readonly string[], sortWith: (a: string, b: string) => number): [string, string][] {
  const pairs: [string, string][] = [];
  for (let k = 0; k < 800; k++) pairs.push([rng.pick(pool), rng.pick(pool)]);
  for (let k = 0; k < 1200; k++) {
    const a = rng.pick(pool);
    pairs.push([a, mutate(rng, a)]);
  }
  for (let k = 0; k < 500; k++) {
    const base = rng.pick(pool);
    pairs.push([base + rng.pick(TAILS), base + rng.pick(TAILS)]);
  }
  const sorted = [...pool].sort(sortWith);
  for (let k = 1; k < sorted.length; k++) pairs.push([sorted[k - 1] ?? '', sorted[k] ?? '']);
  return pairs.filter(([a, b]) => a !== '' && b !== '');
}

const isPlainVersion = (v: string): boolean => !v.includes(':') && !v.includes('-');

/** Counts an outcome (-1, 0, 1) in a [lt, eq, gt] tally. */
function tally(counts: number[], outcome: number): void {
  counts[outcome + 1] = (counts[outcome + 1] ?? 0) + 1;
}

test('generated pairs: compareRpmEvr matches rpm 4.18 rpm.ver and rpm.vercmp; rpmvercmp matches on plain versions', { skip: rpmMissing }, async (t) => {
  const rng = new Rng(0x4e57_2026);
  const rawPool = new Set<string>();
  while (rawPool.size < 1500) rawPool.add(rawVersion(rng));
  const evrPool = new Set<string>();
  while (evrPool.size < 1500) evrPool.add(evr(rng));
  const pairs = [...pairsFor(rng, [...rawPool], rpmvercmp), ...pairsFor(rng, [...evrPool], compareRpmEvr)];

  const answers = await rpmAnswers(pairs);
  const failures: string[] = [];
  const seen = { vercmp: [0, 0, 0], ver: [0, 0, 0] };
  let plainPairs = 0;
  pairs.forEach(([a, b], k) => {
    const answer = answers[k];
    assert.ok(answer !== undefined);
    const show = (name: string, ours: readonly number[], theirs: readonly number[], tool: string) =>
      failures.push(`${name}(${JSON.stringify(a)}, ${JSON.stringify(b)}): ours ${ours.join('/')}, ${tool} ${theirs.join('/')}`);
    const oursEvr = [compareRpmEvr(a, b), compareRpmEvr(b, a)];
    if (oursEvr[0] !== answer.ver[0] || oursEvr[1] !== answer.ver[1]) show('compareRpmEvr', oursEvr, answer.ver, 'rpm.ver');
    if (oursEvr[0] !== answer.vercmp[0] || oursEvr[1] !== answer.vercmp[1]) show('compareRpmEvr', oursEvr, answer.vercmp, 'rpm.vercmp');
    if (isPlainVersion(a) && isPlainVersion(b)) {
      plainPairs++;
      const ours = [rpmvercmp(a, b), rpmvercmp(b, a)];
      if (ours[0] !== answer.vercmp[0] || ours[1] !== answer.vercmp[1]) show('rpmvercmp', ours, answer.vercmp, 'rpm.vercmp');
      tally(seen.vercmp, answer.vercmp[0]);
    } else {
      tally(seen.ver, answer.ver[0]);
    }
  });
  assert.deepEqual(failures, [], report(failures, pairs.length));
  // The generator must produce all three outcomes in quantity, or the check above says little.
  for (const counts of [seen.vercmp, seen.ver]) for (const c of counts) assert.ok((c ?? 0) > 300, `outcome spread too thin: ${JSON.stringify(seen)}`);
  t.diagnostic(
    `rpm generated: ${pairs.length} pairs from ${rawPool.size} plain + ${evrPool.size} EVR strings; compareRpmEvr checked both ways ` +
      `against rpm.ver and rpm.vercmp on all, rpmvercmp against rpm.vercmp on the ${plainPairs} pairs without ':' or '-'; ` +
      `outcomes lt/eq/gt plain ${seen.vercmp.join('/')}, EVR ${seen.ver.join('/')}; 0 mismatches`,
  );
});
