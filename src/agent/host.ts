// What a scanner may touch on the node: commands and files, both behind one interface so the conformance suite
// can run every scanner against captured command output (test/fixtures/agent) exactly as it runs on a node.
// Commands run with LC_ALL=C so their output is the untranslated text the parsers expect.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Called with each chunk of output as it arrives (install progress). */
  onOutput?: (chunk: string) => void;
}

export interface Host {
  /** The root the package manager acts on: "/" on a node; a test's own root otherwise. */
  readonly root: string;
  run(command: string, args: string[], options?: RunOptions): Promise<CommandResult>;
  /** Whether a command is on PATH. */
  has(command: string): Promise<boolean>;
  readFile(path: string): string | undefined;
  readBinary(path: string): Buffer | undefined;
  exists(path: string): boolean;
  listDir(path: string): string[];
  /** mtime in epoch seconds, undefined when missing. */
  mtime(path: string): number | undefined;
  /** The running kernel's release (uname -r). */
  kernelRelease(): string;
}

/** The real node. `root` re-roots file reads (os-release, reboot-required…); commands get it through the scanners' own options. */
export class LocalHost implements Host {
  readonly root: string;
  readonly #env: Record<string, string>;

  constructor(root = '/', env: Record<string, string> = {}) {
    this.root = root;
    this.#env = env;
  }

  #path(path: string): string {
    return this.root === '/' ? path : join(this.root, path);
  }

  run(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        env: { ...process.env, LC_ALL: 'C', LANG: 'C', LANGUAGE: '', ...this.#env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = options.timeoutMs
        ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }, options.timeoutMs)
        : undefined;
      child.stdout.on('data', (c: Buffer) => { out.push(c); options.onOutput?.(c.toString('utf8')); });
      child.stderr.on('data', (c: Buffer) => { err.push(c); options.onOutput?.(c.toString('utf8')); });
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        resolve({ code: e.code === 'ENOENT' ? 127 : 126, stdout: '', stderr: `${command}: ${e.message}` });
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8') + (timedOut ? `\n${command}: timed out after ${options.timeoutMs} ms` : '');
        resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr });
      });
    });
  }

  async has(command: string): Promise<boolean> {
    for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      try {
        if (statSync(join(dir, command)).isFile()) return true;
      } catch { /* next */ }
    }
    return false;
  }

  readFile(path: string): string | undefined {
    try {
      return readFileSync(this.#path(path), 'utf8');
    } catch {
      return undefined;
    }
  }

  readBinary(path: string): Buffer | undefined {
    try {
      return readFileSync(this.#path(path));
    } catch {
      return undefined;
    }
  }

  exists(path: string): boolean {
    try {
      statSync(this.#path(path));
      return true;
    } catch {
      return false;
    }
  }

  listDir(path: string): string[] {
    try {
      return readdirSync(this.#path(path));
    } catch {
      return [];
    }
  }

  mtime(path: string): number | undefined {
    try {
      return Math.floor(statSync(this.#path(path)).mtimeMs / 1000);
    } catch {
      return undefined;
    }
  }

  kernelRelease(): string {
    return release();
  }
}
