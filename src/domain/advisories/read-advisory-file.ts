// Reads advisory files and directories from disk (or from an in-memory Buffer), undoing gzip and
// detecting the format from the content — updateinfo XML, OSV JSON, Debian tracker JSON, Debian
// DSA/DLA list text, Debian CVE list text — then hands them to the matching parser. This is what
// `patchline advisories import PATH` calls.

import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { AdvisoryParseError } from './advisory.ts';
import type { Advisory, AdvisoryFormatName } from './advisory.ts';
import {
  parseDebianAdvisoryList,
  parseDebianCveList,
  parseDebianTracker,
  parseDebianTrackerStream,
} from './debian-security-tracker.ts';
import { parseOsv } from './osv.ts';
import { parseUpdateInfo, parseUpdateInfoStream } from './updateinfo.ts';
import type { UpdateInfoOptions } from './updateinfo.ts';

export type Compression = 'gzip' | 'xz' | 'bzip2' | 'zstd' | 'zip';

/** Recognises compressed/archived content from its first bytes. */
export function detectCompression(head: Uint8Array): Compression | undefined {
  const b = (i: number): number | undefined => head[i];
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  if (b(0) === 0x50 && b(1) === 0x4b && b(2) === 0x03 && b(3) === 0x04) return 'zip';
  return undefined;
}

function unsupportedCompression(kind: Compression, what: string): AdvisoryParseError {
  return new AdvisoryParseError(
    `${what}: ${kind} ${kind === 'zip' ? 'archives are' : 'compression is'} not supported; ` +
      `unpack it first (gzip is read directly)`,
    { format: 'unknown' },
  );
}

const ADVISORY_LIST_HEADER_RE = /^\[\d{1,2} [A-Za-z]{3} \d{4}\] (?:DSA|DLA|DTSA)-\d/;
const CVE_LIST_HEADER_RE = /^CVE-\d{4}-(?:\d{4,}|X+)(?:\s|$)/;
const TRACKER_JSON_RE = /^\{\s*"(?:[^"\\]|\\.)*"\s*:\s*\{\s*"(?:CVE-|TEMP-)/;

/**
 * Detects the advisory format from the start of a (decompressed) file. A few KB are enough.
 * Returns undefined for anything else (e.g. other XML such as MSRC CVRF, Markdown, empty files).
 */
export function detectAdvisoryFormat(head: string | Uint8Array): AdvisoryFormatName | undefined {
  let text = typeof head === 'string' ? head : new TextDecoder('utf-8').decode(head);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const t = text.trimStart();
  if (t.startsWith('<')) return /<updates?[\s>/]/.test(t) ? 'updateinfo' : undefined;
  if (t.startsWith('{')) return TRACKER_JSON_RE.test(t) ? 'debian-tracker-json' : 'osv';
  // Text lists: look at the first few unindented lines (a malformed first entry must not hide the format).
  const headers = t
    .split(/\r?\n/)
    .slice(0, 40)
    .filter((l) => l.trim() !== '' && !/^\s/.test(l))
    .slice(0, 5);
  if (headers.some((l) => ADVISORY_LIST_HEADER_RE.test(l))) return 'debian-advisory-list';
  if (t.startsWith('[')) return 'osv';
  if (headers.some((l) => CVE_LIST_HEADER_RE.test(l))) return 'debian-cve-list';
  return undefined;
}

/** Gunzips gzip content (possibly multi-member); other compressions throw; plain content is returned as is. */
export function decompressBuffer(buf: Uint8Array, what = 'input'): Buffer {
  const kind = detectCompression(buf);
  if (kind === undefined) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (kind !== 'gzip') throw unsupportedCompression(kind, what);
  try {
    return gunzipSync(buf);
  } catch (err) {
    throw new AdvisoryParseError(`${what}: corrupt or truncated gzip data: ${(err as Error).message}`, {
      format: 'unknown',
      cause: err,
    });
  }
}

export interface ReadAdvisoriesOptions extends UpdateInfoOptions {
  /** Skip detection and parse every file as this format. */
  format?: AdvisoryFormatName;
  /** Called for each file before it is parsed (format undefined: skipped as unrecognised). */
  onFile?: (path: string, format: AdvisoryFormatName | undefined) => void;
  /**
   * When set, a file that fails to parse is reported here and the directory walk goes on; records
   * already yielded from that file stay yielded. Without it the error is thrown.
   */
  onError?: (path: string, error: Error) => void;
}

function parseText(format: AdvisoryFormatName, data: Buffer, options: UpdateInfoOptions): Advisory[] {
  switch (format) {
    case 'updateinfo':
      return parseUpdateInfo(data, options);
    case 'osv':
      return parseOsv(data, options);
    case 'debian-tracker-json':
      return parseDebianTracker(data, options);
    case 'debian-advisory-list':
      return parseDebianAdvisoryList(new TextDecoder('utf-8').decode(data), options);
    case 'debian-cve-list':
      return parseDebianCveList(new TextDecoder('utf-8').decode(data), options);
  }
}

/**
 * Parses an in-memory file (gzip or plain) after detecting its format.
 * Throws AdvisoryParseError when the format is not recognised or the content is malformed.
 */
