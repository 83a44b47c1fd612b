// Fleet dashboard (Patchline.GetFleetSummary): the fleet's compliance at a glance, non-compliance by level, the
// most-missing patches and most-exposed CVEs, and every patch group. Each figure links to the list behind it.

import { call } from '../api.ts';
import { BarChart, Donut, GroupedBarChart } from '../charts.tsx';
import { Async, LocalExport, PageHeader, Section, Stat, useLoad } from '../components.tsx';
import { ago, num, plural } from '../format.ts';
import { href } from '../router.ts';

export interface FleetSummary {
  Nodes: number;
  Reported: number;
  NeverReported: number;
  Stale: number;
  Compliant: number;
  NonCompliant: number;
  NonCompliantByLevel: { Critical: number; Security: number; Other: number };
  PingStatus?: { Online: number; ConnectionLost: number };
  PatchGroups: Array<{
    PatchGroup: string;
    Instances: number;
    InstancesWithMissingPatches: number;
    InstancesWithFailedPatches: number;
    InstancesWithCriticalNonCompliantPatches: number;
    InstancesWithSecurityNonCompliantPatches: number;
    InstancesWithOtherNonCompliantPatches: number;
  }>;
  MostMissingPatches: Array<{ KBId: string; Nodes: number }>;
  MostExposedCves: Array<{ CveId: string; Nodes: number }>;
  GeneratedAt?: number;
}

const STALE_DAYS = 7;

export function Dashboard() {
  const state = useLoad((signal) => call<FleetSummary>('Patchline.GetFleetSummary', { StaleDays: STALE_DAYS, Top: 10 }, signal), []);
  return (
    <div>
      <PageHeader
        title="Fleet dashboard"
        sub={state.data?.GeneratedAt ? <>Figures as of {ago(state.data.GeneratedAt)}.</> : undefined}
      >
        <button type="button" class="secondary" onClick={state.reload} disabled={state.loading}>
          {state.loading && state.data ? 'Refreshing…' : 'Refresh'}
        </button>
      </PageHeader>
      <Async state={state} label="Loading the fleet summary…">
        {(s) => <DashboardBody s={s} />}
      </Async>
    </div>
  );
}

