// Parser for OSV-format advisory records (https://ossf.github.io/osv-schema/) of operating-system
// ecosystems — Debian DSA/DLA/DEBIAN-CVE, Ubuntu USN/UBUNTU-CVE, Alpine, AlmaLinux/Rocky/Red Hat,
// SUSE — into normalised Advisory records. Non-OS ecosystems (npm, PyPI, …) are ignored.

import {
  AdvisoryParseError,
  advisoryKey,
  asString,
  commonDistribution,
  cvss3BaseScore,
  cvssRating,
  debianUrgencyToSeverity,
  distributionKey,
  extractCveId,
  isRecord,
  parseAdvisoryDate,
  severityRank,
  splitRpmEvr,
  titleCase,
  ubuntuPriorityToSeverity,
  uniq,
} from './advisory.ts';
import type { Advisory, AdvisoryPackage, PackageFamily, ParseOptions, UnfixedPackage } from './advisory.ts';

export interface OsvEcosystemInfo {
  family: PackageFamily;
  /** os-release style distro id used in the distribution key. */
  osId: string;
  /** Distribution key, when the ecosystem string names a release. */
  distribution?: string;
}

/** OSV ecosystem base name → package family and os-release id. */
const OS_ECOSYSTEMS: Readonly<Record<string, { family: PackageFamily; osId: string }>> = {
  debian: { family: 'dpkg', osId: 'debian' },
  ubuntu: { family: 'dpkg', osId: 'ubuntu' },
  alpine: { family: 'apk', osId: 'alpine' },
  wolfi: { family: 'apk', osId: 'wolfi' },
  chainguard: { family: 'apk', osId: 'chainguard' },
  almalinux: { family: 'rpm', osId: 'almalinux' },
  'rocky linux': { family: 'rpm', osId: 'rocky' },
  'red hat': { family: 'rpm', osId: 'rhel' },
  'opensuse': { family: 'rpm', osId: 'opensuse' },
  suse: { family: 'rpm', osId: 'sles' },
  mageia: { family: 'rpm', osId: 'mageia' },
  openeuler: { family: 'rpm', osId: 'openeuler' },
};

/**
 * 'Debian:12' → dpkg debian:12; 'Ubuntu:22.04:LTS' and 'Ubuntu:Pro:14.04:LTS' → dpkg ubuntu:XX.YY;
 * 'Alpine:v3.18' → apk alpine:3.18; 'AlmaLinux:8' → rpm almalinux:8; 'Red Hat:enterprise_linux:9::appstream' → rpm rhel:9.
 * Returns undefined for non-OS ecosystems.
 */
export function parseOsvEcosystem(ecosystem: string): OsvEcosystemInfo | undefined {
  const parts = ecosystem.split(':');
  const base = OS_ECOSYSTEMS[(parts[0] ?? '').trim().toLowerCase()];
  if (base === undefined) return undefined;
  const info: OsvEcosystemInfo = { family: base.family, osId: base.osId };
  const version = parts.slice(1).find((p) => /^v?\d+(\.\d+)*$/i.test(p.trim()));
  if (version !== undefined) info.distribution = distributionKey(base.osId, version);
  else if (parts[1] !== undefined && /^(edge|sid|unstable|rolling)$/i.test(parts[1].trim())) {
    info.distribution = `${base.osId}:${parts[1].trim().toLowerCase()}`;
  }
  return info;
}

/** Summary prefixes Red Hat derived feeds use: 'Moderate: avahi security update'. */
const RPM_SUMMARY_SEVERITY_RE = /^(Critical|Important|Moderate|Low):/i;

function classificationFor(id: string, family: PackageFamily): string {
  if (family === 'rpm') {
    if (/^[A-Z]{1,4}BA[-:]/.test(id)) return 'Bugfix';
    if (/^[A-Z]{1,4}EA[-:]/.test(id)) return 'Enhancement';
  }
  return 'Security';
}

