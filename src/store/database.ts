// Opens the database behind a Kysely instance: SQLite (better-sqlite3, the embedded default) or PostgreSQL (pg).
// Everything above this file speaks Kysely; the few dialect differences are answered by `engine`.

import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type TransactionSettings } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

export type Engine = 'sqlite' | 'postgres';

/**
 * SQLite write transactions start with BEGIN IMMEDIATE: the write lock is taken up front, so two processes writing
 * the same database never fail with SQLITE_BUSY half-way when a reader upgrades. Waiting for that lock must not
 * block the event loop (better-sqlite3 is synchronous, and SQLite's busy handler sleeps): the attempt is made with
 * busy_timeout 0 and, while another process holds the lock, retried after short asynchronous pauses.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #sqlite: SQLite.Database;

  constructor(config: ConstructorParameters<typeof SqliteDriver>[0], sqlite: SQLite.Database) {
    super(config);
    this.#sqlite = sqlite;
  }

  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    // Store.snapshot: a read-only snapshot, which in WAL mode needs no lock at all.
    if (settings?.isolationLevel === 'repeatable read') {
      await connection.executeQuery(CompiledQuery.raw('begin deferred'));
      return;
    }
    const deadline = Date.now() + WRITE_LOCK_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      this.#sqlite.pragma('busy_timeout = 0');
      try {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      } finally {
        this.#sqlite.pragma(`busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
      }
      // 0.1 ms, then up to ~2 ms with jitter: transactions here last a millisecond or two.
      await new Promise((resolve) => setTimeout(resolve, Math.min(2, 0.1 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/**
 * Kysely prepares a better-sqlite3 statement for every query it runs; preparing costs more than running most of
 * ours. This keeps prepared statements by SQL text (the same few hundred shapes recur), dropping them all when the
 * cache fills (IN lists of many lengths can make many shapes). Statements run synchronously (all/run), so a cached
 * one is never in use twice at once.
 */
function withStatementCache(sqlite: SQLite.Database, limit = 2000): { prepare(sql: string): SQLite.Statement; close(): void } {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sqlText: string): SQLite.Statement {
      let stmt = cache.get(sqlText);
      if (stmt === undefined) {
        if (cache.size >= limit) cache.clear();
        stmt = sqlite.prepare(sqlText);
        cache.set(sqlText, stmt);
      }
      return stmt;
    },
    close: () => sqlite.close(),
  };
}

const WRITE_LOCK_TIMEOUT_MS = 30_000;
const READ_BUSY_TIMEOUT_MS = 10_000;

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  readonly #sqlite: SQLite.Database;
  constructor(sqlite: SQLite.Database) {
    const config = { database: withStatementCache(sqlite) as unknown as SQLite.Database };
    super(config);
    this.#config = config;
    this.#sqlite = sqlite;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config as ConstructorParameters<typeof SqliteDriver>[0], this.#sqlite);
  }
}

export interface OpenDatabase {
  db: Kysely<DatabaseSchema>;
  engine: Engine;
  /** A human description without secrets, for logs. */
  description: string;
  /** The raw better-sqlite3 handle (SQLite only), for the few hot paths that need synchronous batches. */
  sqlite?: SQLite.Database;
  close(): Promise<void>;
}

// PostgreSQL returns int8/numeric as strings by default; every count and epoch we store fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Strips a password from a connection URL for logging. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

export interface OpenOptions {
  /** `postgres://…` or `sqlite:PATH` / a plain file path. */
  url: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

export function openDatabase(options: OpenOptions): OpenDatabase {
  const { url } = options;
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', description: redactUrl(url), close: () => db.destroy() };
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  // The database holds (encrypted) keys and fleet data: readable by the service's user only.
  if (file !== ':memory:') for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  sqlite.pragma('journal_mode = WAL');
  if (file !== ':memory:') for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${READ_BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoint the WAL every WAL_CHECKPOINT_PAGES pages instead of SQLite's 1,000: hot pages (counters, index
  // interiors) that many commits touch are copied back to the database once per checkpoint, not once per 4 MB.
  sqlite.pragma(`wal_autocheckpoint = ${process.env.PATCHLINE_SQLITE_CHECKPOINT_PAGES ?? 16384}`);
  const db = new Kysely<DatabaseSchema>({ dialect: new ImmediateSqliteDialect(sqlite) });
  return { db, engine: 'sqlite', description: `sqlite:${file}`, sqlite, close: () => db.destroy() };
}
