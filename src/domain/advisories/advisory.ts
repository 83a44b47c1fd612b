// The normalised security/bugfix advisory record shared by every advisory parser
// (RPM updateinfo.xml, OSV JSON, Debian Security Tracker data), plus the small
// pure helpers those parsers share: date parsing, severity vocabularies,
// distribution keys, RPM EVR formatting and chunk decoding.

/** Which parser produced the record. */
export type AdvisorySource = 'updateinfo' | 'osv' | 'debian-security-tracker';

/** Which version scheme the fixed versions of a record use. */
export type PackageFamily = 'rpm' | 'dpkg' | 'apk';

/** AWS Patch Manager CLASSIFICATION values that RPM notice types map to. */
export const CLASSIFICATIONS = ['Security', 'Bugfix', 'Enhancement', 'Recommended', 'Newpackage'] as const;

/** One package build that fixes the advisory. */
export interface AdvisoryPackage {
  /** Binary package name when the source names one; otherwise the source package name. */
  name: string;
  /** Source package name (Debian/Ubuntu/Alpine source, or the RPM's `src` NEVRA name). */
  sourceName?: string;
  /** RPM only: the split EVR of the fixed build, as given ('0' epochs kept here). */
  epoch?: string;
  version?: string;
  release?: string;
  arch?: string;
  /** Full fixed version in the family's scheme: '1:2.3-4.el8', '3.0.11-1~deb12u2', '10.4.25-r0'. */
  fixedVersion: string;
  /** For OSV records with several ranges: the version the fixed range starts at (omitted when '0'). */
  introducedVersion?: string;
  /** Distribution key (see {@link distributionKey}), e.g. 'debian:12'. */
  distribution?: string;
  /** The raw OSV ecosystem string ('Ubuntu:Pro:14.04:LTS'), kept because the key drops qualifiers. */
  ecosystem?: string;
  /** RPM modularity stream 'name:stream' when the updateinfo collection names exactly one module. */
  module?: string;
  /** RPM file name from updateinfo. */
  filename?: string;
}

/** A package known to be affected by the advisory's issue with no fix (yet) in that distribution. */
export interface UnfixedPackage {
  name: string;
  sourceName?: string;
  distribution?: string;
  ecosystem?: string;
  /** Source-specific status: 'open', 'unfixed', 'no-dsa', 'end-of-life', 'ignored', 'postponed', 'undetermined', 'affected'. */
  status: string;
}

export interface Advisory {
  /**
   * Unique key inside a catalogue: `source|family|id`, plus `|sourceName` for Debian tracker CVE
   * records (which are per CVE and source package). Re-importing a feed yields the same keys.
   */
  key: string;
  /** ALAS2-2018-942, RLSA-2021:2575, DSA-5970-1, DLA-2711-1, USN-6986-1, ALSA-2024:2433, CVE-2016-1585, … */
  id: string;
  source: AdvisorySource;
  family: PackageFamily;
  /** Set when every package (fixed and unfixed) belongs to one distribution. */
  distribution?: string;
  /** 'Security' | 'Bugfix' | 'Enhancement' | 'Recommended' | 'Newpackage' (or a title-cased unknown RPM type). */
  classification: string;
  /**
   * RPM: Critical | Important | Moderate | Medium | Low | None (as the vendor spells it, capitalised; 'None' when absent).
   * dpkg/apk: Critical | High | Medium | Low | Negligible (see docs/advisories.md); undefined when unknown.
   */
  severity?: string;
  /** The raw vendor value the severity came from ('important', 'high**', 'medium', 'CVSS:3.1/…'). */
  vendorSeverity?: string;
  title?: string;
  description?: string;
  /** Epoch seconds, UTC. */
  issued?: number;
  updated?: number;
  cveIds: string[];
  bugzillaIds: string[];
  references?: string[];
  packages: AdvisoryPackage[];
  /** Known-affected packages without a fix; never used for "fixed in" matching. */
  unfixedPackages?: UnfixedPackage[];
  /** updateinfo `<reboot_suggested>` on the update or any of its packages. */
  rebootSuggested?: boolean;
}

