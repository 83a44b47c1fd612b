#!/usr/bin/env node
// Builds the web console (console/ → dist/console/) with esbuild: one minified ES module and one stylesheet under
// dist/console/assets/ with content hashes in their names (served at /console/assets/…, cacheable forever), and
// dist/console/index.html referencing them. No inline script or style: the server sends CSP default-src 'self'.
// Like build-agent.mjs it builds when run or imported (`await import('./build-console.mjs')` from build.mjs);
// `--dev` keeps the output readable, with a source map.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'dist/console');
const assetsDir = join(outDir, 'assets');
const dev = process.argv.includes('--dev');

async function buildConsole({ quiet = false } = {}) {
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(assetsDir, { recursive: true });
  const result = await build({
    entryPoints: { main: join(root, 'console/src/main.tsx') },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: !dev,
    sourcemap: dev ? 'linked' : false,
    legalComments: 'none',
    metafile: true,
    define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => /^main-[A-Z0-9]+\.js$/i.test(f));
  const css = outputs.find((f) => /^main-[A-Z0-9]+\.css$/i.test(f));
  if (!js || !css) throw new Error(`console build: expected main-<hash>.js and .css, got ${outputs.join(', ')}`);

  const icon = readFileSync(join(root, 'console/favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 10)}.svg`;
  writeFileSync(join(assetsDir, iconName), icon);

  const tags = [
    `<link rel="icon" type="image/svg+xml" href="/console/assets/${iconName}" />`,
    `<link rel="stylesheet" href="/console/assets/${css}" />`,
    `<script type="module" src="/console/assets/${js}"></script>`,
  ].join('\n    ');
  const template = readFileSync(join(root, 'console/index.html'), 'utf8');
  const marker = /<!-- assets:[^>]*-->/;
  if (!marker.test(template)) throw new Error('console/index.html has no <!-- assets: … --> marker');
  writeFileSync(join(outDir, 'index.html'), template.replace(marker, tags));
  if (!quiet) {
    const size = (f) => (readFileSync(join(assetsDir, f)).length / 1024).toFixed(1);
    process.stderr.write(`built dist/console (${js} ${size(js)} KiB, ${css} ${size(css)} KiB) in ${Date.now() - started} ms\n`);
  }
  return { js, css, icon: iconName };
}

await buildConsole();
