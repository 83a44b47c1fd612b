// Advisory labels for scan candidates: which imported advisories a candidate update fixes, and the labels they
// give it (CVE ids, advisory ids, Bugzilla ids, severity, classification, release time). A scan's candidate that
// carries no advisory data of its own is matched against the catalogue by package family, distribution, binary
// or source name and version: an advisory applies when `installed < fixed ≤ candidate`. See docs/advisories.md
// ("Labels on evaluation"). Pure: the caller supplies the catalogue's fixes (src/services/advisory-labels.ts
// builds them from the store and shares the labelled objects between nodes).

import { osFamily } from '../baseline.ts';
import { compareVersions, type VersionScheme } from '../versions/index.ts';
import type { ScanPackage } from '../evaluation/types.ts';
import { distributionKey, extractCveId, severityRank, type PackageFamily } from './advisory.ts';

/** The advisory-level facts labelling reads (one object per advisory, shared by its fixes). */
export interface LabelAdvisory {
  id: string;
  classification: string;
  severity?: string;
  /** Epoch seconds. */
  issued?: number;
  cveIds: readonly string[];
  bugzillaIds: readonly string[];
}

/** One fixed package build of an advisory, as matching reads it. */
export interface CatalogueFix {
  advisory: LabelAdvisory;
  name: string;
  sourceName?: string;
  distribution?: string;
  fixedVersion: string;
  /** OSV multi-range records: the fixed range starts here (an older installed version is not affected by it). */
  introducedVersion?: string;
  arch?: string;
}

/** The labels a set of advisories gives a candidate. */
export interface AdvisoryLabels {
  cveIds: string[];
  advisoryIds: string[];
  bugzillaIds: string[];
  classification: string;
  severity?: string;
  releaseTime?: number;
}

/** The package family whose advisories apply to an operating system: dpkg for Debian/Ubuntu/Raspbian, rpm for the RPM family and SUSE. */
export function advisoryFamilyOf(operatingSystem: string): PackageFamily | undefined {
  switch (osFamily(operatingSystem)) {
    case 'apt':
      return 'dpkg';
    case 'yum':
    case 'suse':
      return 'rpm';
    default:
      return undefined;
  }
}

/** os-release ID per operating system (Raspbian is a rebuild of Debian, so Debian's advisories apply to it). */
const OS_RELEASE_ID: Readonly<Record<string, string>> = {
  DEBIAN: 'debian',
  RASPBIAN: 'debian',
  UBUNTU: 'ubuntu',
  REDHAT_ENTERPRISE_LINUX: 'rhel',
  CENTOS: 'centos',
  ORACLE_LINUX: 'ol',
  ROCKY_LINUX: 'rocky',
  ALMA_LINUX: 'almalinux',
  SUSE: 'sles',
};

/**
 * The node's distribution key (docs/advisories.md "Distribution keys") from its OS and product:
 * DEBIAN Debian12 → debian:12, UBUNTU Ubuntu22.04 → ubuntu:22.04, AMAZON_LINUX_2023 → amzn:2023,
 * AMAZON_LINUX (any 20xx.yy product) → amzn:1, ROCKY_LINUX RockyLinux8.5 → rocky:8. Undefined when unknown.
 */
export function nodeDistribution(operatingSystem: string, product: string): string | undefined {
  switch (operatingSystem) {
    case 'AMAZON_LINUX':
      return 'amzn:1';
    case 'AMAZON_LINUX_2':
      return 'amzn:2';
    case 'AMAZON_LINUX_2022':
      return 'amzn:2022';
    case 'AMAZON_LINUX_2023':
      return 'amzn:2023';
  }
  const id = OS_RELEASE_ID[operatingSystem];
  if (id === undefined) return undefined;
  const m = /(\d+(?:\.\d+)*)$/.exec(product.trim());
  return m ? distributionKey(id, m[1]!) : undefined;
}

/** The candidate already carries advisory data from its scan (then the scan's labels stand). */
export function hasAdvisoryData(pkg: ScanPackage): boolean {
  return (
    (pkg.cveIds !== undefined && pkg.cveIds.length > 0) ||
    (pkg.classification !== undefined && pkg.classification !== '') ||
    (pkg.severity !== undefined && pkg.severity !== '') ||
    (pkg.advisoryIds !== undefined && pkg.advisoryIds.length > 0) ||
    pkg.releaseTime !== undefined
  );
}

/** The version scheme of a package family. */
export function schemeOf(family: PackageFamily): VersionScheme {
  return family;
}

