// Baselines: the operator's own and AWS's predefined ones (DescribePatchBaselines with the OWNER filter), by
// operating system, with the default of each system marked.

import { collect, exportUrl } from '../api.ts';
import { Async, Empty, ExportLink, PageHeader, useLoad } from '../components.tsx';
import { OPERATING_SYSTEMS, osLabel } from '../format.ts';
import { href, navigate, type Route } from '../router.ts';

export interface BaselineIdentity {
  BaselineId: string;
  BaselineName: string;
  OperatingSystem: string;
  BaselineDescription?: string;
  DefaultBaseline?: boolean;
}

const OWNERS: Array<[string, string]> = [
  ['Self', 'Yours'],
  ['AWS', 'AWS-provided'],
  ['All', 'All'],
];

export function BaselinesView({ route }: { route: Route }) {
  const owner = route.query.get('owner') ?? 'Self';
  const os = route.query.get('os') ?? '';
  const Filters = [{ Key: 'OWNER', Values: [owner] }, ...(os ? [{ Key: 'OPERATING_SYSTEM', Values: [os] }] : [])];
  const state = useLoad((signal) => collect<BaselineIdentity>('DescribePatchBaselines', { Filters, MaxResults: 100 }, 'BaselineIdentities', 2000, signal), [owner, os]);
  const set = (q: Record<string, string | undefined>) => navigate(href(['baselines'], { owner, os, ...q }), { replace: true });
  return (
    <div>
      <PageHeader title="Patch baselines" sub="A baseline decides which patches a node must have: its rules approve patches by classification, severity and age.">
        <ExportLink url={exportUrl('DescribePatchBaselines', { Filters })} />
        <a class="button" href="#/baselines/new">
          Create baseline
        </a>
      </PageHeader>
      <div class="filters">
        <div class="tabs" role="group" aria-label="Owner">
          {OWNERS.map(([value, label]) => (
            <button type="button" class={`tab${owner === value ? ' active' : ''}`} aria-pressed={owner === value} onClick={() => set({ owner: value })}>
              {label}
            </button>
          ))}
        </div>
        <div class="field">
          <label for="b-os">Operating system</label>
          <select id="b-os" value={os} onChange={(e) => set({ os: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">Any</option>
            {OPERATING_SYSTEMS.map((o) => (
              <option value={o}>{osLabel(o)}</option>
            ))}
          </select>
        </div>
      </div>
      <Async state={state} label="Loading baselines…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>
              {owner === 'Self' ? (
                <>
                  You have no baselines of your own yet. <a href="#/baselines/new">Create one</a>, or see the <a href={href(['baselines'], { owner: 'AWS' })}>AWS-provided baselines</a>.
                </>
              ) : (
                'No baselines match.'
              )}
            </Empty>
          ) : (
            <div class="table-wrap">
              <table class="data" data-testid="baselines-table">
                <caption class="sr-only">Patch baselines</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Operating system</th>
                    <th scope="col">Description</th>
                    <th scope="col">Default</th>
                    <th scope="col">Owner</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((b) => (
                    <tr>
                      <th scope="row">
                        <a href={href(['baselines', b.BaselineId])}>{b.BaselineName}</a>
                        <span class="muted small block mono">{b.BaselineId.replace(/^arn:.*\//, '')}</span>
                      </th>
                      <td>{osLabel(b.OperatingSystem)}</td>
                      <td>{b.BaselineDescription || '—'}</td>
                      <td>{b.DefaultBaseline ? <span class="badge ok">Default</span> : ''}</td>
                      <td>{b.BaselineId.startsWith('arn:') ? 'AWS' : 'You'}</td>
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
