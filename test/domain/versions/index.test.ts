// Tests for the scheme-dispatching entry points: compareVersions routes to the right algorithm,
// validateVersion explains what is wrong, and the real-world versions in ../shared/fixtures all validate.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { compareVersions, isVersionScheme, validateVersion, VERSION_SCHEMES } from '../../../src/domain/versions/index.ts';
import type { VersionScheme } from '../../../src/domain/versions/index.ts';
import { NO_FIXTURES, versionFixturesDir } from './support.ts';

test('compareVersions uses each scheme’s own rules', () => {
  // One pair, three answers: dpkg treats a missing revision as "0", rpm sorts a missing release first,
  // and for apk "-0" is not a revision at all (an invalid tail sorts below the end of a version).
  assert.equal(compareVersions('dpkg', '1.0', '1.0-0'), 0);
  assert.equal(compareVersions('rpm', '1.0', '1.0-0'), -1);
  assert.equal(compareVersions('apk', '1.0', '1.0-0'), 1);
  // Letters against a separator: dpkg puts letters before "+", rpm only sees segments.
  assert.equal(compareVersions('dpkg', '1.0a', '1.0+'), -1);
  assert.equal(compareVersions('rpm', '1.0a', '1.0+'), 1);
  assert.equal(compareVersions('apk', '1.0-r1', '1.0'), 1);
  assert.throws(() => compareVersions('dpkg', '1.0-', '1.0'), /revision after the last "-" is empty/);
});

test('isVersionScheme and VERSION_SCHEMES agree', () => {
  for (const scheme of VERSION_SCHEMES) assert.ok(isVersionScheme(scheme));
  assert.equal(isVersionScheme('deb'), false);
  assert.equal(isVersionScheme(''), false);
});

test('validateVersion accepts well-formed versions and explains malformed ones', () => {
  const valid: [VersionScheme, string][] = [
    ['dpkg', '1:2.36-9+deb12u10'],
    ['dpkg', '3.0.2-0ubuntu1.18'],
    ['rpm', '2:8.2.3512-1.amzn2022'],
    ['rpm', '0.3.0-4.module+el8.5.0+738+032c9c02'],
    ['rpm', '1.0'],
    ['apk', '10.6.8-r0'],
    ['apk', '0.1_pre2~1234abcd-r3'],
  ];
  for (const [scheme, s] of valid) assert.equal(validateVersion(scheme, s), undefined, `${scheme} ${s}`);

  const invalid: [VersionScheme, string, RegExp][] = [
    ['dpkg', '', /^not a valid Debian version: version string is empty$/],
    ['dpkg', 'v1.0', /does not start with a digit/],
    ['dpkg', '1.0_1', /may only contain/],
    ['dpkg', 'x:1.0', /epoch/],
    ['rpm', '', /^not a valid RPM version: version string is empty$/],
    ['rpm', '1.0-1-1', /may only contain/],
    ['rpm', '1:', /version is empty/],
    ['apk', '', /^not a valid Alpine version: version string is empty$/],
    ['apk', '1.0bc', /unexpected "c" at character 5/],
    ['apk', '1.0-1', /unexpected "-" at character 4/],
  ];
  for (const [scheme, s, message] of invalid) {
    const problem = validateVersion(scheme, s);
    assert.ok(problem !== undefined, `${scheme} ${JSON.stringify(s)} should be refused`);
    assert.match(problem, message);
  }
});

/** Every version string a record of this OSV ecosystem holds (range events and the versions list). */
function osvVersions(record: unknown): { ecosystem: string; versions: string[] }[] {
  const out: { ecosystem: string; versions: string[] }[] = [];
  const affected = (record as { affected?: unknown[] }).affected ?? [];
  for (const entry of affected) {
    const e = entry as { package?: { ecosystem?: string }; ranges?: { events?: Record<string, string>[] }[]; versions?: string[] };
    const versions = [...(e.versions ?? [])];
    for (const range of e.ranges ?? []) for (const event of range.events ?? []) versions.push(...Object.values(event));
    out.push({ ecosystem: e.package?.ecosystem ?? '', versions });
  }
  return out;
}

function schemeOf(ecosystem: string): VersionScheme | undefined {
  if (/^(Debian|Ubuntu)/.test(ecosystem)) return 'dpkg';
  if (/^(AlmaLinux|Rocky|Red Hat|Amazon)/.test(ecosystem)) return 'rpm';
  if (/^Alpine/.test(ecosystem)) return 'apk';
  return undefined;
}

test('every real-world version in the shared fixtures passes validateVersion', (t) => {
  const dir = versionFixturesDir;
  if (dir === undefined) return t.skip(NO_FIXTURES);
  const fixtures = join(dir, '..');
  const seen: Record<VersionScheme, Set<string>> = { dpkg: new Set(), rpm: new Set(), apk: new Set() };

  // A Debian 12 host: installed versions and the source versions in "src (version)".
  for (const line of readFileSync(join(fixtures, 'hosts', 'dpkg-query.tsv'), 'utf8').split('\n')) {
    const [, version, , source] = line.split('\t');
    if (version !== undefined && version !== '') seen.dpkg.add(version);
    const sourceVersion = /\((.+)\)/.exec(source ?? '')?.[1];
    if (sourceVersion !== undefined) seen.dpkg.add(sourceVersion);
  }
  // Amazon Linux updateinfo: epoch, version and release attributes of each <package>.
  for (const m of readFileSync(join(fixtures, 'updateinfo', 'amazon-linux-2.updateinfo.xml'), 'utf8').matchAll(/<package [^>]*>/g)) {
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[0])?.[1] ?? '';
    seen.rpm.add(`${attr('epoch')}:${attr('version')}-${attr('release')}`);
  }
  // OSV advisories of each ecosystem.
  for (const name of readdirSync(join(fixtures, 'osv')).filter((f) => f.endsWith('.json'))) {
    for (const { ecosystem, versions } of osvVersions(JSON.parse(readFileSync(join(fixtures, 'osv', name), 'utf8')))) {
      const scheme = schemeOf(ecosystem);
      assert.ok(scheme !== undefined, `${name}: unexpected ecosystem ${ecosystem}`);
      for (const v of versions) seen[scheme].add(v);
    }
  }
  // Versions taken from real hosts and distributions in the comparison fixtures.
  for (const line of readFileSync(join(dir, 'dpkg-host-upgrades.tsv'), 'utf8').split('\n')) {
    for (const v of line.split('\t').slice(0, 2)) if (v !== '') seen.dpkg.add(v);
  }
  for (const line of readFileSync(join(dir, 'rpm-evr-generated.tsv'), 'utf8').split('\n')) {
    for (const v of line.split('\t').slice(0, 2)) if (v !== '') seen.rpm.add(v);
  }

  const failures: string[] = [];
  for (const scheme of VERSION_SCHEMES) {
    assert.ok(seen[scheme].size >= 3, `too few ${scheme} versions found: the fixture layout changed?`);
    for (const v of seen[scheme]) {
      const problem = validateVersion(scheme, v);
      if (problem !== undefined) failures.push(`${scheme} ${JSON.stringify(v)}: ${problem}`);
    }
  }
  assert.deepEqual(failures, []);
  t.diagnostic(`real-world versions validated: dpkg ${seen.dpkg.size}, rpm ${seen.rpm.size}, apk ${seen.apk.size}; 0 refused`);
});