export function parseAdvisoryBuffer(
  input: Uint8Array | string,
  options: ReadAdvisoriesOptions = {},
): { format: AdvisoryFormatName; advisories: Advisory[] } {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : decompressBuffer(input);
  const format = options.format ?? detectAdvisoryFormat(data.subarray(0, 8192));
  if (format === undefined) {
    throw new AdvisoryParseError('unrecognised advisory format', { format: 'unknown' });
  }
  return { format, advisories: parseText(format, data, options) };
}

/** Reads the first bytes of a file (for compression magic). */
async function readMagic(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The file's decompressed bytes as a stream. */
function openDecompressed(path: string, compression: Compression | undefined): AsyncIterable<Buffer> {
  const raw = createReadStream(path);
  if (compression === undefined) return raw;
  if (compression !== 'gzip') {
    raw.destroy();
    throw unsupportedCompression(compression, path);
  }
  const gunzip = createGunzip();
  pipeline(raw, gunzip, () => {
    /* errors surface through the gunzip iterator */
  });
  return gunzip;
}

/** Buffers the first `min` bytes of a stream so the format can be detected, then replays them. */
async function peek(
  source: AsyncIterable<Buffer>,
  min: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Buffer>; close: () => Promise<void> }> {
  const it = source[Symbol.asyncIterator]();
  const taken: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < min) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    taken.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(taken);
  const rest: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: async function* () {
      if (head.length > 0) yield head;
      if (ended) return;
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          yield r.value;
        }
      } finally {
        await it.return?.();
      }
    },
  };
  const close = async (): Promise<void> => {
    await it.return?.();
  };
  return { head, rest, close };
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

function wrapIoError(path: string, err: unknown): Error {
  if (err instanceof AdvisoryParseError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return new AdvisoryParseError(`${path}: corrupt or truncated gzip data: ${e.message}`, {
      format: 'unknown',
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Reads one advisory file (plain or .gz), detecting its format from the content. updateinfo XML and
 * tracker JSON are streamed; the other formats are small enough to parse in one piece.
 */
export async function* readAdvisoryFile(path: string, options: ReadAdvisoriesOptions = {}): AsyncGenerator<Advisory> {
  try {
    const compression = detectCompression(await readMagic(path));
    const { head, rest, close } = await peek(openDecompressed(path, compression), 8192);
    const format = options.format ?? detectAdvisoryFormat(head);
    options.onFile?.(path, format);
    if (format === undefined) {
      await close();
      throw new AdvisoryParseError(`${path}: unrecognised advisory format`, { format: 'unknown' });
    }
    if (format === 'updateinfo') yield* parseUpdateInfoStream(rest, options);
    else if (format === 'debian-tracker-json') yield* parseDebianTrackerStream(rest, options);
    else yield* parseText(format, await collect(rest), options);
  } catch (err) {
    throw wrapIoError(path, err);
  }
}

/**
 * updateinfo helper: takes the XML as a Buffer (plain or gzip) or a file path (plain or .gz) and
 * yields its advisories.
 */
export async function* readUpdateInfo(input: Uint8Array | string, options: UpdateInfoOptions = {}): AsyncGenerator<Advisory> {
  if (typeof input !== 'string') {
    yield* parseUpdateInfo(decompressBuffer(input, 'updateinfo'), options);
    return;
  }
  yield* readAdvisoryFile(input, { ...options, format: 'updateinfo' });
}

/**
 * Reads a file or, recursively and in name order, a directory of advisory files. Hidden entries are
 * skipped; files whose format is not recognised are skipped with a warning when walking a directory
 * (and are an error when named directly).
 */
export async function* readAdvisories(path: string, options: ReadAdvisoriesOptions = {}): AsyncGenerator<Advisory> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    yield* readAdvisoryFile(path, options);
    return;
  }
  const entries = (await readdir(path, { withFileTypes: true }))
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) {
      yield* readAdvisories(child, options);
      continue;
    }
    if (!e.isFile()) continue;
    let format = options.format;
    if (format === undefined) {
      try {
        format = await detectFileFormat(child);
      } catch (err) {
        if (!options.onError) throw wrapIoError(child, err);
        options.onError(child, wrapIoError(child, err));
        continue;
      }
      if (format === undefined) {
        options.onFile?.(child, undefined);
        options.onWarning?.(`${child}: not a recognised advisory file; skipped`);
        continue;
      }
    }
    try {
      yield* readAdvisoryFile(child, { ...options, format });
    } catch (err) {
      if (!options.onError) throw err;
      options.onError(child, err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** Detects a file's format (undoing gzip) without parsing it; undefined when unrecognised. */
export async function detectFileFormat(path: string): Promise<AdvisoryFormatName | undefined> {
  const compression = detectCompression(await readMagic(path));
  if (compression !== undefined && compression !== 'gzip') throw unsupportedCompression(compression, path);
  const source = openDecompressed(path, compression);
  const it = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  try {
    while (size < 8192) {
      const r = await it.next();
      if (r.done) break;
      parts.push(r.value);
      size += r.value.length;
    }
  } finally {
    await it.return?.();
  }
  return detectAdvisoryFormat(Buffer.concat(parts));
}

