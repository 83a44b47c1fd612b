// Imports advisory files into the catalogue (`patchline advisories import PATH…`): files and directories, any
// mix of the formats readAdvisoryFile detects (docs/advisories.md). Each file is imported in ONE transaction, so a
// file that is cut off or malformed imports nothing and is reported, while the others go on. Records are written
// in batches inside that transaction (AdvisoryStore.writeBatchIn); a file that changed the catalogue gives it a
// new version in the same transaction. At the end, the scanned nodes whose OS family the import touched are
// marked for re-evaluation, so the new labels appear without a new scan.

import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AdvisoryFormatName, PackageFamily, Advisory } from '../domain/advisories/advisory.ts';
import { detectFileFormat, readAdvisoryFile } from '../domain/advisories/read-advisory-file.ts';
import { advisoryFamilyOf } from '../domain/advisories/labels.ts';
import { OperatingSystemValues } from '../generated/ssm-types.ts';
import { AdvisoryStore } from '../store/advisory-store.ts';
import { ScanStore } from '../store/scan-store.ts';
import type { Store } from '../store/store.ts';
import { markChanged, type ChangeNotice } from './evaluator.ts';

export interface ImportFileResult {
  path: string;
  format?: AdvisoryFormatName;
  /** imported: committed; failed: rolled back, nothing from it kept; skipped: not an advisory file (in a directory). */
  status: 'imported' | 'failed' | 'skipped';
  records: number;
  added: number;
  updated: number;
  unchanged: number;
  packages: number;
  warnings: number;
  error?: string;
  ms: number;
}

export interface FormatTotals {
  files: number;
  failed: number;
  records: number;
  added: number;
  updated: number;
  unchanged: number;
  packages: number;
}

export interface ImportSummary {
  files: ImportFileResult[];
  /** Per detected format: committed files and their records, and files that failed. */
  byFormat: Partial<Record<AdvisoryFormatName, FormatTotals>>;
  imported: number;
  failed: number;
  skipped: number;
  records: number;
  added: number;
  updated: number;
  unchanged: number;
  /** Families whose advisories changed, and the operating systems marked for re-evaluation because of them. */
  families: PackageFamily[];
  operatingSystems: string[];
  nodesMarked: number;
  catalogueVersion: string;
  catalogue: { advisories: number; packages: number; byFamily: Record<string, number> };
  ms: number;
}

export interface ImportProgress {
  filesDone: number;
  filesTotal: number;
  /** Records parsed so far (committed files and the current one). */
  records: number;
  currentFile?: string;
  elapsedMs: number;
}

export interface ImportOptions {
  /** Distribution key for updateinfo files that do not name one (e.g. 'rocky:8'); see docs/advisories.md. */
  distribution?: string;
  /** Records per write batch inside a file's transaction (default 500). */
  batchSize?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Each file once it is done (imported, failed or skipped). */
  onFile?: (result: ImportFileResult) => void;
  onWarning?: (path: string, message: string) => void;
  /** How affected nodes are marked for re-evaluation (default: markChanged on the same store). */
  notify?: (change: ChangeNotice) => Promise<number | void>;
}

interface FileEntry {
  path: string;
  /** Named on the command line (must be an advisory file) rather than found in a directory (skipped if not). */
  named: boolean;
  error?: string;
}

/** The files to import, in command-line order; directories walked recursively in name order, hidden entries skipped. */
export async function listAdvisoryFiles(paths: readonly string[]): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = join(dir, e.name);
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push({ path: child, named: false });
    }
  };
  for (const p of paths) {
    try {
      const info = await stat(p);
      if (info.isDirectory()) await walk(p);
      else out.push({ path: p, named: true });
    } catch (err) {
      out.push({ path: p, named: true, error: (err as Error).message });
    }
  }
  return out;
}

/** The operating systems whose nodes a change to these families' advisories affects. */
export function operatingSystemsOf(families: Iterable<PackageFamily>): string[] {
  const wanted = new Set(families);
  return OperatingSystemValues.filter((os) => {
    const f = advisoryFamilyOf(os);
    return f !== undefined && wanted.has(f);
  });
}

function emptyTotals(): FormatTotals {
  return { files: 0, failed: 0, records: 0, added: 0, updated: 0, unchanged: 0, packages: 0 };
}

