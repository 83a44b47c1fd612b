// One node: what it is, its last operation, its baseline (rules in plain words), its patches with filters by
// state, classification, severity and CVE, and for each patch it misses WHY the baseline requires it (which rule
// approves it, matched here against the row's classification and severity), plus its compliance over time.

import { useState } from 'preact/hooks';
import { ApiError, call, collect, exportUrl } from '../api.ts';
import { LineChart } from '../charts.tsx';
import { Async, Badge, Empty, ErrorBox, ExportLink, Loading, PageHeader, PagerControls, Section, useLoad, usePager } from '../components.tsx';
import { ago, camelLabel, enumLabel, num, osLabel, time } from '../format.ts';
import { describeRule, explainPatch, type Baseline, type PatchRow } from '../rules.ts';
import { href, navigate, type Route } from '../router.ts';
import type { NodeRow } from './nodes.tsx';

interface PatchState {
  InstanceId: string;
  PatchGroup: string;
  BaselineId: string;
  SnapshotId?: string;
  OwnerInformation?: string;
  InstalledCount?: number;
  InstalledOtherCount?: number;
  InstalledPendingRebootCount?: number;
  InstalledRejectedCount?: number;
  MissingCount?: number;
  FailedCount?: number;
  NotApplicableCount?: number;
  CriticalNonCompliantCount?: number;
  SecurityNonCompliantCount?: number;
  OtherNonCompliantCount?: number;
  OperationStartTime: number;
  OperationEndTime: number;
  Operation: string;
  LastNoRebootInstallOperationTime?: number;
  RebootOption?: string;
}

interface CveEntry {
  CveId: string;
  Patches: PatchRow[];
}

const STATES = ['Missing', 'Failed', 'InstalledPendingReboot', 'InstalledRejected', 'Installed', 'InstalledOther', 'NotApplicable'];
const NEEDS_WHY = new Set(['Missing', 'Failed', 'InstalledPendingReboot']);

