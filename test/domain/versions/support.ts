// Shared helpers for the version-comparison tests: locating the shared fixtures, a small seeded PRNG for
// deterministic generated versions, and batch runners that ask the real dpkg and rpm tools.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** ../shared/fixtures/versions relative to the repository root, or undefined in a clone without it. */
export const versionFixturesDir: string | undefined = (() => {
  const dir = join(repoRoot, '..', 'shared', 'fixtures', 'versions');
  return existsSync(dir) ? dir : undefined;
})();

export const NO_FIXTURES = 'fixtures not found: ../shared/fixtures/versions (relative to the repository root) is absent';

export interface Vector {
  readonly a: string;
  readonly b: string;
  readonly expected: -1 | 0 | 1;
  /** file:line, for failure messages. */
  readonly where: string;
}

function toExpected(text: string, where: string): -1 | 0 | 1 {
  if (text === '-1' || text === '0' || text === '1') return Number(text) as -1 | 0 | 1;
  throw new Error(`${where}: bad expectation ${JSON.stringify(text)}`);
}

export function readFixture(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

/** Rows of a fixture file split by `separator` into a, b, expected. */
export function readVectors(dir: string, name: string, separator = '\t'): Vector[] {
  const rows: Vector[] = [];
  readFixture(dir, name)
    .split('\n')
    .forEach((line, index) => {
      if (line === '') return;
      const where = `${name}:${index + 1}`;
      const cells = line.split(separator);
      if (cells.length !== 3) throw new Error(`${where}: expected 3 fields, got ${cells.length}`);
      const [a = '', b = '', expected = ''] = cells;
      rows.push({ a, b, expected: toExpected(expected, where), where });
    });
  return rows;
}

/**
 * Checks every vector in both directions: cmp(a, b) must be `expected` and cmp(b, a) its opposite.
 * Returns one line per failure (empty when all pass).
 */
export function mismatches(vectors: readonly Vector[], cmp: (a: string, b: string) => number): string[] {
  const out: string[] = [];
  for (const v of vectors) {
    const forward = describe(() => cmp(v.a, v.b));
    const backward = describe(() => cmp(v.b, v.a));
    if (forward !== v.expected || backward !== -v.expected) {
      out.push(`${v.where}: ${JSON.stringify(v.a)} vs ${JSON.stringify(v.b)}: expected ${v.expected}, got ${forward} (reversed: ${backward})`);
    }
  }
  return out;
}

function describe(f: () => number): number | string {
  try {
    return f();
  } catch (error) {
    return `threw ${(error as Error).message}`;
  }
}

/** Formats a failure list for an assertion message (first 25 lines). */
export function report(failures: readonly string[], total: number): string {
  const shown = failures.slice(0, 25).join('\n');
  const more = failures.length > 25 ? `\n… and ${failures.length - 25} more` : '';
  return `${failures.length} of ${total} failed:\n${shown}${more}`;
}

/** A small deterministic PRNG (a Weyl sequence scrambled by the murmur3 finaliser). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.nextUint32() / 0x100000000) * n);
  }

  chance(p: number): boolean {
    return this.nextUint32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  digits(min: number, max: number): string {
    let s = '';
    const n = min + this.int(max - min + 1);
    for (let k = 0; k < n; k++) s += String(this.int(10));
    return s;
  }
}

/** Why a command-line tool cannot be used, or undefined when `cmd --version` runs. */
export function toolMissing(cmd: string): string | undefined {
  const run = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  if (run.error !== undefined || run.status !== 0) return `${cmd} is not installed (\`${cmd} --version\` failed)`;
  return undefined;
}

function execFileText(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${file} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'patchline-versions-'));
  return work(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export type DpkgRelation = 'lt' | 'eq' | 'gt';

/** One line per query: the pair and the relation to ask (one dpkg process answers one query). */
const DPKG_LOOP = `tab=$(printf '\\t')
while IFS="$tab" read -r a op b; do
  dpkg --compare-versions -- "$a" "$op" "$b" 2>/dev/null
  echo "$?"
done < "$1"`;

/**
 * Asks `dpkg --compare-versions -- a op b` for every query and returns dpkg's exit codes in order
 * (0 = true, 1 = false, 2 = dpkg refused a version). The queries run in `workers` parallel sh loops.
 */
export function dpkgExitCodes(queries: readonly (readonly [string, DpkgRelation, string])[], workers = 4): Promise<number[]> {
  for (const [a, , b] of queries) {
    if (/[\t\n]/.test(a + b) || a === '' || b === '') throw new Error(`cannot pass ${JSON.stringify([a, b])} through the sh loop`);
  }
  return withTempDir(async (dir) => {
    const size = Math.ceil(queries.length / workers);
    const runs: Promise<string>[] = [];
    for (let w = 0; w * size < queries.length; w++) {
      const file = join(dir, `queries-${w}.tsv`);
      const chunk = queries.slice(w * size, (w + 1) * size);
      writeFileSync(file, chunk.map(([a, op, b]) => `${a}\t${op}\t${b}\n`).join(''));
      runs.push(execFileText('sh', ['-c', DPKG_LOOP, 'sh', file]));
    }
    const codes = (await Promise.all(runs)).flatMap((out) => out.split('\n').filter((l) => l !== '').map(Number));
    if (codes.length !== queries.length) throw new Error(`dpkg answered ${codes.length} of ${queries.length} queries`);
    return codes;
  });
}

/** dpkg's three-way answer for one pair (two or three processes; for diagnosing a mismatch). */
export async function dpkgCompare(a: string, b: string): Promise<-1 | 0 | 1 | 'error'> {
  const [lt, eq] = await dpkgExitCodes([[a, 'lt', b], [a, 'eq', b]], 1);
  if (lt === 2 || eq === 2) return 'error';
  return lt === 0 ? -1 : eq === 0 ? 0 : 1;
}

const RPM_LUA = `local function sign(x) if x < 0 then return -1 elseif x > 0 then return 1 end return 0 end
local out = {}
for line in io.lines(arg_file) do
  local a, b = line:match('^(.-)\\t(.*)$')
  local x, y = rpm.ver(a), rpm.ver(b)
  local evr = (x < y) and -1 or ((x == y) and 0 or 1)
  local back = (y < x) and -1 or ((y == x) and 0 or 1)
  out[#out + 1] = sign(rpm.vercmp(a, b)) .. ' ' .. sign(rpm.vercmp(b, a)) .. ' ' .. evr .. ' ' .. back
end
io.write(table.concat(out, '\\n'), '\\n')
`;

export interface RpmAnswer {
  /** rpm.vercmp(a, b) and rpm.vercmp(b, a). In rpm 4.18 this splits both strings as EVRs (like rpm.ver). */
  readonly vercmp: readonly [number, number];
  /** rpm.ver(a) against rpm.ver(b) (< and ==), and the reverse. */
  readonly ver: readonly [number, number];
}

/** Asks rpm (one process, one Lua block) for rpm.vercmp and rpm.ver on every pair, both ways round. */
export function rpmAnswers(pairs: readonly (readonly [string, string])[]): Promise<RpmAnswer[]> {
  for (const [a, b] of pairs) {
    if (/[\t\n]/.test(a + b) || a === '' || b === '') throw new Error(`cannot pass ${JSON.stringify([a, b])} to rpm`);
  }
  return withTempDir(async (dir) => {
    const data = join(dir, 'pairs.tsv');
    const script = join(dir, 'compare.lua');
    writeFileSync(data, pairs.map(([a, b]) => `${a}\t${b}\n`).join(''));
    writeFileSync(script, `local arg_file = ${JSON.stringify(data)}\n${RPM_LUA}`);
    const out = await execFileText('rpm', ['--eval', `%{lua: dofile(${JSON.stringify(script)})}`]);
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    if (lines.length !== pairs.length) throw new Error(`rpm answered ${lines.length} of ${pairs.length} pairs`);
    return lines.map((line) => {
      const [v1 = NaN, v2 = NaN, e1 = NaN, e2 = NaN] = line.trim().split(' ').map(Number);
      return { vercmp: [v1, v2], ver: [e1, e2] };
    });
  });
}
