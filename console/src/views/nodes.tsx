// Nodes: the fleet as a server-side paged table (Patchline.ListNodes). Nothing is loaded beyond the page shown, so
// it stays as fast with 100,000 nodes as with ten: search is debounced, filters and sort go to the server, pages
// follow NextToken. The query lives in the URL (#/nodes?status=NON_COMPLIANT&level=Critical…), so every view of
// the table is a link, and the CSV export runs the same query through all its pages.

import { useEffect, useRef, useState } from 'preact/hooks';
import { call, exportUrl } from '../api.ts';
import { Badge, ErrorBox, ExportLink, Loading, PageHeader, PagerControls, useLoad, usePager } from '../components.tsx';
import { ago, num, time } from '../format.ts';
import { href, navigate, parseHash, type Route } from '../router.ts';

export interface NodeRow {
  InstanceId: string;
  Name?: string;
  ComputerName?: string;
  IPAddress?: string;
  PlatformName?: string;
  PlatformVersion?: string;
  PatchGroup?: string;
  BaselineId?: string;
  PingStatus?: string;
  LastPingTime?: number;
  LastReportTime?: number;
  Operation?: string;
  ComplianceStatus?: string;
  InstalledCount?: number;
  MissingCount?: number;
  FailedCount?: number;
  InstalledPendingRebootCount?: number;
  InstalledRejectedCount?: number;
  CriticalNonCompliantCount?: number;
  SecurityNonCompliantCount?: number;
  OtherNonCompliantCount?: number;
}

interface ListNodesResult {
  Nodes: NodeRow[];
  TotalCount?: number;
  NextToken?: string;
}

const QUERY_KEYS = ['q', 'status', 'level', 'ping', 'group', 'platform', 'sort', 'order', 'size'] as const;
type Query = Partial<Record<(typeof QUERY_KEYS)[number], string>>;

const SORTABLE: Record<string, string> = {
  InstanceId: 'Instance ID',
  LastReportTime: 'Last report',
  MissingCount: 'Missing',
  CriticalNonCompliantCount: 'Critical',
};

function readQuery(route: Route): Query {
  const q: Query = {};
  for (const k of QUERY_KEYS) {
    const v = route.query.get(k);
    if (v) q[k] = v;
  }
  return q;
}

export function listNodesInput(q: Query): Record<string, unknown> {
  const Filters: Array<{ Key: string; Values: string[] }> = [];
  if (q.q) Filters.push({ Key: 'Search', Values: [q.q] });
  if (q.status) Filters.push({ Key: 'ComplianceStatus', Values: [q.status] });
  if (q.level) Filters.push({ Key: 'NonCompliantLevel', Values: [q.level] });
  if (q.ping) Filters.push({ Key: 'PingStatus', Values: [q.ping] });
  if (q.group) Filters.push({ Key: 'PatchGroup', Values: [q.group] });
  if (q.platform) Filters.push({ Key: 'PlatformName', Values: [q.platform] });
  const input: Record<string, unknown> = {};
  if (Filters.length > 0) input.Filters = Filters;
  if (q.sort) input.SortBy = q.sort;
  if (q.order) input.SortOrder = q.order;
  input.MaxResults = Number(q.size ?? 50);
  return input;
}

