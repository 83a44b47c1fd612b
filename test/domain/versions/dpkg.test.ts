// Tests for Debian version parsing and ordering: the shared fixture vectors, dpkg's validity rules checked
// against the real dpkg, and thousands of generated pairs checked against `dpkg --compare-versions`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { compareDpkgVersions, DpkgVersionError, parseDpkgVersion } from '../../../src/domain/versions/dpkg.ts';
import type { DpkgRelation } from './support.ts';
import { dpkgCompare, dpkgExitCodes, mismatches, NO_FIXTURES, readVectors, report, Rng, toolMissing, versionFixturesDir } from './support.ts';

const dpkgMissing = toolMissing('dpkg');

test('dpkg fixture vectors (TSV files and the Dpkg_Version.t DATA) hold in both directions', (t) => {
  const dir = versionFixturesDir;
  if (dir === undefined) return t.skip(NO_FIXTURES);
  const files: [string, string][] = [
    ['dpkg-upstream.tsv', '\t'],
    ['dpkg-generated.tsv', '\t'],
    ['dpkg-host-upgrades.tsv', '\t'],
    ['dpkg-Dpkg_Version.t.DATA.txt', ' '],
  ];
  let total = 0;
  for (const [name, separator] of files) {
    const vectors = readVectors(dir, name, separator);
    assert.ok(vectors.length > 0, `${name} has no rows`);
    const failures = mismatches(vectors, compareDpkgVersions);
    assert.deepEqual(failures, [], report(failures, vectors.length));
    total += vectors.length;
  }
  t.diagnostic(`dpkg fixture vectors: ${total} rows, ${2 * total} comparisons, 0 mismatches`);
});

test('parseDpkgVersion splits epoch, upstream and revision like dpkg', () => {
  const ok = (s: string, strict = true) => {
    const r = parseDpkgVersion(s, { strict });
    assert.ok(r.ok, `${JSON.stringify(s)} should parse: ${r.ok ? '' : r.message}`);
    return r.version;
  };
  assert.deepEqual(ok('1.0'), { epoch: 0, upstream: '1.0', revision: '' });
  assert.deepEqual(ok('2:1.2.3-4ubuntu1'), { epoch: 2, upstream: '1.2.3', revision: '4ubuntu1' });
  // The revision starts after the LAST hyphen; the epoch ends at the FIRST colon.
  assert.deepEqual(ok('1:2.0-rc1-3'), { epoch: 1, upstream: '2.0-rc1', revision: '3' });
  assert.deepEqual(ok('1:2:3-4'), { epoch: 1, upstream: '2:3', revision: '4' });
  assert.deepEqual(ok('007:1'), { epoch: 7, upstream: '1', revision: '' });
  assert.deepEqual(ok('2147483647:1'), { epoch: 2147483647, upstream: '1', revision: '' });
  // Lax mode trims blanks and accepts what dpkg only warns about.
  assert.deepEqual(ok(' 1.0-1 ', false), { epoch: 0, upstream: '1.0', revision: '1' });
  assert.deepEqual(ok('a1_b-c_d', false), { epoch: 0, upstream: 'a1_b', revision: 'c_d' });
});

test('parseDpkgVersion names the problem with a message', () => {
  const cases: [string, string, boolean][] = [
    ['', 'empty', false],
    ['  ', 'empty', false],
    ['1\0', 'nul-character', false],
    ['1 0', 'embedded-space', false],
    [':1', 'epoch-empty', false],
    ['x:1', 'epoch-not-number', false],
    ['+1:1', 'epoch-not-number', false],
    ['-1:1', 'epoch-negative', false],
    ['2147483648:1', 'epoch-too-big', false],
    ['99999999999999999999:1', 'epoch-too-big', false],
    ['1:', 'nothing-after-colon', false],
    ['1.0-', 'revision-empty', false],
    ['-1', 'upstream-empty', false],
    ['1:-1', 'upstream-empty', false],
    [' 1.0', 'surrounding-space', true],
    ['v1.0', 'upstream-not-digit-start', true],
    ['1_0', 'upstream-invalid-character', true],
    ['1.0-1_0', 'revision-invalid-character', true],
    ['1:1.0-1:1', 'revision-invalid-character', true],
  ];
  for (const [s, problem, strictOnly] of cases) {
    const strict = parseDpkgVersion(s, { strict: true });
    assert.ok(!strict.ok, `${JSON.stringify(s)} should fail strict parsing`);
    assert.equal(strict.problem, problem, JSON.stringify(s));
    assert.ok(strict.message.length > 0);
    assert.equal(parseDpkgVersion(s, { strict: false }).ok, strictOnly, `lax parsing of ${JSON.stringify(s)}`);
  }
  assert.equal(parseDpkgVersion('v1').ok, false, 'strict is the default');
});

