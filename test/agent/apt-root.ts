// Builds an isolated dpkg/apt root for install tests: its own dpkg database (dpkg --root, maintainer scripts
// run chroot-less with DPKG_ROOT), its own apt configuration, lists and cache (apt -o Dir=ROOT/), and a local
// flat repository made with dpkg-deb + dpkg-scanpackages whose Release file names a -security suite. The
// machine's own packages are never touched: every dpkg/apt call of the agent carries the root's options.

import { cpSync, mkdirSync, mkdtempSync, writeFileSync, chmodSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface DebSpec {
  name: string;
  version: string;
  depends?: string;
  preinst?: string;
  postinst?: string;
  priority?: string;
  section?: string;
}

export const hasDebTools = (() => {
  try {
    execFileSync('dpkg-deb', ['--version'], { stdio: 'ignore' });
    execFileSync('dpkg-scanpackages', ['--help'], { stdio: 'ignore' });
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function buildDeb(dir: string, spec: DebSpec): string {
  const tree = join(dir, `${spec.name}-${spec.version}`);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  mkdirSync(join(tree, 'usr/share', spec.name), { recursive: true });
  writeFileSync(join(tree, 'usr/share', spec.name, 'version'), `${spec.version}\n`);
  const control = [
    `Package: ${spec.name}`, `Version: ${spec.version}`, 'Architecture: all', 'Maintainer: Patchline tests <tests@patchline.invalid>',
    `Priority: ${spec.priority ?? 'optional'}`, `Section: ${spec.section ?? 'utils'}`, ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
    `Description: Patchline agent test package ${spec.name}`,
  ].join('\n');
  writeFileSync(join(tree, 'DEBIAN/control'), `${control}\n`);
  for (const script of ['preinst', 'postinst'] as const) {
    const body = spec[script];
    if (body) {
      writeFileSync(join(tree, 'DEBIAN', script), `#!/bin/sh\nset -e\n${body}\n`);
      chmodSync(join(tree, 'DEBIAN', script), 0o755);
    }
  }
  const deb = join(dir, `${spec.name}_${spec.version}_all.deb`);
  execFileSync('dpkg-deb', ['-Zgzip', '--root-owner-group', '--build', tree, deb], { stdio: 'ignore' });
  return deb;
}

/** Creates the root with `installed` packages installed and `repository` packages in its -security repository. */
export function buildAptRoot(installed: DebSpec[], repository: DebSpec[], suite = 'bookworm-security'): string {
  const root = mkdtempSync(join(tmpdir(), 'patchline-aptroot-'));
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial',
    'etc/apt/apt.conf.d', 'etc/apt/sources.list.d', 'etc/apt/preferences.d', 'var/log/apt', 'run', 'repo', 'build']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  cpSync('/etc/os-release', join(root, 'etc/os-release'));
  try { cpSync('/etc/debian_version', join(root, 'etc/debian_version')); } catch { /* optional */ }
  const build = join(root, 'build');
  const base = installed.map((s) => buildDeb(build, s));
  if (base.length > 0) {
    execFileSync('dpkg', [`--root=${root}`, '--force-script-chrootless', `--log=${join(root, 'var/log/dpkg.log')}`, '-i', ...base], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
  }
  const repo = join(root, 'repo');
  for (const s of repository) {
    const deb = buildDeb(build, s);
    cpSync(deb, join(repo, deb.slice(build.length + 1)));
  }
  const packages = execFileSync('dpkg-scanpackages', ['-m', '.', '/dev/null'], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] });
  writeFileSync(join(repo, 'Packages'), packages);
  const sha = createHash('sha256').update(packages).digest('hex');
  writeFileSync(join(repo, 'Release'), [
    'Origin: Patchline Tests', 'Label: Patchline-Tests-Security', `Suite: ${suite}`, `Codename: ${suite}`,
    `Date: ${new Date().toUTCString()}`, 'Architectures: all amd64 arm64', 'SHA256:', ` ${sha} ${statSync(join(repo, 'Packages')).size} Packages`, '',
  ].join('\n'));
  writeFileSync(join(root, 'etc/apt/sources.list'), `deb [trusted=yes] file:${repo} ./\n`);
  execFileSync('apt-get', ['-o', `Dir=${root}/`, '-o', 'APT::Sandbox::User=root', '-q', 'update'], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
  return root;
}

/** Installed name → version in the root, read straight from its dpkg status file. */
export function rootVersions(root: string): Map<string, { version: string; status: string }> {
  const out = new Map<string, { version: string; status: string }>();
  for (const stanza of readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8').split('\n\n')) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    const status = /^Status: (.+)$/m.exec(stanza)?.[1];
    if (name && version && status) out.set(name, { version, status });
  }
  return out;
}