/** Maps a vendor severity string to the family's vocabulary (see docs/advisories.md). */
function vendorSeverity(raw: string, family: PackageFamily, osId: string): string | undefined {
  if (family === 'dpkg') {
    return osId === 'ubuntu' ? ubuntuPriorityToSeverity(raw) : (debianUrgencyToSeverity(raw) ?? ubuntuPriorityToSeverity(raw));
  }
  const v = raw.trim();
  if (v === '' || /^(unknown|not yet assigned|untriaged)$/i.test(v)) return undefined;
  return titleCase(v);
}

/** CVSS rating in the family's vocabulary: RPM feeds say Important/Moderate where CVSS says High/Medium. */
function cvssSeverity(vector: string, family: PackageFamily): string | undefined {
  const score = cvss3BaseScore(vector);
  if (score === undefined) return undefined;
  const rating = cvssRating(score);
  if (family !== 'rpm') return rating;
  return rating === 'High' ? 'Important' : rating === 'Medium' ? 'Moderate' : rating;
}

interface SeverityCandidate {
  severity: string;
  raw: string;
}

function better(a: SeverityCandidate | undefined, b: SeverityCandidate | undefined): SeverityCandidate | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return severityRank(b.severity) > severityRank(a.severity) ? b : a;
}

/** Collects severities from an OSV `severity` array: vendor ('Ubuntu') entries and CVSS v3 vectors separately. */
function scanSeverityArray(
  value: unknown,
  family: PackageFamily,
  osId: string,
  acc: { vendor?: SeverityCandidate; cvss?: SeverityCandidate },
): void {
  if (!Array.isArray(value)) return;
  for (const s of value) {
    if (!isRecord(s)) continue;
    const type = asString(s['type']) ?? '';
    const score = asString(s['score']);
    if (score === undefined) continue;
    if (/^CVSS_V3/i.test(type)) {
      const sev = cvssSeverity(score, family);
      if (sev !== undefined) acc.cvss = better(acc.cvss, { severity: sev, raw: score });
    } else if (!/^CVSS/i.test(type)) {
      const sev = vendorSeverity(score, family, osId);
      if (sev !== undefined) acc.vendor = better(acc.vendor, { severity: sev, raw: score });
    }
  }
}

function collectCves(record: Record<string, unknown>, out: string[]): void {
  const id = asString(record['id']);
  if (id !== undefined) {
    const c = extractCveId(id);
    if (c) out.push(c);
  }
  for (const field of ['aliases', 'upstream', 'related']) {
    const list = record[field];
    if (!Array.isArray(list)) continue;
    for (const v of list) {
      if (typeof v !== 'string') continue;
      const c = extractCveId(v);
      if (c) out.push(c);
    }
  }
}

const BUGZILLA_URL_RE = /bugzilla\.[^/]+\/(?:show_bug\.cgi\?id=)?(\d+)$/i;

interface FamilyGroup {
  family: PackageFamily;
  packages: AdvisoryPackage[];
  unfixed: UnfixedPackage[];
  severity: { vendor?: SeverityCandidate; cvss?: SeverityCandidate };
  osIds: Set<string>;
}