export function NodeView({ instanceId, route }: { instanceId: string; route: Route }) {
  const info = useLoad(async (signal) => {
    const page = await call<{ Nodes: NodeRow[] }>('Patchline.ListNodes', { Filters: [{ Key: 'Search', Values: [instanceId] }], MaxResults: 50 }, signal);
    return page.Nodes.find((n) => n.InstanceId === instanceId) ?? null;
  }, [instanceId]);
  const state = useLoad(async (signal) => {
    const r = await call<{ InstancePatchStates: PatchState[] }>('DescribeInstancePatchStates', { InstanceIds: [instanceId] }, signal);
    return r.InstancePatchStates[0] ?? null;
  }, [instanceId]);
  const baselineId = state.data?.BaselineId;
  const baseline = useLoad(
    async (signal): Promise<Baseline | null> => {
      if (!baselineId) return null;
      return call<Baseline>('GetPatchBaseline', { BaselineId: baselineId }, signal);
    },
    [baselineId ?? ''],
  );
  const node = info.data;
  const s = state.data;
  const notFound = info.data === null && state.data === null;

  return (
    <div>
      <PageHeader title={`Node ${instanceId}`} sub={node ? [node.Name || node.ComputerName, node.IPAddress, [node.PlatformName, node.PlatformVersion].filter(Boolean).join(' ')].filter(Boolean).join(' · ') : undefined}>
        <a class="button secondary" href="#/nodes">
          All nodes
        </a>
      </PageHeader>
      <ErrorBox error={info.error ?? state.error} />
      {notFound ? <Empty>Patchline knows no node {instanceId}, or it has not reported yet.</Empty> : null}
      {info.loading && state.loading ? <Loading label="Loading the node…" /> : null}
      {node || s ? (
        <div class="grid three">
          <Section title="Compliance">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <Badge status={node?.ComplianceStatus ?? (s ? ((s.MissingCount ?? 0) + (s.FailedCount ?? 0) > 0 ? 'NON_COMPLIANT' : 'COMPLIANT') : 'NOT_REPORTED')} />
              </dd>
              <dt>Missing</dt>
              <dd data-testid="node-missing">{num(s?.MissingCount ?? node?.MissingCount ?? 0)}</dd>
              <dt>Failed</dt>
              <dd>{num(s?.FailedCount ?? node?.FailedCount ?? 0)}</dd>
              <dt>Critical / Security / Other</dt>
              <dd>
                <span class={(s?.CriticalNonCompliantCount ?? 0) > 0 ? 'crit-text' : ''} data-testid="node-critical">
                  {num(s?.CriticalNonCompliantCount ?? node?.CriticalNonCompliantCount ?? 0)}
                </span>{' '}
                / {num(s?.SecurityNonCompliantCount ?? 0)} / {num(s?.OtherNonCompliantCount ?? 0)}
              </dd>
              <dt>Reboot pending</dt>
              <dd data-testid="node-reboot">
                {(s?.InstalledPendingRebootCount ?? 0) > 0 ? <strong class="warn-text">Yes — {num(s!.InstalledPendingRebootCount!)} installed patches wait for a reboot</strong> : 'No'}
              </dd>
            </dl>
          </Section>
          <Section title="Last operation">
            {s ? (
              <dl class="facts">
                <dt>Operation</dt>
                <dd>{s.Operation}</dd>
                <dt>Ran</dt>
                <dd>
                  {time(s.OperationStartTime)} → {time(s.OperationEndTime)} ({ago(s.OperationEndTime)})
                </dd>
                {s.RebootOption ? (
                  <>
                    <dt>Reboot option</dt>
                    <dd>{s.RebootOption}</dd>
                  </>
                ) : null}
                {s.LastNoRebootInstallOperationTime ? (
                  <>
                    <dt>Last install without reboot</dt>
                    <dd>{time(s.LastNoRebootInstallOperationTime)}</dd>
                  </>
                ) : null}
                <dt>Patch group</dt>
                <dd>{s.PatchGroup ? <a href={href(['groups', s.PatchGroup])}>{s.PatchGroup}</a> : 'none'}</dd>
              </dl>
            ) : (
              <Empty>No patch report yet.</Empty>
            )}
          </Section>
          <Section title="Node">
            {node ? (
              <dl class="facts">
                <dt>Platform</dt>
                <dd>{[node.PlatformName, node.PlatformVersion].filter(Boolean).join(' ') || '—'}</dd>
                <dt>Computer name</dt>
                <dd>{node.ComputerName || '—'}</dd>
                <dt>IP address</dt>
                <dd>{node.IPAddress || '—'}</dd>
                <dt>Ping</dt>
                <dd>
                  {node.PingStatus ?? '—'}
                  {node.LastPingTime ? ` (${ago(node.LastPingTime)})` : ''}
                </dd>
                <dt>Last report</dt>
                <dd>{node.LastReportTime ? `${time(node.LastReportTime)} (${ago(node.LastReportTime)})` : 'never'}</dd>
              </dl>
            ) : (
              <Loading />
            )}
          </Section>
        </div>
      ) : null}
      {s ? <BaselinePanel baselineId={s.BaselineId} state={baseline} /> : null}
      {s ? <PatchesPanel instanceId={instanceId} baseline={baseline.data ?? undefined} route={route} /> : null}
      {s || node ? <HistoryPanel instanceId={instanceId} /> : null}
    </div>
  );
}

function BaselinePanel({ baselineId, state }: { baselineId: string; state: ReturnType<typeof useLoad<Baseline | null>> }) {
  const missing = state.error instanceof ApiError && (state.error.code === 'DoesNotExistException' || state.error.code === 'InvalidResourceId');
  return (
    <Section title="Baseline">
      {missing ? (
        <p>
          The node reported against baseline <code>{baselineId}</code>, which this server does not hold, so its rules cannot be shown.
        </p>
      ) : (
        <Async state={state}>
          {(b) =>
            b ? (
              <div data-testid="node-baseline">
                <p>
                  <a href={href(['baselines', b.BaselineId])}>
                    <strong>{b.Name}</strong>
                  </a>{' '}
                  <span class="muted mono">{b.BaselineId}</span> · {osLabel(b.OperatingSystem)}
                </p>
                <RulesList baseline={b} />
              </div>
            ) : (
              <Empty>No baseline reported.</Empty>
            )
          }
        </Async>
      )}
    </Section>
  );
}

