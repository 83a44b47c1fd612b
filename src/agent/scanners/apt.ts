// Debian, Ubuntu and Raspberry Pi OS. Everything comes from dpkg and apt themselves; nothing of apt's
// resolution is re-implemented:
//   installed   dpkg-query -W (name, version, architecture, ${Source}, status, priority, section)
//   candidates  apt-get -s dist-upgrade: the versions apt itself would install, each with its origins
//               (Label:Version/Suite); a candidate is Security when one of them is a security pocket
//   priority,   apt-cache show name:arch=version (the Packages record of that exact version)
//   section
//   installed   apt-cache policy: an installed version published in a security pocket is Security
//   security
//   CVEs,       the candidate's own changelog.Debian.gz, read from its .deb when apt already downloaded it
//   urgency     (/var/cache/apt/archives). The installed package's /usr/share/doc changelog ends at the
//               installed version, so it never holds the candidate's entry; without the .deb the CVEs come
//               from the server's advisory catalogue instead.
//   reboot      /run/reboot-required (or /var/run/…), or a newer kernel image than the running one
// `root` other than "/" runs the same commands on a dpkg/apt root of its own (a chroot-less image, tests).

import { join } from 'node:path';
import type { Host } from '../host.ts';
import { AgentError } from '../errors.ts';
import { kernelRebootPending } from './reboot.ts';
import {
  isRejected, type InstallItem, type InstallOutcome, type InstallRequest, type InstalledPackage, type ScanOptions, type ScanResult,
  type Scanner, type UpdatePackage,
} from './types.ts';

/** The dpkg-query format: the first five columns are those of the shared host capture; priority and section follow. */
export const DPKG_QUERY_FORMAT = '${Package}\\t${Version}\\t${Architecture}\\t${Source}\\t${Status}\\t${Priority}\\t${Section}\\n';

export interface DpkgRow extends InstalledPackage {
  status: string;
}

/** dpkg status states in which the package's files are on disk (not `not-installed` / `config-files`). */
const PRESENT = new Set(['installed', 'half-configured', 'unpacked', 'half-installed', 'triggers-awaited', 'triggers-pending']);

/** Parses `${Source}`: empty → the package itself; `src` → src at the binary version; `src (ver)` → both. */
export function parseSourceField(source: string, name: string, version: string): { SourceName: string; SourceVersion: string } {
  const s = source.trim();
  if (s === '') return { SourceName: name, SourceVersion: version };
  const m = /^(\S+)\s*\((\S+)\)$/.exec(s);
  if (m) return { SourceName: m[1]!, SourceVersion: m[2]! };
  return { SourceName: s, SourceVersion: version };
}

export function parseDpkgQuery(text: string): DpkgRow[] {
  const out: DpkgRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const cols = line.split('\t');
    const [name, version, arch, source = '', status = 'install ok installed', priority, section] = cols;
    if (!name || !version || !arch) continue;
    const state = status.trim().split(/\s+/)[2] ?? '';
    if (!PRESENT.has(state)) continue;
    const row: DpkgRow = { Name: name, Version: version, Architecture: arch, ...parseSourceField(source, name, version), status };
    if (priority) row.Priority = priority;
    if (section) row.Section = section;
    out.push(row);
  }
  return out;
}

export interface AptOrigin {
  label: string;
  version: string;
  suite: string;
}

export interface SimulatedInstall {
  name: string;
  arch: string;
  /** The installed version being replaced; undefined for a new package. */
  oldVersion?: string;
  version: string;
  origins: AptOrigin[];
}

/** `Label:Version/Suite` (or `Label:Suite` when the release has no version), as apt's simulation prints them. */
export function parseOrigins(text: string): AptOrigin[] {
  if (text.trim() === '') return [];
  return text.split(', ').map((part) => {
    const colon = part.indexOf(':');
    const label = colon < 0 ? '' : part.slice(0, colon);
    const rest = colon < 0 ? part : part.slice(colon + 1);
    const slash = rest.lastIndexOf('/');
    return slash < 0 ? { label, version: '', suite: rest } : { label, version: rest.slice(0, slash), suite: rest.slice(slash + 1) };
  });
}

