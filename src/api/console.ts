// Patchline's operations for the web console (docs/console.md): sign-in, resuming after a reload and sign-out
// (CreateConsoleSession, GetConsoleSession, DeleteConsoleSession), the fleet dashboard (GetFleetSummary) and the
// node table (ListNodes). They are ordinary API operations: any admin key may call them on POST /, and the console
// calls them on POST /console/api.

import { Errors } from '../server/errors.ts';
import { defineOperations, type RequestContext } from '../server/operation.ts';
import { SESSION_LIFETIME_MS, sessionCookie, sessionMissing } from '../auth/console-sessions.ts';
import { Pager } from './pagination.ts';
import { pingStatus } from './nodes.ts';
import {
  complianceCondition, countNodes, cursorAfter, fleetSummary, fleetTotals, levelCondition, listNodesPage, patchGroupCondition,
  pingCondition, platformNameCondition, searchCondition, type NodeCondition, type NodeCursor, type NodeListQuery, type NodeRow,
} from '../store/console-queries.ts';
import type {
  PatchlineConsoleSession, PatchlineGetFleetSummaryRequest, PatchlineListNodesRequest, PatchlineNode,
} from '../generated/ssm-types.ts';

const FILTER_VALUES: Record<string, readonly string[] | undefined> = {
  ComplianceStatus: ['COMPLIANT', 'NON_COMPLIANT', 'NOT_REPORTED', 'STALE'],
  PingStatus: ['Online', 'ConnectionLost'],
  NonCompliantLevel: ['Critical', 'Security', 'Other'],
};

function secure(ctx: RequestContext): boolean {
  return ctx.origin?.scheme === 'https';
}

function nodeOutput(n: NodeRow, now: number): PatchlineNode {
  const out: PatchlineNode = { InstanceId: n.instance_id };
  if (n.name !== null) out.Name = n.name;
  if (n.computer_name !== null) out.ComputerName = n.computer_name;
  if (n.ip_address !== null) out.IPAddress = n.ip_address;
  if (n.platform_name !== null) out.PlatformName = n.platform_name;
  if (n.platform_version !== null) out.PlatformVersion = n.platform_version;
  const group = n.reported_id !== null ? n.patch_group : n.patch_group_tag;
  if (group !== null && group !== '') out.PatchGroup = group;
  out.PingStatus = pingStatus({ last_ping_at: n.last_ping_at }, now);
  if (n.last_ping_at !== null) out.LastPingTime = Number(n.last_ping_at) / 1000;
  if (n.reported_id === null) {
    out.ComplianceStatus = 'NOT_REPORTED';
    return out;
  }
  out.BaselineId = n.baseline_id ?? '';
  out.LastReportTime = Number(n.reported_at) / 1000;
  out.Operation = n.operation as PatchlineNode['Operation'];
  out.ComplianceStatus = Number(n.non_compliant) === 1 ? 'NON_COMPLIANT' : 'COMPLIANT';
  out.InstalledCount = Number(n.installed);
  out.MissingCount = Number(n.missing);
  out.FailedCount = Number(n.failed);
  out.InstalledPendingRebootCount = Number(n.installed_pending_reboot);
  out.InstalledRejectedCount = Number(n.installed_rejected);
  out.CriticalNonCompliantCount = Number(n.critical_non_compliant);
  out.SecurityNonCompliantCount = Number(n.security_non_compliant);
  out.OtherNonCompliantCount = Number(n.other_non_compliant);
  return out;
}

function nodeConditions(input: PatchlineListNodesRequest, now: number): NodeCondition[] {
  return (input.Filters ?? []).map((f) => {
    const allowed = FILTER_VALUES[f.Key];
    const wrong = allowed === undefined ? [] : f.Values.filter((v) => !allowed.includes(v));
    if (wrong.length > 0) throw Errors.invalidFilter(`${f.Key} values are ${allowed!.join(', ')}; not ${wrong.join(', ')}.`);
    switch (f.Key) {
      case 'Search':
        if (f.Values.length !== 1) throw Errors.invalidFilter('Search takes exactly one value (a substring of the instance id, name, computer name or IP address).');
        return searchCondition(f.Values[0]!);
      case 'PatchGroup': return patchGroupCondition(f.Values);
      case 'PlatformName': return platformNameCondition(f.Values);
      case 'ComplianceStatus': return complianceCondition(f.Values, now);
      case 'PingStatus': return pingCondition(f.Values, now);
      case 'NonCompliantLevel': return levelCondition(f.Values);
    }
  });
}

