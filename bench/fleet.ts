// The benchmark fleet: deterministic (seeded) PutInventory request bodies, one AWS:PatchSummary entry and N
// AWS:PatchCompliance entries per node, as the SSM agent reports a scan.
//
// Nodes 0 .. smallNodes-1 are in patch group `bench-small`, the next largeNodes in `bench-large`. Each node takes
// one of a few hundred patch "profiles" (which patches it has, in which state). A profile's entries are rendered
// once, to one Buffer that starts the body:
//
//   {"Items":[{"Content":[<profile's entries>],"TypeName":"AWS:PatchCompliance","SchemaVersion":"1.0","ContentHash":"…","CaptureTime":"
//
// and the SHA-256 state after that prefix is kept, so a node's body is the shared prefix plus a small
// node-specific suffix (capture time, the AWS:PatchSummary item with the profile's counts, InstanceId), and its
// payload hash for SigV4 costs only the suffix. JSON member order does not matter to the server.

import { createHash, type Hash } from 'node:crypto';

export const SMALL_GROUP = 'bench-small';
export const LARGE_GROUP = 'bench-large';
export const EXTRA_GROUP = 'bench-paging';

export type PatchStateName = 'Installed' | 'InstalledOther' | 'Missing' | 'Failed';

export interface FleetOptions {
  seed: number;
  /** Patches per report. */
  patches: number;
  smallNodes: number;
  largeNodes: number;
  /** Distinct patch profiles (default 256). */
  profiles?: number;
}

export interface ReportBody {
  instanceId: string;
  /** The body, in order: the shared profile prefix, then the node's suffix. */
  chunks: Buffer[];
  length: number;
  sha256: string;
  /** AWS:PatchCompliance entries (patch rows) in the report. */
  rows: number;
}

export interface ProfileStats {
  rows: number;
  counts: Record<string, number>;
}

interface CatalogPatch {
  name: string;
  arch: string;
  title: string;
  kbId: string;
  classification: string;
  severity: string;
  cves: string;
}

interface Profile {
  prefix: Buffer;
  prefixHash: Hash;
  /** The counter members of the AWS:PatchSummary entry, rendered: `"InstalledCount":"470",…` */
  countersJson: string;
  stats: ProfileStats;
}

/** mulberry32, the same seedable generator the tests use (uniform in [0, 1)). */
import { rng as prng } from '../test/helpers/fleet.ts';

export { prng };