function recordToAdvisories(record: unknown, options: ParseOptions, where: string): Advisory[] {
  if (!isRecord(record)) {
    throw new AdvisoryParseError(`OSV: ${where} is not a JSON object`, { format: 'osv' });
  }
  const id = asString(record['id']);
  if (id === undefined || id.trim() === '') {
    throw new AdvisoryParseError(`OSV: ${where} has no string "id" — not an OSV record`, { format: 'osv' });
  }
  const affected = record['affected'] ?? [];
  if (!Array.isArray(affected)) {
    throw new AdvisoryParseError(`OSV ${id}: "affected" must be an array`, { format: 'osv' });
  }
  const warn = (m: string): void => options.onWarning?.(`OSV ${id}: ${m}`);
  if (asString(record['withdrawn']) !== undefined) {
    warn('withdrawn; skipped');
    return [];
  }

  const groups = new Map<PackageFamily, FamilyGroup>();
  const cveIds: string[] = [];
  collectCves(record, cveIds);

  for (const [index, entry] of affected.entries()) {
    if (!isRecord(entry) || !isRecord(entry['package'])) {
      warn(`affected[${index}] has no package; skipped`);
      continue;
    }
    const ecosystem = asString(entry['package']['ecosystem']);
    const name = asString(entry['package']['name']);
    if (ecosystem === undefined || name === undefined || name === '') {
      warn(`affected[${index}] has no package ecosystem/name; skipped`);
      continue;
    }
    const eco = parseOsvEcosystem(ecosystem);
    if (eco === undefined) continue; // not an OS ecosystem
    let g = groups.get(eco.family);
    if (g === undefined) {
      g = { family: eco.family, packages: [], unfixed: [], severity: {}, osIds: new Set() };
      groups.set(eco.family, g);
    }
    g.osIds.add(eco.osId);

    // Severity hints attached to the affected entry.
    for (const bag of [entry['ecosystem_specific'], entry['database_specific']]) {
      if (!isRecord(bag)) continue;
      for (const field of ['severity', 'urgency', 'priority']) {
        const raw = asString(bag[field]);
        if (raw === undefined) continue;
        const sev = vendorSeverity(raw, eco.family, eco.osId);
        if (sev !== undefined) g.severity.vendor = better(g.severity.vendor, { severity: sev, raw });
      }
      scanSeverityArray(bag['severity'], eco.family, eco.osId, g.severity);
      const cvesMap = bag['cves_map'];
      if (isRecord(cvesMap) && Array.isArray(cvesMap['cves'])) {
        for (const c of cvesMap['cves']) {
          if (!isRecord(c)) continue;
          const cid = asString(c['id']);
          const cve = cid === undefined ? undefined : extractCveId(cid);
          if (cve) cveIds.push(cve);
          scanSeverityArray(c['severity'], eco.family, eco.osId, g.severity);
        }
      }
    }
    scanSeverityArray(entry['severity'], eco.family, eco.osId, g.severity);

    // Fixed versions from ECOSYSTEM ranges.
    const fixes: Array<{ fixed: string; introduced?: string }> = [];
    let openRange = false;
    const ranges = Array.isArray(entry['ranges']) ? entry['ranges'] : [];
    for (const range of ranges) {
      if (!isRecord(range)) continue;
      const type = asString(range['type']);
      if (type !== undefined && type !== 'ECOSYSTEM') continue;
      const events = Array.isArray(range['events']) ? range['events'] : [];
      let introduced: string | undefined;
      let inRange = false;
      for (const ev of events) {
        if (!isRecord(ev)) continue;
        const intro = asString(ev['introduced']);
        const fixed = asString(ev['fixed']);
        const last = asString(ev['last_affected']);
        if (intro !== undefined) {
          introduced = intro;
          inRange = true;
        } else if (fixed !== undefined) {
          const f: { fixed: string; introduced?: string } = { fixed };
          if (introduced !== undefined && introduced !== '0') f.introduced = introduced;
          fixes.push(f);
          inRange = false;
        } else if (last !== undefined) {
          openRange = true;
          inRange = false;
        }
      }
      if (inRange) openRange = true;
    }
    if (ranges.length === 0 && Array.isArray(entry['versions']) && entry['versions'].length > 0) openRange = true;

    const isSourceNamed = eco.family !== 'rpm'; // Debian/Ubuntu/Alpine OSV packages are source packages
    const binaries = collectBinaries(entry['ecosystem_specific']);
    for (const f of fixes) {
      const targets: Array<{ name: string; version: string }> =
        binaries.length > 0
          ? binaries.map((b) => ({ name: b.name, version: fixes.length === 1 && b.version ? b.version : f.fixed }))
          : [{ name, version: f.fixed }];
      for (const t of targets) {
        const p: AdvisoryPackage = { name: t.name, fixedVersion: t.version, ecosystem };
        if (isSourceNamed) p.sourceName = name;
        if (eco.family === 'rpm') Object.assign(p, splitRpmEvr(t.version));
        if (f.introduced !== undefined) p.introducedVersion = f.introduced;
        if (eco.distribution !== undefined) p.distribution = eco.distribution;
        g.packages.push(p);
      }
    }
    if (openRange) {
      const u: UnfixedPackage = { name, ecosystem, status: 'affected' };
      if (isSourceNamed) u.sourceName = name;
      if (eco.distribution !== undefined) u.distribution = eco.distribution;
      g.unfixed.push(u);
    }
  }

  if (groups.size === 0) return [];

  const references: string[] = [];
  const bugzillaIds: string[] = [];
  if (Array.isArray(record['references'])) {
    for (const r of record['references']) {
      const url = isRecord(r) ? asString(r['url']) : undefined;
      if (url === undefined) continue;
      references.push(url);
      const bz = BUGZILLA_URL_RE.exec(url);
      if (bz) bugzillaIds.push(bz[1]!);
    }
  }
  const summary = asString(record['summary'])?.trim();
  const details = asString(record['details']);
  const published = asString(record['published']);
  const modified = asString(record['modified']);
  const issued = parseAdvisoryDate(published);
  const updated = parseAdvisoryDate(modified);
  if (published !== undefined && issued === undefined) warn(`unparseable published date "${published}"`);
  if (modified !== undefined && updated === undefined) warn(`unparseable modified date "${modified}"`);

  const out: Advisory[] = [];
  for (const g of groups.values()) {
    const sev: { vendor?: SeverityCandidate; cvss?: SeverityCandidate } = { ...g.severity };
    const osId = g.osIds.size === 1 ? [...g.osIds][0]! : '';
    scanSeverityArray(record['severity'], g.family, osId, sev);
    if (isRecord(record['database_specific'])) {
      for (const field of ['severity', 'urgency', 'priority']) {
        const raw = asString(record['database_specific'][field]);
        const s = raw === undefined ? undefined : vendorSeverity(raw, g.family, osId);
        if (s !== undefined && raw !== undefined) sev.vendor = better(sev.vendor, { severity: s, raw });
      }
    }
    if (sev.vendor === undefined && g.family === 'rpm' && summary !== undefined) {
      const m = RPM_SUMMARY_SEVERITY_RE.exec(summary);
      if (m) sev.vendor = { severity: titleCase(m[1]!), raw: m[1]! };
    }
    const chosen = sev.vendor ?? sev.cvss;

    const adv: Advisory = {
      key: '',
      id,
      source: 'osv',
      family: g.family,
      classification: classificationFor(id, g.family),
      cveIds: uniq(cveIds),
      bugzillaIds: uniq(bugzillaIds),
      packages: g.packages,
    };
    const dist = commonDistribution(g.packages, g.unfixed);
    if (dist !== undefined) adv.distribution = dist;
    if (chosen !== undefined) {
      adv.severity = chosen.severity;
      adv.vendorSeverity = chosen.raw;
    }
    if (summary) adv.title = summary;
    if (details !== undefined && details.trim() !== '') adv.description = details;
    if (issued !== undefined) adv.issued = issued;
    if (updated !== undefined) adv.updated = updated;
    if (references.length > 0) adv.references = uniq(references);
    if (g.unfixed.length > 0) adv.unfixedPackages = g.unfixed;
    adv.key = advisoryKey(adv);
    out.push(adv);
  }
  return out;
}

