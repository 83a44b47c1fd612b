// Presigned snapshot download URLs (GetDeployablePatchSnapshotForInstance's SnapshotDownloadUrl): AWS hands out a
// presigned S3 URL valid 24 hours; Patchline hands out `GET /snapshots/<SnapshotId>.json?InstanceId=…` on its own
// port, signed with a SigV4 query-string signature under an internal key derived from the master key (so every
// server sharing the master key accepts the others' URLs, and no stored key can sign one).

import type { MasterKey } from './master-key.ts';
import { presignQuery, verifyPresigned, type SignedRequest } from '../server/sigv4.ts';

/** The access key id in the URLs' X-Amz-Credential; no stored key can have it (stored ids start with AKPL). */
export const SNAPSHOT_URL_KEY_ID = 'PLSNAPSHOTURLSIGNER0';
export const SNAPSHOT_URL_LIFETIME_SECONDS = 86_400;
export const SNAPSHOT_PATH_PREFIX = '/snapshots/';
/** Where the agent's one-file build is downloaded from (presigned like snapshot documents). */
export const AGENT_PATH = '/agent/patchline-agent.js';

export interface RequestOrigin {
  scheme: 'http' | 'https';
  host: string | undefined;
}

/** The scheme a request came in with: https when a TLS terminator in front says so, else http. */
export function requestScheme(headers: Record<string, string | string[] | undefined>): 'http' | 'https' {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim().toLowerCase();
  const proto = first(headers['x-forwarded-proto']);
  if (proto === 'https' || proto === 'http') return proto;
  const forwarded = first(headers.forwarded);
  const m = forwarded === undefined ? null : /(?:^|;)\s*proto=("?)(https?)\1/.exec(forwarded);
  return m?.[2] === 'https' ? 'https' : 'http';
}

/** A Host header as a URL authority: lower-case, without the scheme's default port. */
export function urlHost(host: string, scheme: 'http' | 'https'): string {
  const lower = host.trim().toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : ':80';
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

export class SnapshotUrls {
  /** The clock (epoch ms) used to sign and to check expiry; tests replace it. */
  clock: () => number = Date.now;
  readonly #secret: string;
  readonly #region: string;

  constructor(master: MasterKey, region: string) {
    this.#secret = master.derive('snapshot-urls').toString('base64');
    this.#region = region;
  }

  /** The presigned URL of a node's snapshot document, valid 24 hours. */
  url(origin: RequestOrigin, fallbackHost: string, snapshotId: string, instanceId: string): string {
    const host = urlHost(origin.host !== undefined && origin.host !== '' ? origin.host : fallbackHost, origin.scheme);
    const path = `${SNAPSHOT_PATH_PREFIX}${encodeURIComponent(snapshotId)}.json`;
    const query = presignQuery({
      accessKeyId: SNAPSHOT_URL_KEY_ID,
      secret: this.#secret,
      region: this.#region,
      method: 'GET',
      host,
      path,
      query: { InstanceId: instanceId },
      expiresSeconds: SNAPSHOT_URL_LIFETIME_SECONDS,
      now: this.clock(),
    });
    return `${origin.scheme}://${host}${path}?${query}`;
  }

  /** The presigned URL of the agent's one-file build (GET /agent/patchline-agent.js), valid 24 hours. */
  agentUrl(origin: RequestOrigin, fallbackHost: string): string {
    const host = urlHost(origin.host !== undefined && origin.host !== '' ? origin.host : fallbackHost, origin.scheme);
    const query = presignQuery({
      accessKeyId: SNAPSHOT_URL_KEY_ID, secret: this.#secret, region: this.#region, method: 'GET', host, path: AGENT_PATH, query: {},
      expiresSeconds: SNAPSHOT_URL_LIFETIME_SECONDS, now: this.clock(),
    });
    return `${origin.scheme}://${host}${AGENT_PATH}?${query}`;
  }

  /** Verifies a download request's signature (403 ServiceError when it does not hold). */
  verify(req: SignedRequest): Promise<{ expiresAt: number }> {
    return verifyPresigned(req, (id) => (id === SNAPSHOT_URL_KEY_ID ? this.#secret : undefined), this.clock());
  }
}
