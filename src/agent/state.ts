// The agent's state directory (default /var/lib/patchline-agent, or --state-dir / PATCHLINE_AGENT_DIR): root-only
// (directory 0700, files 0600), every file written atomically (temporary file, fsync, rename, fsync of the
// directory), so a crash or a full disk leaves either the old file or the new one, never a torn one.
//
//   registration.json   endpoint, region, node id and the node's own key pair
//   status.json         the last scan, install and send, and the last error (for `status`)
//   outbox/             reports not yet accepted by the server, one file each, sent oldest first
//   outbox/rejected/    reports the server refused for good (validation), kept for a person to look at
//   operation.lock      a symlink naming the pid of a running scan or install

import {
  closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync, writeSync,
  chmodSync, existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AgentError, EXIT } from './errors.ts';

export const DEFAULT_STATE_DIR = '/var/lib/patchline-agent';

export interface Registration {
  endpoint: string;
  region: string;
  instanceId: string;
  accessKeyId: string;
  secretAccessKey: string;
  activationId: string;
  registeredAt: string;
  caFile?: string;
}

export interface AgentStatus {
  lastScan?: { time: string; operation: 'Scan' | 'Install'; installed: number; updates: number; rebootPending: boolean };
  lastSent?: { time: string; file: string; missing?: number; failed?: number; installed?: number };
  lastInstall?: { time: string; snapshotId: string; installed: string[]; failed: string[]; rebootPending: boolean; rebooted: boolean };
  lastError?: { time: string; message: string };
}

/** Turns a file-system error into a message a person can act on. */
export function describeFsError(err: unknown, what: string, path: string): AgentError {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOSPC': return new AgentError(`${what}: the file system holding ${path} is full (ENOSPC). Free some space; nothing already saved was changed.`, EXIT.state, { cause: err });
    case 'EDQUOT': return new AgentError(`${what}: the disk quota for ${path} is exhausted (EDQUOT). Nothing already saved was changed.`, EXIT.state, { cause: err });
    case 'EACCES': case 'EPERM': return new AgentError(`${what}: permission denied on ${path}. The agent keeps credentials in a root-only directory: run it as root, or choose another directory with --state-dir / PATCHLINE_AGENT_DIR.`, EXIT.state, { cause: err });
    case 'EROFS': return new AgentError(`${what}: ${path} is on a read-only file system.`, EXIT.state, { cause: err });
    default: return new AgentError(`${what}: ${e.message ?? String(err)}`, EXIT.state, { cause: err });
  }
}

/** Writes a file atomically with mode 0600: a temporary file in the same directory, fsync, rename, fsync dir. */
export function writeFileAtomic(path: string, data: string | Buffer, what = 'Could not save state'): void {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already failing */ }
    }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw describeFsError(err, what, path);
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* best effort: some file systems refuse fsync on directories */ }
}

