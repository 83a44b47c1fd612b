// Parsers for Debian Security Tracker data: the JSON dump
// (https://security-tracker.debian.org/tracker/data/json, streamed package by package) and the
// raw text lists of the tracker repository (data/DSA/list, data/DLA/list, data/CVE/list),
// producing normalised Advisory records with per-release fixed versions.

import {
  AdvisoryParseError,
  advisoryKey,
  asString,
  commonDistribution,
  debianDistribution,
  debianUrgencyToSeverity,
  decodeChunks,
  extractCveId,
  isRecord,
  parseAdvisoryDate,
  severityRank,
  uniq,
} from './advisory.ts';
import type { Advisory, AdvisoryPackage, ChunkSource, ParseOptions, UnfixedPackage } from './advisory.ts';

const TRACKER_URL = 'https://security-tracker.debian.org/tracker/';
const DEBIAN_BUG_URL = 'https://bugs.debian.org/';

/** Tracker statuses that mean "this release was never affected / no longer ships the package". */
const NOT_AFFECTED = new Set(['not-affected', 'removed', 'itp']);

interface ReleaseState {
  distribution: string;
  fixedVersion?: string;
  /** Status for unfixed releases. */
  status?: string;
  urgency?: string;
}

function buildCveRecord(
  cveOrTempId: string,
  sourcePackage: string,
  releases: ReleaseState[],
  extra: { description?: string; debianBugs?: string[]; references?: string[] },
): Advisory | undefined {
  const packages: AdvisoryPackage[] = [];
  const unfixed: UnfixedPackage[] = [];
  let best: { severity: string; raw: string } | undefined;
  for (const r of releases) {
    if (r.fixedVersion !== undefined) {
      packages.push({
        name: sourcePackage,
        sourceName: sourcePackage,
        fixedVersion: r.fixedVersion,
        distribution: r.distribution,
      });
    } else if (r.status !== undefined) {
      unfixed.push({ name: sourcePackage, sourceName: sourcePackage, distribution: r.distribution, status: r.status });
    } else {
      continue;
    }
    const sev = debianUrgencyToSeverity(r.urgency);
    if (sev !== undefined && r.urgency !== undefined && (best === undefined || severityRank(sev) > severityRank(best.severity))) {
      best = { severity: sev, raw: r.urgency };
    }
  }
  if (packages.length === 0 && unfixed.length === 0) return undefined;
  const cve = extractCveId(cveOrTempId);
  const adv: Advisory = {
    key: '',
    id: cveOrTempId,
    source: 'debian-security-tracker',
    family: 'dpkg',
    classification: 'Security',
    cveIds: cve ? [cve] : [],
    bugzillaIds: [],
    packages,
  };
  const dist = commonDistribution(packages, unfixed);
  if (dist !== undefined) adv.distribution = dist;
  if (best !== undefined) {
    adv.severity = best.severity;
    adv.vendorSeverity = best.raw;
  }
  if (extra.description !== undefined && extra.description.trim() !== '') adv.description = extra.description;
  adv.references = uniq([
    `${TRACKER_URL}${cveOrTempId}`,
    ...(extra.debianBugs ?? []).map((b) => `${DEBIAN_BUG_URL}${b}`),
    ...(extra.references ?? []),
  ]);
  if (unfixed.length > 0) adv.unfixedPackages = unfixed;
  // One record per (CVE, source package), so the source package is part of the key.
  adv.key = advisoryKey(adv, sourcePackage);
  return adv;
}

// ---------------------------------------------------------------------------
// Tracker JSON

function releaseFromJson(codename: string, value: unknown): ReleaseState | undefined {
  if (!isRecord(value)) return undefined;
  const status = asString(value['status']) ?? '';
  const fixed = asString(value['fixed_version']);
  const urgency = asString(value['urgency']);
  const r: ReleaseState = { distribution: debianDistribution(codename) };
  if (urgency !== undefined) r.urgency = urgency;
  if (NOT_AFFECTED.has(status)) return undefined;
  if (status === 'resolved') {
    // fixed_version "0" means the release never shipped a vulnerable version.
    if (fixed === undefined || fixed === '0' || fixed === '') return undefined;
    r.fixedVersion = fixed;
    return r;
  }
  const nodsaReason = asString(value['nodsa_reason']);
  if (nodsaReason !== undefined && nodsaReason !== '') r.status = nodsaReason;
  else if (value['nodsa'] !== undefined) r.status = 'no-dsa';
  else if (urgency === 'end-of-life') r.status = 'end-of-life';
  else r.status = status === '' ? 'open' : status;
  return r;
}

