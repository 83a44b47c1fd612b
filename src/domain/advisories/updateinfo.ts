// Streaming parser for yum/dnf repodata `updateinfo.xml` (Amazon Linux, RHEL clones,
// Fedora, SUSE) into normalised Advisory records. Uses saxes so a feed of any size is
// parsed update by update without building a DOM.

import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import {
  AdvisoryParseError,
  advisoryKey,
  commonDistribution,
  decodeChunks,
  distributionFromProductName,
  distributionKey,
  extractCveId,
  formatRpmEvr,
  normaliseRpmSeverity,
  parseAdvisoryDate,
  sourceNameFromSrcRpm,
  titleCase,
  uniq,
} from './advisory.ts';
import type { Advisory, AdvisoryPackage, ChunkSource, ParseOptions } from './advisory.ts';

export interface UpdateInfoOptions extends ParseOptions {
  /**
   * Distribution key for every record (e.g. 'amzn:2023', 'rocky:8'). Without it the key is inferred
   * from the id prefix (ALAS2-/ALAS2023-/ALAS-) or from `<release>` / the collection name.
   */
  distribution?: string;
}

/** updateinfo `type` → AWS CLASSIFICATION. Unknown types are title-cased; a missing type is 'Unspecified'. */
export const UPDATEINFO_TYPE_TO_CLASSIFICATION: Readonly<Record<string, string>> = {
  security: 'Security',
  bugfix: 'Bugfix',
  enhancement: 'Enhancement',
  recommended: 'Recommended',
  newpackage: 'Newpackage',
};

export function classificationForType(type: string | undefined): string {
  const t = type?.trim().toLowerCase() ?? '';
  if (t === '') return 'Unspecified';
  return UPDATEINFO_TYPE_TO_CLASSIFICATION[t] ?? titleCase(t);
}

/** Amazon Linux ids carry their distribution: ALAS2023-… → amzn:2023, ALAS2-/ALAS2KERNEL-5.10-… → amzn:2, ALAS-… → amzn:1. */
function distributionFromId(id: string): string | undefined {
  if (/^ALAS2023-/i.test(id)) return distributionKey('amzn', '2023');
  if (/^ALAS2[A-Z]*[-.]/i.test(id)) return distributionKey('amzn', '2');
  if (/^ALAS-/i.test(id)) return distributionKey('amzn', '1');
  return undefined;
}

const NUMERIC_REF_RE = /&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});/g;

/**
 * Amazon's feed double-escapes some characters (`&amp;#039;`), which leaves a literal `&#039;`
 * after XML decoding. Decode such left-over numeric character references once more.
 */
