// The `reevaluate` scenario's fleet: deterministic (seeded) Patchline.PutScanReport bodies of Amazon-Linux-2023-like
// nodes, each `patches` installed packages and their update candidates as `dnf check-update` + `dnf updateinfo`
// give them (Classification, Severity, ReleaseTime, AdvisoryIds, CVEIds on the candidates that belong to a notice).
//
// A catalog of a few thousand package names, each with four builds (`….amzn2023.0.1` … `.0.4`); the newest build of
// about a fifth of the names is an update (most of them in a notice: Security / Bugfix / Enhancement with a severity
// and a release time 1–60 days before the fleet was built). Each node takes one of a few hundred *profiles*: which
// names it has installed and at which build. Nodes of a profile therefore share package versions, as real fleets
// do (a few tens of thousands of distinct versions for the whole fleet).
//
// As in bench/fleet.ts, a profile's body is rendered once into a Buffer that *starts* the request body,
//
//   {"Platform":{…},"Operation":"Scan","RebootPending":false,"Installed":[…],"Updates":[…],"OperationStartTime":
//
// with the SHA-256 state after it kept, so a node's body is that prefix plus a ≈ 80-byte suffix (its times and
// InstanceId) and its SigV4 payload hash costs only the suffix.

import { createHash, type Hash } from 'node:crypto';
import { prng } from './fleet.ts';

export interface ScanFleetOptions {
  seed: number;
  /** Installed packages per node. */
  patches: number;
  nodes: number;
  /** Distinct profiles (default 300). */
  profiles?: number;
  /** Epoch seconds the release times are relative to (default: now). */
  now?: number;
  /**
   * Every node's installed times shifted by its own number of seconds (default false: nodes of a profile share
   * them, as nodes built from one image and patched together do). With it, no two nodes' rows are identical.
   */
  distinctInstalledTimes?: boolean;
}

export interface ScanBody {
  instanceId: string;
  chunks: Buffer[];
  length: number;
  sha256: string;
}

export interface ScanProfileStats {
  installed: number;
  candidates: number;
  /** Candidates in a notice, by classification. */
  byClassification: Record<string, number>;
}

interface CatalogName {
  name: string;
  arch: string;
  /** `version` of every build; builds differ by release `<r>.amzn2023.0.<k>`. */
  version: string;
  release: number;
  /** The update (build 4), if the repository offers one. */
  update?: {
    classification?: string;
    severity?: string;
    releaseTime?: number;
    advisory?: string;
    cves?: string[];
  };
}

interface ScanProfile {
  prefix: Buffer;
  prefixHash: Hash;
  stats: ScanProfileStats;
  /** For distinctInstalledTimes: the body before the installed times, between them, and after the last. */
  parts: string[];
  times: number[];
}

const DAY = 86_400;