/**
 * Converts one source package's entry of the tracker JSON (`{ "CVE-…": { releases, description, … } }`)
 * into one Advisory per CVE that is fixed or still open in at least one release.
 */
export function trackerPackageToAdvisories(sourcePackage: string, cves: unknown, options: ParseOptions = {}): Advisory[] {
  if (!isRecord(cves)) {
    options.onWarning?.(`debian tracker: package "${sourcePackage}" is not an object; skipped`);
    return [];
  }
  const out: Advisory[] = [];
  for (const [cveId, entry] of Object.entries(cves)) {
    if (!isRecord(entry)) {
      options.onWarning?.(`debian tracker: ${sourcePackage}/${cveId} is not an object; skipped`);
      continue;
    }
    const releases: ReleaseState[] = [];
    // The real feed sometimes emits `"releases": []` for an empty set.
    const rel = entry['releases'];
    if (isRecord(rel)) {
      for (const [codename, value] of Object.entries(rel)) {
        const r = releaseFromJson(codename, value);
        if (r !== undefined) releases.push(r);
      }
    }
    const bug = entry['debianbug'];
    const extra: { description?: string; debianBugs?: string[] } = {};
    const description = asString(entry['description']);
    if (description !== undefined) extra.description = description;
    if (typeof bug === 'number' || typeof bug === 'string') extra.debianBugs = [String(bug)];
    const adv = buildCveRecord(cveId, sourcePackage, releases, extra);
    if (adv !== undefined) out.push(adv);
  }
  return out;
}