export function RulesList({ baseline }: { baseline: Baseline }) {
  const rules = baseline.ApprovalRules?.PatchRules ?? [];
  const global = baseline.GlobalFilters?.PatchFilters ?? [];
  return (
    <div class="rules">
      {global.length > 0 ? (
        <p>
          <strong>Only considers:</strong> {describeRule({ PatchFilterGroup: { PatchFilters: global } }, baseline.OperatingSystem, { details: false }).replace(/, with no approval delay set$|, as soon as they are available$/, '')}
        </p>
      ) : null}
      {rules.length === 0 ? <p>No approval rules.</p> : null}
      <ol class="rule-list">
        {rules.map((r, i) => (
          <li data-testid={`rule-${i + 1}`}>
            <strong>Rule {i + 1}:</strong> {describeRule(r, baseline.OperatingSystem)}
          </li>
        ))}
      </ol>
      {(baseline.ApprovedPatches ?? []).length > 0 ? (
        <p>
          <strong>Always approved:</strong> {baseline.ApprovedPatches!.join(', ')}
          {baseline.ApprovedPatchesComplianceLevel && baseline.ApprovedPatchesComplianceLevel !== 'UNSPECIFIED' ? ` (reported as ${enumLabel(baseline.ApprovedPatchesComplianceLevel)})` : ''}
        </p>
      ) : null}
      {(baseline.RejectedPatches ?? []).length > 0 ? (
        <p>
          <strong>Rejected:</strong> {baseline.RejectedPatches!.join(', ')} —{' '}
          {baseline.RejectedPatchesAction === 'BLOCK' ? 'never installed, nor anything that depends on them' : 'installed only as a dependency of another package'}
        </p>
      ) : null}
    </div>
  );
}

