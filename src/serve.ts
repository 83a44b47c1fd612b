// `patchline serve`: builds the app, listens, prints how to connect, and shuts down cleanly on SIGTERM/SIGINT.
// With PATCHLINE_WORKERS ≠ 1 the primary process prepares the database and keys, runs the background jobs, and
// forks worker processes that share the listening port (node:cluster); a worker that dies is replaced. Background
// re-evaluation runs in the primary, and on PostgreSQL in every worker too (see runWorker).

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type App, type StartupReport } from './app.ts';
import { createHttpServer } from './server/http-server.ts';
import { createLogger, type Logger } from './server/logger.ts';
import { ADMIN_CREDENTIALS_FILE } from './auth/credentials.ts';
import { startHistoryJobs } from './services/history.ts';
import type { ServerConfig } from './config.ts';

export async function serve(config: ServerConfig): Promise<void> {
  const workers = config.workers === 0 ? availableParallelism() : config.workers;
  if (cluster.isWorker) return runWorker(config);
  const log = createLogger(config.logLevel, workers > 1 ? { role: 'primary' } : {});
  const { app, report } = await createApp(config, log);
  const stopHistory = startHistoryJobs(app);
  const stopEvaluation = app.evaluator.start();
  const stopJobs = () => {
    stopHistory();
    stopEvaluation();
  };
  if (workers <= 1) {
    const server = await listen(app, config);
    const endpoint = endpointOf(server.address() as AddressInfo);
    log.info('listening', { endpoint, database: app.database.description, region: config.region, pid: process.pid, migrations: report.migrations });
    process.stdout.write(startupBanner(endpoint, config, report));
    onSignals(log, () => closeServer(server).then(() => stopJobs()).then(() => app.close()));
    return;
  }

  let stopping = false;
  let announced = false;
  const fork = () => cluster.fork({ PATCHLINE_WORKER_OF: String(process.pid) });
  cluster.on('listening', (_worker, address) => {
    if (announced) return;
    announced = true;
    const endpoint = endpointOf({ address: address.address ?? config.host, port: address.port, family: address.addressType === 6 ? 'IPv6' : 'IPv4' });
    log.info('listening', { endpoint, workers, database: app.database.description, region: config.region, pid: process.pid, migrations: report.migrations });
    process.stdout.write(startupBanner(endpoint, config, report, workers));
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error('worker exited; starting a new one', { workerPid: worker.process.pid, code, signal });
    setTimeout(fork, 500);
  });
  for (let i = 0; i < workers; i++) fork();
  onSignals(log, async () => {
    stopping = true;
    const exits = Object.values(cluster.workers ?? {}).map((w) => new Promise<void>((resolve) => {
      if (w === undefined || w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    }));
    await Promise.all(exits);
    stopJobs();
    await app.close();
  });
}

async function runWorker(config: ServerConfig): Promise<void> {
  const log = createLogger(config.logLevel, { role: 'worker', pid: process.pid });
  const { app } = await createApp(config, log);
  const server = await listen(app, config);
  // On PostgreSQL every worker also re-evaluates: claims are leased per node, so the processes share a fleet's
  // re-evaluation across cores, and a batch yields to the event loop between nodes so requests keep being answered.
  // SQLite has one writer: there the primary alone re-evaluates (measured: 3,000 nodes, 1 evaluating process
  // ≈ 700 nodes/s, 3 processes ≈ 520 nodes/s, their write transactions queueing for the lock).
  const stopEvaluation = app.database.engine === 'postgres' ? app.evaluator.start() : () => {};
  onSignals(log, () => closeServer(server).then(() => stopEvaluation()).then(() => app.close()));
}

async function listen(app: App, config: ServerConfig): Promise<Server> {
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function onSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

function endpointOf(address: Pick<AddressInfo, 'address' | 'port' | 'family'>): string {
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

function startupBanner(endpoint: string, config: ServerConfig, report: StartupReport, workers = 1): string {
  const lines = [``, `Patchline is listening on ${endpoint} (region ${config.region}${workers > 1 ? `, ${workers} worker processes` : ''}).`];
  const created = report.createdAdminKey;
  if (created) {
    lines.push(
      ``,
      `An admin access key was created for this first start and saved (mode 0600) in ${created.file}:`,
      ``,
      `  export AWS_ACCESS_KEY_ID=${created.accessKeyId}`,
      `  export AWS_SECRET_ACCESS_KEY=${created.secretAccessKey}`,
      `  export AWS_DEFAULT_REGION=${config.region}`,
      `  aws ssm describe-patch-baselines --endpoint-url ${endpoint}`,
      ``,
      `or as an AWS CLI profile:`,
      ``,
      `  aws configure set aws_access_key_id ${created.accessKeyId} --profile patchline`,
      `  aws configure set aws_secret_access_key ${created.secretAccessKey} --profile patchline`,
      `  aws configure set region ${config.region} --profile patchline`,
      `  aws ssm describe-patch-baselines --profile patchline --endpoint-url ${endpoint}`,
    );
  } else if (config.adminKey) {
    lines.push(`Admin key: ${config.adminKey.accessKeyId} (from PATCHLINE_ACCESS_KEY_ID).`);
  } else {
    lines.push(`Admin key: see ${join(config.dataDir, ADMIN_CREDENTIALS_FILE)} (AWS_SHARED_CREDENTIALS_FILE=… AWS_PROFILE=patchline).`);
  }
  lines.push(``);
  return lines.join('\n') + '\n';
}