function DashboardBody({ s }: { s: FleetSummary }) {
  const nodes = (q: Record<string, string>) => href(['nodes'], q);
  const groupRows = [...s.PatchGroups].sort((a, b) => b.Instances - a.Instances);
  return (
    <>
      {s.NonCompliantByLevel.Critical > 0 ? (
        <p class="callout bad">
          <strong>{plural(s.NonCompliantByLevel.Critical, 'node')} miss critical patches.</strong>{' '}
          <a href={nodes({ level: 'Critical', sort: 'CriticalNonCompliantCount', order: 'Descending' })}>See which nodes, and why →</a>
        </p>
      ) : s.Nodes > 0 ? (
        <p class="callout ok">No node misses a critical patch.</p>
      ) : null}
      {s.Nodes === 0 ? (
        <p class="callout">
          No nodes yet. <a href="#/add-nodes">Add nodes</a> with an activation and the one-line install command.
        </p>
      ) : null}
      <div class="stats" aria-label="Fleet figures" role="group">
        <Stat label="Nodes" value={num(s.Nodes)} testid="stat-nodes" href={nodes({})} />
        <Stat label="Compliant" value={num(s.Compliant)} tone="ok" testid="stat-compliant" href={nodes({ status: 'COMPLIANT' })} />
        <Stat label="Non-compliant" value={num(s.NonCompliant)} tone="bad" testid="stat-noncompliant" href={nodes({ status: 'NON_COMPLIANT' })} />
        <Stat label="Never reported" value={num(s.NeverReported)} tone="muted" testid="stat-neverreported" href={nodes({ status: 'NOT_REPORTED' })} />
        <Stat label="Stale" value={num(s.Stale)} tone="warn" testid="stat-stale" href={nodes({ status: 'STALE' })} note={`no report for ${STALE_DAYS} days`} />
      </div>
      <div class="grid two">
        <Section title="Compliance">
          <Donut
            title="Nodes by compliance"
            centerLabel="nodes"
            segments={[
              { label: 'Compliant', value: s.Compliant, tone: 'ok', href: nodes({ status: 'COMPLIANT' }) },
              { label: 'Non-compliant', value: s.NonCompliant, tone: 'bad', href: nodes({ status: 'NON_COMPLIANT' }) },
              { label: 'Never reported', value: s.NeverReported, tone: 'muted', href: nodes({ status: 'NOT_REPORTED' }) },
            ]}
          />
          {s.PingStatus ? (
            <p class="muted">
              Agent ping: {num(s.PingStatus.Online)} online, {num(s.PingStatus.ConnectionLost)} connection lost.
            </p>
          ) : null}
        </Section>
        <Section title="Non-compliance by level">
          <BarChart
            title="Nodes with missing patches of each level"
            total={s.Nodes}
            bars={[
              { label: 'Critical', value: s.NonCompliantByLevel.Critical, tone: 'crit', href: nodes({ level: 'Critical' }) },
              { label: 'Security', value: s.NonCompliantByLevel.Security, tone: 'sec', href: nodes({ level: 'Security' }) },
              { label: 'Other', value: s.NonCompliantByLevel.Other, tone: 'other', href: nodes({ level: 'Other' }) },
            ]}
          />
          <ul class="links" data-testid="level-links">
            <li>
              <a href={nodes({ level: 'Critical' })}>
                Critical: <strong data-testid="level-critical">{num(s.NonCompliantByLevel.Critical)}</strong> nodes
              </a>
            </li>
            <li>
              <a href={nodes({ level: 'Security' })}>
                Security: <strong data-testid="level-security">{num(s.NonCompliantByLevel.Security)}</strong> nodes
              </a>
            </li>
            <li>
              <a href={nodes({ level: 'Other' })}>
                Other: <strong data-testid="level-other">{num(s.NonCompliantByLevel.Other)}</strong> nodes
              </a>
            </li>
          </ul>
        </Section>
      </div>
      <div class="grid two">
        <Section
          title="Most-missing patches"
          actions={<LocalExport name="most-missing-patches" header={['KBId', 'Nodes']} rows={s.MostMissingPatches.map((p) => [p.KBId, p.Nodes])} />}
        >
          <BarChart title="Nodes missing each patch (missing or failed)" bars={s.MostMissingPatches.map((p) => ({ label: p.KBId, value: p.Nodes, tone: 'bad' }))} />
        </Section>
        <Section
          title="Most-exposed CVEs"
          actions={<LocalExport name="most-exposed-cves" header={['CveId', 'Nodes']} rows={s.MostExposedCves.map((c) => [c.CveId, c.Nodes])} />}
        >
          <BarChart title="Nodes exposed to each CVE" bars={s.MostExposedCves.map((c) => ({ label: c.CveId, value: c.Nodes, tone: 'sec', href: href(['cves', c.CveId]) }))} />
          {s.MostExposedCves.length > 0 ? (
            <ul class="links inline">
              {s.MostExposedCves.slice(0, 5).map((c) => (
                <li>
                  <a href={href(['cves', c.CveId])}>{c.CveId}</a>
                </li>
              ))}
            </ul>
          ) : null}
        </Section>
      </div>
      <Section
        title="Patch groups"
        actions={
          <LocalExport
            name="patch-groups"
            header={['PatchGroup', 'Instances', 'InstancesWithMissingPatches', 'InstancesWithFailedPatches', 'InstancesWithCriticalNonCompliantPatches', 'InstancesWithSecurityNonCompliantPatches', 'InstancesWithOtherNonCompliantPatches']}
            rows={groupRows.map((g) => [g.PatchGroup, g.Instances, g.InstancesWithMissingPatches, g.InstancesWithFailedPatches, g.InstancesWithCriticalNonCompliantPatches, g.InstancesWithSecurityNonCompliantPatches, g.InstancesWithOtherNonCompliantPatches])}
          />
        }
      >
        <GroupedBarChart
          title="Nodes per patch group"
          series={[
            { label: 'Nodes', tone: 'blue' },
            { label: 'With missing patches', tone: 'bad' },
            { label: 'With critical non-compliance', tone: 'crit' },
          ]}
          rows={groupRows.slice(0, 15).map((g) => ({
            label: g.PatchGroup || '(no group)',
            values: [g.Instances, g.InstancesWithMissingPatches, g.InstancesWithCriticalNonCompliantPatches],
            href: g.PatchGroup ? href(['groups', g.PatchGroup]) : undefined,
          }))}
        />
        <div class="table-wrap">
          <table class="data" data-testid="group-table">
            <caption class="sr-only">Patch groups</caption>
            <thead>
              <tr>
                <th scope="col">Patch group</th>
                <th scope="col" class="num">Nodes</th>
                <th scope="col" class="num">Missing</th>
                <th scope="col" class="num">Failed</th>
                <th scope="col" class="num">Critical</th>
                <th scope="col" class="num">Security</th>
                <th scope="col" class="num">Other</th>
              </tr>
            </thead>
            <tbody>
              {groupRows.map((g) => (
                <tr>
                  <th scope="row">
                    {g.PatchGroup ? <a href={href(['groups', g.PatchGroup])}>{g.PatchGroup}</a> : '(no group)'}
                  </th>
                  <td class="num">{num(g.Instances)}</td>
                  <td class="num">{num(g.InstancesWithMissingPatches)}</td>
                  <td class="num">{num(g.InstancesWithFailedPatches)}</td>
                  <td class="num">{num(g.InstancesWithCriticalNonCompliantPatches)}</td>
                  <td class="num">{num(g.InstancesWithSecurityNonCompliantPatches)}</td>
                  <td class="num">{num(g.InstancesWithOtherNonCompliantPatches)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}