function decodeLeftoverCharRefs(text: string): string {
  if (!text.includes('&#')) return text;
  return text.replace(NUMERIC_REF_RE, (whole, ref: string) => {
    const cp = ref[0] === 'x' ? parseInt(ref.slice(1), 16) : parseInt(ref, 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}

function isTrue(text: string | undefined): boolean {
  return text !== undefined && /^(true|1|yes)$/i.test(text.trim());
}

interface PendingCollection {
  short?: string;
  name?: string;
  modules: string[];
  packages: Array<AdvisoryPackage & { rebootSuggested?: boolean }>;
}

interface PendingUpdate {
  type?: string;
  id?: string;
  title?: string;
  severity?: string;
  description?: string;
  summary?: string;
  release?: string;
  issued?: string;
  updated?: string;
  rebootSuggested: boolean;
  cveIds: string[];
  bugzillaIds: string[];
  references: string[];
  collections: PendingCollection[];
  line: number;
}

/** Elements whose text content we keep, by parent element. */
const TEXT_ELEMENTS: Readonly<Record<string, ReadonlySet<string>>> = {
  update: new Set(['id', 'title', 'severity', 'description', 'summary', 'release', 'reboot_suggested']),
  collection: new Set(['name']),
  package: new Set(['filename', 'reboot_suggested']),
};

/**
 * Incremental updateinfo parser: write() decoded text, take() finished advisories, close() at the end.
 * Throws AdvisoryParseError on malformed XML or a root element other than <updates>/<update>.
 */
class UpdateInfoParser {
  private readonly xml = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly stack: string[] = [];
  private readonly done: Advisory[] = [];
  private update: PendingUpdate | undefined;
  private collection: PendingCollection | undefined;
  private pkg: (AdvisoryPackage & { rebootSuggested?: boolean }) | undefined;
  private textTarget: string | undefined;
  private text = '';
  private updatesSeen = 0;

  constructor(private readonly options: UpdateInfoOptions) {
    this.xml.on('opentag', (tag) => this.open(tag));
    this.xml.on('closetag', (tag) => this.close(tag));
    this.xml.on('text', (t) => {
      if (this.textTarget !== undefined) this.text += t;
    });
    this.xml.on('cdata', (t) => {
      if (this.textTarget !== undefined) this.text += t;
    });
  }

  write(chunk: string): void {
    try {
      this.xml.write(chunk);
    } catch (err) {
      throw this.wrap(err);
    }
  }

  end(): void {
    try {
      this.xml.close();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  take(): Advisory[] {
    return this.done.splice(0, this.done.length);
  }

  get count(): number {
    return this.updatesSeen;
  }

  private wrap(err: unknown): AdvisoryParseError {
    if (err instanceof AdvisoryParseError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new AdvisoryParseError(`updateinfo: malformed XML: ${msg}`, {
      format: 'updateinfo',
      line: this.xml.line,
      column: this.xml.column,
      cause: err,
    });
  }

  private fail(message: string): never {
    throw new AdvisoryParseError(`updateinfo: ${message} (line ${this.xml.line})`, {
      format: 'updateinfo',
      line: this.xml.line,
      column: this.xml.column,
    });
  }

  private warn(message: string): void {
    this.options.onWarning?.(`updateinfo: ${message}`);
  }

  private open(tag: SaxesTagPlain): void {
    const name = tag.name;
    const parent = this.stack[this.stack.length - 1];
    const a = tag.attributes;
    this.stack.push(name);
    if (parent === undefined) {
      if (name !== 'updates' && name !== 'update') {
        this.fail(`not an updateinfo document: root element is <${name}>, expected <updates>`);
      }
      if (name === 'updates') return;
    }
    if (name === 'update' && (parent === undefined || parent === 'updates')) {
      this.update = {
        rebootSuggested: false,
        cveIds: [],
        bugzillaIds: [],
        references: [],
        collections: [],
        line: this.xml.line,
      };
      if (a['type'] !== undefined) this.update.type = a['type'];
      return;
    }
    const u = this.update;
    if (u === undefined) return;
    if (parent !== undefined && TEXT_ELEMENTS[parent]?.has(name) && this.pathOk(parent)) {
      this.textTarget = name;
      this.text = '';
      return;
    }
    switch (name) {
      case 'issued':
      case 'updated':
        if (parent === 'update') u[name] = a['date'];
        break;
      case 'reference':
        if (parent === 'references') this.reference(u, a);
        break;
      case 'collection':
        if (parent === 'pkglist') {
          this.collection = { modules: [], packages: [] };
          if (a['short'] !== undefined) this.collection.short = a['short'];
          u.collections.push(this.collection);
        }
        break;
      case 'module':
        if (parent === 'collection' && this.collection && a['name'] !== undefined) {
          this.collection.modules.push(a['stream'] !== undefined ? `${a['name']}:${a['stream']}` : a['name']);
        }
        break;
      case 'package':
        if (parent === 'collection' && this.collection) this.pkg = this.packageFrom(a);
        break;
      default:
        break;
    }
  }

  /** Text elements count only in their expected place (update/x, collection/name, package/x). */
  private pathOk(parent: string): boolean {
    if (parent === 'update') return this.collection === undefined && this.pkg === undefined;
    if (parent === 'collection') return this.collection !== undefined && this.pkg === undefined;
    return this.pkg !== undefined;
  }

  private reference(u: PendingUpdate, a: Record<string, string>): void {
    const type = (a['type'] ?? '').toLowerCase();
    const id = a['id']?.trim();
    const href = a['href']?.trim();
    if (href) u.references.push(href);
    if (type === 'cve') {
      const cve = (id && extractCveId(id)) ?? (a['title'] && extractCveId(a['title'])) ?? hrefCve(href);
      if (cve) u.cveIds.push(cve);
      else this.warn(`${u.id ?? '?'}: cve reference without a CVE id (id="${id ?? ''}") ignored for cveIds`);
    } else if (type === 'bugzilla') {
      const bz = id || (href ? /[?&]id=(\d+)/.exec(href)?.[1] : undefined);
      if (bz) u.bugzillaIds.push(bz);
    }
  }

  private packageFrom(a: Record<string, string>): AdvisoryPackage & { rebootSuggested?: boolean } {
    const p: AdvisoryPackage = { name: a['name'] ?? '', fixedVersion: '' };
    const src = sourceNameFromSrcRpm(a['src']);
    if (src !== undefined) p.sourceName = src;
    if (a['epoch'] !== undefined) p.epoch = a['epoch'];
    if (a['version'] !== undefined) p.version = a['version'];
    if (a['release'] !== undefined) p.release = a['release'];
    if (a['arch'] !== undefined) p.arch = a['arch'];
    return p;
  }

  private close(tag: SaxesTagPlain): void {
    const name = tag.name;
    this.stack.pop();
    const parent = this.stack[this.stack.length - 1];
    if (this.textTarget === name && this.textTarget !== undefined) {
      this.textTarget = undefined;
      this.closeText(name, parent, this.text);
      this.text = '';
      return;
    }
    if (name === 'package' && parent === 'collection' && this.pkg) {
      this.collection?.packages.push(this.pkg);
      this.pkg = undefined;
    } else if (name === 'collection' && parent === 'pkglist') {
      this.collection = undefined;
    } else if (name === 'update' && (parent === undefined || parent === 'updates') && this.update) {
      const adv = this.finish(this.update);
      this.update = undefined;
      this.updatesSeen++;
      if (adv) this.done.push(adv);
    }
  }

  private closeText(name: string, parent: string | undefined, raw: string): void {
    const u = this.update;
    if (!u) return;
    if (parent === 'package' && this.pkg) {
      if (name === 'filename') this.pkg.filename = raw.trim();
      else if (name === 'reboot_suggested') this.pkg.rebootSuggested = isTrue(raw);
      return;
    }
    if (parent === 'collection' && this.collection) {
      if (name === 'name') this.collection.name = raw.trim();
      return;
    }
    switch (name) {
      case 'id':
        u.id = raw.trim();
        break;
      case 'title':
        u.title = decodeLeftoverCharRefs(raw.trim());
        break;
      case 'severity':
        u.severity = raw.trim();
        break;
      case 'description':
        u.description = decodeLeftoverCharRefs(raw);
        break;
      case 'summary':
        u.summary = decodeLeftoverCharRefs(raw.trim());
        break;
      case 'release':
        u.release = raw.trim();
        break;
      case 'reboot_suggested':
        if (isTrue(raw)) u.rebootSuggested = true;
        break;
      default:
        break;
    }
  }

  private finish(u: PendingUpdate): Advisory | undefined {
    if (!u.id) {
      this.warn(`<update> at line ${u.line} has no <id>; skipped`);
      return undefined;
    }
    const firstCollection = u.collections[0];
    const distribution =
      this.options.distribution ??
      distributionFromId(u.id) ??
      distributionFromProductName(u.release) ??
      distributionFromProductName(firstCollection?.name) ??
      distributionFromProductName(firstCollection?.short);

    const packages: AdvisoryPackage[] = [];
    const seen = new Set<string>();
    let rebootSuggested = u.rebootSuggested;
    for (const c of u.collections) {
      const module = c.modules.length === 1 ? c.modules[0] : undefined;
      for (const { rebootSuggested: rb, ...p } of c.packages) {
        if (rb) rebootSuggested = true;
        if (!p.name || !p.version) {
          this.warn(`${u.id}: <package name="${p.name}"> without name or version skipped`);
          continue;
        }
        p.fixedVersion = formatRpmEvr(p.epoch, p.version, p.release);
        if (module !== undefined) p.module = module;
        if (distribution !== undefined) p.distribution = distribution;
        const k = [p.name, p.fixedVersion, p.arch ?? '', p.module ?? ''].join('\u0000');
        if (seen.has(k)) continue;
        seen.add(k);
        packages.push(p);
      }
    }

    const adv: Advisory = {
      key: '',
      id: u.id,
      source: 'updateinfo',
      family: 'rpm',
      classification: classificationForType(u.type),
      severity: normaliseRpmSeverity(u.severity),
      cveIds: uniq(u.cveIds),
      bugzillaIds: uniq(u.bugzillaIds),
      packages,
    };
    const common = distribution ?? commonDistribution(packages);
    if (common !== undefined) adv.distribution = common;
    if (u.severity !== undefined && u.severity !== '') adv.vendorSeverity = u.severity;
    const title = u.title || u.summary;
    if (title) adv.title = title;
    if (u.description !== undefined && u.description.trim() !== '') adv.description = u.description;
    const issued = parseAdvisoryDate(u.issued);
    if (issued !== undefined) adv.issued = issued;
    else if (u.issued) this.warn(`${u.id}: unparseable issued date "${u.issued}"`);
    const updated = parseAdvisoryDate(u.updated);
    if (updated !== undefined) adv.updated = updated;
    else if (u.updated) this.warn(`${u.id}: unparseable updated date "${u.updated}"`);
    if (u.references.length > 0) adv.references = uniq(u.references);
    if (rebootSuggested) adv.rebootSuggested = true;
    adv.key = advisoryKey(adv);
    return adv;
  }
}

function hrefCve(href: string | undefined): string | undefined {
  if (!href) return undefined;
  const m = /(CVE-\d{4}-\d{4,})/i.exec(href);
  return m ? m[1]!.toUpperCase() : undefined;
}

/** Parses a whole updateinfo.xml document (already decompressed). */
export function parseUpdateInfo(xml: string | Uint8Array, options: UpdateInfoOptions = {}): Advisory[] {
  const parser = new UpdateInfoParser(options);
  let text = typeof xml === 'string' ? xml : new TextDecoder('utf-8').decode(xml);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  parser.write(text);
  parser.end();
  return parser.take();
}

/**
 * Parses updateinfo.xml from a stream of decompressed chunks (strings or UTF-8 bytes), yielding each
 * advisory as soon as its </update> has been read. Memory use is bounded by the largest single update.
 */
export async function* parseUpdateInfoStream(
  chunks: ChunkSource,
  options: UpdateInfoOptions = {},
): AsyncGenerator<Advisory> {
  const parser = new UpdateInfoParser(options);
  for await (const text of decodeChunks(chunks)) {
    parser.write(text);
    yield* parser.take();
  }
  parser.end();
  yield* parser.take();
}
