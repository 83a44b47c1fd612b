// Sign-in: the access key id and secret the server printed at first start (or any admin key). The browser signs
// Patchline.CreateConsoleSession with them (SigV4, WebCrypto) and sends only the signature; the secret stays in
// this form's memory until the request is signed and is then cleared. Nothing is written to storage.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, signIn } from '../api.ts';
import { ErrorBox } from '../components.tsx';

export function SignIn({ reason }: { reason?: string | undefined }) {
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secret, setSecret] = useState('');
  const [region, setRegion] = useState('us-east-1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error>();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Patchline';
    if (reason) heading.current?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const key = accessKeyId.trim();
    const s = secret;
    setSecret('');
    try {
      await signIn(key, s, region.trim() || 'us-east-1');
      setAccessKeyId('');
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title" autocomplete="off">
        <h1 id="signin-title" ref={heading} tabIndex={-1}>
          Sign in to Patchline
        </h1>
        <p class="sub">Use the access key the server printed when it first started (also in <code>data/admin-credentials</code>), or another admin key.</p>
        {reason ? (
          <p class="notice" role="status">
            {reason}
          </p>
        ) : null}
        {!window.isSecureContext ? (
          <p class="notice warn">
            This page is not served over HTTPS: your secret is never sent, but the session and everything the console shows travel unencrypted. Put Patchline behind TLS for use beyond this machine.
          </p>
        ) : null}
        <label for="akid">Access key ID</label>
        <input
          id="akid"
          name="accessKeyId"
          value={accessKeyId}
          onInput={(e) => setAccessKeyId((e.target as HTMLInputElement).value)}
          required
          autocomplete="username"
          spellcheck={false}
          autocapitalize="off"
        />
        <label for="secret">Secret access key</label>
        <input
          id="secret"
          name="secretAccessKey"
          type="password"
          value={secret}
          onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
          required
          autocomplete="off"
          aria-describedby="secret-help"
        />
        <p id="secret-help" class="help">
          Signed here in your browser; only the signature is sent, and the secret is dropped right after.
        </p>
        <label for="region">Region</label>
        <input id="region" name="region" value={region} onInput={(e) => setRegion((e.target as HTMLInputElement).value)} aria-describedby="region-help" spellcheck={false} />
        <p id="region-help" class="help">
          The region the server answers as (<code>PATCHLINE_REGION</code>, us-east-1 unless changed).
        </p>
        <ErrorBox error={error} title="Sign-in failed" />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