export class StateDir {
  readonly dir: string;
  readonly outboxDir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.outboxDir = join(dir, 'outbox');
  }

  static resolve(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): StateDir {
    return new StateDir(flag ?? (env.PATCHLINE_AGENT_DIR || DEFAULT_STATE_DIR));
  }

  /** Creates the directories (0700) if needed and tightens their mode if someone loosened it. */
  ensure(): void {
    for (const d of [this.dir, this.outboxDir]) {
      try {
        mkdirSync(d, { recursive: true, mode: 0o700 });
        if ((statSync(d).mode & 0o077) !== 0) chmodSync(d, 0o700);
      } catch (err) {
        throw describeFsError(err, 'Could not prepare the state directory', d);
      }
    }
  }

  #readJson<T>(name: string): T | undefined {
    const path = join(this.dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw describeFsError(err, `Could not read ${name}`, path);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AgentError(`${path} is not valid JSON; it may have been edited by hand. Fix or remove it.`, EXIT.state);
    }
  }

  readRegistration(): Registration | undefined {
    return this.#readJson<Registration>('registration.json');
  }

  requireRegistration(): Registration {
    const r = this.readRegistration();
    if (r === undefined) {
      throw new AgentError(`This node is not registered (no ${join(this.dir, 'registration.json')}). Run: patchline agent register --endpoint URL --activation-id ID --activation-code CODE`, EXIT.usage);
    }
    return r;
  }

  writeRegistration(r: Registration): void {
    this.ensure();
    writeFileAtomic(join(this.dir, 'registration.json'), JSON.stringify(r, null, 2) + '\n', 'Could not save the registration');
  }

  readStatus(): AgentStatus {
    return this.#readJson<AgentStatus>('status.json') ?? {};
  }

  /** Updates status.json; a failure here (disk full) is reported to the caller but never loses a report. */
  updateStatus(change: (s: AgentStatus) => void): void {
    const s = this.readStatus();
    change(s);
    writeFileAtomic(join(this.dir, 'status.json'), JSON.stringify(s, null, 2) + '\n', 'Could not save status.json');
  }

  // ---- outbox ----

  /** Queued report files, oldest first. */
  outboxFiles(): string[] {
    if (!existsSync(this.outboxDir)) return [];
    return readdirSync(this.outboxDir).filter((f) => /^\d{13}-\d{6}-(Scan|Install)\.json$/.test(f)).sort();
  }

  readOutbox(file: string): Record<string, unknown> | undefined {
    try {
      return JSON.parse(readFileSync(join(this.outboxDir, file), 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /**
   * Saves a report in the outbox and returns its file name. Every report carries the node's full inventory, so a
   * new report supersedes the queued Scan reports before it (they are dropped); queued Install reports stay,
   * because their Failed / InstalledByOperation lists exist nowhere else. Throws (disk full…) without touching
   * what was already queued.
   */
  enqueue(report: { Operation: 'Scan' | 'Install' }, now = Date.now()): string {
    this.ensure();
    const existing = this.outboxFiles();
    const lastSeq = existing.length === 0 ? 0 : Number(existing[existing.length - 1]!.slice(14, 20));
    const seq = String((lastSeq + 1) % 1_000_000).padStart(6, '0');
    const file = `${String(now).padStart(13, '0')}-${seq}-${report.Operation}.json`;
    writeFileAtomic(join(this.outboxDir, file), JSON.stringify(report), 'Could not save the report in the outbox');
    for (const f of existing) if (f.endsWith('-Scan.json') && f < file) this.#remove(join(this.outboxDir, f));
    // Bound the queue: a node that is offline for months keeps at most the 50 newest Install reports.
    const installs = this.outboxFiles().filter((f) => f.endsWith('-Install.json'));
    for (const f of installs.slice(0, Math.max(0, installs.length - 50))) this.#remove(join(this.outboxDir, f));
    return file;
  }

  removeFromOutbox(file: string): void {
    this.#remove(join(this.outboxDir, file));
  }

  /** Moves a report the server refused for good out of the queue. */
  rejectFromOutbox(file: string): string {
    const dir = join(this.outboxDir, 'rejected');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, file);
    renameSync(join(this.outboxDir, file), target);
    return target;
  }

  #remove(path: string): void {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(err, 'Could not update the outbox', path);
    }
  }

  // ---- lock ----

  /**
   * Takes the operation lock: a symbolic link whose target names the holder (`pid what since`). Creating a
   * symlink is atomic, fails if it exists, and needs no data block, so the lock also works on a full disk. A lock
   * whose process is gone is stale and taken over. Returns a release function; throws AgentError(EXIT.busy)
   * naming the holder when it is held.
   */
  lock(what: string): () => void {
    this.ensure();
    const path = join(this.dir, 'operation.lock');
    for (let tries = 0; tries < 3; tries++) {
      try {
        symlinkSync(`${process.pid} ${what} ${new Date().toISOString()}`, path);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          try { unlinkSync(path); } catch { /* gone */ }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw describeFsError(err, 'Could not take the operation lock', path);
      }
      let holder: string[] = [];
      try {
        holder = readlinkSync(path).split(' ');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        // Not a symlink: an old or foreign file. Take it over only when nobody could be using it.
        try { unlinkSync(path); } catch { /* raced */ }
        continue;
      }
      const pid = Number(holder[0]);
      if (!Number.isInteger(pid) || !processAlive(pid)) {
        try { unlinkSync(path); } catch { /* raced */ }
        continue;
      }
      throw new AgentError(
        `Another agent operation is running (${holder[1] ?? 'unknown'} by pid ${pid} since ${holder[2] ?? '?'}); refusing to ${what} at the same time.`,
        EXIT.busy,
      );
    }
    throw new AgentError(`Could not take the operation lock ${path}.`, EXIT.busy);
  }

  /** The holder of the operation lock, if any (for `status`). */
  lockHolder(): { pid: number; what: string; since: string } | undefined {
    try {
      const [pid, what, since] = readlinkSync(join(this.dir, 'operation.lock')).split(' ');
      return processAlive(Number(pid)) ? { pid: Number(pid), what: what ?? '?', since: since ?? '?' } : undefined;
    } catch {
      return undefined;
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
