// SUSE (SLES, openSUSE Leap) with zypper:
//   installed   rpm -qa --queryformat (as the RPM family)
//   candidates  zypper --xmlout list-updates: the package updates zypper would install
//   patches     zypper --xmlout list-patches --all: each patch's category → Classification, severity, CVE and
//               Bugzilla ids, issue date → ReleaseTime
//   patch →     the repositories' updateinfo.xml that zypper keeps in /var/cache/zypp/raw/<repo>/repodata
//   packages    (list-patches does not name a patch's packages); a patch's package versions of installed
//               packages are candidates too
//   reboot      /run/reboot-needed (zypper's own flag file), else a newer installed kernel than the running one

import { gunzipSync } from 'node:zlib';
import type { Host } from '../host.ts';
import { AgentError } from '../errors.ts';
import { kernelRebootPending } from './reboot.ts';
import { RPM_QUERY_FORMAT, evr, parseRpmQa } from './rpm.ts';
import {
  isRejected, type InstallItem, type InstallOutcome, type InstallRequest, type InstalledPackage, type ScanOptions, type ScanResult,
  type Scanner, type UpdatePackage,
} from './types.ts';

const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Attributes of one XML start tag. */
export function xmlAttributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]!] = decode(m[3] ?? m[4] ?? '');
  return out;
}

/** Each `<name …>…</name>` (or `<name …/>`) element: its attributes and inner text. */
export function xmlElements(xml: string, name: string): Array<{ attrs: Record<string, string>; inner: string }> {
  const out: Array<{ attrs: Record<string, string>; inner: string }> = [];
  const re = new RegExp(`<${name}(\\s[^>]*?)?(/>|>([\\s\\S]*?)</${name}>)`, 'g');
  for (const m of xml.matchAll(re)) out.push({ attrs: xmlAttributes(m[1] ?? ''), inner: m[3] ?? '' });
  return out;
}

export function parseZypperUpdates(xml: string): Array<{ name: string; arch: string; version: string; repo?: string }> {
  return xmlElements(xml, 'update').filter((u) => u.attrs.kind === 'package').map((u) => {
    const repo = xmlElements(u.inner, 'source')[0]?.attrs.alias;
    return { name: u.attrs.name!, arch: u.attrs.arch!, version: u.attrs.edition!, ...(repo ? { repo } : {}) };
  });
}

export interface ZypperPatch {
  name: string;
  status: string;
  category: string;
  severity: string;
  issued?: number;
  cves: string[];
  bugzillas: string[];
}

export function parseZypperPatches(xml: string): Map<string, ZypperPatch> {
  const out = new Map<string, ZypperPatch>();
  for (const u of xmlElements(xml, 'update')) {
    if (u.attrs.kind !== 'patch') continue;
    const issues = xmlElements(u.inner, 'issue');
    const date = xmlElements(u.inner, 'issue-date')[0]?.attrs.time_t;
    out.set(u.attrs.name!, {
      name: u.attrs.name!, status: u.attrs.status ?? '', category: u.attrs.category ?? '', severity: u.attrs.severity ?? '',
      ...(date ? { issued: Number(date) } : {}),
      cves: issues.filter((i) => i.attrs.type === 'cve').map((i) => i.attrs.id!),
      bugzillas: issues.filter((i) => i.attrs.type === 'bugzilla').map((i) => i.attrs.id!),
    });
  }
  return out;
}

/** updateinfo.xml: patch id → its packages. */
export function parseUpdateinfoXml(xml: string): Map<string, Array<{ name: string; arch: string; version: string }>> {
  const out = new Map<string, Array<{ name: string; arch: string; version: string }>>();
  for (const u of xmlElements(xml, 'update')) {
    const id = /<id>([^<]+)<\/id>/.exec(u.inner)?.[1]?.trim();
    if (!id) continue;
    const pkgs = xmlElements(u.inner, 'package').map((p) => ({ name: p.attrs.name!, arch: p.attrs.arch!, version: evr(p.attrs.epoch, p.attrs.version!, p.attrs.release!) }));
    out.set(id, [...(out.get(id) ?? []), ...pkgs]);
  }
  return out;
}

