// Add nodes: create a hybrid activation (CreateActivation) and show the one command that installs the agent,
// registers the node and runs a first scan (Patchline.GetAgentInstallCommand with the activation's id and code).
// The activation code is shown once, as AWS shows it; it is not kept anywhere by the console.

import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { CopyButton, ErrorBox, PageHeader, Section } from '../components.tsx';
import { time } from '../format.ts';

interface Created {
  ActivationId: string;
  ActivationCode: string;
  InstallCommand: string;
  Expires?: number;
  ExpirationDate: number;
}

export function AddNodesView() {
  const [description, setDescription] = useState('');
  const [defaultName, setDefaultName] = useState('');
  const [limit, setLimit] = useState('10');
  const [days, setDays] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error>();
  const [created, setCreated] = useState<Created>();

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setCreated(undefined);
    try {
      const ExpirationDate = Math.floor(Date.now() / 1000) + Math.round(Number(days) * 86400);
      const body: Record<string, unknown> = { IamRole: 'patchline-node', RegistrationLimit: /^\d+$/.test(limit) ? Number(limit) : limit, ExpirationDate };
      if (description.trim()) body.Description = description.trim();
      if (defaultName.trim()) body.DefaultInstanceName = defaultName.trim();
      const a = await call<{ ActivationId: string; ActivationCode: string }>('CreateActivation', body);
      const cmd = await call<{ InstallCommand: string; Expires?: number }>('Patchline.GetAgentInstallCommand', { ActivationId: a.ActivationId, ActivationCode: a.ActivationCode });
      setCreated({ ...a, InstallCommand: cmd.InstallCommand, Expires: cmd.Expires, ExpirationDate });
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div>
      <PageHeader title="Add nodes" sub="Create an activation, then run one command on each Linux node (Node.js 18 or newer): it downloads the agent, registers the node and scans it." />
      <Section title="New activation">
        <form onSubmit={submit} class="stack">
          <div class="row wrap">
            <div class="field">
              <label for="a-limit">Nodes it may register</label>
              <input id="a-limit" inputMode="numeric" class="short" value={limit} onInput={(e) => setLimit((e.target as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="a-days">Valid for</label>
              <select id="a-days" value={days} onChange={(e) => setDays((e.target as HTMLSelectElement).value)}>
                <option value="1">1 day</option>
                <option value="7">7 days</option>
                <option value="30">30 days</option>
              </select>
            </div>
            <div class="field">
              <label for="a-name">Default node name (optional)</label>
              <input id="a-name" value={defaultName} onInput={(e) => setDefaultName((e.target as HTMLInputElement).value)} />
            </div>
            <div class="field grow">
              <label for="a-desc">Description (optional)</label>
              <input id="a-desc" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
            </div>
          </div>
          <div>
            <button type="submit" disabled={busy}>
              {busy ? 'Creating…' : 'Create activation'}
            </button>
          </div>
        </form>
        <ErrorBox error={error} />
      </Section>
      <div aria-live="polite">
        {created ? (
          <Section title="Run this on each node">
            <p>
              Activation <code>{created.ActivationId}</code>, valid until {time(created.ExpirationDate)}. The download link in the command works until {time(created.Expires)}.
            </p>
            <pre class="command" data-testid="install-command" tabIndex={0} aria-label="Install command">
              {created.InstallCommand}
            </pre>
            <CopyButton text={created.InstallCommand} label="Copy command" />
            <p class="help">The command holds the activation code: treat it like a password and share it only with the nodes' administrators.</p>
          </Section>
        ) : null}
      </div>
    </div>
  );
}