test('compareDpkgVersions throws DpkgVersionError only for versions dpkg refuses', () => {
  assert.throws(() => compareDpkgVersions('1.0-', '1.0'), (e: unknown) => e instanceof DpkgVersionError && e.problem === 'revision-empty');
  assert.throws(() => compareDpkgVersions('1.0', ''), DpkgVersionError);
  // Only a warning for dpkg: still compared.
  assert.equal(compareDpkgVersions('a', 'b'), -1);
  // Parsed versions can be passed directly.
  const parsed = parseDpkgVersion('1:1.0-1');
  assert.ok(parsed.ok);
  assert.equal(compareDpkgVersions(parsed.version, '1.0-1'), 1);
});

/** What dpkg says about one version string: refused (exit 2), warned about, or fine. */
function dpkgVerdict(s: string): 'error' | 'warning' | 'ok' {
  const run = spawnSync('dpkg', ['--compare-versions', '--', s, 'eq', s], { encoding: 'utf8' });
  if (run.status === 2) return 'error';
  if (run.status !== 0) throw new Error(`dpkg exited ${run.status} for ${JSON.stringify(s)}: ${run.stderr}`);
  return run.stderr.includes('warning') ? 'warning' : 'ok';
}

/**
 * Where we deliberately differ from dpkg's parser: dpkg reads the epoch with strtol, so it also takes a
 * sign ('+1:', '-0:'); an empty string is dpkg's "no version" when comparing; strict mode also refuses the
 * leading/trailing blanks dpkg silently trims.
 */
function knownDeviation(s: string): { lax?: boolean; strict?: boolean } | undefined {
  if (s === '') return { lax: false, strict: false };
  if (/^\s*[+-]\d+:/.test(s)) return { lax: false, strict: false };
  const trimmed = s.replace(/^[ \t]+|[ \t]+$/g, '');
  if (trimmed !== s && trimmed !== '' && !/[ \t]/.test(trimmed)) return { strict: false };
  return undefined;
}

const HANDWRITTEN_VALIDITY = [
  '', ' ', '1 0', ' 1.0', '1.0 ', ':1.0', 'a:1.0', '-1:1.0', '+1:1', '-0:1', '9999999999:1.0', '2147483647:1',
  '2147483648:1', '2:', '1.0-', '-1', '2:-1', 'a', 'a1.0', '1_0', '1.0-1_0', '1:2:3', '1:2:3-4', '1.0-1:2',
  '1.0-1-2', '00:1', '1:a', '1.0-a', '1.0--1', 'é', '1.0é', '1.0-é', '1.0~', '1.0-~', '1.0-+', '1:-', '1\t0',
  '1:1:', '-', '1.0\r', '1;0', 'A1', '1.0-1.', '1:1.0-1:1', '0x1:1', '1.0+~-0.~+', '1!', '1/2', '1@2', '~1',
];

test('validity rules agree with dpkg itself (error / warning / fine)', { skip: dpkgMissing }, (t) => {
  const rng = new Rng(0x5eed0001);
  // Valid versions with one character inserted somewhere: a mix of errors, warnings and still-valid ones.
  const inserted: string[] = [];
  const extra = [' ', ':', '-', '_', 'é', '!', '~', '+', '.', 'A', '0', '/', '%', '\u00a0'];
  for (let k = 0; k < 200; k++) {
    const base = generateVersion(rng);
    const at = rng.int(base.length + 1);
    inserted.push(base.slice(0, at) + rng.pick(extra) + base.slice(at));
  }
  const failures: string[] = [];
  const counts = { error: 0, warning: 0, ok: 0 };
  for (const s of [...HANDWRITTEN_VALIDITY, ...inserted]) {
    const verdict = dpkgVerdict(s);
    counts[verdict]++;
    const deviation = knownDeviation(s) ?? {};
    const expectLax = deviation.lax ?? verdict !== 'error';
    const expectStrict = deviation.strict ?? verdict === 'ok';
    const lax = parseDpkgVersion(s, { strict: false });
    const strict = parseDpkgVersion(s, { strict: true });
    if (lax.ok !== expectLax || strict.ok !== expectStrict) {
      failures.push(`${JSON.stringify(s)}: dpkg says ${verdict}; lax ${lax.ok ? 'ok' : lax.problem}, strict ${strict.ok ? 'ok' : strict.problem}`);
    }
  }
  const total = HANDWRITTEN_VALIDITY.length + inserted.length;
  assert.deepEqual(failures, [], report(failures, total));
  t.diagnostic(`dpkg validity: ${total} strings (dpkg: ${counts.error} errors, ${counts.warning} warnings, ${counts.ok} fine), 0 disagreements`);
});