export interface ParseOptions {
  /** Called for recoverable problems (skipped entries, unknown values). Never throws by default. */
  onWarning?: (message: string) => void;
}

export type AdvisoryFormatName =
  | 'updateinfo'
  | 'osv'
  | 'debian-tracker-json'
  | 'debian-advisory-list'
  | 'debian-cve-list';

/** A malformed or unsupported input. Carries the format and, where known, the position. */
export class AdvisoryParseError extends Error {
  readonly format: AdvisoryFormatName | 'unknown';
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(
    message: string,
    details: { format: AdvisoryFormatName | 'unknown'; line?: number; column?: number; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AdvisoryParseError';
    this.format = details.format;
    this.line = details.line;
    this.column = details.column;
  }
}

// ---------------------------------------------------------------------------
// Small generic helpers

export function uniq<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function titleCase(value: string): string {
  const v = value.trim().toLowerCase();
  return v.length === 0 ? v : v[0]!.toUpperCase() + v.slice(1);
}

const CVE_RE = /^(?:[A-Z][A-Z0-9]*-)?(CVE-\d{4}-\d{4,})$/i;

/** 'CVE-2024-6119', 'UBUNTU-CVE-2024-6119', 'debian-cve-2024-6119' → 'CVE-2024-6119'; anything else → undefined. */
export function extractCveId(value: string): string | undefined {
  const m = CVE_RE.exec(value.trim());
  return m ? m[1]!.toUpperCase() : undefined;
}

/** Computes the catalogue key documented on {@link Advisory.key}. */
export function advisoryKey(a: Pick<Advisory, 'source' | 'family' | 'id'>, subject?: string): string {
  const parts: string[] = [a.source, a.family, a.id];
  if (subject !== undefined) parts.push(subject);
  return parts.join('|');
}

/** The distribution shared by every fixed and unfixed package, if there is exactly one. */
export function commonDistribution(
  packages: ReadonlyArray<{ distribution?: string | undefined }>,
  unfixed: ReadonlyArray<{ distribution?: string | undefined }> = [],
): string | undefined {
  let found: string | undefined;
  let any = false;
  for (const p of [...packages, ...unfixed]) {
    if (p.distribution === undefined) return undefined;
    if (!any) {
      found = p.distribution;
      any = true;
    } else if (found !== p.distribution) return undefined;
  }
  return found;
}

// ---------------------------------------------------------------------------
// Dates

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

function utcSeconds(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number | undefined {
  if (mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(y, mo, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo) return undefined; // 31 Feb etc.
  return Math.floor(ms / 1000);
}

const ISO_LIKE_RE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;
const DAY_MONTH_YEAR_RE = /^(\d{1,2})[ -]([A-Za-z]{3})[A-Za-z]*[ -](\d{4})$/;

/**
 * Parses the date forms advisory feeds use into epoch seconds (UTC):
 * '2023-01-10 18:20:00', '2018-02-07 18:49', '2019-07-30', ISO 8601 with 'Z' or an offset,
 * epoch seconds ('1588000000'; 13+ digits are taken as milliseconds) and '01 Aug 2002'.
 * Times without a zone are UTC. Returns undefined for anything else.
 */
export function parseAdvisoryDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d{1,16}$/.test(v)) {
    const n = Number(v);
    return v.length >= 13 ? Math.floor(n / 1000) : n;
  }
  let m = ISO_LIKE_RE.exec(v);
  if (m) {
    const base = utcSeconds(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      m[4] === undefined ? 0 : Number(m[4]),
      m[5] === undefined ? 0 : Number(m[5]),
      m[6] === undefined ? 0 : Number(m[6]),
    );
    if (base === undefined) return undefined;
    const zone = m[7];
    if (zone === undefined || /^(Z|UTC|GMT)$/i.test(zone)) return base;
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return undefined;
    const offset = (Number(z[2]) * 60 + Number(z[3] ?? '0')) * 60;
    return z[1] === '+' ? base - offset : base + offset;
  }
  m = DAY_MONTH_YEAR_RE.exec(v);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month === undefined) return undefined;
    return utcSeconds(Number(m[3]), month, Number(m[1]));
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Severity vocabularies

const SEVERITY_RANK: Record<string, number> = {
  critical: 6,
  important: 5,
  high: 5,
  moderate: 4,
  medium: 4,
  low: 3,
  negligible: 2,
  none: 1,
};

/** Orders severities across vocabularies (Important ≡ High, Moderate ≡ Medium); unknown → 0. */
export function severityRank(severity: string | undefined): number {
  return severity === undefined ? 0 : (SEVERITY_RANK[severity.toLowerCase()] ?? 0);
}

/**
 * updateinfo `<severity>`: capitalised as AWS filters spell it ('important' → 'Important'),
 * missing/empty → 'None' (what the SSM agent reports for AL2023 notices without one).
 * Unknown words are title-cased and kept.
 */
export function normaliseRpmSeverity(raw: string | undefined): string {
  const v = raw?.trim() ?? '';
  if (v === '') return 'None';
  return titleCase(v);
}

/**
 * Debian Security Tracker urgency → severity. A trailing '*' / '**' (urgency not yet confirmed) is ignored.
 * unimportant → Negligible, low → Low, medium → Medium, high → High;
 * 'not yet assigned', 'end-of-life' and anything else → undefined.
 */
export function debianUrgencyToSeverity(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim().replace(/\*+$/, '').toLowerCase();
  switch (v) {
    case 'unimportant':
      return 'Negligible';
    case 'low':
    case 'medium':
    case 'high':
      return titleCase(v);
    default:
      return undefined;
  }
}

/** Ubuntu CVE priority → severity: negligible/low/medium/high/critical title-cased; 'untriaged' etc. → undefined. */
export function ubuntuPriorityToSeverity(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  return ['negligible', 'low', 'medium', 'high', 'critical'].includes(v) ? titleCase(v) : undefined;
}

const CVSS3_WEIGHTS: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};

function cvssRoundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** CVSS v3.0/v3.1 base score from a vector string ('CVSS:3.1/AV:N/…'); undefined if it is not a valid v3 vector. */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.trim().split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const metrics: Record<string, string> = {};
  for (const p of parts.slice(1)) {
    const [k, val] = p.split(':');
    if (k !== undefined && val !== undefined) metrics[k] = val;
  }
  const w = (k: string): number | undefined => {
    const val = metrics[k];
    return val === undefined ? undefined : CVSS3_WEIGHTS[k]?.[val];
  };
  const scope = metrics['S'];
  if (scope !== 'U' && scope !== 'C') return undefined;
  const changed = scope === 'C';
  const prMap: Record<string, number> = changed ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 };
  const av = w('AV');
  const ac = w('AC');
  const ui = w('UI');
  const c = w('C');
  const i = w('I');
  const a = w('A');
  const pr = prMap[metrics['PR'] ?? ''];
  if (av === undefined || ac === undefined || ui === undefined || c === undefined || i === undefined || a === undefined || pr === undefined) {
    return undefined;
  }
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return cvssRoundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
}

/** CVSS v3 qualitative rating: None / Low / Medium / High / Critical. */
export function cvssRating(score: number): string {
  if (score === 0) return 'None';
  if (score < 4) return 'Low';
  if (score < 7) return 'Medium';
  if (score < 9) return 'High';
  return 'Critical';
}

// ---------------------------------------------------------------------------
// Distributions

/** Debian release codenames → os-release VERSION_ID (major). 'sid' and unknown codenames stay names. */
export const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  buzz: '1.1', rex: '1.2', bo: '1.3', hamm: '2.0', slink: '2.1', potato: '2.2', woody: '3.0', sarge: '3.1',
  etch: '4', lenny: '5', squeeze: '6', wheezy: '7', jessie: '8', stretch: '9', buster: '10',
  bullseye: '11', bookworm: '12', trixie: '13', forky: '14', duke: '15',
};