export const consoleOperations = defineOperations({
  async 'Patchline.CreateConsoleSession'(_input: Record<string, never>, ctx) {
    const { app, principal } = ctx;
    if (ctx.authenticatedBy !== 'sigv4') {
      throw Errors.accessDenied('A console session is created by a request signed with an access key (SigV4), not from another console session.');
    }
    if (principal.kind !== 'admin') throw Errors.accessDenied(`Access key ${principal.accessKeyId} may not sign in to the console: only admin keys may.`);
    const session = await app.sessions.create(principal.accessKeyId);
    ctx.responseHeaders ??= {};
    ctx.responseHeaders['Set-Cookie'] = sessionCookie(session.token, Math.floor(SESSION_LIFETIME_MS / 1000), secure(ctx));
    ctx.responseHeaders['Cache-Control'] = 'no-store';
    app.log.info('console session created', { requestId: ctx.requestId, accessKeyId: principal.accessKeyId });
    const out: PatchlineConsoleSession = { CsrfToken: session.csrfToken, Expires: session.expiresAt / 1000, AccessKeyId: principal.accessKeyId };
    return out;
  },

  async 'Patchline.GetConsoleSession'(_input: Record<string, never>, ctx) {
    // The server authenticated the cookie's session already (without X-CSRF-Token for this one operation).
    const { app, principal, sessionToken } = ctx;
    if (ctx.authenticatedBy !== 'session' || sessionToken === undefined) throw sessionMissing('GetConsoleSession answers for the session cookie of a POST /console/api request.');
    const session = await app.sessions.lookup(sessionToken);
    if (session === undefined) throw sessionMissing();
    const out: PatchlineConsoleSession = { CsrfToken: app.sessions.csrfTokenFor(sessionToken), Expires: session.expiresAt / 1000, AccessKeyId: principal.accessKeyId };
    ctx.responseHeaders ??= {};
    ctx.responseHeaders['Cache-Control'] = 'no-store';
    return out;
  },

  async 'Patchline.DeleteConsoleSession'(_input: Record<string, never>, ctx) {
    if (ctx.sessionToken !== undefined) await ctx.app.sessions.delete(ctx.sessionToken);
    ctx.responseHeaders ??= {};
    ctx.responseHeaders['Set-Cookie'] = sessionCookie('', 0, secure(ctx));
    return {};
  },

  async 'Patchline.GetFleetSummary'(input: PatchlineGetFleetSummaryRequest, ctx) {
    return fleetSummary(ctx.app.store.db, ctx.now, input.StaleDays ?? 7, input.Top ?? 10);
  },

  async 'Patchline.ListNodes'(input: PatchlineListNodesRequest, ctx) {
    const { app, now } = ctx;
    const pager = new Pager<NodeCursor>(ctx, input as unknown as Record<string, unknown>, 50);
    const cursor = pager.cursor;
    if (cursor !== undefined && (typeof cursor !== 'object' || cursor === null || typeof (cursor as { id?: unknown }).id !== 'string')) throw Errors.invalidNextToken();
    const query: NodeListQuery = {
      conditions: nodeConditions(input, now),
      sortBy: input.SortBy ?? 'InstanceId',
      descending: input.SortOrder === 'Descending',
      limit: pager.limit,
      cursor,
    };
    const totals = await fleetTotals(app.store.db);
    const rows = await listNodesPage(app.store.db, query, totals);
    const page = rows.slice(0, query.limit);
    const out: Record<string, unknown> = {
      Nodes: page.map((n) => nodeOutput(n, now)),
      TotalCount: (input.Filters ?? []).length === 0 ? totals.nodes : await countNodes(app.store.db, query, totals),
    };
    if (rows.length > query.limit) out.NextToken = pager.next(cursorAfter(query, page[page.length - 1]!));
    return out;
  },
});