// ---------------------------------------------------------------------------------------------------------
// Generated versions

const WORDS = ['dfsg', 'rc', 'beta', 'alpha', 'git', 'svn', 'b', 'deb', 'u', 'bpo', 'ubuntu', 'build', 'really', 'ds',
  'nmu', 'p', 'a', 'z', 'A', 'Z', 'GA', 'pre', 'post', 'el', 'debian', 'gpl', 'ZZ', 'aa'];

function digitRun(rng: Rng): string {
  const r = rng.int(100);
  if (r < 6) return '0' + rng.digits(1, 3); // leading zeros
  if (r < 10) return rng.digits(18, 40); // beyond 2^64
  if (r < 20) return '0';
  return rng.digits(1, 3);
}

function chunk(rng: Rng): string {
  const r = rng.int(10);
  if (r < 5) return digitRun(rng);
  if (r < 8) return rng.pick(WORDS);
  return rng.pick(WORDS) + digitRun(rng);
}

function part(rng: Rng, separators: readonly string[], maxParts: number): string {
  let s = '';
  const n = rng.int(maxParts + 1);
  for (let k = 0; k < n; k++) s += rng.pick(separators) + chunk(rng);
  if (rng.chance(0.12)) s += rng.pick(['~', '~~', '+', '.', '~rc1', '+b1']);
  return s;
}

/** A dpkg version that dpkg accepts; about one in twelve only with a warning (letters first, odd characters). */
function generateVersion(rng: Rng): string {
  const epoch = rng.chance(0.25) ? rng.pick(['0', '1', '2', '10', '00', '01', '2147483647']) + ':' : '';
  const hasRevision = rng.chance(0.6);
  const separators = ['.', '.', '.', '+', '~', ''];
  const upstreamSeparators = [...separators, ...(epoch !== '' ? [':'] : []), ...(hasRevision ? ['-'] : [])];
  let upstream = digitRun(rng) + part(rng, upstreamSeparators, 5);
  let revision = hasRevision ? chunk(rng) + part(rng, separators, 3) : '';
  if (rng.chance(0.08)) {
    // dpkg only warns about these.
    if (rng.chance(0.5)) upstream = rng.pick(WORDS) + upstream;
    else if (hasRevision && rng.chance(0.5)) revision += rng.pick(['_1', 'é', '/x']);
    else upstream += rng.pick(['_1', 'é', '@2', '=']);
  }
  return epoch + upstream + (hasRevision ? `-${revision}` : '');
}

/** Endings that exercise each weight class: ~, end, digits, letters, bytes >= 0x80, ASCII punctuation. */
const TAILS = ['', '~', '~~', '~a', '0', '00', '1', '9', 'a', 'A', 'z', 'Z', 'é', 'ß', '€', '.', '+', ':', '_', '/', '-0', '-1', '.0', 'a1', '+b1'];