/** MurmurHash3's 32-bit finaliser: a bijection on 32-bit integers, so distinct inputs give distinct outputs. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

function pick<T>(rand: () => number, weighted: ReadonlyArray<readonly [T, number]>): T {
  let r = rand();
  for (const [value, weight] of weighted) {
    if (r < weight) return value;
    r -= weight;
  }
  return weighted[weighted.length - 1]![0];
}

// Package names in the style of an Enterprise Linux 9 host; combined with the variants below they give a catalog
// of several thousand distinct patches (KBId = name.arch, Title = name.arch:epoch:version-release).
const BASES = [
  'openssl', 'kernel', 'glibc', 'bash', 'curl', 'systemd', 'openssh', 'sudo', 'python3', 'perl', 'nss', 'krb5', 'libxml2', 'zlib',
  'expat', 'sqlite', 'gnutls', 'libgcrypt', 'pam', 'shadow-utils', 'coreutils', 'util-linux', 'tar', 'gzip', 'xz', 'bzip2', 'rpm',
  'dnf', 'yum', 'grub2', 'dbus', 'polkit', 'NetworkManager', 'firewalld', 'chrony', 'rsyslog', 'audit', 'selinux-policy', 'libselinux',
  'cyrus-sasl', 'openldap', 'samba', 'bind', 'dhcp', 'httpd', 'nginx', 'postfix', 'dovecot', 'git', 'vim', 'emacs', 'tmux', 'less',
  'libssh', 'libcurl', 'libarchive', 'libtiff', 'libpng', 'libjpeg-turbo', 'freetype', 'fontconfig', 'cairo', 'pango', 'glib2',
  'gtk3', 'mesa', 'libX11', 'xorg-x11-server', 'cups', 'ghostscript', 'poppler', 'ImageMagick', 'java-17-openjdk', 'nodejs', 'ruby',
  'php', 'golang', 'rust', 'gcc', 'binutils', 'gdb', 'valgrind', 'strace', 'tcpdump', 'wireshark', 'nmap', 'iptables', 'nftables',
  'iproute', 'ethtool', 'lvm2', 'device-mapper', 'cryptsetup', 'e2fsprogs', 'xfsprogs', 'nfs-utils', 'rpcbind', 'sssd', 'realmd',
  'tzdata', 'ca-certificates', 'libnghttp2', 'pcre2', 'libffi', 'ncurses', 'readline', 'gmp', 'mpfr', 'elfutils', 'podman', 'runc',
  'containerd', 'buildah', 'skopeo', 'qemu-kvm', 'libvirt', 'dracut', 'kmod', 'linux-firmware', 'microcode_ctl', 'tuned',
] as const;
const VARIANTS = [
  '', '-libs', '-devel', '-common', '-tools', '-utils', '-doc', '-headers', '-debuginfo', '-static', '-client', '-server', '-core',
  '-modules', '-data', '-langpack-en', '-minimal', '-selinux', '-plugins', '-perl',
] as const;
const ARCHES = [['x86_64', 0.7], ['noarch', 0.25], ['i686', 0.05]] as const;

function buildCatalog(seed: number, size: number): CatalogPatch[] {
  const rand = prng(seed ^ 0x5eed_ca7a);
  const seen = new Set<string>();
  const out: CatalogPatch[] = [];
  const year = 2026;
  for (let attempts = 0; out.length < size && attempts < size * 20; attempts++) {
    const base = BASES[Math.floor(rand() * BASES.length)]!;
    const variant = VARIANTS[Math.floor(rand() * VARIANTS.length)]!;
    const name = `${base}${variant}`;
    const arch = pick(rand, ARCHES);
    const kbId = `${name}.${arch}`;
    if (seen.has(kbId)) continue;
    seen.add(kbId);
    const epoch = rand() < 0.7 ? 0 : 1 + Math.floor(rand() * 3);
    const version = `${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 30)}.${Math.floor(rand() * 20)}`;
    const release = `${1 + Math.floor(rand() * 40)}.el9${rand() < 0.5 ? `_${1 + Math.floor(rand() * 5)}` : ''}`;
    const classification = pick(rand, [['Security', 0.45], ['Bugfix', 0.4], ['Enhancement', 0.15]] as const);
    const severity = classification === 'Security'
      ? pick(rand, [['Critical', 0.15], ['Important', 0.4], ['Moderate', 0.35], ['Low', 0.1]] as const)
      : pick(rand, [['Important', 0.1], ['Moderate', 0.5], ['Low', 0.4]] as const);
    const cveCount = classification === 'Security' ? 1 + Math.floor(rand() * 3) : 0;
    const cves: string[] = [];
    for (let c = 0; c < cveCount; c++) cves.push(`CVE-${year - Math.floor(rand() * 4)}-${String(1000 + Math.floor(rand() * 49000)).padStart(5, '0')}`);
    out.push({ name, arch, kbId, title: `${kbId}:${epoch}:${version}-${release}`, classification, severity, cves: cves.join(',') });
  }
  if (out.length < size) throw new Error(`the patch catalog has only ${out.length} distinct patches; ${size} were asked for`);
  return out;
}

const COUNTER_ORDER = [
  'InstalledCount', 'InstalledOtherCount', 'InstalledPendingRebootCount', 'InstalledRejectedCount', 'MissingCount', 'FailedCount',
  'NotApplicableCount', 'UnreportedNotApplicableCount', 'AvailableSecurityUpdateCount', 'CriticalNonCompliantCount',
  'SecurityNonCompliantCount', 'OtherNonCompliantCount',
] as const;

/** The times a profile's installed patches were installed are spread over the 300 days before this. */
const BASE_TIME = Date.UTC(2026, 9, 31, 0, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';

export type ProfileKind = 'compliant' | 'missing' | 'missing-failed';

/**
 * One profile: `count` distinct patches from the catalog, each with a state. A compliant profile has only
 * Installed / InstalledOther; a `missing` one also some Missing patches (with CVE ids); a `missing-failed` one also
 * Failed patches.
 */
function buildProfile(catalog: CatalogPatch[], rand: () => number, count: number, kind: ProfileKind): { entries: string; stats: ProfileStats } {
  const indices = Array.from({ length: catalog.length }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (indices.length - i));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  const counts: Record<string, number> = Object.fromEntries(COUNTER_ORDER.map((n) => [n, 0]));
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = catalog[indices[i]!]!;
    const state: PatchStateName = kind === 'compliant'
      ? (rand() < 0.95 ? 'Installed' : 'InstalledOther')
      : kind === 'missing'
        ? pick(rand, [['Installed', 0.895], ['InstalledOther', 0.05], ['Missing', 0.055]] as const)
        : pick(rand, [['Installed', 0.88], ['InstalledOther', 0.05], ['Missing', 0.055], ['Failed', 0.015]] as const);
    const entry: Record<string, string> = { Title: p.title, KBId: p.kbId, Classification: p.classification, Severity: p.severity, State: state };
    if (state === 'Installed' || state === 'InstalledOther') {
      entry.InstalledTime = iso(BASE_TIME - Math.floor(rand() * 300 * 86_400) * 1000);
    } else {
      entry.InstalledTime = '';
      if (state === 'Missing') entry.CVEIds = p.cves || `CVE-2026-${String(10000 + Math.floor(rand() * 89999))}`;
    }
    parts.push(JSON.stringify(entry));
    counts[`${state}Count`]! += 1;
    if (state === 'Missing' || state === 'Failed') {
      // Critical = the baseline's compliance level for the patch is CRITICAL; the benchmark baseline gives
      // Critical-severity patches that level. Security = classification Security. Other = neither.
      const critical = p.severity === 'Critical';
      const security = p.classification === 'Security';
      if (critical) counts.CriticalNonCompliantCount! += 1;
      if (security) counts.SecurityNonCompliantCount! += 1;
      if (!critical && !security) counts.OtherNonCompliantCount! += 1;
    }
  }
  return { entries: parts.join(','), stats: { rows: count, counts } };
}

