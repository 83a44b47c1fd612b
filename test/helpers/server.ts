// Starts a real Patchline server in this process on an ephemeral port, on SQLite or PostgreSQL, with a fresh
// data directory, and hands out real AWS SDK clients signed with its admin key.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createApp, type App } from '../../src/app.ts';
import { createHttpServer } from '../../src/server/http-server.ts';
import { createLogger } from '../../src/server/logger.ts';
import { loadServerConfig, type ServerConfig } from '../../src/config.ts';
import { createPostgresDatabase, type EngineName } from './engines.ts';

export const TEST_ADMIN = { accessKeyId: 'AKPLTESTADMIN0000001', secretAccessKey: 'test-admin-secret-key-0123456789abcdef0' };

export interface TestServer {
  endpoint: string;
  app: App;
  config: ServerConfig;
  dataDir: string;
  client(credentials?: { accessKeyId: string; secretAccessKey: string }, region?: string): SSMClient;
  close(): Promise<void>;
}

export async function startTestServer(options: { engine?: EngineName; env?: Record<string, string>; dataDir?: string; background?: boolean } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'patchline-test-'));
  const pgdb = options.engine === 'postgres' ? await createPostgresDatabase() : undefined;
  const env: Record<string, string> = {
    PATCHLINE_PORT: '0',
    PATCHLINE_DATA_DIR: dataDir,
    PATCHLINE_ACCESS_KEY_ID: TEST_ADMIN.accessKeyId,
    PATCHLINE_SECRET_ACCESS_KEY: TEST_ADMIN.secretAccessKey,
    PATCHLINE_LOG_LEVEL: process.env.PATCHLINE_TEST_LOG_LEVEL ?? 'silent',
    ...(pgdb ? { PATCHLINE_DATABASE_URL: pgdb.url } : {}),
    ...options.env,
  };
  const config = loadServerConfig({ flags: {}, env });
  const { app } = await createApp(config, createLogger(config.logLevel));
  const server: Server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stopEvaluation = options.background === false ? () => {} : app.evaluator.start({ idleMs: 50 });
  const clients: SSMClient[] = [];
  return {
    endpoint,
    app,
    config,
    dataDir,
    client(credentials = TEST_ADMIN, region = config.region) {
      const c = new SSMClient({ endpoint, region, credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    async close() {
      stopEvaluation();
      clients.forEach((c) => c.destroy());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      await pgdb?.drop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