function collectBinaries(bag: unknown): Array<{ name: string; version?: string }> {
  if (!isRecord(bag) || !Array.isArray(bag['binaries'])) return [];
  const out: Array<{ name: string; version?: string }> = [];
  for (const b of bag['binaries']) {
    if (!isRecord(b)) continue;
    const name = asString(b['binary_name']);
    if (name === undefined || name === '') continue;
    const version = asString(b['binary_version']);
    out.push(version === undefined ? { name } : { name, version });
  }
  return out;
}

/**
 * Parses one OSV record, or a JSON array of records, given as text, bytes or an already-parsed value.
 * Returns one Advisory per package family present (normally exactly one); records that only affect
 * non-OS ecosystems, and withdrawn records, yield []. Throws AdvisoryParseError for invalid JSON or a value that is not OSV.
 */
export function parseOsv(input: string | Uint8Array | unknown, options: ParseOptions = {}): Advisory[] {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    let text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new AdvisoryParseError(`OSV: invalid JSON: ${err instanceof Error ? err.message : String(err)}`, {
        format: 'osv',
        cause: err,
      });
    }
  }
  if (Array.isArray(value)) {
    return value.flatMap((r, i) => recordToAdvisories(r, options, `record [${i}]`));
  }
  return recordToAdvisories(value, options, 'the document');
}
