// One baseline: its rules in plain words, lists and filters, the patch groups it is registered to (register and
// deregister), and "set as default" for its operating system. AWS-provided baselines are read-only (they can still
// be registered to groups or made the default, as in AWS); "Copy to a new baseline" starts an editable copy.

import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { Async, ErrorBox, PageHeader, Section, useLoad } from '../components.tsx';
import { enumLabel, osLabel, time } from '../format.ts';
import { describeFilters, type Baseline } from '../rules.ts';
import { href, navigate } from '../router.ts';
import { RulesList } from './node.tsx';

export function BaselineView({ baselineId }: { baselineId: string }) {
  const state = useLoad(async (signal) => {
    const b = await call<Baseline>('GetPatchBaseline', { BaselineId: baselineId }, signal);
    const def = await call<{ BaselineId: string; OperatingSystem: string }>('GetDefaultPatchBaseline', { OperatingSystem: b.OperatingSystem }, signal).catch(() => undefined);
    return { b, isDefault: def?.BaselineId === b.BaselineId || (def !== undefined && def.BaselineId.endsWith(`/${b.BaselineId}`)) };
  }, [baselineId]);
  return (
    <div>
      <Async state={state} label="Loading the baseline…">
        {({ b, isDefault }) => <BaselineBody b={b} isDefault={isDefault} reload={state.reload} />}
      </Async>
      {state.error ? <PageHeader title={`Baseline ${baselineId}`} /> : null}
    </div>
  );
}

function BaselineBody({ b, isDefault, reload }: { b: Baseline; isDefault: boolean; reload: () => void }) {
  const aws = b.BaselineId.startsWith('arn:');
  const [group, setGroup] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error>();
  const [message, setMessage] = useState('');
  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(undefined);
    setMessage('');
    try {
      await what();
      setMessage(done);
      reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const groups = b.PatchGroups ?? [];
  return (
    <>
      <PageHeader title={b.Name} sub={<>{osLabel(b.OperatingSystem)} · <span class="mono">{b.BaselineId}</span>{aws ? ' · provided by AWS (read-only)' : ''}{isDefault ? ' · default for its operating system' : ''}</>}>
        {aws ? (
          <a class="button secondary" href={href(['baselines', 'new'], { from: b.BaselineId })}>
            Copy to a new baseline
          </a>
        ) : (
          <a class="button" href={href(['baselines', b.BaselineId, 'edit'])}>
            Edit
          </a>
        )}
        {!aws ? (
          <button
            type="button"
            class="secondary danger"
            disabled={busy}
            onClick={() => {
              if (window.confirm(`Delete baseline ${b.Name}? This cannot be undone.`)) {
                setBusy(true);
                call('DeletePatchBaseline', { BaselineId: b.BaselineId }).then(
                  () => navigate('#/baselines'),
                  (err: Error) => {
                    setError(err);
                    setBusy(false);
                  },
                );
              }
            }}
          >
            Delete
          </button>
        ) : null}
      </PageHeader>
      <div aria-live="polite" class="status-line">
        {message ? <p class="notice ok">{message}</p> : null}
      </div>
      <ErrorBox error={error} />
      {b.Description ? <p>{b.Description}</p> : null}
      <Section title="What it approves">
        <RulesList baseline={b} />
      </Section>
      <div class="grid two">
        <Section title="Patch groups">
          {groups.length === 0 ? <p>Not registered to any patch group.</p> : null}
          <ul class="links" data-testid="baseline-groups">
            {groups.map((g) => (
              <li>
                <a href={href(['groups', g])}>{g}</a>{' '}
                <button type="button" class="link small" disabled={busy} onClick={() => act(() => call('DeregisterPatchBaselineForPatchGroup', { BaselineId: b.BaselineId, PatchGroup: g }), `Deregistered from ${g}.`)}>
                  Deregister<span class="sr-only"> from {g}</span>
                </button>
              </li>
            ))}
          </ul>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              const g = group.trim();
              void act(() => call('RegisterPatchBaselineForPatchGroup', { BaselineId: b.BaselineId, PatchGroup: g }), `Registered to patch group ${g}.`).then(() => setGroup(''));
            }}
          >
            <label for="reg-group">Register to patch group</label>
            <div class="row">
              <input id="reg-group" value={group} onInput={(e) => setGroup((e.target as HTMLInputElement).value)} placeholder="e.g. web-servers" />
              <button type="submit" disabled={busy || group.trim() === ''}>
                Register
              </button>
            </div>
          </form>
        </Section>
        <Section title="Default baseline">
          {isDefault ? (
            <p>This is the default baseline for {osLabel(b.OperatingSystem)}: nodes in no group, or in a group without a baseline for their system, use it.</p>
          ) : (
            <>
              <p>Nodes of {osLabel(b.OperatingSystem)} with no group baseline use the system's default baseline.</p>
              <button type="button" class="secondary" disabled={busy} onClick={() => act(() => call('RegisterDefaultPatchBaseline', { BaselineId: b.BaselineId }), `Now the default for ${osLabel(b.OperatingSystem)}.`)}>
                Set as default for {osLabel(b.OperatingSystem)}
              </button>
            </>
          )}
        </Section>
      </div>
      <Section title="Details">
        <dl class="facts wide">
          <dt>Global filters</dt>
          <dd>{(b.GlobalFilters?.PatchFilters ?? []).length > 0 ? describeFilters(b.GlobalFilters!.PatchFilters) : 'none'}</dd>
          <dt>Approved patches</dt>
          <dd>{(b.ApprovedPatches ?? []).join(', ') || 'none'}</dd>
          <dt>Approved patches compliance level</dt>
          <dd>{enumLabel(b.ApprovedPatchesComplianceLevel)}</dd>
          <dt>Approved patches include non-security</dt>
          <dd>{b.ApprovedPatchesEnableNonSecurity ? 'Yes' : 'No'}</dd>
          <dt>Rejected patches</dt>
          <dd>{(b.RejectedPatches ?? []).join(', ') || 'none'}</dd>
          <dt>Rejected patches action</dt>
          <dd>{b.RejectedPatchesAction === 'BLOCK' ? 'Block (never install them, nor what depends on them)' : 'Allow as a dependency'}</dd>
          {b.AvailableSecurityUpdatesComplianceStatus ? (
            <>
              <dt>Available security updates count as</dt>
              <dd>{enumLabel(b.AvailableSecurityUpdatesComplianceStatus)}</dd>
            </>
          ) : null}
          {(b.Sources ?? []).length > 0 ? (
            <>
              <dt>Sources</dt>
              <dd>{b.Sources!.map((s) => `${s.Name} (${s.Products.join(', ')})`).join('; ')}</dd>
            </>
          ) : null}
          <dt>Created</dt>
          <dd>{time(b.CreatedDate)}</dd>
          <dt>Modified</dt>
          <dd>{time(b.ModifiedDate)}</dd>
        </dl>
      </Section>
    </>
  );
}
