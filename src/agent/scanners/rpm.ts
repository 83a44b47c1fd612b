// The RPM family with dnf or yum (Amazon Linux 1/2/2023, RHEL, CentOS, Oracle, Rocky, Alma, Fedora):
//   installed   rpm -qa --queryformat (name, epoch, version, release, arch, install time, source rpm)
//   candidates  `check-update` (the newest version of each upgradable package, and its repository) plus every
//               package version named by an applicable update notice (`updateinfo list --available`), so a
//               security fix older than the newest build is a candidate too, as `update-minimal` sees it
//   notices     `updateinfo info --available`: type → Classification, Severity, CVE and Bugzilla ids, the
//               updated (else issued) date → ReleaseTime
//   reboot      `needs-restarting -r` (exit 1: reboot needed), else a newer installed kernel than the running one
// Versions are rpm's EVR strings (`1:2.1-1`, epoch only when set).

import type { Host } from '../host.ts';
import type { Platform } from '../platform.ts';
import { AgentError } from '../errors.ts';
import { kernelRebootPending } from './reboot.ts';
import {
  isRejected, type InstallItem, type InstallOutcome, type InstallRequest, type InstalledPackage, type ScanOptions, type ScanResult,
  type Scanner, type UpdatePackage,
} from './types.ts';

export const RPM_QUERY_FORMAT = '%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\t%{SOURCERPM}\\n';

export function evr(epoch: string | undefined, version: string, release: string): string {
  return `${epoch && epoch !== '0' && epoch !== '(none)' ? `${epoch}:` : ''}${version}-${release}`;
}

/** `name-version-release.src.rpm` → name and version-release. */
export function parseSourceRpm(srpm: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(srpm);
  return m ? { name: m[1]!, version: `${m[2]}-${m[3]}` } : undefined;
}

export function parseRpmQa(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const line of text.split('\n')) {
    const [name, epoch, version, release, arch, time, srpm] = line.split('\t');
    if (!name || !version || !release || !arch || name === 'gpg-pubkey' || arch === '(none)') continue;
    const p: InstalledPackage = { Name: name, Version: evr(epoch, version, release), Architecture: arch };
    const t = Number(time);
    if (Number.isFinite(t) && t > 0) p.InstalledTime = t;
    const src = srpm ? parseSourceRpm(srpm) : undefined;
    if (src) { p.SourceName = src.name; p.SourceVersion = src.version; }
    out.push(p);
  }
  return out;
}

/** `name-[epoch:]version-release.arch` → parts. */
export function parseNevra(nevra: string): { name: string; version: string; arch: string } | undefined {
  const m = /^(.+)-(?:(\d+):)?([^-:]+)-([^-]+)\.([^.]+)$/.exec(nevra);
  return m ? { name: m[1]!, version: evr(m[2], m[3]!, m[4]!), arch: m[5]! } : undefined;
}

/** `check-update` / `list updates` output: `name.arch  [epoch:]version-release  repo`, long names wrapped. */
export function parseCheckUpdate(text: string): Array<{ name: string; arch: string; version: string; repo: string }> {
  const out: Array<{ name: string; arch: string; version: string; repo: string }> = [];
  const tokens: string[] = [];
  for (const raw of text.split('\n')) {
    if (/^(Obsoleting|Security:|Last metadata|Loaded plugins|Updated Packages)/.test(raw)) {
      if (raw.startsWith('Obsoleting')) break;
      continue;
    }
    tokens.push(...raw.trim().split(/\s+/).filter((t) => t !== ''));
    while (tokens.length >= 3) {
      const [na, ver, repo] = tokens as [string, string, string];
      const dot = na.lastIndexOf('.');
      if (dot <= 0 || !/\d/.test(ver)) { tokens.shift(); continue; }
      out.push({ name: na.slice(0, dot), arch: na.slice(dot + 1), version: ver, repo });
      tokens.splice(0, 3);
    }
  }
  return out;
}

export interface NoticeRef {
  advisory: string;
  type: string;
  severity?: string;
  name: string;
  arch: string;
  version: string;
}

