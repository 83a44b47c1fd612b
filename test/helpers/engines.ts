// Which store engines a test run covers. SQLite always; PostgreSQL when PATCHLINE_TEST_POSTGRES_URL names a
// server (.ci/run sets it). With PATCHLINE_TEST_REQUIRE_POSTGRES=1 a missing URL fails instead of skipping.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type EngineName = 'sqlite' | 'postgres';

export const postgresUrl = process.env.PATCHLINE_TEST_POSTGRES_URL;

export function engines(): Array<{ engine: EngineName; skip: string | false }> {
  const pgSkip = postgresUrl
    ? false
    : process.env.PATCHLINE_TEST_REQUIRE_POSTGRES === '1'
      ? false
      : 'PATCHLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)';
  return [{ engine: 'sqlite', skip: false }, { engine: 'postgres', skip: pgSkip }];
}

/** Creates an empty database on the test PostgreSQL server; returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!postgresUrl) throw new Error('PATCHLINE_TEST_POSTGRES_URL is required for PostgreSQL tests');
  const name = `patchline_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: postgresUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