/** Imports the given files and directories into the store's advisory catalogue (see the module comment). */
export async function importAdvisories(store: Store, paths: readonly string[], options: ImportOptions = {}): Promise<ImportSummary> {
  const started = performance.now();
  const advisories = new AdvisoryStore(store);
  const batchSize = options.batchSize ?? 500;
  const entries = await listAdvisoryFiles(paths);
  const results: ImportFileResult[] = [];
  const families = new Set<PackageFamily>();
  let recordsBefore = 0;
  const progress = (done: number, current: number, file?: string) => options.onProgress?.({
    filesDone: done, filesTotal: entries.length, records: recordsBefore + current, elapsedMs: performance.now() - started, ...(file !== undefined ? { currentFile: file } : {}),
  });

  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const t0 = performance.now();
    const result: ImportFileResult = { path: entry.path, status: 'failed', records: 0, added: 0, updated: 0, unchanged: 0, packages: 0, warnings: 0, ms: 0 };
    progress(i, 0, entry.path);
    try {
      if (entry.error !== undefined) throw new Error(entry.error);
      const format = await detectFileFormat(entry.path);
      if (format === undefined) {
        if (entry.named) throw new Error(`${entry.path}: unrecognised advisory format`);
        result.status = 'skipped';
        result.error = 'not a recognised advisory file';
      } else {
        result.format = format;
        const fileFamilies = new Set<PackageFamily>();
        let parsed = 0;
        await store.transaction(async (trx) => {
          const counts = { added: 0, updated: 0, unchanged: 0, packages: 0 };
          let batch: Advisory[] = [];
          const flush = async () => {
            const r = await advisories.writeBatchIn(trx, batch, Date.now());
            counts.added += r.added;
            counts.updated += r.updated;
            counts.unchanged += r.unchanged;
            counts.packages += r.packages;
            for (const f of r.families) fileFamilies.add(f);
            batch = [];
            progress(i, parsed, entry.path);
          };
          const readOptions = {
            format,
            onWarning: (message: string) => {
              result.warnings++;
              options.onWarning?.(entry.path, message);
            },
            ...(options.distribution !== undefined ? { distribution: options.distribution } : {}),
          };
          for await (const a of readAdvisoryFile(entry.path, readOptions)) {
            parsed++;
            batch.push(a);
            if (batch.length >= batchSize) await flush();
          }
          await flush();
          if (fileFamilies.size > 0) await advisories.bumpVersionIn(trx);
          Object.assign(result, counts);
        });
        // Committed: only now do the file's records count.
        result.records = parsed;
        result.status = 'imported';
        for (const f of fileFamilies) families.add(f);
      }
    } catch (err) {
      Object.assign(result, { status: 'failed', records: 0, added: 0, updated: 0, unchanged: 0, packages: 0 });
      result.error = err instanceof Error ? err.message : String(err);
    }
    result.ms = Math.round(performance.now() - t0);
    recordsBefore += result.records;
    results.push(result);
    options.onFile?.(result);
    progress(i + 1, 0);
  }

  const operatingSystems = operatingSystemsOf(families);
  let nodesMarked = 0;
  if (operatingSystems.length > 0) {
    const change: ChangeNotice = { operatingSystems };
    const marked = options.notify !== undefined ? await options.notify(change) : await markChanged(store, new ScanStore(store), change);
    nodesMarked = typeof marked === 'number' ? marked : 0;
  }

  const byFormat: Partial<Record<AdvisoryFormatName, FormatTotals>> = {};
  const sum = { imported: 0, failed: 0, skipped: 0, records: 0, added: 0, updated: 0, unchanged: 0 };
  for (const r of results) {
    if (r.status === 'skipped') {
      sum.skipped++;
      continue;
    }
    if (r.format !== undefined) {
      const t = (byFormat[r.format] ??= emptyTotals());
      if (r.status === 'failed') t.failed++;
      else {
        t.files++;
        t.records += r.records;
        t.added += r.added;
        t.updated += r.updated;
        t.unchanged += r.unchanged;
        t.packages += r.packages;
      }
    }
    if (r.status === 'failed') sum.failed++;
    else {
      sum.imported++;
      sum.records += r.records;
      sum.added += r.added;
      sum.updated += r.updated;
      sum.unchanged += r.unchanged;
    }
  }
  return {
    files: results,
    byFormat,
    ...sum,
    families: [...families].sort(),
    operatingSystems,
    nodesMarked,
    catalogueVersion: await advisories.version(),
    catalogue: await advisories.counts(),
    ms: Math.round(performance.now() - started),
  };
}

/** A short display name for progress lines. */
export function displayName(path: string): string {
  return basename(path);
}