function renderProfile(entries: string, stats: ProfileStats): Profile {
  const contentHash = createHash('sha256').update(`[${entries}]`).digest('hex');
  const prefix = Buffer.from(`{"Items":[{"Content":[${entries}],"TypeName":"AWS:PatchCompliance","SchemaVersion":"1.0","ContentHash":"${contentHash}","CaptureTime":"`, 'utf8');
  const prefixHash = createHash('sha256').update(prefix);
  const countersJson = COUNTER_ORDER.map((n) => `"${n}":"${stats.counts[n]}"`).join(',');
  return { prefix, prefixHash, countersJson, stats };
}

export class Fleet {
  readonly options: Required<FleetOptions>;
  readonly #catalog: CatalogPatch[];
  readonly #profiles: Profile[];
  readonly #seedMask: number;
  readonly #baselines: Record<string, string>;

  constructor(options: FleetOptions) {
    this.options = { profiles: 256, ...options };
    const { seed, patches, profiles } = this.options;
    this.#seedMask = fmix32(seed ^ 0x9e3779b9);
    this.#catalog = buildCatalog(seed, Math.max(3000, Math.ceil(patches * 1.5)));
    const rand = prng(seed);
    this.#profiles = [];
    for (let p = 0; p < profiles; p++) {
      // 40 % compliant, 20 % with Missing patches, 40 % with Missing and Failed ones.
      const kind: ProfileKind = p % 5 < 2 ? 'compliant' : p % 5 === 2 ? 'missing' : 'missing-failed';
      const { entries, stats } = buildProfile(this.#catalog, rand, patches, kind);
      this.#profiles.push(renderProfile(entries, stats));
    }
    const baseline = (n: number) => `pb-${hex8(fmix32(seed + n)).slice(0, 1)}${hex8(fmix32(seed * 31 + n))}${hex8(fmix32(seed * 17 + n))}`;
    this.#baselines = { [SMALL_GROUP]: baseline(1), [LARGE_GROUP]: baseline(2), [EXTRA_GROUP]: baseline(3) };
  }

  get total(): number {
    return this.options.smallNodes + this.options.largeNodes;
  }

  /** mi- and 17 hex digits; distinct for distinct i (the last 8 digits are a bijection of i). */
  instanceId(i: number): string {
    return `mi-${(fmix32(i * 7 + this.options.seed) & 0xf).toString(16)}${hex8(fmix32(i + 0x51ed27) ^ this.#seedMask)}${hex8(fmix32(i ^ this.#seedMask))}`;
  }

  patchGroup(i: number): string {
    return i < this.options.smallNodes ? SMALL_GROUP : i < this.total ? LARGE_GROUP : EXTRA_GROUP;
  }

  profileIndex(i: number): number {
    return fmix32(i ^ 0x2545f491) % this.#profiles.length;
  }

  profileStats(i: number): ProfileStats {
    return this.#profiles[this.profileIndex(i)]!.stats;
  }

  /** Node i's PutInventory body. */
  report(i: number): ReportBody {
    return this.#body(i, this.#profiles[this.profileIndex(i)]!);
  }

  /** A node beyond the fleet (index = total), in group bench-paging, with `patches` patches (all kinds of states). */
  extraNode(patches: number): ReportBody & { stats: ProfileStats } {
    const catalog = Math.ceil(patches * 1.5) > this.#catalog.length ? buildCatalog(this.options.seed, Math.ceil(patches * 1.5)) : this.#catalog;
    const { entries, stats } = buildProfile(catalog, prng(this.options.seed ^ 0xe7a), patches, 'missing-failed');
    const profile = renderProfile(entries, stats);
    return { ...this.#body(this.total, profile), stats };
  }

  #body(i: number, profile: Profile): ReportBody {
    const instanceId = this.instanceId(i);
    const group = this.patchGroup(i);
    const h = fmix32(i ^ 0x68e31da4);
    const start = BASE_TIME + (h % 86_400) * 1000;
    const end = start + (20 + (h % 280)) * 1000;
    const startIso = iso(start);
    const endIso = iso(end);
    const snapshot = `${hex8(fmix32(h))}-${hex8(h).slice(0, 4)}-4${hex8(fmix32(h + 1)).slice(0, 3)}-a${hex8(fmix32(h + 2)).slice(0, 3)}-${hex8(fmix32(h + 3))}${hex8(h).slice(4, 8)}`;
    const summary = `{"PatchGroup":"${group}","BaselineId":"${this.#baselines[group]}","SnapshotId":"${snapshot}",${profile.countersJson},"OperationType":"Scan","OperationStartTime":"${startIso}","OperationEndTime":"${endIso}","RebootOption":"NoReboot"}`;
    const summaryHash = createHash('sha256').update(summary).digest('hex');
    const suffix = Buffer.from(
      `${endIso}"},{"TypeName":"AWS:PatchSummary","SchemaVersion":"1.0","CaptureTime":"${endIso}","ContentHash":"${summaryHash}","Content":[${summary}]}],"InstanceId":"${instanceId}"}`,
      'utf8',
    );
    const sha256 = profile.prefixHash.copy().update(suffix).digest('hex');
    return { instanceId, chunks: [profile.prefix, suffix], length: profile.prefix.length + suffix.length, sha256, rows: profile.stats.rows };
  }
}
