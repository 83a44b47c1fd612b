// `patchline serve`: builds the app, listens, prints how to connect, and shuts down cleanly on SIGTERM/SIGINT.

import type { AddressInfo } from 'node:net';
import { createApp, type StartupReport } from './app.ts';
import { createHttpServer } from './server/http-server.ts';
import { createLogger } from './server/logger.ts';
import { ADMIN_CREDENTIALS_FILE } from './auth/credentials.ts';
import { join } from 'node:path';
import type { ServerConfig } from './config.ts';

export async function serve(config: ServerConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  const { app, report } = await createApp(config, log);
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const endpoint = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info('listening', { endpoint, database: app.database.description, region: config.region, pid: process.pid, migrations: report.migrations });
  process.stdout.write(startupBanner(endpoint, config, report));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => {
      log.warn('requests still running after 10 s; closing anyway');
      server.closeAllConnections();
    }, 10_000);
    force.unref();
    server.close(() => {
      void app.close().then(() => {
        log.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function startupBanner(endpoint: string, config: ServerConfig, report: StartupReport): string {
  const lines = [``, `Patchline is listening on ${endpoint} (region ${config.region}).`];
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