/** A security pocket: a `*-security` suite (Debian, Ubuntu, ESM) or a `*-Security` label (security.debian.org). */
export function isSecurityOrigin(o: { label?: string; suite?: string; archive?: string; codename?: string }): boolean {
  return [o.suite, o.archive, o.codename].some((s) => s !== undefined && /-security$/i.test(s)) || /security/i.test(o.label ?? '');
}

/** The `Inst` lines of `apt-get -s …`. */
export function parseSimulation(text: string, nativeArch: string): SimulatedInstall[] {
  const out: SimulatedInstall[] = [];
  for (const line of text.split('\n')) {
    const m = /^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+)(?: (.*?))? \[([^\]]+)\]\)/.exec(line);
    if (!m) continue;
    const [, qualified, oldVersion, version, origins = '', arch] = m;
    const colon = qualified!.indexOf(':');
    const name = colon < 0 ? qualified! : qualified!.slice(0, colon);
    const entry: SimulatedInstall = { name, arch: colon < 0 ? (arch ?? nativeArch) : qualified!.slice(colon + 1), version: version!, origins: parseOrigins(origins) };
    if (oldVersion) entry.oldVersion = oldVersion;
    out.push(entry);
  }
  return out;
}

/** RFC 822 stanzas (apt-cache show, Packages files). */
export function parseStanzas(text: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  let cur: Record<string, string> = {};
  let last = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(cur).length > 0) out.push(cur);
      cur = {};
      continue;
    }
    if (/^\s/.test(line)) {
      if (last) cur[last] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    cur[last] = line.slice(colon + 1).trim();
  }
  if (Object.keys(cur).length > 0) out.push(cur);
  return out;
}

export interface ReleaseInfo {
  archive?: string;
  codename?: string;
  label?: string;
  origin?: string;
}

/** `apt-cache policy` without arguments: each package file line → its release attributes. */
export function parsePolicyFiles(text: string): Map<string, ReleaseInfo> {
  const out = new Map<string, ReleaseInfo>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const file = /^\s*-?\d+ (.+)$/.exec(line);
    if (file) {
      current = file[1]!.trim();
      out.set(current, {});
      continue;
    }
    const rel = /^\s+release (.*)$/.exec(line);
    if (rel && current !== undefined) {
      const info: ReleaseInfo = {};
      for (const kv of rel[1]!.split(',')) {
        const eq = kv.indexOf('=');
        const k = kv.slice(0, eq);
        const v = kv.slice(eq + 1);
        if (k === 'a') info.archive = v;
        else if (k === 'n') info.codename = v;
        else if (k === 'l') info.label = v;
        else if (k === 'o') info.origin = v;
      }
      out.set(current, info);
    }
  }
  return out;
}

export interface PolicyPackage {
  /** `name` or `name:arch` as apt prints it. */
  key: string;
  installed?: string;
  candidate?: string;
  /** version → the package-file lines it is published in. */
  versions: Map<string, string[]>;
}

/** `apt-cache policy pkg…`: per package, its version table. */
export function parsePolicyPackages(text: string): PolicyPackage[] {
  const out: PolicyPackage[] = [];
  let cur: PolicyPackage | undefined;
  let version: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      cur = { key: line.slice(0, -1), versions: new Map() };
      out.push(cur);
      version = undefined;
      continue;
    }
    if (cur === undefined) continue;
    let m = /^\s+Installed: (.+)$/.exec(line);
    if (m) { if (m[1] !== '(none)') cur.installed = m[1]!; continue; }
    m = /^\s+Candidate: (.+)$/.exec(line);
    if (m) { if (m[1] !== '(none)') cur.candidate = m[1]!; continue; }
    m = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line);
    if (m) {
      version = m[1]!;
      cur.versions.set(version, []);
      continue;
    }
    m = /^\s{8}-?\d+ (.+)$/.exec(line);
    if (m && version !== undefined) cur.versions.get(version)!.push(m[1]!.trim());
  }
  return out;
}

