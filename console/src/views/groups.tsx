// Patch groups: every group with nodes (GetFleetSummary) or a registered baseline (DescribePatchGroups), and one
// group's page: its DescribePatchGroupState as a chart, its compliance over time
// (Patchline.DescribePatchGroupStateHistory) as lines, its baselines, and its nodes
// (DescribeInstancePatchStatesForPatchGroup, paged).

import { useState } from 'preact/hooks';
import { call, collect, exportUrl } from '../api.ts';
import { BarChart, LineChart } from '../charts.tsx';
import { Async, Empty, ErrorBox, ExportLink, Loading, PageHeader, PagerControls, Section, useLoad, usePager } from '../components.tsx';
import { ago, num, osLabel, time } from '../format.ts';
import { href } from '../router.ts';
import type { FleetSummary } from './dashboard.tsx';

interface Mapping {
  PatchGroup: string;
  BaselineIdentity: { BaselineId: string; BaselineName: string; OperatingSystem: string; DefaultBaseline?: boolean };
}

export function GroupsView() {
  const state = useLoad(async (signal) => {
    const [summary, mappings] = await Promise.all([
      call<FleetSummary>('Patchline.GetFleetSummary', { Top: 1 }, signal),
      collect<Mapping>('DescribePatchGroups', { MaxResults: 100 }, 'Mappings', 2000, signal),
    ]);
    const names = new Set([...summary.PatchGroups.map((g) => g.PatchGroup), ...mappings.items.map((m) => m.PatchGroup)].filter((g) => g !== ''));
    return [...names].sort().map((name) => ({
      name,
      stats: summary.PatchGroups.find((g) => g.PatchGroup === name),
      baselines: mappings.items.filter((m) => m.PatchGroup === name).map((m) => m.BaselineIdentity),
    }));
  }, []);
  return (
    <div>
      <PageHeader title="Patch groups" sub="Nodes report the patch group they belong to; each group uses the baseline registered to it for the node's operating system, or that system's default.">
        <ExportLink url={exportUrl('DescribePatchGroups', {})} label="Export CSV (registrations)" />
      </PageHeader>
      <Async state={state} label="Loading patch groups…">
        {(groups) =>
          groups.length === 0 ? (
            <Empty>No patch groups yet: nodes join one by reporting it, and baselines are registered to groups from a baseline's page.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="data" data-testid="groups-table">
                <caption class="sr-only">Patch groups</caption>
                <thead>
                  <tr>
                    <th scope="col">Patch group</th>
                    <th scope="col" class="num">Nodes</th>
                    <th scope="col" class="num">With missing</th>
                    <th scope="col" class="num">With failed</th>
                    <th scope="col" class="num">Critical</th>
                    <th scope="col">Registered baselines</th>
                  </tr>
                </thead>
                <tbody>
                  {groups.map((g) => (
                    <tr>
                      <th scope="row">
                        <a href={href(['groups', g.name])}>{g.name}</a>
                      </th>
                      <td class="num">{num(g.stats?.Instances ?? 0)}</td>
                      <td class="num">{num(g.stats?.InstancesWithMissingPatches ?? 0)}</td>
                      <td class="num">{num(g.stats?.InstancesWithFailedPatches ?? 0)}</td>
                      <td class="num">{num(g.stats?.InstancesWithCriticalNonCompliantPatches ?? 0)}</td>
                      <td>
                        {g.baselines.length === 0
                          ? <span class="muted">none (OS defaults apply)</span>
                          : g.baselines.map((b, i) => (
                              <>
                                {i > 0 ? ', ' : ''}
                                <a href={href(['baselines', b.BaselineId])}>{b.BaselineName}</a> <span class="muted">({osLabel(b.OperatingSystem)})</span>
                              </>
                            ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </div>
  );
}

type GroupState = Record<string, number>;

const STATE_BARS: Array<[string, string, string]> = [
  ['InstancesWithMissingPatches', 'With missing patches', 'bad'],
  ['InstancesWithFailedPatches', 'With failed patches', 'warn'],
  ['InstancesWithCriticalNonCompliantPatches', 'With critical non-compliance', 'crit'],
  ['InstancesWithSecurityNonCompliantPatches', 'With security non-compliance', 'sec'],
  ['InstancesWithOtherNonCompliantPatches', 'With other non-compliance', 'other'],
  ['InstancesWithInstalledPendingRebootPatches', 'Pending reboot', 'other'],
  ['InstancesWithInstalledRejectedPatches', 'With installed rejected patches', 'muted'],
  ['InstancesWithAvailableSecurityUpdates', 'With available security updates', 'sec'],
  ['InstancesWithInstalledPatches', 'With installed patches', 'ok'],
  ['InstancesWithInstalledOtherPatches', 'With installed other patches', 'ok'],
  ['InstancesWithNotApplicablePatches', 'With not-applicable patches', 'muted'],
  ['InstancesWithUnreportedNotApplicablePatches', 'With unreported not-applicable patches', 'muted'],
];

interface NodeState {
  InstanceId: string;
  BaselineId: string;
  Operation: string;
  OperationEndTime: number;
  MissingCount?: number;
  FailedCount?: number;
  InstalledCount?: number;
  InstalledPendingRebootCount?: number;
  CriticalNonCompliantCount?: number;
  SecurityNonCompliantCount?: number;
  OtherNonCompliantCount?: number;
}

export function GroupView({ group }: { group: string }) {
  const state = useLoad((signal) => call<GroupState>('DescribePatchGroupState', { PatchGroup: group }, signal), [group]);
  const mappings = useLoad(
    async (signal) => (await collect<Mapping>('DescribePatchGroups', { Filters: [{ Key: 'NAME_PREFIX', Values: [group] }], MaxResults: 100 }, 'Mappings', 1000, signal)).items.filter((m) => m.PatchGroup === group),
    [group],
  );
  const [days, setDays] = useState(30);
  const start = Math.floor(Date.now() / 1000) - days * 86400;
  const history = useLoad(
    (signal) => collect<GroupState & { Time: number }>('Patchline.DescribePatchGroupStateHistory', { PatchGroup: group, StartTime: start, MaxResults: 1000 }, 'History', 5000, signal),
    [group, days],
  );
  const input = { PatchGroup: group, MaxResults: 50 };
  const pager = usePager(group);
  const nodes = useLoad(
    (signal) => call<{ InstancePatchStates: NodeState[]; NextToken?: string }>('DescribeInstancePatchStatesForPatchGroup', { ...input, ...(pager.token ? { NextToken: pager.token } : {}) }, signal),
    [group, pager.token],
  );

  return (
    <div>
      <PageHeader title={`Patch group ${group}`}>
        <a class="button secondary" href={href(['nodes'], { group })}>
          Search its nodes
        </a>
      </PageHeader>
      <div class="grid two">
        <Section title="State now">
          <Async state={state}>
            {(s) => (
              <>
                <p class="lead">
                  <strong data-testid="group-instances">{num(s.Instances ?? 0)}</strong> nodes report this group.
                </p>
                <BarChart title={`Nodes of ${group} by patch state`} total={s.Instances ?? 0} bars={STATE_BARS.map(([k, label, tone]) => ({ label, value: s[k] ?? 0, tone }))} />
              </>
            )}
          </Async>
        </Section>
        <Section title="Baselines">
          <Async state={mappings}>
            {(m) =>
              m.length === 0 ? (
                <p>No baseline is registered to this group: its nodes use their operating system's default baseline.</p>
              ) : (
                <ul class="links">
                  {m.map((x) => (
                    <li>
                      {osLabel(x.BaselineIdentity.OperatingSystem)}: <a href={href(['baselines', x.BaselineIdentity.BaselineId])}>{x.BaselineIdentity.BaselineName}</a>
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </Section>
      </div>
      <Section
        title="Compliance over time"
        actions={
          <>
            <div class="field inline">
              <label for="g-days">Period</label>
              <select id="g-days" value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
                <option value="1">24 hours</option>
                <option value="7">7 days</option>
                <option value="30">30 days</option>
                <option value="90">90 days</option>
              </select>
            </div>
            <ExportLink url={exportUrl('Patchline.DescribePatchGroupStateHistory', { PatchGroup: group, StartTime: start })} />
          </>
        }
      >
        <Async state={history}>
          {(h) => (
            <LineChart
              title={`Nodes of ${group} over time`}
              yLabel="nodes"
              series={[
                { label: 'Nodes', tone: 'blue', points: h.items.map((p) => ({ x: p.Time, y: p.Instances ?? 0 })) },
                { label: 'With missing patches', tone: 'bad', points: h.items.map((p) => ({ x: p.Time, y: p.InstancesWithMissingPatches ?? 0 })) },
                { label: 'With failed patches', tone: 'warn', points: h.items.map((p) => ({ x: p.Time, y: p.InstancesWithFailedPatches ?? 0 })) },
                { label: 'With critical non-compliance', tone: 'crit', points: h.items.map((p) => ({ x: p.Time, y: p.InstancesWithCriticalNonCompliantPatches ?? 0 })) },
              ]}
            />
          )}
        </Async>
      </Section>
      <Section title="Nodes" actions={<ExportLink url={exportUrl('DescribeInstancePatchStatesForPatchGroup', { PatchGroup: group })} />}>
        <div aria-live="polite">{nodes.loading ? <Loading label="Loading nodes…" /> : null}</div>
        <ErrorBox error={nodes.error} />
        {nodes.data && nodes.data.InstancePatchStates.length === 0 ? <Empty>No node has reported this group.</Empty> : null}
        {nodes.data && nodes.data.InstancePatchStates.length > 0 ? (
          <div class="table-wrap">
            <table class="data" data-testid="group-nodes">
              <caption class="sr-only">Nodes of {group}</caption>
              <thead>
                <tr>
                  <th scope="col">Instance ID</th>
                  <th scope="col">Last operation</th>
                  <th scope="col" class="num">Installed</th>
                  <th scope="col" class="num">Missing</th>
                  <th scope="col" class="num">Failed</th>
                  <th scope="col" class="num">Critical</th>
                  <th scope="col" class="num">Security</th>
                  <th scope="col" class="num">Reboot</th>
                </tr>
              </thead>
              <tbody>
                {nodes.data.InstancePatchStates.map((n) => (
                  <tr>
                    <th scope="row">
                      <a class="mono" href={href(['nodes', n.InstanceId])}>
                        {n.InstanceId}
                      </a>
                    </th>
                    <td title={time(n.OperationEndTime)}>
                      {n.Operation} {ago(n.OperationEndTime)}
                    </td>
                    <td class="num">{num(n.InstalledCount ?? 0)}</td>
                    <td class="num">{num(n.MissingCount ?? 0)}</td>
                    <td class="num">{num(n.FailedCount ?? 0)}</td>
                    <td class={`num${(n.CriticalNonCompliantCount ?? 0) > 0 ? ' crit-text' : ''}`}>{num(n.CriticalNonCompliantCount ?? 0)}</td>
                    <td class="num">{num(n.SecurityNonCompliantCount ?? 0)}</td>
                    <td class="num">{num(n.InstalledPendingRebootCount ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <PagerControls label="Group nodes" page={pager.page} hasNext={!!nodes.data?.NextToken && !nodes.loading} onNext={() => nodes.data?.NextToken && pager.next(nodes.data.NextToken)} onPrev={pager.prev} />
      </Section>
    </div>
  );
}