/** Fixes of one family by binary name and by source name: what a candidate may match. */
export class FixIndex {
  readonly family: PackageFamily;
  readonly #byName = new Map<string, CatalogueFix[]>();
  readonly #bySource = new Map<string, CatalogueFix[]>();
  #size = 0;

  constructor(family: PackageFamily, fixes: Iterable<CatalogueFix> = []) {
    this.family = family;
    for (const f of fixes) this.add(f);
  }

  get size(): number {
    return this.#size;
  }

  add(fix: CatalogueFix): void {
    push(this.#byName, fix.name, fix);
    if (fix.sourceName !== undefined && fix.sourceName !== fix.name) push(this.#bySource, fix.sourceName, fix);
    this.#size++;
  }

  /** Whether any fix names this binary or source package. */
  names(name: string): boolean {
    return this.#byName.has(name) || this.#bySource.has(name);
  }

  /**
   * Fixes that name the candidate: by binary name, or by source name (the candidate's, else the installed
   * package's — apt's candidate lists carry none — else, for dpkg, the binary name itself, as Debian does when a
   * binary is built from a source of the same name).
   */
  fixesFor(candidate: ScanPackage, installed: ScanPackage | undefined): CatalogueFix[] {
    const source = candidate.sourceName ?? installed?.sourceName ?? (this.family === 'rpm' ? undefined : candidate.name);
    const byName = this.#byName.get(candidate.name);
    const bySourceName = source === undefined ? undefined : this.#byName.get(source);
    const bySource = source === undefined ? undefined : this.#bySource.get(source);
    if (bySourceName === undefined && bySource === undefined) return byName ?? [];
    const out = new Set<CatalogueFix>(byName);
    // A fix named after the source package (the tracker and DSA lists name sources) applies to its binaries.
    if (source !== candidate.name) for (const f of bySourceName ?? []) if (f.sourceName === undefined || f.sourceName === source) out.add(f);
    for (const f of bySource ?? []) out.add(f);
    return [...out];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** compareVersions that answers undefined for a version the scheme refuses (such a fix never matches). */
function compare(scheme: VersionScheme, a: string, b: string): number | undefined {
  try {
    return compareVersions(scheme, a, b);
  } catch {
    return undefined;
  }
}

const WILDCARD_ARCHES = new Set(['noarch', 'src', 'nosrc', 'all', 'any']);

/**
 * The advisories whose fixes apply to `candidate` (each once, in the order first found): the fix's distribution
 * equals the node's when both are known, its architecture equals the candidate's when both are specific, and
 * `installed < fixed ≤ candidate` (with no installed version: `fixed ≤ candidate`). A fix with an introduced
 * version does not apply to an installed version older than it.
 */
export function matchingAdvisories(
  scheme: VersionScheme, fixes: readonly CatalogueFix[], candidate: ScanPackage, installed: ScanPackage | undefined, distribution: string | undefined,
): LabelAdvisory[] {
  const out: LabelAdvisory[] = [];
  for (const f of fixes) {
    if (distribution !== undefined && f.distribution !== undefined && f.distribution !== distribution) continue;
    if (f.arch !== undefined && !WILDCARD_ARCHES.has(f.arch) && !WILDCARD_ARCHES.has(candidate.arch) && f.arch !== candidate.arch) continue;
    const upTo = compare(scheme, f.fixedVersion, candidate.version);
    if (upTo === undefined || upTo > 0) continue; // fixed > candidate: the candidate does not carry the fix
    if (installed !== undefined) {
      const since = compare(scheme, installed.version, f.fixedVersion);
      if (since === undefined || since >= 0) continue; // installed ≥ fixed: the node already has the fix
      if (f.introducedVersion !== undefined) {
        const intro = compare(scheme, installed.version, f.introducedVersion);
        if (intro === undefined || intro < 0) continue;
      }
    }
    if (!out.includes(f.advisory)) out.push(f.advisory);
  }
  return out;
}

/** Orders CVE ids by year, then number ('CVE-2024-9999' before 'CVE-2024-10000'). */
export function compareCveIds(a: string, b: string): number {
  const ka = cveSortKey(a);
  const kb = cveSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** 'CVE-2024-123' → 'CVE-2024-0000000123': a string key that sorts CVE ids by year, then number. */
export function cveSortKey(id: string): string {
  const m = /^CVE-(\d{4})-(\d+)$/i.exec(id);
  return m ? `CVE-${m[1]}-${m[2]!.padStart(10, '0')}` : id;
}

const NOTICE_ORDER = ['Security', 'Bugfix', 'Enhancement', 'Recommended', 'Newpackage'];

/** The notice type of non-security advisories: Bugfix, Enhancement, Recommended, Newpackage in that order, then others by name. */
function noticeRank(classification: string): number {
  const i = NOTICE_ORDER.indexOf(classification);
  return i < 0 ? NOTICE_ORDER.length : i;
}

/**
 * The labels of a non-empty set of advisories: the union of their CVE ids (by year and number), advisory ids
 * (sorted; an id that is itself a CVE id — a tracker record — counts only as a CVE), Bugzilla ids; the highest
 * severity (across vocabularies, Important ≡ High); `Security` when any advisory is a security advisory, else the
 * notice type by the order Bugfix, Enhancement, Recommended, Newpackage; the earliest issued date as release time.
 */
export function labelsOf(advisories: readonly LabelAdvisory[]): AdvisoryLabels {
  const cves = new Set<string>();
  const ids = new Set<string>();
  const bugs = new Set<string>();
  let severity: string | undefined;
  let classification: string | undefined;
  let releaseTime: number | undefined;
  for (const a of advisories) {
    for (const c of a.cveIds) cves.add(c);
    if (extractCveId(a.id) === undefined) ids.add(a.id);
    for (const b of a.bugzillaIds) bugs.add(b);
    if (a.severity !== undefined && a.severity !== '' && (severity === undefined || severityRank(a.severity) > severityRank(severity))) severity = a.severity;
    if (classification === undefined || noticeRank(a.classification) < noticeRank(classification)
      || (noticeRank(a.classification) === noticeRank(classification) && a.classification < classification)) classification = a.classification;
    if (a.issued !== undefined && (releaseTime === undefined || a.issued < releaseTime)) releaseTime = a.issued;
  }
  const labels: AdvisoryLabels = {
    cveIds: [...cves].sort(compareCveIds),
    advisoryIds: [...ids].sort(),
    bugzillaIds: [...bugs].sort((x, y) => (x.length - y.length) || (x < y ? -1 : x > y ? 1 : 0)),
    classification: classification ?? 'Security',
  };
  if (severity !== undefined) labels.severity = severity;
  if (releaseTime !== undefined) labels.releaseTime = releaseTime;
  return labels;
}

/**
 * A copy of the candidate with the labels applied. Only the advisory fields change: `security` (apt: the pocket
 * the version comes from, as AWS's agent decides) and everything else the scan said stay as they were.
 */
export function applyLabels(candidate: ScanPackage, labels: AdvisoryLabels): ScanPackage {
  const out: ScanPackage = { ...candidate, classification: labels.classification };
  if (labels.cveIds.length > 0) out.cveIds = labels.cveIds;
  if (labels.advisoryIds.length > 0) out.advisoryIds = labels.advisoryIds;
  if (labels.bugzillaIds.length > 0 && (candidate.bugzillaIds === undefined || candidate.bugzillaIds.length === 0)) out.bugzillaIds = labels.bugzillaIds;
  if (labels.severity !== undefined) out.severity = labels.severity;
  if (labels.releaseTime !== undefined) out.releaseTime = labels.releaseTime;
  return out;
}

/**
 * The labelled candidate, or undefined when nothing changes: the candidate has advisory data of its own, or no
 * fix in `index` applies to it (see {@link matchingAdvisories}). `distribution` is the node's key (undefined:
 * unknown, any distribution matches).
 */
export function labelCandidate(
  index: FixIndex, candidate: ScanPackage, installed: ScanPackage | undefined, distribution: string | undefined,
): ScanPackage | undefined {
  const advisories = candidateAdvisories(index, candidate, installed, distribution);
  return advisories.length === 0 ? undefined : applyLabels(candidate, labelsOf(advisories));
}

/**
 * The advisories that label the candidate (empty when it has advisory data of its own or none applies). Callers
 * that share labelled objects key them by this list: installed versions that select the same advisories give the
 * same labels.
 */
export function candidateAdvisories(
  index: FixIndex, candidate: ScanPackage, installed: ScanPackage | undefined, distribution: string | undefined,
): LabelAdvisory[] {
  if (hasAdvisoryData(candidate)) return [];
  const fixes = index.fixesFor(candidate, installed);
  if (fixes.length === 0) return [];
  return matchingAdvisories(schemeOf(index.family), fixes, candidate, installed, distribution);
}