const CATEGORY: Record<string, string> = { security: 'Security', recommended: 'Recommended', optional: 'Optional', feature: 'Feature', document: 'Document', yast: 'Yast', bugfix: 'Recommended' };
const capitalize = (s: string) => (s === '' ? s : s[0]!.toUpperCase() + s.slice(1).toLowerCase());

export function zypperUpdates(
  installed: InstalledPackage[],
  updates: ReturnType<typeof parseZypperUpdates>,
  patches: Map<string, ZypperPatch>,
  patchPackages: Map<string, Array<{ name: string; arch: string; version: string }>>,
): UpdatePackage[] {
  const inst = new Map(installed.map((p) => [`${p.Name}.${p.Architecture}`, p]));
  const byKey = new Map<string, UpdatePackage>();
  for (const u of updates) {
    if (!inst.has(`${u.name}.${u.arch}`)) continue;
    byKey.set(`${u.name}.${u.arch}\u0000${u.version}`, { Name: u.name, Version: u.version, Architecture: u.arch, Security: false, ...(u.repo ? { Repository: u.repo } : {}) });
  }
  for (const [id, patch] of patches) {
    if (patch.status !== 'needed') continue;
    for (const p of patchPackages.get(id) ?? []) {
      const cur = inst.get(`${p.name}.${p.arch}`);
      if (!cur || cur.Version === p.version) continue;
      const k = `${p.name}.${p.arch}\u0000${p.version}`;
      let u = byKey.get(k);
      if (!u) byKey.set(k, (u = { Name: p.name, Version: p.version, Architecture: p.arch, Security: false }));
      u.AdvisoryIds = [...(u.AdvisoryIds ?? []), id];
      if (patch.category === 'security') u.Security = true;
      if (u.Classification === undefined || patch.category === 'security') u.Classification = CATEGORY[patch.category] ?? capitalize(patch.category);
      if (patch.severity && patch.severity !== 'none' && patch.severity !== 'unspecified') u.Severity = capitalize(patch.severity);
      if (patch.issued !== undefined) u.ReleaseTime = Math.max(u.ReleaseTime ?? 0, patch.issued);
      if (patch.cves.length) u.CVEIds = [...new Set([...(u.CVEIds ?? []), ...patch.cves])].sort();
      if (patch.bugzillas.length) u.BugzillaIds = [...new Set([...(u.BugzillaIds ?? []), ...patch.bugzillas])].sort();
    }
  }
  return [...byKey.values()];
}

export class ZypperScanner implements Scanner {
  readonly manager = 'zypper';
  readonly #host: Host;
  constructor(host: Host) {
    this.#host = host;
  }

