// The application: everything one server process holds, built once at start and passed to every handler.

import { chmodSync, mkdirSync } from 'node:fs';
import { openDatabase, type OpenDatabase } from './store/database.ts';
import { migrateToLatest } from './store/migrations.ts';
import { Store, type Db } from './store/store.ts';
import { ReportingStore } from './store/reporting-store.ts';
import { ScanStore } from './store/scan-store.ts';
import { Evaluator } from './services/evaluator.ts';
import { loadMasterKey } from './auth/master-key.ts';
import { CredentialStore, writeAdminCredentialsFile, type KeyPair } from './auth/credentials.ts';
import { PageTokens } from './server/next-token.ts';
import { SnapshotUrls } from './auth/snapshot-urls.ts';
import { ConsoleSessions } from './auth/console-sessions.ts';
import { RegistrationLimiter } from './auth/registration-limiter.ts';
import { ProtocolModel } from './server/protocol-model.ts';
import { createLogger, type Logger } from './server/logger.ts';
import { PredefinedBaselines } from './domain/predefined-baselines.ts';
import { allOperations } from './api/index.ts';
import type { OperationTable } from './server/operation.ts';
import type { ServerConfig } from './config.ts';

export interface App {
  config: ServerConfig;
  log: Logger;
  database: OpenDatabase;
  store: Store;
  credentials: CredentialStore;
  tokens: PageTokens;
  model: ProtocolModel;
  predefined: PredefinedBaselines;
  operations: OperationTable;
  /** Managed nodes and their patch reports. */
  reports: ReportingStore;
  /** Raw scans kept for server-side evaluation, and the evaluator. */
  scans: ScanStore;
  evaluator: Evaluator;
  nodes: NodeDirectory;
  registrationLimiter: RegistrationLimiter;
  /** Signs and verifies the presigned snapshot download URLs (GetDeployablePatchSnapshotForInstance). */
  snapshotUrls: SnapshotUrls;
  /** Web console sessions (docs/console.md). */
  sessions: ConsoleSessions;
  close(): Promise<void>;
}

export interface NodeDirectory {
  exists(instanceId: string): Promise<boolean>;
  tagsChanged(resourceType: string, resourceId: string, db: Db): Promise<void>;
}

export interface StartupReport {
  /** Set when this start created the admin key (first start without PATCHLINE_ACCESS_KEY_ID). */
  createdAdminKey?: KeyPair & { file: string };
  masterKeySource: string;
  migrations: string[];
}

export async function createApp(config: ServerConfig, log: Logger = createLogger(config.logLevel)): Promise<{ app: App; report: StartupReport }> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const master = loadMasterKey(config.dataDir, config.masterKey);
  const database = openDatabase({ url: config.databaseUrl });
  try {
    const migrations = await migrateToLatest(database.db, database.engine);
    const store = new Store(database);
    const credentials = new CredentialStore(database.db, master.key);
    await credentials.checkMasterKey();
    if (config.adminKey) credentials.addStaticAdminKey(config.adminKey);
    const report: StartupReport = { masterKeySource: master.source, migrations };
    if (!config.adminKey && !(await credentials.hasStoredAdminKey())) {
      const pair = await credentials.createKey('admin', { label: 'created at first start' });
      const file = writeAdminCredentialsFile(config.dataDir, pair, config.region);
      report.createdAdminKey = { ...pair, file };
    }
    const reports = new ReportingStore(store);
    const nodes: NodeDirectory = {
      exists: (id) => reports.nodeExists(id),
      tagsChanged: async (type, id, db) => {
        if (type === 'ManagedInstance') await reports.refreshPatchGroupTag(id, db);
      },
    };
    const app: App = {
      config,
      log,
      database,
      store,
      credentials,
      tokens: new PageTokens(master.key.derive('page-tokens')),
      model: new ProtocolModel(),
      predefined: new PredefinedBaselines(config.region),
      operations: allOperations,
      reports,
      scans: new ScanStore(store),
      evaluator: undefined as unknown as Evaluator,
      nodes,
      registrationLimiter: new RegistrationLimiter(),
      snapshotUrls: new SnapshotUrls(master.key, config.region),
      sessions: new ConsoleSessions(database.db, master.key.derive('console-csrf')),
      close: () => database.close(),
    };
    app.evaluator = new Evaluator(app);
    return { app, report };
  } catch (err) {
    await database.close();
    throw err;
  }
}