/** Whether a package-file line of apt-cache policy is a security pocket, using the release attributes when known. */
export function isSecurityFile(line: string, releases: Map<string, ReleaseInfo>): boolean {
  const rel = releases.get(line);
  if (rel && isSecurityOrigin(rel)) return true;
  // "http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"
  const dist = line.split(/\s+/)[1] ?? '';
  return /-security(\/|$)/.test(dist) || /\/debian-security\b|security\.(debian\.org|ubuntu\.com)/.test(line.split(/\s+/)[0] ?? '');
}

const URGENCY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, emergency: 4, critical: 5 };

/**
 * The changelog entries of a candidate newer than the installed source version: their CVE ids and the highest
 * urgency. Entries are newest first; reading stops at the installed version's entry (or after the first entry when
 * the installed version is not found, so nothing older than the candidate is attributed to it).
 */
export function changelogSince(text: string, installedSourceVersion: string | undefined): { cves: string[]; urgency?: string } {
  const entries: Array<{ version: string; urgency?: string; body: string }> = [];
  for (const line of text.split('\n')) {
    const head = /^(\S+) \(([^)]+)\) [^;]*;(.*)$/.exec(line);
    if (head) {
      const urgency = /urgency=([a-z]+)/i.exec(head[3]!)?.[1]?.toLowerCase();
      entries.push({ version: head[2]!, ...(urgency ? { urgency } : {}), body: '' });
    } else if (entries.length > 0) {
      entries[entries.length - 1]!.body += `${line}\n`;
    }
  }
  const found = installedSourceVersion !== undefined && entries.some((e) => e.version === installedSourceVersion);
  const cves = new Set<string>();
  let urgency: string | undefined;
  for (const e of entries) {
    if (found && e.version === installedSourceVersion) break;
    for (const m of e.body.matchAll(/CVE-\d{4}-\d{4,}/g)) cves.add(m[0]);
    if (e.urgency && (urgency === undefined || (URGENCY_RANK[e.urgency] ?? 0) > (URGENCY_RANK[urgency] ?? 0))) urgency = e.urgency;
    if (!found) break;
  }
  return { cves: [...cves].sort(), ...(urgency ? { urgency } : {}) };
}

export interface AptOptions {
  /** Read CVEs from already downloaded candidate .debs (default true). */
  changelogs?: boolean;
}

export class AptScanner implements Scanner {
  readonly manager = 'apt';
  readonly #host: Host;
  readonly #root: string;
  readonly #changelogs: boolean;

  constructor(host: Host, options: AptOptions = {}) {
    this.#host = host;
    this.#root = host.root;
    this.#changelogs = options.changelogs ?? true;
  }

