// What an operation handler sees and how handlers are registered. Handlers are keyed by their AWS name
// (or `Patchline.<Name>` for our own operations), so any operation is found by its name in one search.

import type { Principal } from '../auth/credentials.ts';
import type { Logger } from './logger.ts';
import type { App } from '../app.ts';

export interface RequestContext {
  requestId: string;
  /** `CreatePatchBaseline`, or `Patchline.PutScanReport` for our own operations. */
  operation: string;
  principal: Principal;
  /** The region the request was signed for. */
  signingRegion: string;
  /** Request start, epoch milliseconds. */
  now: number;
  /**
   * Where the request came in, for URLs an answer hands out: its Host header, and 'https' when a TLS terminator
   * says so (X-Forwarded-Proto, Forwarded proto=), else 'http'.
   */
  origin?: { scheme: 'http' | 'https'; host: string | undefined };
  log: Logger;
  app: App;
  /** How the caller authenticated: a SigV4 signature (POST /) or a console session (POST /console/api). */
  authenticatedBy?: 'sigv4' | 'session';
  /** The console session token of the request's cookie, if it carries one (sign-out ends that session). */
  sessionToken?: string;
  /**
   * Headers a handler adds to its successful answer (e.g. Set-Cookie). The server always sets this object; a
   * value that is an array becomes repeated header lines.
   */
  responseHeaders?: Record<string, string | string[]>;
}

export type Handler = (input: any, ctx: RequestContext) => Promise<object>;

export type OperationTable = Record<string, Handler>;

/** Declares handlers for one API area; keys are operation names. */
export function defineOperations<T extends OperationTable>(table: T): T {
  return table;
}