/** `updateinfo list`: `ADVISORY  Important/Sec.|bugfix|enhancement  nevra`. */
export function parseUpdateinfoList(text: string): NoticeRef[] {
  const out: NoticeRef[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const nevra = parseNevra(m[3]!);
    if (!nevra) continue;
    const kind = m[2]!;
    const sec = /^(.*)\/Sec\.$/.exec(kind);
    const ref: NoticeRef = { advisory: m[1]!, type: sec ? 'security' : kind.toLowerCase(), ...nevra };
    if (sec && sec[1] && sec[1].toLowerCase() !== 'unknown') ref.severity = sec[1];
    out.push(ref);
  }
  return out;
}

export interface Notice {
  id: string;
  type?: string;
  severity?: string;
  updated?: number;
  issued?: number;
  cves: string[];
  bugzillas: string[];
}

function parseDate(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?/.exec(text.trim());
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) / 1000 : undefined;
}

/** `updateinfo info`: `Key : value` blocks (dnf and yum spell them alike), continuation lines with an empty key. */
export function parseUpdateinfoInfo(text: string): Map<string, Notice> {
  const out = new Map<string, Notice>();
  let cur: Notice | undefined;
  let key = '';
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z ]*?)\s*: (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] !== '') key = m[1]!;
    const value = m[2]!.trim();
    if (key === 'Update ID') {
      cur = { id: value, cves: [], bugzillas: [] };
      out.set(value, cur);
      continue;
    }
    if (!cur) continue;
    if (key === 'Type') cur.type = value.toLowerCase();
    else if (key === 'Severity' && value !== '') cur.severity = value;
    else if (key === 'Updated') cur.updated = parseDate(value) ?? cur.updated;
    else if (key === 'Issued') cur.issued = parseDate(value) ?? cur.issued;
    else if (key === 'CVEs') cur.cves.push(...value.split(/[\s,]+/).filter((c) => /^CVE-/.test(c)));
    else if (key === 'Bugs') { const id = /^(\d+)/.exec(value)?.[1]; if (id) cur.bugzillas.push(id); }
  }
  return out;
}

const CLASSIFICATION: Record<string, string> = { security: 'Security', bugfix: 'Bugfix', enhancement: 'Enhancement', newpackage: 'Newpackage', recommended: 'Recommended' };

function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1).toLowerCase();
}

/** Joins the three outputs into update candidates of installed packages. */
export function rpmUpdates(installed: InstalledPackage[], checkUpdate: ReturnType<typeof parseCheckUpdate>, refs: NoticeRef[], notices: Map<string, Notice>): UpdatePackage[] {
  const inst = new Set(installed.map((p) => `${p.Name}.${p.Architecture}`));
  const byKey = new Map<string, UpdatePackage>();
  for (const r of refs) {
    if (!inst.has(`${r.name}.${r.arch}`)) continue;
    const k = `${r.name}.${r.arch}\u0000${r.version}`;
    const n = notices.get(r.advisory);
    const type = n?.type ?? r.type;
    const severity = n?.severity ?? r.severity;
    let u = byKey.get(k);
    if (!u) {
      u = { Name: r.name, Version: r.version, Architecture: r.arch, Security: false, AdvisoryIds: [] };
      byKey.set(k, u);
    }
    u.AdvisoryIds!.push(r.advisory);
    if (type === 'security') u.Security = true;
    // The most severe notice names the classification and severity.
    if (u.Classification === undefined || type === 'security') u.Classification = CLASSIFICATION[type] ?? capitalize(type);
    if (severity && severity.toLowerCase() !== 'none') u.Severity = capitalize(severity);
    const released = n?.updated ?? n?.issued;
    if (released !== undefined && (u.ReleaseTime === undefined || released > u.ReleaseTime)) u.ReleaseTime = released;
    if (n?.cves.length) u.CVEIds = [...new Set([...(u.CVEIds ?? []), ...n.cves])].sort();
    if (n?.bugzillas.length) u.BugzillaIds = [...new Set([...(u.BugzillaIds ?? []), ...n.bugzillas])].sort();
  }
  for (const c of checkUpdate) {
    if (!inst.has(`${c.name}.${c.arch}`)) continue;
    const k = `${c.name}.${c.arch}\u0000${c.version}`;
    const u = byKey.get(k);
    if (u) u.Repository = c.repo;
    else byKey.set(k, { Name: c.name, Version: c.version, Architecture: c.arch, Security: false, Repository: c.repo });
  }
  return [...byKey.values()];
}

export class RpmScanner implements Scanner {
  readonly manager: string;
  readonly #host: Host;

  constructor(host: Host, manager: 'dnf' | 'yum', _platform?: Platform) {
    this.#host = host;
    this.manager = manager;
  }