  #root(): string[] {
    return this.#host.root === '/' ? [] : ['--root', this.#host.root];
  }

  async installedPackages(): Promise<InstalledPackage[]> {
    const r = await this.#host.run('rpm', [...this.#root(), '-qa', '--queryformat', RPM_QUERY_FORMAT]);
    if (r.code !== 0) throw new AgentError(`Listing installed packages (rpm -qa) failed: ${r.stderr.trim()}`);
    return parseRpmQa(r.stdout);
  }

  /** The updateinfo.xml files zypper cached for its repositories. */
  #cachedUpdateinfo(): string {
    const raw = '/var/cache/zypp/raw';
    let xml = '';
    for (const repo of this.#host.listDir(raw)) {
      for (const f of this.#host.listDir(`${raw}/${repo}/repodata`)) {
        if (!/updateinfo\.xml(\.gz)?$/.test(f)) continue;
        const buf = this.#host.readBinary(`${raw}/${repo}/repodata/${f}`);
        if (!buf) continue;
        try {
          xml += f.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
        } catch { /* not gzip after all: skip */ }
      }
    }
    return xml;
  }

  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const notes: string[] = [];
    const z = [...this.#root(), '--non-interactive', ...(options.refresh ? [] : ['--no-refresh'])];
    const installed = await this.installedPackages();
    const upd = await this.#host.run('zypper', [...z, '--xmlout', 'list-updates']);
    if (upd.code !== 0) throw new AgentError(`zypper list-updates failed (exit ${upd.code}): ${upd.stderr.trim().split('\n').pop()}`);
    const pat = await this.#host.run('zypper', [...z, '--xmlout', 'list-patches', '--all']);
    if (pat.code !== 0 && pat.code !== 100 && pat.code !== 101) notes.push(`zypper list-patches failed (exit ${pat.code}): candidates carry no patch data.`);
    const updateinfo = this.#cachedUpdateinfo();
    if (updateinfo === '') notes.push('no cached updateinfo.xml: patches cannot be tied to packages.');
    const updates = zypperUpdates(installed, parseZypperUpdates(upd.stdout), parseZypperPatches(pat.stdout), parseUpdateinfoXml(updateinfo));
    return { installed, updates, rebootPending: await this.rebootPending(installed), notes };
  }

  async rebootPending(installed?: InstalledPackage[]): Promise<boolean> {
    if (this.#host.exists('/run/reboot-needed') || this.#host.exists('/var/run/reboot-needed')) return true;
    if (this.#host.root !== '/') return false;
    const kernels = (installed ?? (await this.installedPackages())).filter((p) => p.Name.startsWith('kernel-default'))
      .map((p) => `${p.Version.replace(/^\d+:/, '')}-default`);
    return kernelRebootPending(this.#host, kernels);
  }

  async install(request: InstallRequest): Promise<InstallOutcome> {
    const outcome: InstallOutcome = { installed: [], failed: [], blockedBy: {}, alreadyCurrent: [], log: '' };
    const spec = (i: InstallItem) => `${i.Name}.${i.Architecture}=${i.Version}`;
    const todo: InstallItem[] = [];
    for (const i of request.items) {
      if (isRejected(request.rejected, i.Name, i.Architecture)) outcome.failed.push({ ...i, reason: 'on the baseline\'s rejected list' });
      else todo.push(i);
    }
    const run = async (items: InstallItem[], dryRun: boolean) => {
      const args = [...this.#root(), '--non-interactive', 'install', '--no-recommends', ...(dryRun ? ['--dry-run'] : []), ...items.map(spec)];
      const r = await this.#host.run('zypper', args, { timeoutMs: 60 * 60_000 });
      if (!dryRun) outcome.log += r.stdout + r.stderr;
      return r;
    };
    const keep: InstallItem[] = [];
    for (const item of todo) {
      if (!request.block) { keep.push(item); continue; }
      // BLOCK: zypper's own plan for this item must not touch a rejected package.
      const plan = await run([item], true);
      const touched = [...plan.stdout.matchAll(/^ {2}(\S.*)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter((n) => n !== item.Name);
      const pulled = touched.filter((n) => isRejected(request.rejected, n, ''));
      if (pulled.length > 0) {
        outcome.blockedBy[item.Name] = pulled;
        outcome.failed.push({ ...item, reason: `would install or upgrade rejected package(s) ${pulled.join(', ')} (RejectedPatchesAction BLOCK)` });
      } else keep.push(item);
    }
    if (keep.length > 0 && (await run(keep, false)).code !== 0) for (const item of keep) await run([item], false);
    const now = new Set((await this.installedPackages()).map((p) => `${p.Name}.${p.Architecture}\u0000${p.Version}`));
    for (const item of keep) {
      if (now.has(`${item.Name}.${item.Architecture}\u0000${item.Version}`)) outcome.installed.push(item);
      else outcome.failed.push({ ...item, reason: `zypper did not install ${spec(item)}` });
    }
    return outcome;
  }
}