/** A small edit of `s`, to produce near-equal pairs. */
function mutate(rng: Rng, s: string): string {
  switch (rng.int(11)) {
    case 0: {
      const digits = [...s.matchAll(/\d/g)].map((m) => m.index);
      if (digits.length === 0) return s + '1';
      const at = rng.pick(digits);
      const d = Number(s[at]);
      return s.slice(0, at) + String(rng.chance(0.5) ? (d + 1) % 10 : (d + 9) % 10) + s.slice(at + 1);
    }
    case 1:
      return s + rng.pick(['~', '~~', '~rc1', '+b1', '.0', '+', '.', 'a', 'A', '0']);
    case 2: {
      const runs = [...s.matchAll(/\d+/g)].map((m) => m.index);
      const at = runs.length > 0 ? rng.pick(runs) : 0;
      return s.slice(0, at) + '0' + s.slice(at);
    }
    case 3:
      return s.includes(':') ? s.replace(/^\d+:/, rng.pick(['', '0:', '00:', '1:'])) : rng.pick(['0:', '1:']) + s;
    case 4:
      return s.replace(/[a-z]/i, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
    case 5:
      return s.length > 1 ? s.slice(0, -1) : s;
    case 6:
      return s.replace(/[.+~]/, () => rng.pick(['.', '+', '~', '', '..', '~~']));
    case 7:
      return s.includes('-') ? s.slice(0, s.lastIndexOf('-')) : s + rng.pick(['-0', '-1', '-00']);
    case 8: {
      const at = rng.int(s.length);
      return s.slice(0, at + 1) + s.slice(at);
    }
    case 9:
      return s.replace(/(\d+)$/, (run) => run + '0');
    default:
      return s.replace(/\d+/, (run) => rng.digits(run.length, run.length));
  }
}

test('generated versions: the order dpkg --compare-versions gives matches compareDpkgVersions', { skip: dpkgMissing }, async (t) => {
  const rng = new Rng(0xd9c6_2026);
  const accepted = (s: string) => parseDpkgVersion(s, { strict: false }).ok;

  // 1) A chain: sort 2000 distinct versions with our comparator and ask dpkg about every neighbour pair.
  //    dpkg's order is a total preorder, so agreement on every neighbour means agreement on all pairs.
  const pool = new Set<string>();
  while (pool.size < 2000) pool.add(generateVersion(rng));
  for (const s of pool) assert.ok(accepted(s), `generator produced a version dpkg would refuse: ${JSON.stringify(s)}`);
  const sorted = [...pool].sort(compareDpkgVersions);
  const chain: [string, DpkgRelation, string][] = [];
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1] ?? '';
    const b = sorted[k] ?? '';
    chain.push([a, compareDpkgVersions(a, b) === 0 ? 'eq' : 'lt', b]);
  }

  // 2) Near pairs, asking dpkg the relation we predict: a version against a small edit of itself, and
  //    one version with two different tails (every class of character dpkg weighs differently).
  const near: [string, DpkgRelation, string][] = [];
  const poolList = [...pool];
  while (near.length < 1000) {
    let a = rng.pick(poolList);
    let b: string;
    if (near.length % 10 < 7) {
      b = mutate(rng, a);
    } else {
      const base = a;
      a = base + rng.pick(TAILS);
      b = base + rng.pick(TAILS);
    }
    if (!accepted(a) || !accepted(b)) continue;
    const r = compareDpkgVersions(a, b);
    near.push([a, r < 0 ? 'lt' : r === 0 ? 'eq' : 'gt', b]);
  }

  const queries = [...chain, ...near];
  const codes = await dpkgExitCodes(queries);
  const failures: string[] = [];
  for (let k = 0; k < queries.length; k++) {
    if (codes[k] === 0) continue;
    const [a, op, b] = queries[k] ?? ['', 'eq', ''];
    const ours = compareDpkgVersions(a, b);
    failures.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ours ${ours} (${op}), dpkg ${await dpkgCompare(a, b)}`);
  }
  assert.deepEqual(failures, [], report(failures, queries.length));

  // 3) With the chain confirmed by dpkg, any two positions i < j are ordered (lt, or eq inside a run of
  //    eq neighbours). Check our comparator on random far-apart pairs, both ways round.
  const block: number[] = [0];
  for (let k = 1; k < sorted.length; k++) block.push((block[k - 1] ?? 0) + (chain[k - 1]?.[1] === 'eq' ? 0 : 1));
  const farFailures: string[] = [];
  const farPairs = 20000;
  for (let n = 0; n < farPairs; n++) {
    const i = rng.int(sorted.length);
    const j = rng.int(sorted.length);
    const expected = Math.sign((block[i] ?? 0) - (block[j] ?? 0));
    const a = sorted[i] ?? '';
    const b = sorted[j] ?? '';
    if (compareDpkgVersions(a, b) !== expected || compareDpkgVersions(b, a) !== -expected) {
      farFailures.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: expected ${expected} from dpkg's chain`);
    }
  }
  assert.deepEqual(farFailures, [], report(farFailures, farPairs));
  const equalNeighbours = chain.filter((q) => q[1] === 'eq').length;
  t.diagnostic(
    `dpkg generated: ${pool.size} versions, ${chain.length} neighbour pairs (${equalNeighbours} equal) + ${near.length} near pairs ` +
      `asked of dpkg, ${farPairs} far pairs implied by the chain; 0 mismatches`,
  );
});