  #rootArgs(): string[] {
    return this.#host.root === '/' ? [] : [`--installroot=${this.#host.root}`];
  }

  async installedPackages(): Promise<InstalledPackage[]> {
    const root = this.#host.root === '/' ? [] : ['--root', this.#host.root];
    const r = await this.#host.run('rpm', [...root, '-qa', '--queryformat', RPM_QUERY_FORMAT]);
    if (r.code !== 0) throw new AgentError(`Listing installed packages (rpm -qa) failed: ${r.stderr.trim()}`);
    return parseRpmQa(r.stdout);
  }

  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const notes: string[] = [];
    const pm = this.manager;
    const base = ['-q', ...this.#rootArgs(), ...(options.refresh ? [] : ['-C'])];
    const installed = await this.installedPackages();
    const check = await this.#host.run(pm, [...base, 'check-update']);
    if (check.code !== 0 && check.code !== 100) {
      if (!options.refresh) notes.push(`${pm} check-update failed from the cache (exit ${check.code}); run with --refresh to download metadata.`);
      else throw new AgentError(`${pm} check-update failed (exit ${check.code}): ${check.stderr.trim().split('\n').pop()}`);
    }
    const list = await this.#host.run(pm, [...base, 'updateinfo', 'list', '--available']);
    const info = await this.#host.run(pm, [...base, 'updateinfo', 'info', '--available']);
    if (list.code !== 0) notes.push(`${pm} updateinfo is not available (exit ${list.code}): candidates carry no advisory data.`);
    const updates = rpmUpdates(installed, parseCheckUpdate(check.stdout), parseUpdateinfoList(list.stdout), parseUpdateinfoInfo(info.stdout));
    return { installed, updates, rebootPending: await this.rebootPending(installed), notes };
  }

  async rebootPending(installed?: InstalledPackage[]): Promise<boolean> {
    if (this.#host.root !== '/') return false;
    if (await this.#host.has('needs-restarting')) {
      const r = await this.#host.run('needs-restarting', ['-r']);
      if (r.code === 0) return false;
      if (r.code === 1) return true;
    }
    const kernels = (installed ?? (await this.installedPackages()))
      .filter((p) => p.Name === 'kernel' || p.Name === 'kernel-core')
      .map((p) => `${p.Version.replace(/^\d+:/, '')}.${p.Architecture}`);
    return kernelRebootPending(this.#host, kernels);
  }

  async install(request: InstallRequest): Promise<InstallOutcome> {
    const pm = this.manager;
    const outcome: InstallOutcome = { installed: [], failed: [], blockedBy: {}, alreadyCurrent: [], log: '' };
    const spec = (i: InstallItem) => `${i.Name}-${i.Version}.${i.Architecture}`;
    const todo = request.items.filter((i) => {
      if (!isRejected(request.rejected, i.Name, i.Architecture)) return true;
      outcome.failed.push({ ...i, reason: 'on the baseline\'s rejected list' });
      return false;
    });
    // BLOCK: rejected packages are excluded, so an update that needs one cannot resolve and fails.
    const excludes = request.block ? request.rejected.map((r) => `--exclude=${r}`) : [];
    const run = async (items: InstallItem[]) => {
      const args = ['-y', ...this.#rootArgs(), ...excludes, 'upgrade', ...items.map(spec)];
      request.onProgress?.(`${pm} ${args.join(' ')}`);
      const r = await this.#host.run(pm, args, { timeoutMs: 60 * 60_000, onOutput: (c) => c.split('\n').filter((l) => l.trim()).forEach((l) => request.onProgress?.(l)) });
      outcome.log += r.stdout + r.stderr;
      return r;
    };
    if (todo.length > 0 && (await run(todo)).code !== 0) for (const item of todo) await run([item]);
    const now = new Map((await this.installedPackages()).map((p) => [`${p.Name}.${p.Architecture}\u0000${p.Version}`, p]));
    for (const item of todo) {
      if (now.has(`${item.Name}.${item.Architecture}\u0000${item.Version}`)) outcome.installed.push(item);
      else outcome.failed.push({ ...item, reason: `${pm} did not install ${spec(item)}: ${outcome.log.split('\n').filter((l) => /Error|Problem|conflict|nothing provides/i.test(l)).slice(-2).join(' ') || 'see the log'}` });
    }
    return outcome;
  }
}