/** Parses the whole tracker JSON document (text, bytes or an already-parsed object). */
export function parseDebianTracker(input: string | Uint8Array | unknown, options: ParseOptions = {}): Advisory[] {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    let text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new AdvisoryParseError(
        `debian tracker: invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
        { format: 'debian-tracker-json', cause: err },
      );
    }
  }
  if (!isRecord(value)) {
    throw new AdvisoryParseError('debian tracker: expected a JSON object keyed by source package', {
      format: 'debian-tracker-json',
    });
  }
  return Object.entries(value).flatMap(([pkg, cves]) => trackerPackageToAdvisories(pkg, cves, options));
}

function jsonError(message: string, offset?: number, cause?: unknown): AdvisoryParseError {
  const where = offset === undefined ? '' : ` at character ${offset}`;
  return new AdvisoryParseError(`debian tracker: ${message}${where}`, {
    format: 'debian-tracker-json',
    ...(cause === undefined ? {} : { cause }),
  });
}

function isWs(ch: number): boolean {
  return ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09;
}

type Phase = 'start' | 'first-key' | 'key-start' | 'key' | 'colon' | 'value-start' | 'value' | 'after-value' | 'done';

/**
 * Splits a top-level JSON object arriving in text chunks into its [key, parsed value] members without
 * holding the whole document: only one member's text is buffered at a time.
 */
export async function* jsonObjectMembers(
  chunks: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<[string, unknown]> {
  let phase = 'start' as Phase;
  let offset = 0;
  let keyText = '';
  let keyParts: string[] = [];
  let valueParts: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let primitive = false;
  let memberStart = 0;

  const finishValue = (text: string, at: number): [string, unknown] => {
    let key: string;
    let value: unknown;
    try {
      key = JSON.parse(keyText) as string;
    } catch (err) {
      throw jsonError('invalid member name', at, err);
    }
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw jsonError(`invalid value of "${key}": ${err instanceof Error ? err.message : String(err)}`, at, err);
    }
    return [key, value];
  };

  for await (const chunk of chunks) {
    const n = chunk.length;
    let start = 0; // start of the key/value text inside this chunk
    let i = 0;
    while (i < n) {
      const ch = chunk.charCodeAt(i);
      switch (phase) {
        case 'start':
          if (ch === 0x7b /* { */) phase = 'first-key';
          else if (!isWs(ch)) throw jsonError('expected a JSON object', offset + i);
          i++;
          break;
        case 'first-key':
        case 'key-start':
          if (ch === 0x22 /* " */) {
            phase = 'key';
            start = i;
            keyParts = [];
            escaped = false;
          } else if (ch === 0x7d /* } */ && phase === 'first-key') phase = 'done';
          else if (!isWs(ch)) throw jsonError('expected a member name', offset + i);
          i++;
          break;
        case 'key':
          if (escaped) escaped = false;
          else if (ch === 0x5c /* \ */) escaped = true;
          else if (ch === 0x22) {
            keyParts.push(chunk.slice(start, i + 1));
            keyText = keyParts.join('');
            phase = 'colon';
          }
          i++;
          break;
        case 'colon':
          if (ch === 0x3a /* : */) phase = 'value-start';
          else if (!isWs(ch)) throw jsonError("expected ':'", offset + i);
          i++;
          break;
        case 'value-start':
          if (isWs(ch)) {
            i++;
            break;
          }
          phase = 'value';
          start = i;
          memberStart = offset + i;
          valueParts = [];
          depth = 0;
          inString = false;
          escaped = false;
          primitive = false;
          if (ch === 0x7b || ch === 0x5b /* [ */) depth = 1;
          else if (ch === 0x22) inString = true;
          else if (ch === 0x7d || ch === 0x2c) throw jsonError('expected a value', offset + i);
          else primitive = true;
          i++;
          break;
        case 'value':
          if (primitive) {
            if (ch === 0x2c || ch === 0x7d || isWs(ch)) {
              valueParts.push(chunk.slice(start, i));
              yield finishValue(valueParts.join(''), memberStart);
              phase = 'after-value';
              break; // re-examine this character
            }
            i++;
            break;
          }
          if (inString) {
            if (escaped) escaped = false;
            else if (ch === 0x5c) escaped = true;
            else if (ch === 0x22) {
              inString = false;
              if (depth === 0) {
                valueParts.push(chunk.slice(start, i + 1));
                phase = 'after-value';
                i++;
                yield finishValue(valueParts.join(''), memberStart);
                break;
              }
            }
            i++;
            break;
          }
          if (ch === 0x22) inString = true;
          else if (ch === 0x7b || ch === 0x5b) depth++;
          else if (ch === 0x7d || ch === 0x5d) {
            depth--;
            if (depth === 0) {
              valueParts.push(chunk.slice(start, i + 1));
              phase = 'after-value';
              i++;
              yield finishValue(valueParts.join(''), memberStart);
              break;
            }
          }
          i++;
          break;
        case 'after-value':
          if (ch === 0x2c) phase = 'key-start';
          else if (ch === 0x7d) phase = 'done';
          else if (!isWs(ch)) throw jsonError("expected ',' or '}'", offset + i);
          i++;
          break;
        case 'done':
          if (!isWs(ch)) throw jsonError('unexpected data after the JSON object', offset + i);
          i++;
          break;
      }
    }
    if (phase === 'key') keyParts.push(chunk.slice(start));
    else if (phase === 'value') valueParts.push(chunk.slice(start));
    offset += n;
  }
  if (phase === 'value' && primitive) {
    yield finishValue(valueParts.join(''), memberStart);
    phase = 'after-value';
  }
  if (phase !== 'done') throw jsonError('truncated JSON (unexpected end of input)', offset);
}

/**
 * Streams the tracker JSON (chunks of text or UTF-8 bytes): parses one source package at a time and
 * yields its advisories, so the 70+ MB feed never has to be held as one parsed object.
 */
export async function* parseDebianTrackerStream(chunks: ChunkSource, options: ParseOptions = {}): AsyncGenerator<Advisory> {
  for await (const [pkg, cves] of jsonObjectMembers(decodeChunks(chunks))) {
    yield* trackerPackageToAdvisories(pkg, cves, options);
  }
}

// ---------------------------------------------------------------------------
// Raw text lists (data/DSA/list, data/DLA/list, data/CVE/list)

/** `[rel] - pkg version-or-<status> (notes)` or, in CVE/list, `- pkg …` for unstable. */
const PACKAGE_LINE_RE = /^(?:\[([A-Za-z0-9.-]+)\]\s+)?-\s+(\S+)(?:\s+(.*))?$/;
const ADVISORY_HEADER_RE = /^\[(\d{1,2}) ([A-Za-z]{3}) (\d{4})\] ((?:DSA|DLA|DTSA)-\d+(?:-\d+)?)(?:\s+(.*))?$/;
const CVE_HEADER_RE = /^(CVE-\d{4}-(?:\d{4,}|X+))(?:\s+(.*))?$/;

interface PackageLine {
  release?: string;
  name: string;
  version?: string;
  status?: string;
  urgency?: string;
  bugs: string[];
}

/** Splits the remainder of a package line into version or <status> and the parenthesised notes. */
function parsePackageLine(line: string): PackageLine | undefined {
  const m = PACKAGE_LINE_RE.exec(line);
  if (!m) return undefined;
  const out: PackageLine = { name: m[2]!, bugs: [] };
  if (m[1] !== undefined) out.release = m[1];
  let rest = (m[3] ?? '').trim();
  const status = /^<([^>]+)>\s*/.exec(rest);
  if (status) {
    out.status = status[1]!.trim();
    rest = rest.slice(status[0].length);
  } else if (rest !== '' && !rest.startsWith('(')) {
    const v = /^(\S+)\s*/.exec(rest)!;
    out.version = v[1]!;
    rest = rest.slice(v[0].length);
  }
  const notes = /^\((.*)\)\s*$/.exec(rest);
  if (notes) {
    for (const token of notes[1]!.split(';')) {
      const t = token.trim();
      if (/^(unimportant|low|medium|high)\**$/i.test(t)) out.urgency = t.toLowerCase();
      const bug = /^bug #?(\d+)$/i.exec(t);
      if (bug) out.bugs.push(bug[1]!);
    }
  }
  return out;
}

function lineRelease(p: PackageLine): string {
  return debianDistribution(p.release ?? 'sid');
}

/**
 * Parses data/DSA/list or data/DLA/list text: `[dd Mon yyyy] DSA-nnnn-n pkg - title`, then indented
 * `{CVE-…}` and `[release] - pkg version` lines. Every well-formed header yields a record (even one
 * with no packages, such as a key-change notice); malformed headers are skipped with a warning.
 */
export function parseDebianAdvisoryList(text: string, options: ParseOptions = {}): Advisory[] {
  const out: Advisory[] = [];
  const warn = (lineNo: number, msg: string): void => options.onWarning?.(`debian advisory list line ${lineNo}: ${msg}`);
  let current:
    | { id: string; title?: string; issued?: number; cves: string[]; lines: PackageLine[]; refs: string[] }
    | undefined;
  let skipping = false;

  const flush = (): void => {
    if (!current) return;
    const packages: AdvisoryPackage[] = [];
    const unfixed: UnfixedPackage[] = [];
    for (const p of current.lines) {
      const distribution = lineRelease(p);
      if (p.version !== undefined) {
        packages.push({ name: p.name, sourceName: p.name, fixedVersion: p.version, distribution });
      } else if (p.status !== undefined && !NOT_AFFECTED.has(p.status)) {
        unfixed.push({ name: p.name, sourceName: p.name, distribution, status: p.status });
      }
    }
    const adv: Advisory = {
      key: '',
      id: current.id,
      source: 'debian-security-tracker',
      family: 'dpkg',
      classification: 'Security',
      cveIds: uniq(current.cves),
      bugzillaIds: [],
      packages,
      references: uniq([`${TRACKER_URL}${current.id}`, ...current.refs]),
    };
    const dist = commonDistribution(packages, unfixed);
    if (dist !== undefined) adv.distribution = dist;
    if (current.title !== undefined && current.title !== '') adv.title = current.title;
    if (current.issued !== undefined) adv.issued = current.issued;
    if (unfixed.length > 0) adv.unfixedPackages = unfixed;
    adv.key = advisoryKey(adv);
    out.push(adv);
    current = undefined;
  };

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    if (raw.trim() === '') continue;
    if (!/^\s/.test(raw)) {
      flush();
      const h = ADVISORY_HEADER_RE.exec(raw.trimEnd());
      if (!h) {
        warn(lineNo, `malformed advisory header "${raw.trim()}"; entry skipped`);
        skipping = true;
        continue;
      }
      skipping = false;
      const issued = parseAdvisoryDate(`${h[1]} ${h[2]} ${h[3]}`);
      if (issued === undefined) warn(lineNo, `unparseable date in "${raw.trim()}"`);
      current = { id: h[4]!, cves: [], lines: [], refs: [] };
      if (issued !== undefined) current.issued = issued;
      if (h[5] !== undefined) current.title = h[5].trim();
      continue;
    }
    if (skipping || !current) continue;
    const line = raw.trim();
    const braces = /^\{(.*)\}$/.exec(line);
    if (braces) {
      for (const token of braces[1]!.split(/\s+/)) {
        const cve = extractCveId(token);
        if (cve) current.cves.push(cve);
        else if (/^(DSA|DLA|DTSA)-/.test(token)) current.refs.push(`${TRACKER_URL}${token}`);
      }
      continue;
    }
    if (/^(NOTE|TODO):/.test(line)) continue;
    const p = parsePackageLine(line);
    if (p && p.release !== undefined) {
      current.lines.push(p);
      continue;
    }
    warn(lineNo, `unrecognised line "${line}"`);
  }
  flush();
  return out;
}

/**
 * Parses data/CVE/list text into one record per (CVE, source package), like the JSON feed. A line
 * without a `[release]` prefix is about unstable (debian:sid); other releases appear only when the list
 * names them. `CVE-YYYY-XXXX` placeholders (no id assigned yet) are skipped with a warning.
 */
export function parseDebianCveList(text: string, options: ParseOptions = {}): Advisory[] {
  const out: Advisory[] = [];
  const warn = (lineNo: number, msg: string): void => options.onWarning?.(`debian CVE list line ${lineNo}: ${msg}`);
  let current: { id: string; description?: string; lines: PackageLine[]; refs: string[]; placeholder: boolean } | undefined;

  const flush = (): void => {
    if (!current || current.placeholder) {
      current = undefined;
      return;
    }
    const byPackage = new Map<string, PackageLine[]>();
    for (const p of current.lines) {
      const list = byPackage.get(p.name) ?? [];
      list.push(p);
      byPackage.set(p.name, list);
    }
    for (const [pkg, lines] of byPackage) {
      const urgency = lines.find((l) => l.urgency !== undefined)?.urgency;
      const releases: ReleaseState[] = [];
      for (const l of lines) {
        const r: ReleaseState = { distribution: lineRelease(l) };
        if (urgency !== undefined) r.urgency = urgency;
        if (l.version !== undefined) r.fixedVersion = l.version;
        else if (l.status !== undefined && !NOT_AFFECTED.has(l.status)) r.status = l.status;
        else continue;
        releases.push(r);
      }
      const extra: { description?: string; debianBugs?: string[]; references?: string[] } = {
        debianBugs: uniq(lines.flatMap((l) => l.bugs)),
        references: current.refs,
      };
      if (current.description !== undefined) extra.description = current.description;
      const adv = buildCveRecord(current.id, pkg, releases, extra);
      if (adv !== undefined) out.push(adv);
    }
    current = undefined;
  };

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    if (raw.trim() === '') continue;
    if (!/^\s/.test(raw)) {
      flush();
      const h = CVE_HEADER_RE.exec(raw.trimEnd());
      if (!h) {
        warn(lineNo, `malformed CVE header "${raw.trim()}"; entry skipped`);
        continue;
      }
      const placeholder = /X+$/.test(h[1]!);
      if (placeholder) warn(lineNo, `placeholder id ${h[1]} ${h[2] ?? ''} skipped`.trimEnd());
      current = { id: h[1]!, lines: [], refs: [], placeholder };
      const desc = h[2]?.trim().replace(/^[([](.*)[)\]]$/, '$1').trim();
      if (desc) current.description = desc;
      continue;
    }
    if (!current) continue;
    const line = raw.trim();
    if (/^(NOTE|TODO|NOT-FOR-US|HELP):/.test(line) || /^(RESERVED|REJECTED)$/.test(line)) continue;
    const braces = /^\{(.*)\}$/.exec(line);
    if (braces) {
      for (const token of braces[1]!.split(/\s+/)) {
        if (/^(DSA|DLA|DTSA)-/.test(token)) current.refs.push(`${TRACKER_URL}${token}`);
      }
      continue;
    }
    const p = parsePackageLine(line);
    if (p) {
      current.lines.push(p);
      continue;
    }
    warn(lineNo, `unrecognised line "${line}"`);
  }
  flush();
  return out;
}
