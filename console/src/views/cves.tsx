// CVE view: search a CVE id → the nodes that miss its fix (Patchline.DescribeInstancesForCve, paged) and the
// patches that fix it on them. Without a CVE, the fleet's most-exposed CVEs are offered as starting points.

import { useEffect, useState } from 'preact/hooks';
import { call, exportUrl } from '../api.ts';
import { Async, Empty, ErrorBox, ExportLink, Loading, PageHeader, PagerControls, Section, useLoad, usePager } from '../components.tsx';
import { camelLabel, num } from '../format.ts';
import { href, navigate, type Route } from '../router.ts';
import type { FleetSummary } from './dashboard.tsx';

interface CvePatch {
  KBId: string;
  Title: string;
  State: string;
  Classification?: string;
  Severity?: string;
}
interface CveInstance {
  InstanceId: string;
  PatchGroup?: string;
  Patches: CvePatch[];
}

export function CveView({ cveId, route }: { cveId: string | undefined; route: Route }) {
  const group = route.query.get('group') ?? '';
  const [draft, setDraft] = useState(cveId ?? '');
  const [groupDraft, setGroupDraft] = useState(group);
  useEffect(() => setDraft(cveId ?? ''), [cveId]);
  const submit = (e: Event) => {
    e.preventDefault();
    const id = draft.trim().toUpperCase();
    if (id) navigate(href(['cves', id], { group: groupDraft.trim() || undefined }));
  };
  return (
    <div>
      <PageHeader title={cveId ? `CVE ${cveId}` : 'CVEs'} sub="Which nodes miss the fix for a vulnerability, and which patches fix it." />
      <form class="filters" role="search" aria-label="Find a CVE" onSubmit={submit}>
        <div class="field grow">
          <label for="cve-id">CVE id</label>
          <input id="cve-id" value={draft} onInput={(e) => setDraft((e.target as HTMLInputElement).value)} placeholder="CVE-2024-3094" spellcheck={false} autocapitalize="characters" />
        </div>
        <div class="field">
          <label for="cve-group">Patch group (optional)</label>
          <input id="cve-group" value={groupDraft} onInput={(e) => setGroupDraft((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field end">
          <button type="submit">Search</button>
        </div>
      </form>
      {cveId ? <CveResults cveId={cveId} group={group} /> : <Suggestions />}
    </div>
  );
}

function Suggestions() {
  const state = useLoad((signal) => call<FleetSummary>('Patchline.GetFleetSummary', { Top: 20 }, signal), []);
  return (
    <Section title="Most-exposed CVEs in the fleet">
      <Async state={state}>
        {(s) =>
          s.MostExposedCves.length === 0 ? (
            <Empty>No node reports a missing patch with a CVE.</Empty>
          ) : (
            <ul class="links columns">
              {s.MostExposedCves.map((c) => (
                <li>
                  <a href={href(['cves', c.CveId])}>{c.CveId}</a> <span class="muted">— {num(c.Nodes)} nodes</span>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </Section>
  );
}

function CveResults({ cveId, group }: { cveId: string; group: string }) {
  const input = { CveId: cveId, ...(group ? { PatchGroup: group } : {}), MaxResults: 50 };
  const key = JSON.stringify(input);
  const pager = usePager(key);
  const state = useLoad(
    (signal) => call<{ Instances: CveInstance[]; NextToken?: string }>('Patchline.DescribeInstancesForCve', { ...input, ...(pager.token ? { NextToken: pager.token } : {}) }, signal),
    [key, pager.token],
  );
  const instances = state.data?.Instances ?? [];
  const fixes = new Map<string, CvePatch & { nodes: number }>();
  for (const i of instances) {
    for (const p of i.Patches) {
      const k = `${p.KBId}\u0000${p.Title}`;
      const f = fixes.get(k);
      if (f) f.nodes++;
      else fixes.set(k, { ...p, nodes: 1 });
    }
  }
  return (
    <>
      <div aria-live="polite">{state.loading ? <Loading label={`Looking up ${cveId}…`} /> : null}</div>
      <ErrorBox error={state.error} />
      {state.data && instances.length === 0 ? <Empty>No node misses the fix for {cveId}{group ? ` in patch group ${group}` : ''}.</Empty> : null}
      {instances.length > 0 ? (
        <>
          <Section title="Patches that fix it">
            <p class="muted small">On the nodes listed below{state.data?.NextToken ? ' (this page)' : ''}.</p>
            <div class="table-wrap">
              <table class="data" data-testid="cve-fixes">
                <caption class="sr-only">Patches that fix {cveId}</caption>
                <thead>
                  <tr>
                    <th scope="col">Patch</th>
                    <th scope="col">Classification</th>
                    <th scope="col">Severity</th>
                    <th scope="col" class="num">Nodes missing it</th>
                  </tr>
                </thead>
                <tbody>
                  {[...fixes.values()]
                    .sort((a, b) => b.nodes - a.nodes)
                    .map((f) => (
                      <tr>
                        <th scope="row">
                          <span class="mono">{f.KBId}</span>
                          {f.Title !== f.KBId ? <span class="muted small block">{f.Title}</span> : null}
                        </th>
                        <td>{f.Classification || '—'}</td>
                        <td>{f.Severity || '—'}</td>
                        <td class="num">{num(f.nodes)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </Section>
          <Section title="Nodes missing the fix" actions={<ExportLink url={exportUrl('Patchline.DescribeInstancesForCve', { CveId: cveId, ...(group ? { PatchGroup: group } : {}) })} />}>
            <div class="table-wrap">
              <table class="data" data-testid="cve-nodes">
                <caption class="sr-only">Nodes missing the fix for {cveId}</caption>
                <thead>
                  <tr>
                    <th scope="col">Instance ID</th>
                    <th scope="col">Patch group</th>
                    <th scope="col">Patches it misses</th>
                  </tr>
                </thead>
                <tbody>
                  {instances.map((i) => (
                    <tr>
                      <th scope="row">
                        <a class="mono" href={href(['nodes', i.InstanceId], { cve: cveId, state: 'all' })}>
                          {i.InstanceId}
                        </a>
                      </th>
                      <td>{i.PatchGroup ? <a href={href(['groups', i.PatchGroup])}>{i.PatchGroup}</a> : '—'}</td>
                      <td>
                        {i.Patches.map((p) => (
                          <span class="block">
                            <span class="mono">{p.KBId}</span> <span class="muted">({camelLabel(p.State)})</span>
                          </span>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <PagerControls label="CVE nodes" page={pager.page} hasNext={!!state.data?.NextToken && !state.loading} onNext={() => state.data?.NextToken && pager.next(state.data.NextToken)} onPrev={pager.prev} />
          </Section>
        </>
      ) : null}
    </>
  );
}