/** 'bookworm' → 'debian:12', 'sid' → 'debian:sid', unknown 'foo' → 'debian:foo'. */
export function debianDistribution(codename: string): string {
  const c = codename.trim().toLowerCase();
  return `debian:${DEBIAN_CODENAMES[c] ?? c}`;
}

/**
 * The distribution key used across the catalogue: `<os-release ID>:<version>` so that a node's
 * /etc/os-release maps onto it directly. The version is the major VERSION_ID, except
 * Ubuntu ('22.04') and Alpine ('3.18', from '3.18.4' or 'v3.18'), which keep major.minor.
 * Examples: debian:12, ubuntu:22.04, alpine:3.18, amzn:2, amzn:2023, rocky:8, almalinux:9, fedora:29.
 */
export function distributionKey(osId: string, versionId: string): string {
  const id = osId.trim().toLowerCase();
  let v = versionId.trim().toLowerCase().replace(/^v(?=\d)/, '');
  const nums = v.split('.');
  if (/^\d+(\.\d+)*$/.test(v)) {
    if (id === 'ubuntu' || id === 'alpine') v = nums.slice(0, 2).join('.');
    else if (id === 'debian' && Number(nums[0]) < 4) v = nums.slice(0, 2).join('.');
    else v = nums[0]!;
  }
  return `${id}:${v}`;
}

const PRODUCT_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/^amazon[ -]linux[ -](\d+)$/i, 'amzn'],
  [/^rocky[ -]linux[ -](\d+(?:\.\d+)?)$/i, 'rocky'],
  [/^almalinux[ -](\d+(?:\.\d+)?)$/i, 'almalinux'],
  [/^red hat enterprise linux(?: \w+)? (\d+(?:\.\d+)?)$/i, 'rhel'],
  [/^centos(?: linux| stream)? (\d+)$/i, 'centos'],
  [/^oracle linux (\d+)$/i, 'ol'],
  [/^fedora (\d+)$/i, 'fedora'],
];

/** 'Rocky Linux 8' → 'rocky:8', 'amazon-linux-2023' → 'amzn:2023', 'Fedora 29' → 'fedora:29'; else undefined. */
export function distributionFromProductName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const n = name.trim();
  for (const [re, id] of PRODUCT_NAMES) {
    const m = re.exec(n);
    if (m) return distributionKey(id, m[1]!);
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// RPM EVR

/** '[epoch:]version-release'; an epoch of '0' or none is left out. */
export function formatRpmEvr(epoch: string | undefined, version: string, release: string | undefined): string {
  const e = epoch !== undefined && epoch !== '' && epoch !== '0' ? `${epoch}:` : '';
  return release !== undefined && release !== '' ? `${e}${version}-${release}` : `${e}${version}`;
}

/** '1:2.3-4.el8' → { epoch: '1', version: '2.3', release: '4.el8' }. */
export function splitRpmEvr(evr: string): { epoch?: string; version: string; release?: string } {
  let rest = evr.trim();
  let epoch: string | undefined;
  const colon = rest.indexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const out: { epoch?: string; version: string; release?: string } =
    dash > 0 ? { version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { version: rest };
  if (epoch !== undefined) out.epoch = epoch;
  return out;
}

/** 'firewalld-0.8.2-7.el8_4.src.rpm' → 'firewalld'; anything that is not a src/nosrc rpm file name → undefined. */
export function sourceNameFromSrcRpm(src: string | undefined): string | undefined {
  if (src === undefined) return undefined;
  const base = src.trim().split('/').pop() ?? '';
  const m = /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(base);
  return m ? m[1] : undefined;
}

// ---------------------------------------------------------------------------
// Chunk decoding

export type ChunkSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** Decodes a stream of UTF-8 byte/string chunks into strings, splitting no code point and dropping a leading BOM. */
export async function* decodeChunks(chunks: ChunkSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of chunks as AsyncIterable<string | Uint8Array>) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (text.length > 0) yield text;
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield tail;
}
