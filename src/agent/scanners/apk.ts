// Alpine with apk: `apk list --installed` and `apk list --upgradable` (name-version arch {origin} (licence)
// [installed | upgradable from: name-oldversion]). Alpine cannot be reported (the AWS model has no
// OperatingSystem value for it, docs/agent.md): the scanner serves `scan --no-send` only, and install refuses.

import type { Host } from '../host.ts';
import { AgentError } from '../errors.ts';
import { ALPINE_REFUSAL } from '../platform.ts';
import type { InstallOutcome, InstallRequest, InstalledPackage, ScanOptions, ScanResult, Scanner, UpdatePackage } from './types.ts';

/** `musl-1.2.4-r2` → musl, 1.2.4-r2 (apk versions always end in -r<N>). */
export function splitApkName(nv: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+-r\d+)$/.exec(nv);
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}

export function parseApkList(text: string): Array<{ name: string; version: string; arch: string; origin?: string; from?: string }> {
  const out: Array<{ name: string; version: string; arch: string; origin?: string; from?: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+) \{([^}]*)\} \([^)]*\)(?: \[(.*)\])?$/.exec(line.trim());
    if (!m) continue;
    const nv = splitApkName(m[1]!);
    if (!nv) continue;
    const entry: { name: string; version: string; arch: string; origin?: string; from?: string } = { ...nv, arch: m[2]!, origin: m[3]! };
    const from = /^upgradable from: (\S+)$/.exec(m[4] ?? '');
    if (from) entry.from = splitApkName(from[1]!)?.version ?? from[1]!;
    out.push(entry);
  }
  return out;
}

export class ApkScanner implements Scanner {
  readonly manager = 'apk';
  readonly #host: Host;
  constructor(host: Host) {
    this.#host = host;
  }

  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const root = this.#host.root === '/' ? [] : ['--root', this.#host.root];
    if (options.refresh) await this.#host.run('apk', [...root, 'update']);
    const inst = await this.#host.run('apk', [...root, 'list', '--installed']);
    if (inst.code !== 0) throw new AgentError(`apk list --installed failed: ${inst.stderr.trim()}`);
    const upg = await this.#host.run('apk', [...root, 'list', '--upgradable']);
    const installed: InstalledPackage[] = parseApkList(inst.stdout).map((p) => ({ Name: p.name, Version: p.version, Architecture: p.arch, ...(p.origin ? { SourceName: p.origin } : {}) }));
    const updates: UpdatePackage[] = parseApkList(upg.stdout).map((p) => ({ Name: p.name, Version: p.version, Architecture: p.arch, Security: false, ...(p.origin ? { SourceName: p.origin } : {}) }));
    return { installed, updates, rebootPending: await this.rebootPending(), notes: [ALPINE_REFUSAL] };
  }

  async rebootPending(): Promise<boolean> {
    return false;
  }

  async install(_request: InstallRequest): Promise<InstallOutcome> {
    throw new AgentError(ALPINE_REFUSAL);
  }
}