function PatchesPanel({ instanceId, baseline, route }: { instanceId: string; baseline: Baseline | undefined; route: Route }) {
  const stateFilter = route.query.get('state') ?? 'attention';
  const classification = route.query.get('classification') ?? '';
  const severity = route.query.get('severity') ?? '';
  const cve = route.query.get('cve') ?? '';
  const set = (patch: Record<string, string | undefined>) => {
    const q: Record<string, string | undefined> = { state: stateFilter === 'attention' ? undefined : stateFilter, classification, severity, cve, ...patch };
    if (q.state === 'attention') q.state = undefined;
    navigate(href(['nodes', instanceId], q), { replace: true });
  };
  const [classDraft, setClassDraft] = useState(classification);
  const [sevDraft, setSevDraft] = useState(severity);

  const Filters: Array<{ Key: string; Values: string[] }> = [];
  if (stateFilter === 'attention') Filters.push({ Key: 'State', Values: ['Missing', 'Failed'] });
  else if (stateFilter !== 'all') Filters.push({ Key: 'State', Values: [stateFilter] });
  if (classification) Filters.push({ Key: 'Classification', Values: classification.split(',').map((v) => v.trim()).filter(Boolean) });
  if (severity) Filters.push({ Key: 'Severity', Values: severity.split(',').map((v) => v.trim()).filter(Boolean) });
  const input = { InstanceId: instanceId, ...(Filters.length > 0 ? { Filters } : {}), MaxResults: 50 };
  const key = JSON.stringify(input);
  const pager = usePager(key);
  const patches = useLoad(
    async (signal) => (cve ? null : call<{ Patches: PatchRow[]; NextToken?: string }>('DescribeInstancePatches', { ...input, ...(pager.token ? { NextToken: pager.token } : {}) }, signal)),
    [key, pager.token, cve],
  );
  const cves = useLoad((signal) => collect<CveEntry>('Patchline.DescribeCvesForInstance', { InstanceId: instanceId, MaxResults: 1000 }, 'Cves', 5000, signal), [instanceId]);

  // With a CVE chosen, the rows are the ones that fix it (from DescribeCvesForInstance), under the same filters.
  let rows: PatchRow[] | undefined = patches.data?.Patches;
  if (cve) {
    const entry = cves.data?.items.find((c) => c.CveId === cve);
    const wantStates = stateFilter === 'attention' ? ['Missing', 'Failed'] : stateFilter === 'all' ? undefined : [stateFilter];
    const lc = (v: string) => v.toLowerCase();
    rows = cves.data
      ? (entry?.Patches ?? []).filter(
          (p) =>
            (!wantStates || wantStates.includes(p.State ?? '')) &&
            (!classification || classification.split(',').map(lc).includes(lc(p.Classification ?? ''))) &&
            (!severity || severity.split(',').map(lc).includes(lc(p.Severity ?? ''))),
        )
      : undefined;
  }
  const loading = cve ? cves.loading : patches.loading;
  const error = cve ? cves.error : patches.error;

  return (
    <Section
      title="Patches"
      id="patches"
      actions={
        cve ? (
          <ExportLink url={exportUrl('Patchline.DescribeCvesForInstance', { InstanceId: instanceId })} label="Export CSV (CVEs of this node)" />
        ) : (
          <ExportLink url={exportUrl('DescribeInstancePatches', { InstanceId: instanceId, ...(Filters.length > 0 ? { Filters } : {}) })} label="Export CSV (these patches)" />
        )
      }
    >
      <form class="filters" aria-label="Filter patches" onSubmit={(e) => {
        e.preventDefault();
        set({ classification: classDraft.trim() || undefined, severity: sevDraft.trim() || undefined });
      }}>
        <div class="field">
          <label for="p-state">State</label>
          <select id="p-state" value={stateFilter} onChange={(e) => set({ state: (e.target as HTMLSelectElement).value })}>
            <option value="attention">Missing or failed</option>
            {STATES.map((st) => (
              <option value={st}>{camelLabel(st)}</option>
            ))}
            <option value="all">All states</option>
          </select>
        </div>
        <div class="field">
          <label for="p-class">Classification</label>
          <input id="p-class" value={classDraft} onInput={(e) => setClassDraft((e.target as HTMLInputElement).value)} onChange={(e) => set({ classification: (e.target as HTMLInputElement).value.trim() || undefined })} placeholder="e.g. Security" aria-describedby="p-hint" />
        </div>
        <div class="field">
          <label for="p-sev">Severity</label>
          <input id="p-sev" value={sevDraft} onInput={(e) => setSevDraft((e.target as HTMLInputElement).value)} onChange={(e) => set({ severity: (e.target as HTMLInputElement).value.trim() || undefined })} placeholder="e.g. Critical" aria-describedby="p-hint" />
        </div>
        <div class="field">
          <label for="p-cve">CVE</label>
          <select id="p-cve" value={cve} onChange={(e) => set({ cve: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Any</option>
            {(cves.data?.items ?? []).map((c) => (
              <option value={c.CveId}>{c.CveId}</option>
            ))}
          </select>
        </div>
        <p id="p-hint" class="help wide">
          Classification and severity match exactly; separate several values with commas. {cves.data ? `${num(cves.data.items.length)} CVEs are open on this node.` : ''}
        </p>
      </form>
      <div aria-live="polite">{loading ? <Loading label="Loading patches…" /> : null}</div>
      <ErrorBox error={error} />
      {rows && rows.length === 0 && !loading ? <Empty>No patches match these filters.</Empty> : null}
      {rows && rows.length > 0 ? (
        <div class={`table-wrap${loading ? ' stale' : ''}`}>
          <table class="data" data-testid="patches-table">
            <caption class="sr-only">Patches of {instanceId}</caption>
            <thead>
              <tr>
                <th scope="col">Patch</th>
                <th scope="col">State</th>
                <th scope="col">Classification</th>
                <th scope="col">Severity</th>
                <th scope="col">CVEs</th>
                <th scope="col">Why the baseline requires it</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => {
                const reason = baseline && NEEDS_WHY.has(p.State ?? '') ? explainPatch(p, baseline) : undefined;
                return (
                  <tr>
                    <th scope="row">
                      <span class="mono">{p.KBId}</span>
                      {p.Title && p.Title !== p.KBId ? <span class="muted small block">{p.Title}</span> : null}
                    </th>
                    <td>
                      <span class={`state state-${p.State}`}>{camelLabel(p.State)}</span>
                      {p.InstalledTime ? <span class="muted small block">{time(p.InstalledTime)}</span> : null}
                    </td>
                    <td>{p.Classification || '—'}</td>
                    <td>{p.Severity || '—'}</td>
                    <td class="small">
                      {(p.CVEIds ?? '')
                        .split(/[,\s]+/)
                        .filter(Boolean)
                        .map((c, i) => (
                          <>
                            {i > 0 ? ', ' : ''}
                            <a href={href(['cves', c])}>{c}</a>
                          </>
                        ))}
                    </td>
                    <td class="why" data-testid="why">
                      {reason ? (
                        <>
                          {reason.text.charAt(0).toUpperCase() + reason.text.slice(1)}
                          {reason.unchecked.length > 0 ? <span class="muted small block">Assumes the patch's {reason.unchecked.join(', ').toLowerCase()} match{reason.unchecked.length > 1 ? '' : 'es'} (not shown on this page).</span> : null}
                        </>
                      ) : NEEDS_WHY.has(p.State ?? '') ? (
                        baseline ? '—' : <span class="muted">baseline not available</span>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {!cve ? <PagerControls label="Patches" page={pager.page} hasNext={!!patches.data?.NextToken && !loading} onNext={() => patches.data?.NextToken && pager.next(patches.data.NextToken)} onPrev={pager.prev} /> : null}
    </Section>
  );
}

interface HistoryPoint {
  Time: number;
  MissingCount?: number;
  FailedCount?: number;
  CriticalNonCompliantCount?: number;
  InstalledPendingRebootCount?: number;
  InstalledCount?: number;
}

function HistoryPanel({ instanceId }: { instanceId: string }) {
  const [days, setDays] = useState(30);
  const history = useLoad(
    (signal) => collect<HistoryPoint>('Patchline.DescribeInstancePatchStateHistory', { InstanceId: instanceId, StartTime: Math.floor(Date.now() / 1000) - days * 86400, MaxResults: 1000 }, 'History', 3000, signal),
    [instanceId, days],
  );
  return (
    <Section
      title="Compliance over time"
      actions={
        <>
          <div class="field inline">
            <label for="h-days">Period</label>
            <select id="h-days" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
              <option value="7">7 days</option>
              <option value="30">30 days</option>
              <option value="90">90 days</option>
            </select>
          </div>
          <ExportLink url={exportUrl('Patchline.DescribeInstancePatchStateHistory', { InstanceId: instanceId, StartTime: Math.floor(Date.now() / 1000) - days * 86400 })} />
        </>
      }
    >
      <Async state={history}>
        {(h) => (
          <LineChart
            title={`Patches needing attention on ${instanceId}, one point per report`}
            yLabel="patches"
            series={[
              { label: 'Missing', tone: 'bad', points: h.items.map((p) => ({ x: p.Time, y: p.MissingCount ?? 0 })) },
              { label: 'Failed', tone: 'warn', points: h.items.map((p) => ({ x: p.Time, y: p.FailedCount ?? 0 })) },
              { label: 'Critical non-compliant', tone: 'crit', points: h.items.map((p) => ({ x: p.Time, y: p.CriticalNonCompliantCount ?? 0 })) },
              { label: 'Installed, pending reboot', tone: 'other', points: h.items.map((p) => ({ x: p.Time, y: p.InstalledPendingRebootCount ?? 0 })) },
            ]}
          />
        )}
      </Async>
    </Section>
  );
}
