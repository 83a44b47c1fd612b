// The web console's static files (docs/console.md): GET / answers dist/console/index.html and
// GET /console/assets/<path> the files under dist/console/assets/. They are public and hold no data. Paths are
// checked before any file is touched: no `..` or `.` segments, no dot files, no backslashes or NULs, nothing
// percent-encoded into a separator or a dot segment, and the resolved real path must stay inside assets/.
// Files whose name carries a content hash (`name-1a2B3c4D.js`) are cached for a year; the others (and index.html)
// are revalidated with their ETag. Without a built console, GET / answers a short page saying how to build it.

import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const ASSETS_PREFIX = '/console/assets/';

/**
 * Headers every console answer carries: a strict Content-Security-Policy (scripts, styles, fonts, images and API
 * calls only from this origin; no inline script, no framing), no MIME sniffing, no Referer.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * `name-HASH.ext` / `name.HASH.ext`: esbuild's 8-character upper-case hash, a hex digest (8+), or 8+ letters and
 * digits with at least one digit.
 */
const HASHED_NAME = /[.-]([A-Za-z0-9]{8,})\.[A-Za-z0-9]+$/;
const isHashedName = (name: string) => {
  const hash = HASHED_NAME.exec(name)?.[1];
  return hash !== undefined && (/^[A-Z2-7]{8}$/.test(hash) || /^[0-9a-f]{8,}$/.test(hash) || /\d/.test(hash));
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patchline</title></head>
<body><h1>Patchline</h1>
<p>The web console has not been built on this server. Run <code>npm run build</code> in the Patchline directory
(it writes <code>dist/console/</code>), then reload this page.</p>
<p>The API is served at <code>POST /</code> as usual.</p></body></html>
`;

/** The default console directory: dist/console beside the bundled server (dist/cli.js), or in dist/ from src/. */
function defaultConsoleDir(): string {
  const fromSource = fileURLToPath(import.meta.url).endsWith(`${sep}src${sep}server${sep}console-static.ts`);
  return fileURLToPath(new URL(fromSource ? '../../dist/console/' : './console/', import.meta.url));
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  data: Buffer;
  etag: string;
}

export class ConsoleFiles {
  readonly #root: string;
  readonly #cache = new Map<string, CachedFile>();

  constructor(root: string | undefined) {
    this.#root = root ?? defaultConsoleDir();
  }

  /** Whether this request is one for a console file (the caller answers 405 for other methods on these paths). */
  static isConsolePath(path: string): boolean {
    return path === '/' || path.startsWith(ASSETS_PREFIX);
  }

  /** Answers GET/HEAD / or /console/assets/…; false when the path names no file (the caller answers 404). */
  async serve(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): Promise<boolean> {
    const head = req.method === 'HEAD';
    if (path === '/') {
      const index = await this.#read(join(this.#root, 'index.html'));
      if (index === undefined) {
        const body = Buffer.from(NOT_BUILT_PAGE, 'utf8');
        res.writeHead(503, { ...CONSOLE_SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', 'x-amzn-RequestId': requestId });
        res.end(head ? undefined : body);
        return true;
      }
      this.#send(req, res, index, CONTENT_TYPES['.html']!, 'no-cache', requestId);
      return true;
    }
    const file = this.#assetPath(path.slice(ASSETS_PREFIX.length));
    if (file === undefined) return false;
    const found = await this.#read(file);
    if (found === undefined) return false;
    const name = file.slice(file.lastIndexOf(sep) + 1);
    const type = CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
    this.#send(req, res, found, type, isHashedName(name) ? 'public, max-age=31536000, immutable' : 'no-cache', requestId);
    return true;
  }

  /** The file a raw (still percent-encoded) path below assets/ names, or undefined when it is not acceptable. */
  #assetPath(raw: string): string | undefined {
    if (raw === '' || raw.includes('\\') || raw.includes('\0')) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (decoded.includes('\\') || decoded.includes('\0')) return undefined;
    const segments = decoded.split('/');
    if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined; // '', '.', '..', dot files
    const assets = join(this.#root, 'assets');
    const file = join(assets, ...segments);
    if (!file.startsWith(assets + sep)) return undefined;
    try {
      // Symbolic links must not lead out of assets/ either.
      const real = realpathSync(file);
      if (!real.startsWith(realpathSync(assets) + sep)) return undefined;
    } catch {
      return undefined;
    }
    return file;
  }

  async #read(file: string): Promise<CachedFile | undefined> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const cached = this.#cache.get(file);
    if (cached !== undefined && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const data = await readFile(file);
    const entry = { mtimeMs: info.mtimeMs, size: info.size, data, etag: `"${createHash('sha256').update(data).digest('base64url').slice(0, 27)}"` };
    if (this.#cache.size > 500) this.#cache.clear();
    this.#cache.set(file, entry);
    return entry;
  }

  #send(req: IncomingMessage, res: ServerResponse, file: CachedFile, type: string, cacheControl: string, requestId: string): void {
    const headers: Record<string, string | number> = {
      ...CONSOLE_SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': cacheControl, ETag: file.etag, 'x-amzn-RequestId': requestId,
    };
    const match = req.headers['if-none-match'];
    if (match !== undefined && match.split(',').some((t) => t.trim().replace(/^W\//, '') === file.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['Content-Length'] = file.data.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : file.data);
  }
}
