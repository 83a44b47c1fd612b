// NextToken handling shared by every paginated operation: read the cursor a token carries, and seal the next.
// A token that is forged, altered, expired or made for another query is refused with InvalidNextToken, or with
// ValidationException for operations whose model has no InvalidNextToken error.

import { PageTokens } from '../server/next-token.ts';
import { Errors } from '../server/errors.ts';
import type { RequestContext } from '../server/operation.ts';

export interface PageQuery {
  NextToken?: string;
  MaxResults?: number;
  [member: string]: unknown;
}

export class Pager<C> {
  readonly #ctx: RequestContext;
  readonly #fingerprint: string;
  /** The cursor of the requested page; undefined for the first page. */
  readonly cursor: C | undefined;
  readonly limit: number;

  constructor(ctx: RequestContext, query: PageQuery, defaultLimit: number) {
    this.#ctx = ctx;
    this.#fingerprint = PageTokens.fingerprint(ctx.operation, query);
    this.limit = query.MaxResults ?? defaultLimit;
    if (query.NextToken === undefined || query.NextToken === '') {
      this.cursor = undefined;
      return;
    }
    const opened = ctx.app.tokens.open(this.#fingerprint, query.NextToken);
    if (!opened.ok) {
      const why = opened.reason === 'expired' ? 'The NextToken has expired; start again without it.'
        : opened.reason === 'other-query' ? 'The NextToken was issued for a different request; repeat the original request parameters with it.'
        : 'The NextToken is not valid.';
      throw ctx.app.model.modelsError(ctx.operation, 'InvalidNextToken') ? Errors.invalidNextToken(why) : Errors.validation(why);
    }
    this.cursor = opened.cursor as C;
  }

  /** A token for the page after `cursor`. */
  next(cursor: C): string {
    return this.#ctx.app.tokens.seal(this.#fingerprint, cursor);
  }
}

/**
 * Pages an in-memory list sorted by `key` (ascending, unique): the cursor is the last key returned, so deletions
 * between pages neither repeat nor skip the remaining items.
 */
export function pageByKey<T>(pager: Pager<string>, items: T[], key: (item: T) => string): { page: T[]; nextToken?: string } {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const start = pager.cursor === undefined ? 0 : sorted.findIndex((i) => key(i) > pager.cursor!);
  if (start < 0) return { page: [] };
  const page = sorted.slice(start, start + pager.limit);
  const more = start + pager.limit < sorted.length;
  return more ? { page, nextToken: pager.next(key(page[page.length - 1]!)) } : { page };
}