/** A 32-bit integer hash (xorshift-multiply), a bijection on 32-bit integers. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

function weighted<T>(r: number, table: ReadonlyArray<readonly [T, number]>): T {
  for (const [value, weight] of table) {
    if (r < weight) return value;
    r -= weight;
  }
  return table[table.length - 1]![0];
}

// Name parts in the style of an Amazon Linux 2023 host.
const STEMS = [
  'acl', 'audit', 'authselect', 'bash', 'bind', 'binutils', 'bzip2', 'c-ares', 'ca-certificates', 'chrony', 'cloud-init', 'coreutils',
  'cpio', 'cracklib', 'cronie', 'crypto-policies', 'cryptsetup', 'curl', 'cyrus-sasl', 'dbus', 'device-mapper', 'diffutils', 'dnf',
  'dracut', 'e2fsprogs', 'ec2-utils', 'elfutils', 'expat', 'file', 'findutils', 'gawk', 'gdbm', 'gettext', 'glib2', 'glibc', 'gmp',
  'gnupg2', 'gnutls', 'gpgme', 'grep', 'grub2', 'gzip', 'hostname', 'hunspell', 'iproute', 'iptables', 'iputils', 'json-c', 'kbd',
  'kernel', 'keyutils', 'kmod', 'krb5', 'less', 'libarchive', 'libcap', 'libcurl', 'libdb', 'libedit', 'libevent', 'libffi', 'libgcrypt',
  'libidn2', 'libmodulemd', 'libnghttp2', 'libpsl', 'librepo', 'libseccomp', 'libselinux', 'libsepol', 'libsolv', 'libssh', 'libtasn1',
  'libunistring', 'libuser', 'libxcrypt', 'libxml2', 'libyaml', 'libzstd', 'logrotate', 'lua', 'lz4', 'mpfr', 'ncurses', 'nettle',
  'nfs-utils', 'nspr', 'nss', 'numactl', 'openldap', 'openssh', 'openssl', 'p11-kit', 'pam', 'pcre2', 'perl', 'policycoreutils', 'popt',
  'procps-ng', 'psmisc', 'python3', 'python3-pip', 'readline', 'rpm', 'rsyslog', 'sed', 'selinux-policy', 'shadow-utils', 'sqlite',
  'sudo', 'systemd', 'tar', 'tzdata', 'util-linux', 'vim', 'which', 'xfsprogs', 'xz', 'yum', 'zlib', 'amazon-ssm-agent', 'awscli-2',
] as const;
const SUFFIXES = ['', '-libs', '-devel', '-common', '-tools', '-utils', '-minimal', '-data', '-core', '-modules', '-headers', '-doc', '-selinux', '-plugins', '-client', '-server'] as const;

function buildCatalog(seed: number, size: number, now: number): CatalogName[] {
  const rand = prng(seed ^ 0x2a1f_0c0d);
  const out: CatalogName[] = [];
  const seen = new Set<string>();
  let advisory = 0;
  for (let attempts = 0; out.length < size && attempts < size * 30; attempts++) {
    const name = `${STEMS[Math.floor(rand() * STEMS.length)]!}${SUFFIXES[Math.floor(rand() * SUFFIXES.length)]!}`;
    const arch = rand() < 0.8 ? 'x86_64' : 'noarch';
    if (seen.has(`${name}.${arch}`)) continue;
    seen.add(`${name}.${arch}`);
    const entry: CatalogName = {
      name, arch,
      version: `${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 40)}.${Math.floor(rand() * 12)}`,
      release: 1 + Math.floor(rand() * 30),
    };
    const r = rand();
    if (r < 0.17) {
      // An update in a notice, as `dnf updateinfo` describes it.
      const classification = weighted(rand(), [['Security', 0.5], ['Bugfix', 0.35], ['Enhancement', 0.15]] as const);
      const severity = classification === 'Security'
        ? weighted(rand(), [['Critical', 0.1], ['Important', 0.35], ['Medium', 0.4], ['Low', 0.15]] as const)
        : weighted(rand(), [['Medium', 0.3], ['Low', 0.3], ['None', 0.4]] as const);
      advisory += 1;
      const cves: string[] = [];
      if (classification === 'Security') {
        for (let c = 0, n = 1 + Math.floor(rand() * 3); c < n; c++) cves.push(`CVE-${2023 + Math.floor(rand() * 4)}-${10000 + Math.floor(rand() * 50000)}`);
      }
      entry.update = { classification, severity, releaseTime: now - (1 + Math.floor(rand() * 60)) * DAY - Math.floor(rand() * DAY), advisory: `ALAS2023-2026-${String(advisory).padStart(4, '0')}`, cves };
    } else if (r < 0.21) {
      entry.update = {}; // a newer build outside any notice
    }
    out.push(entry);
  }
  if (out.length < size) throw new Error(`the scan catalog has only ${out.length} names; ${size} were asked for`);
  return out;
}

const PLATFORM = '{"OperatingSystem":"AMAZON_LINUX_2023","Name":"Amazon Linux","Version":"2023"}';
const BASE_INSTALLED_TIME = Date.UTC(2026, 0, 1) / 1000;

function buildProfile(catalog: readonly CatalogName[], rand: () => number, count: number): { installed: string; updates: string; stats: ScanProfileStats; times: number[] } {
  const order = Array.from({ length: catalog.length }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (order.length - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const installed: string[] = [];
  const updates: string[] = [];
  const stats: ScanProfileStats = { installed: count, candidates: 0, byClassification: {} };
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const c = catalog[order[i]!]!;
    // Installed at build 1–3, or already at the newest build (4) on a tenth of the packages.
    const build = rand() < 0.1 ? 4 : 1 + Math.floor(rand() * 3);
    const installedTime = BASE_INSTALLED_TIME + Math.floor(rand() * 300) * DAY;
    installed.push(`{"Name":"${c.name}","Version":"${c.version}-${c.release}.amzn2023.0.${build}","Architecture":"${c.arch}","InstalledTime":${TIME_MARK}}`);
    times.push(installedTime);
    if (c.update === undefined || build === 4) continue;
    const u = c.update;
    const parts = [`"Name":"${c.name}"`, `"Version":"${c.version}-${c.release}.amzn2023.0.4"`, `"Architecture":"${c.arch}"`, `"Repository":"amazonlinux"`, `"Security":${u.classification === 'Security'}`];
    if (u.classification !== undefined) parts.push(`"Classification":"${u.classification}"`, `"Severity":"${u.severity}"`, `"ReleaseTime":${u.releaseTime}`, `"AdvisoryIds":["${u.advisory}"]`);
    if (u.cves !== undefined && u.cves.length > 0) parts.push(`"CVEIds":[${u.cves.map((x) => `"${x}"`).join(',')}]`);
    updates.push(`{${parts.join(',')}}`);
    stats.candidates += 1;
    const key = u.classification ?? 'none';
    stats.byClassification[key] = (stats.byClassification[key] ?? 0) + 1;
  }
  return { installed: installed.join(','), updates: updates.join(','), stats, times };
}

/** Stands for an installed time in a profile's body until the times are filled in. */
const TIME_MARK = '\u0000';