  get #rooted(): boolean {
    return this.#root !== '/';
  }

  #aptOptions(): string[] {
    if (!this.#rooted) return [];
    const r = this.#root.endsWith('/') ? this.#root : `${this.#root}/`;
    return ['-o', `Dir=${r}`, '-o', `Dir::State::status=${r}var/lib/dpkg/status`, '-o', 'APT::Sandbox::User=root'];
  }

  #dpkgOptions(): string[] {
    if (!this.#rooted) return [];
    return [`--root=${this.#root}`, '--force-script-chrootless', `--log=${join(this.#root, 'var/log/dpkg.log')}`];
  }

  async #run(cmd: string, args: string[], what: string, okCodes = [0]): Promise<string> {
    const r = await this.#host.run(cmd, args, { timeoutMs: 10 * 60_000 });
    if (!okCodes.includes(r.code)) {
      const detail = (r.stderr || r.stdout).trim().split('\n').filter((l) => l.trim() !== '').slice(-5).join('\n  ');
      throw new AgentError(`${what} failed (${cmd} exited ${r.code}):\n  ${detail}`);
    }
    return r.stdout;
  }

  async installedPackages(): Promise<DpkgRow[]> {
    const admin = this.#rooted ? [`--admindir=${join(this.#root, 'var/lib/dpkg')}`] : [];
    const text = await this.#run('dpkg-query', [...admin, '-W', `-f=${DPKG_QUERY_FORMAT}`], 'Listing installed packages (dpkg-query)');
    return parseDpkgQuery(text);
  }

  async nativeArch(): Promise<string> {
    return (await this.#run('dpkg', ['--print-architecture'], 'dpkg --print-architecture')).trim();
  }

  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const notes: string[] = [];
    if (options.refresh) {
      const r = await this.#host.run('apt-get', [...this.#aptOptions(), '-q', 'update'], { timeoutMs: 10 * 60_000 });
      if (r.code !== 0) notes.push(`apt-get update failed (exit ${r.code}); the scan uses the package lists apt already had: ${lastLine(r.stderr || r.stdout)}`);
    }
    const [rows, nativeArch] = await Promise.all([this.installedPackages(), this.nativeArch()]);
    const sim = parseSimulation(
      await this.#run('apt-get', [...this.#aptOptions(), '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], 'Asking apt for upgrades (apt-get -s dist-upgrade)'),
      nativeArch,
    );
    const key = (name: string, arch: string) => `${name}\u0000${arch}`;
    const installedByKey = new Map(rows.map((r) => [key(r.Name, r.Architecture), r]));
    // Upgrades of installed packages only: new packages apt would pull in are dependencies, not patches.
    const upgrades = sim.filter((s) => s.oldVersion !== undefined && installedByKey.has(key(s.name, s.arch)));

    const records = await this.#showRecords(upgrades.map((u) => ({ name: u.name, arch: u.arch, version: u.version })), nativeArch);
    const updates: UpdatePackage[] = [];
    for (const u of upgrades) {
      const rec = records.get(`${u.name}\u0000${u.arch}\u0000${u.version}`);
      const security = u.origins.some(isSecurityOrigin);
      const suites = u.origins.map((o) => o.suite).filter((s) => s !== '');
      const pkg: UpdatePackage = { Name: u.name, Version: u.version, Architecture: u.arch, Security: security };
      const src = rec ? parseSourceField(rec.Source ?? '', u.name, u.version) : undefined;
      if (src) { pkg.SourceName = src.SourceName; pkg.SourceVersion = src.SourceVersion; }
      const repo = suites.find((s) => /-security$/.test(s)) ?? suites[0];
      if (repo) pkg.Repository = repo;
      if (rec?.Priority) pkg.Priority = rec.Priority;
      if (rec?.Section) pkg.Section = rec.Section;
      updates.push(pkg);
    }
    if (this.#changelogs) await this.#addChangelogData(updates, installedByKey, notes);

    const security = await this.#installedSecurity(rows, nativeArch);
    const installed: InstalledPackage[] = rows.map((r) => {
      const p: InstalledPackage = { Name: r.Name, Version: r.Version, Architecture: r.Architecture, SourceName: r.SourceName!, SourceVersion: r.SourceVersion! };
      if (r.Priority) p.Priority = r.Priority;
      if (r.Section) p.Section = r.Section;
      p.Security = security.has(key(r.Name, r.Architecture));
      const t = this.#host.mtime(`/var/lib/dpkg/info/${r.Name}:${r.Architecture}.list`) ?? this.#host.mtime(`/var/lib/dpkg/info/${r.Name}.list`);
      if (t !== undefined) p.InstalledTime = t;
      return p;
    });
    return { installed, updates, rebootPending: await this.rebootPending(rows), notes };
  }

  /** apt-cache show name:arch=version for each, keyed name\0arch\0version. */
  async #showRecords(list: Array<{ name: string; arch: string; version: string }>, nativeArch: string): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    if (list.length === 0) return out;
    const specs = list.map((p) => `${p.name}${p.arch === 'all' || p.arch === nativeArch ? '' : `:${p.arch}`}=${p.version}`);
    const r = await this.#host.run('apt-cache', [...this.#aptOptions(), 'show', ...specs], { timeoutMs: 5 * 60_000 });
    for (const s of parseStanzas(r.stdout)) {
      if (s.Package && s.Version && s.Architecture) out.set(`${s.Package}\u0000${s.Architecture}\u0000${s.Version}`, s);
    }
    return out;
  }

  /** name\0arch of installed packages whose installed version is published in a security pocket. */
  async #installedSecurity(rows: DpkgRow[], nativeArch: string): Promise<Set<string>> {
    const out = new Set<string>();
    if (rows.length === 0) return out;
    const releases = parsePolicyFiles((await this.#host.run('apt-cache', [...this.#aptOptions(), 'policy'])).stdout);
    const queries = rows.map((r) => (r.Architecture === 'all' || r.Architecture === nativeArch ? r.Name : `${r.Name}:${r.Architecture}`));
    const r = await this.#host.run('apt-cache', [...this.#aptOptions(), 'policy', ...new Set(queries)], { timeoutMs: 5 * 60_000 });
    const byKey = new Map(parsePolicyPackages(r.stdout).map((p) => [p.key, p]));
    for (const row of rows) {
      const p = byKey.get(row.Architecture === 'all' || row.Architecture === nativeArch ? row.Name : `${row.Name}:${row.Architecture}`);
      const files = p?.versions.get(row.Version) ?? [];
      if (files.some((f) => isSecurityFile(f, releases))) out.add(`${row.Name}\u0000${row.Architecture}`);
    }
    return out;
  }

  async #addChangelogData(updates: UpdatePackage[], installed: Map<string, DpkgRow>, notes: string[]): Promise<void> {
    let found = 0;
    for (const u of updates) {
      const file = `/var/cache/apt/archives/${u.Name}_${u.Version.replace(/:/g, '%3a')}_${u.Architecture}.deb`;
      if (!this.#host.exists(file)) continue;
      const deb = join(this.#root, file);
      const r = await this.#host.run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO --wildcards "./usr/share/doc/*/changelog.Debian.gz" 2>/dev/null | gzip -dc 2>/dev/null', 'sh', deb], { timeoutMs: 60_000 });
      if (r.stdout.trim() === '') continue;
      found++;
      const inst = installed.get(`${u.Name}\u0000${u.Architecture}`);
      const { cves, urgency } = changelogSince(r.stdout, inst?.SourceVersion);
      if (cves.length > 0) u.CVEIds = cves;
      if (urgency) u.Severity = urgency;
    }
    if (updates.length > found) notes.push(`${updates.length - found} of ${updates.length} candidates have no downloaded .deb to read CVE ids from; the server's advisory catalogue supplies them.`);
  }

  async rebootPending(rows?: DpkgRow[]): Promise<boolean> {
    if (this.#host.exists('/run/reboot-required') || this.#host.exists('/var/run/reboot-required')) return true;
    if (this.#rooted) return false;
    const kernels = (rows ?? (await this.installedPackages()))
      .map((r) => /^linux-image-(\d.*)$/.exec(r.Name)?.[1])
      .filter((k): k is string => k !== undefined);
    return kernelRebootPending(this.#host, kernels);
  }

  // ---- install ----

  #spec(i: InstallItem, nativeArch: string): string {
    return `${i.Name}${i.Architecture === 'all' || i.Architecture === nativeArch ? '' : `:${i.Architecture}`}=${i.Version}`;
  }

  async #compare(a: string, op: 'ge' | 'eq', b: string): Promise<boolean> {
    return (await this.#host.run('dpkg', ['--compare-versions', a, op, b])).code === 0;
  }

  async #simulate(specs: string[]): Promise<{ code: number; inst: SimulatedInstall[]; error: string }> {
    const r = await this.#host.run('apt-get', [...this.#aptOptions(), '-s', '-o', 'Debug::NoLocking=1', 'install', '--only-upgrade', ...specs]);
    const nativeArch = await this.nativeArch();
    return { code: r.code, inst: parseSimulation(r.stdout, nativeArch), error: (r.stderr.split('\n').filter((l) => l.startsWith('E:')).join(' ') || lastLine(r.stderr || r.stdout)) };
  }

  async install(request: InstallRequest): Promise<InstallOutcome> {
    const progress = request.onProgress ?? (() => {});
    const nativeArch = await this.nativeArch();
    const outcome: InstallOutcome = { installed: [], failed: [], blockedBy: {}, alreadyCurrent: [], log: '' };
    const before = new Map((await this.installedPackages()).map((r) => [`${r.Name}\u0000${r.Architecture}`, r]));
    let todo: InstallItem[] = [];
    for (const item of request.items) {
      const cur = before.get(`${item.Name}\u0000${item.Architecture}`);
      if (isRejected(request.rejected, item.Name, item.Architecture)) {
        outcome.failed.push({ ...item, reason: 'on the baseline\'s rejected list' });
      } else if (cur === undefined) {
        outcome.failed.push({ ...item, reason: 'not installed on this node (only upgrades are installed)' });
      } else if (await this.#compare(cur.Version, 'ge', item.Version)) {
        outcome.alreadyCurrent.push(item);
      } else {
        todo.push(item);
      }
    }
    // Check the plan with apt's own simulation: versions apt cannot find, and (BLOCK) rejected packages pulled in.
    const bad = async (items: InstallItem[]): Promise<{ error?: string; rejected: string[] }> => {
      const s = await this.#simulate(items.map((i) => this.#spec(i, nativeArch)));
      const pulled = s.inst.filter((x) => !items.some((i) => i.Name === x.name) && isRejected(request.rejected, x.name, x.arch)).map((x) => x.name);
      return s.code !== 0 ? { error: s.error, rejected: pulled } : { rejected: request.block ? pulled : [] };
    };
    if (todo.length > 0) {
      const whole = await bad(todo);
      if (whole.error !== undefined || whole.rejected.length > 0) {
        const keep: InstallItem[] = [];
        for (const item of todo) {
          const one = await bad([item]);
          if (one.error !== undefined) outcome.failed.push({ ...item, reason: one.error });
          else if (one.rejected.length > 0) {
            outcome.blockedBy[item.Name] = one.rejected;
            outcome.failed.push({ ...item, reason: `would install or upgrade rejected package(s) ${one.rejected.join(', ')} (RejectedPatchesAction BLOCK)` });
          } else keep.push(item);
        }
        todo = keep;
      }
    }
    const env = { DEBIAN_FRONTEND: 'noninteractive', APT_LISTCHANGES_FRONTEND: 'none', NEEDRESTART_MODE: 'l' };
    const aptInstall = async (items: InstallItem[]) => {
      const dpkg = this.#dpkgOptions().flatMap((o) => ['-o', `DPkg::Options::=${o}`]);
      const args = [...this.#aptOptions(), ...dpkg, '-o', 'DPkg::Options::=--force-confdef', '-o', 'DPkg::Options::=--force-confold', '-y', '-q', 'install', '--only-upgrade', ...items.map((i) => this.#spec(i, nativeArch))];
      progress(`apt-get install --only-upgrade ${items.map((i) => this.#spec(i, nativeArch)).join(' ')}`);
      const r = await this.#host.run('apt-get', args, { env, timeoutMs: 60 * 60_000, onOutput: (c) => { for (const l of c.split('\n')) if (l.trim()) progress(l); } });
      outcome.log += r.stdout + r.stderr;
      return r;
    };
    if (todo.length > 0) {
      const r = await aptInstall(todo);
      if (r.code !== 0) {
        // One package failing stops dpkg part-way: finish what was unpacked, then retry the rest one by one.
        const c = await this.#host.run('dpkg', [...this.#dpkgOptions(), '--configure', '--pending'], { env });
        outcome.log += c.stdout + c.stderr;
        const now = new Map((await this.installedPackages()).map((row) => [`${row.Name}\u0000${row.Architecture}`, row]));
        for (const item of todo) {
          const row = now.get(`${item.Name}\u0000${item.Architecture}`);
          if (row && row.Version === item.Version && row.status.endsWith(' installed')) continue;
          await aptInstall([item]);
        }
      }
    }
    const after = new Map((await this.installedPackages()).map((r) => [`${r.Name}\u0000${r.Architecture}`, r]));
    for (const item of todo) {
      const row = after.get(`${item.Name}\u0000${item.Architecture}`);
      if (row && row.Version === item.Version && row.status.endsWith(' installed')) outcome.installed.push(item);
      else outcome.failed.push({ ...item, reason: failureReason(outcome.log, item.Name) ?? (row ? `still at ${row.Version} (${row.status})` : 'not installed after apt-get') });
    }
    return outcome;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
}

/** The dpkg error lines about one package in an apt log. */
function failureReason(log: string, name: string): string | undefined {
  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^dpkg: error processing/.test(l) && l.includes(name)) return `${l.trim()} ${lines[i + 1]?.trim() ?? ''}`.trim();
  }
  return undefined;
}