export function NodesView({ route }: { route: Route }) {
  const query = readQuery(route);
  // Reads the URL afresh: a debounced search must not undo a filter chosen meanwhile.
  const set = (patch: Query) => {
    const next: Record<string, string | undefined> = { ...readQuery(parseHash(location.hash)), ...patch };
    navigate(href(['nodes'], next), { replace: true });
  };
  const input = listNodesInput(query);
  const key = JSON.stringify(input);
  const pager = usePager(key);
  const state = useLoad(
    (signal) => call<ListNodesResult>('Patchline.ListNodes', { ...input, ...(pager.token ? { NextToken: pager.token } : {}) }, signal),
    [key, pager.token],
  );
  const groups = useLoad((signal) => call<{ PatchGroups: Array<{ PatchGroup: string }> }>('Patchline.GetFleetSummary', { Top: 1 }, signal).catch(() => ({ PatchGroups: [] })), []);

  // Search: the box updates at once, the query 300 ms after the last keystroke.
  const [search, setSearch] = useState(query.q ?? '');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => setSearch(query.q ?? ''), [query.q]);
  const onSearch = (value: string) => {
    setSearch(value);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => set({ q: value.trim() || undefined }), 300);
  };

  const sortBy = query.sort ?? 'InstanceId';
  const order = query.order ?? 'Ascending';
  const sortHeader = (column: string, label: string, cls?: string) => {
    const active = sortBy === column;
    const nextOrder = active && order === 'Ascending' ? 'Descending' : active ? 'Ascending' : column === 'InstanceId' ? 'Ascending' : 'Descending';
    return (
      <th scope="col" class={cls} aria-sort={active ? (order === 'Ascending' ? 'ascending' : 'descending') : undefined}>
        <button type="button" class="sort" onClick={() => set({ sort: column, order: nextOrder })} aria-label={`${label}: sort ${nextOrder.toLowerCase()}`}>
          {label}
          <span aria-hidden="true" class="sort-mark">
            {active ? (order === 'Ascending' ? '▲' : '▼') : '↕'}
          </span>
        </button>
      </th>
    );
  };

  const data = state.data;
  const from = (pager.page - 1) * Number(query.size ?? 50);
  const filtered = Object.keys(query).some((k) => k !== 'sort' && k !== 'order' && k !== 'size');
  const exportInput = { ...input };
  delete exportInput.MaxResults;

  return (
    <div>
      <PageHeader title={query.level === 'Critical' ? 'Nodes missing critical patches' : 'Nodes'} sub="Every managed node, its compliance and what it misses. Open a node to see its patches and why each one is required.">
        <ExportLink url={exportUrl('Patchline.ListNodes', exportInput)} label="Export CSV (all matching nodes)" />
      </PageHeader>
      <form class="filters" role="search" aria-label="Filter nodes" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="node-search">Search</label>
          <input id="node-search" type="search" placeholder="Instance ID, name, computer name or IP" value={search} onInput={(e) => onSearch((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="f-status">Compliance</label>
          <select id="f-status" value={query.status ?? ''} onChange={(e) => set({ status: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Any</option>
            <option value="COMPLIANT">Compliant</option>
            <option value="NON_COMPLIANT">Non-compliant</option>
            <option value="NOT_REPORTED">Never reported</option>
            <option value="STALE">Stale (no report for 7 days)</option>
          </select>
        </div>
        <div class="field">
          <label for="f-level">Missing patches of level</label>
          <select id="f-level" value={query.level ?? ''} onChange={(e) => set({ level: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Any</option>
            <option value="Critical">Critical</option>
            <option value="Security">Security</option>
            <option value="Other">Other</option>
          </select>
        </div>
        <div class="field">
          <label for="f-group">Patch group</label>
          <select id="f-group" value={query.group ?? ''} onChange={(e) => set({ group: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Any</option>
            {(groups.data?.PatchGroups ?? [])
              .map((g) => g.PatchGroup)
              .filter((g) => g !== '')
              .concat(query.group && !(groups.data?.PatchGroups ?? []).some((g) => g.PatchGroup === query.group) ? [query.group] : [])
              .sort()
              .map((g) => (
                <option value={g}>{g}</option>
              ))}
          </select>
        </div>
        <div class="field">
          <label for="f-ping">Ping</label>
          <select id="f-ping" value={query.ping ?? ''} onChange={(e) => set({ ping: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Any</option>
            <option value="Online">Online</option>
            <option value="ConnectionLost">Connection lost</option>
          </select>
        </div>
        <div class="field">
          <label for="f-platform">Platform</label>
          <input id="f-platform" value={query.platform ?? ''} placeholder="e.g. Debian GNU/Linux" onChange={(e) => set({ platform: (e.target as HTMLInputElement).value.trim() || undefined })} />
        </div>
        {filtered ? (
          <div class="field end">
            <button type="button" class="secondary" onClick={() => navigate(href(['nodes'], { sort: query.sort, order: query.order, size: query.size }), { replace: true })}>
              Clear filters
            </button>
          </div>
        ) : null}
      </form>
      <div class="table-status" aria-live="polite" aria-atomic="true">
        {state.loading ? (
          <Loading label="Loading nodes…" />
        ) : data ? (
          <p data-testid="node-count">
            {data.Nodes.length === 0
              ? 'No nodes match.'
              : `Showing ${num(from + 1)}–${num(from + data.Nodes.length)}${data.TotalCount !== undefined ? ` of ${num(data.TotalCount)}` : ''} ${data.TotalCount === 1 ? 'node' : 'nodes'}.`}
          </p>
        ) : null}
      </div>
      <ErrorBox error={state.error} />
      {data && data.Nodes.length > 0 ? (
        <div class={`table-wrap${state.loading ? ' stale' : ''}`}>
          <table class="data" data-testid="nodes-table">
            <caption class="sr-only">Nodes, sorted by {SORTABLE[sortBy] ?? sortBy}, {order.toLowerCase()}</caption>
            <thead>
              <tr>
                {sortHeader('InstanceId', 'Instance ID')}
                <th scope="col">Name</th>
                <th scope="col">Platform</th>
                <th scope="col">Patch group</th>
                <th scope="col">Compliance</th>
                {sortHeader('CriticalNonCompliantCount', 'Critical', 'num')}
                <th scope="col" class="num">Security</th>
                <th scope="col" class="num">Other</th>
                {sortHeader('MissingCount', 'Missing', 'num')}
                <th scope="col" class="num">Failed</th>
                <th scope="col" class="num">
                  <abbr title="Installed, pending reboot">Reboot</abbr>
                </th>
                {sortHeader('LastReportTime', 'Last report')}
                <th scope="col">Ping</th>
              </tr>
            </thead>
            <tbody>
              {data.Nodes.map((n) => (
                <tr>
                  <th scope="row">
                    <a href={href(['nodes', n.InstanceId])} class="mono">
                      {n.InstanceId}
                    </a>
                  </th>
                  <td>
                    {n.Name || n.ComputerName || '—'}
                    {n.IPAddress ? <span class="muted small block">{n.IPAddress}</span> : null}
                  </td>
                  <td>{[n.PlatformName, n.PlatformVersion].filter(Boolean).join(' ') || '—'}</td>
                  <td>{n.PatchGroup ? <a href={href(['groups', n.PatchGroup])}>{n.PatchGroup}</a> : '—'}</td>
                  <td>
                    <Badge status={n.ComplianceStatus} />
                  </td>
                  <td class={`num${(n.CriticalNonCompliantCount ?? 0) > 0 ? ' crit-text' : ''}`}>{num(n.CriticalNonCompliantCount ?? 0)}</td>
                  <td class="num">{num(n.SecurityNonCompliantCount ?? 0)}</td>
                  <td class="num">{num(n.OtherNonCompliantCount ?? 0)}</td>
                  <td class="num">{num(n.MissingCount ?? 0)}</td>
                  <td class="num">{num(n.FailedCount ?? 0)}</td>
                  <td class="num">{num(n.InstalledPendingRebootCount ?? 0)}</td>
                  <td title={time(n.LastReportTime)}>{n.LastReportTime ? ago(n.LastReportTime) : 'never'}</td>
                  <td>{n.PingStatus === 'ConnectionLost' ? 'Connection lost' : (n.PingStatus ?? '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div class="table-foot">
        <PagerControls label="Nodes" page={pager.page} hasNext={!!data?.NextToken && !state.loading} onNext={() => data?.NextToken && pager.next(data.NextToken)} onPrev={pager.prev} />
        <div class="field inline">
          <label for="page-size">Rows per page</label>
          <select id="page-size" value={query.size ?? '50'} onChange={(e) => set({ size: (e.target as HTMLSelectElement).value === '50' ? undefined : (e.target as HTMLSelectElement).value })}>
            <option value="25">25</option>
            <option value="50">50</option>
            <option value="100">100</option>
            <option value="200">200</option>
          </select>
        </div>
      </div>
    </div>
  );
}