function fillTimes(parts: readonly string[], times: readonly number[], shift: number): string {
  let out = parts[0]!;
  for (let k = 0; k < times.length; k++) out += String(times[k]! - shift) + parts[k + 1]!;
  return out;
}

export class ScanFleet {
  readonly options: Required<ScanFleetOptions>;
  readonly #profiles: ScanProfile[];
  readonly #mask: number;
  /** Distinct package versions the fleet's scans name (installed and candidates). */
  readonly distinctPackages: number;

  constructor(options: ScanFleetOptions) {
    this.options = { profiles: 300, now: Math.floor(Date.now() / 1000), distinctInstalledTimes: false, ...options };
    const { seed, patches, profiles, now } = this.options;
    this.#mask = mix32(seed ^ 0x3c6ef372);
    const catalog = buildCatalog(seed, Math.max(3000, patches * 6), now);
    const rand = prng(seed ^ 0x0b5e55ed);
    this.#profiles = [];
    const versions = new Set<string>();
    for (let p = 0; p < profiles; p++) {
      const { installed, updates, stats, times } = buildProfile(catalog, rand, patches);
      const parts = `{"Platform":${PLATFORM},"Operation":"Scan","RebootPending":false,"Installed":[${installed}],"Updates":[${updates}],"OperationStartTime":`.split(TIME_MARK);
      const prefix = Buffer.from(fillTimes(parts, times, 0), 'utf8');
      this.#profiles.push({ prefix, prefixHash: createHash('sha256').update(prefix), stats, parts, times });
      for (const m of `${installed},${updates}`.matchAll(/"Name":"([^"]+)","Version":"([^"]+)","Architecture":"([^"]+)"/g)) versions.add(`${m[1]}.${m[3]}:${m[2]}`);
    }
    this.distinctPackages = versions.size;
  }

  get total(): number {
    return this.options.nodes;
  }

  /** `mi-` and 17 hex digits, distinct for distinct i (the last 8 digits are a bijection of i). */
  instanceId(i: number): string {
    return `mi-5${hex8(mix32(i + 0x7f4a7c15) ^ this.#mask)}${hex8(mix32(i) ^ this.#mask)}`;
  }

  profileIndex(i: number): number {
    return mix32(i ^ 0x6a09e667) % this.#profiles.length;
  }

  profileStats(i: number): ScanProfileStats {
    return this.#profiles[this.profileIndex(i)]!.stats;
  }

  /** Node i's Patchline.PutScanReport body. */
  report(i: number): ScanBody {
    const profile = this.#profiles[this.profileIndex(i)]!;
    const instanceId = this.instanceId(i);
    const end = this.options.now - 60 - (mix32(i ^ 0x1f83d9ab) % 3600);
    const suffix = Buffer.from(`${end - 45},"OperationEndTime":${end},"InstanceId":"${instanceId}"}`, 'utf8');
    if (this.options.distinctInstalledTimes) {
      // Node i's times are the profile's shifted by i seconds: its own body, hashed whole.
      const prefix = Buffer.from(fillTimes(profile.parts, profile.times, i + 1), 'utf8');
      const sha256 = createHash('sha256').update(prefix).update(suffix).digest('hex');
      return { instanceId, chunks: [prefix, suffix], length: prefix.length + suffix.length, sha256 };
    }
    const sha256 = profile.prefixHash.copy().update(suffix).digest('hex');
    return { instanceId, chunks: [profile.prefix, suffix], length: profile.prefix.length + suffix.length, sha256 };
  }
}
