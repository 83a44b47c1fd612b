// Building blocks shared by the views: loading / error / empty states (announced through aria-live), the data hook
// behind every view, tables, CSV links and the page header.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change; aborts the previous request, ignores answers that arrive out of order, keeps
 * the previous data while the next loads (so a table does not flash empty between pages).
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load(controller.signal).then(
      (data) => {
        if (seq.current === mine) setState({ data, error: undefined, loading: false });
      },
      (error: Error) => {
        if (seq.current === mine && error.name !== 'AbortError') setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** An API error with its AWS code and message. */
export function ErrorBox({ error, title = 'The request failed' }: { error: ApiError | Error | undefined; title?: string }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : error.name;
  return (
    <div class="error" role="alert">
      <strong>{title}</strong>
      <p>
        <code class="error-code">{code}</code> {error.message}
      </p>
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Loading, error and empty states around a loaded value. */
export function Async<T>({ state, children, empty, label }: { state: Loaded<T>; children: (data: T) => ComponentChildren; empty?: (data: T) => boolean; label?: string }) {
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <Loading label={label} />;
  if (empty?.(state.data)) return <Empty>Nothing to show yet.</Empty>;
  return <>{children(state.data)}</>;
}

export function ExportLink({ url, label = 'Export CSV' }: { url: string; label?: string }) {
  return (
    <a class="button secondary export" href={url} download>
      {label}
    </a>
  );
}

/** A CSV of rows already in the page (for tables no list operation serves: the dashboard's). */
export function LocalExport({ name, header, rows }: { name: string; header: string[]; rows: Array<Array<string | number>> }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const cell = (v: string | number) => {
      const s = String(v);
      return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const text = [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
    const u = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [name, JSON.stringify(rows)]);
  return url ? (
    <a class="button secondary export" href={url} download={`${name}.csv`}>
      Export CSV
    </a>
  ) : null;
}

export function PageHeader({ title, children, sub }: { title: string; children?: ComponentChildren; sub?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1 tabIndex={-1} id="page-title">
          {title}
        </h1>
        {sub ? <p class="sub">{sub}</p> : null}
      </div>
      {children ? <div class="actions">{children}</div> : null}
    </header>
  );
}

export function Badge({ status }: { status: string | undefined }) {
  const label: Record<string, string> = { COMPLIANT: 'Compliant', NON_COMPLIANT: 'Non-compliant', NOT_REPORTED: 'Never reported', STALE: 'Stale' };
  const cls: Record<string, string> = { COMPLIANT: 'ok', NON_COMPLIANT: 'bad', NOT_REPORTED: 'muted', STALE: 'warn' };
  if (!status) return <span class="badge muted">—</span>;
  return <span class={`badge ${cls[status] ?? 'muted'}`}>{label[status] ?? status}</span>;
}

export function Section({ title, children, actions, id }: { title: string; children: ComponentChildren; actions?: ComponentChildren; id?: string }) {
  const headingId = id ?? `h-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section class="panel" aria-labelledby={headingId}>
      <div class="panel-head">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div class="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** Pages through a NextToken list: a stack of the tokens that opened each page. */
export function usePager(resetKey: string): { token: string | undefined; page: number; next: (t: string) => void; prev: () => void } {
  const [state, setState] = useState<{ key: string; stack: Array<string | undefined> }>({ key: resetKey, stack: [undefined] });
  // A new query (filters, sort) starts again at page 1.
  const stack = state.key === resetKey ? state.stack : [undefined];
  return {
    token: stack[stack.length - 1],
    page: stack.length,
    next: (t) => setState({ key: resetKey, stack: [...stack, t] }),
    prev: () => setState({ key: resetKey, stack: stack.length > 1 ? stack.slice(0, -1) : stack }),
  };
}

export function PagerControls({ page, hasNext, onNext, onPrev, label }: { page: number; hasNext: boolean; onNext: () => void; onPrev: () => void; label: string }) {
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="secondary" onClick={onPrev} disabled={page <= 1}>
        ← Previous
      </button>
      <span>Page {page}</span>
      <button type="button" class="secondary" onClick={onNext} disabled={!hasNext}>
        Next →
      </button>
    </nav>
  );
}

/** A value and its label, for the dashboard's figures. */
export function Stat({ label, value, tone, href, testid, note }: { label: string; value: string; tone?: string; href?: string; testid?: string; note?: string }) {
  const inner = (
    <>
      <span class="stat-value" data-testid={testid}>
        {value}
      </span>
      <span class="stat-label">{label}</span>
      {note ? <span class="stat-note">{note}</span> : null}
    </>
  );
  return href ? (
    <a class={`stat ${tone ?? ''}`} href={href}>
      {inner}
    </a>
  ) : (
    <div class={`stat ${tone ?? ''}`}>{inner}</div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="secondary"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setDone(true);
          setTimeout(() => setDone(false), 2000);
        } catch {
          setDone(false);
        }
      }}
    >
      {done ? 'Copied' : label}
      <span class="sr-only" aria-live="polite">
        {done ? 'Copied to the clipboard' : ''}
      </span>
    </button>
  );
}
