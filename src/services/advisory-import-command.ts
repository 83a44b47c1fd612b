// The `patchline advisories import PATH… [--distribution KEY] [--json]` command around importAdvisories: a
// progress bar on a terminal (files, records, rate), one plain line per file otherwise, and with --json a single
// JSON summary on stdout for machines. Exit status: 0 when every file imported (or was skipped as not an advisory
// file), 1 when any file failed (nothing was imported from those; the others were).

import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrations.ts';
import { Store } from '../store/store.ts';
import { displayName, importAdvisories, type ImportFileResult, type ImportProgress, type ImportSummary } from './advisory-import.ts';
import type { ServerConfig } from '../config.ts';

export interface ImportCommandOptions {
  json: boolean;
  distribution?: string;
  /** Defaults to process.stdout / process.stderr (tests pass their own). */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const count = (n: number, noun: string): string => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;

function rate(records: number, ms: number): string {
  return ms <= 0 ? '-' : fmt(Math.round(records / (ms / 1000)));
}

function fileLine(r: ImportFileResult): string {
  const name = r.path;
  if (r.status === 'skipped') return `skipped   ${name}: ${r.error}`;
  if (r.status === 'failed') return `FAILED    ${name}${r.format ? ` (${r.format})` : ''}: ${r.error} — nothing imported from this file`;
  const warnings = r.warnings > 0 ? `, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}` : '';
  return `imported  ${name} (${r.format}): ${count(r.records, 'record')} (${fmt(r.added)} new, ${fmt(r.updated)} updated, ${fmt(r.unchanged)} unchanged), ${count(r.packages, 'fixed package')} written${warnings}, ${r.ms} ms`;
}

function progressBar(p: ImportProgress, width: number): string {
  const cells = 24;
  const done = p.filesTotal === 0 ? cells : Math.round((p.filesDone / p.filesTotal) * cells);
  const bar = `[${'#'.repeat(done)}${'-'.repeat(cells - done)}]`;
  const line = `${bar} ${p.filesDone}/${p.filesTotal} files  ${fmt(p.records)} records  ${rate(p.records, p.elapsedMs)} rec/s`;
  if (line.length >= width - 1) return line.slice(0, width - 1);
  if (p.currentFile === undefined) return line;
  const room = width - 1 - line.length - 2;
  const name = displayName(p.currentFile);
  return room <= 1 ? line : `${line}  ${name.length > room ? `${name.slice(0, room - 1)}…` : name}`;
}

function summaryText(s: ImportSummary, database: string): string {
  const lines: string[] = [];
  lines.push(`Imported ${count(s.imported, 'file')} into ${database} in ${(s.ms / 1000).toFixed(1)} s: ${count(s.records, 'record')} (${fmt(s.added)} new, ${fmt(s.updated)} updated, ${fmt(s.unchanged)} unchanged).`);
  for (const [format, t] of Object.entries(s.byFormat)) {
    const failed = t.failed > 0 ? `, ${t.failed} file${t.failed === 1 ? '' : 's'} FAILED` : '';
    lines.push(`  ${format.padEnd(21)} ${count(t.files, 'file').padStart(9)} ${count(t.records, 'record').padStart(15)}  (${fmt(t.added)} new, ${fmt(t.updated)} updated, ${fmt(t.unchanged)} unchanged)  ${count(t.packages, 'fixed package')}${failed}`);
  }
  if (s.skipped > 0) lines.push(`Skipped ${s.skipped} file${s.skipped === 1 ? '' : 's'} that ${s.skipped === 1 ? 'is' : 'are'} not advisory data.`);
  if (s.failed > 0) {
    lines.push(`FAILED ${s.failed} file${s.failed === 1 ? '' : 's'}; nothing was imported from ${s.failed === 1 ? 'it' : 'them'}:`);
    for (const f of s.files.filter((r) => r.status === 'failed')) lines.push(`  ${f.path}: ${f.error}`);
  }
  const families = Object.entries(s.catalogue.byFamily).map(([f, n]) => `${fmt(n)} ${f}`).join(', ');
  lines.push(`Catalogue: ${fmt(s.catalogue.advisories)} advisories${families ? ` (${families})` : ''}, ${fmt(s.catalogue.packages)} fixed packages; version ${s.catalogueVersion || '(empty)'}.`);
  lines.push(s.operatingSystems.length > 0
    ? `Marked ${count(s.nodesMarked, 'scanned node')} (${s.operatingSystems.join(', ')}) for re-evaluation; a running server relabels them in the background.`
    : 'The catalogue did not change; no node needs re-evaluation.');
  return lines.join('\n') + '\n';
}

export async function runAdvisoriesImport(config: ServerConfig, paths: string[], options: ImportCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const database = openDatabase({ url: config.databaseUrl, poolSize: 2 });
  const tty = !options.json && stderr.isTTY === true;
  const width = stderr.columns ?? 100;
  let barShown = false;
  let lastDraw = 0;
  const clearBar = () => {
    if (barShown) stderr.write('\r\u001b[2K');
    barShown = false;
  };
  try {
    await migrateToLatest(database.db, database.engine);
    if (!options.json) stdout.write(`Importing advisories into ${database.description}\n`);
    const summary = await importAdvisories(new Store(database), paths, {
      ...(options.distribution !== undefined ? { distribution: options.distribution } : {}),
      onProgress: (p) => {
        if (!tty) return;
        const now = performance.now();
        if (now - lastDraw < 100 && p.filesDone < p.filesTotal) return;
        lastDraw = now;
        stderr.write(`\r\u001b[2K${progressBar(p, width)}`);
        barShown = true;
      },
      onFile: (r) => {
        if (options.json) return;
        clearBar();
        stdout.write(fileLine(r) + '\n');
      },
    });
    clearBar();
    if (options.json) stdout.write(JSON.stringify({ ...summary, database: database.description }) + '\n');
    else stdout.write(summaryText(summary, database.description));
    return summary.failed > 0 ? 1 : 0;
  } finally {
    clearBar();
    await database.close();
  }
}
