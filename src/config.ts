// Server configuration from command-line flags and PATCHLINE_* environment variables (flags win).
// Names and defaults are part of the public contract (README, docs/configuration.md).

import { resolve, join } from 'node:path';
import { parseLogLevel, type LogLevel } from './server/logger.ts';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  region: string;
  /** The account id used in ARNs of resources Patchline creates. */
  accountId: string;
  adminKey?: { accessKeyId: string; secretAccessKey: string };
  masterKey?: string;
  logLevel: LogLevel;
  maxBodyBytes: number;
  /** Worker processes for `serve` (0 = one per CPU core). */
  workers: number;
  /** How long compliance history is kept (node reports and patch-group snapshots). */
  historyRetentionDays: number;
  /** How often each patch group's counters are snapshotted into its history. */
  historyIntervalMinutes: number;
  /** The built web console (index.html, assets/); undefined = dist/console beside the server. */
  consoleDir?: string;
}

export interface ConfigSources {
  flags: Record<string, string | boolean | undefined>;
  env: NodeJS.ProcessEnv;
}

export class ConfigError extends Error {}

function intSetting(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function loadServerConfig({ flags, env }: ConfigSources): ServerConfig {
  const pick = (flag: string, variable: string): string | undefined => {
    const f = flags[flag];
    if (typeof f === 'string') return f;
    const e = env[variable];
    return e === undefined || e === '' ? undefined : e;
  };
  const dataDir = resolve(pick('data-dir', 'PATCHLINE_DATA_DIR') ?? './data');
  const databaseUrl = pick('database-url', 'PATCHLINE_DATABASE_URL') ?? `sqlite:${join(dataDir, 'patchline.db')}`;
  const region = pick('region', 'PATCHLINE_REGION') ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new ConfigError(`PATCHLINE_REGION '${region}' is not a region name such as us-east-1`);
  const accountId = pick('account-id', 'PATCHLINE_ACCOUNT_ID') ?? '000000000000';
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`PATCHLINE_ACCOUNT_ID must be 12 digits, got '${accountId}'`);
  const keyId = env.PATCHLINE_ACCESS_KEY_ID;
  const secret = env.PATCHLINE_SECRET_ACCESS_KEY;
  if ((keyId === undefined || keyId === '') !== (secret === undefined || secret === '')) {
    throw new ConfigError('set both PATCHLINE_ACCESS_KEY_ID and PATCHLINE_SECRET_ACCESS_KEY, or neither');
  }
  if (keyId !== undefined && keyId !== '' && !/^[A-Z0-9]{16,128}$/.test(keyId)) {
    throw new ConfigError('PATCHLINE_ACCESS_KEY_ID must be 16-128 upper-case letters and digits');
  }
  if (secret !== undefined && secret !== '' && secret.length < 16) throw new ConfigError('PATCHLINE_SECRET_ACCESS_KEY must be at least 16 characters');
  return {
    host: pick('host', 'PATCHLINE_HOST') ?? '127.0.0.1',
    port: intSetting('PATCHLINE_PORT', pick('port', 'PATCHLINE_PORT'), 8080, 0, 65535),
    dataDir,
    databaseUrl,
    region,
    accountId,
    adminKey: keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret } : undefined,
    masterKey: env.PATCHLINE_MASTER_KEY,
    logLevel: (() => {
      try {
        return parseLogLevel(pick('log-level', 'PATCHLINE_LOG_LEVEL'));
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
    })(),
    maxBodyBytes: intSetting('PATCHLINE_MAX_BODY_BYTES', pick('max-body-bytes', 'PATCHLINE_MAX_BODY_BYTES'), 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    workers: intSetting('PATCHLINE_WORKERS', pick('workers', 'PATCHLINE_WORKERS'), 1, 0, 256),
    historyRetentionDays: intSetting('PATCHLINE_HISTORY_RETENTION_DAYS', pick('history-retention-days', 'PATCHLINE_HISTORY_RETENTION_DAYS'), 90, 1, 36500),
    historyIntervalMinutes: intSetting('PATCHLINE_HISTORY_INTERVAL_MINUTES', pick('history-interval-minutes', 'PATCHLINE_HISTORY_INTERVAL_MINUTES'), 15, 1, 1440),
    consoleDir: (() => {
      const dir = pick('console-dir', 'PATCHLINE_CONSOLE_DIR');
      return dir === undefined ? undefined : resolve(dir);
    })(),
  };
}
