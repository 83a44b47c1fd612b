// Hash routing (`#/nodes/mi-…?status=NON_COMPLIANT`): the server serves index.html at `/` only, so the route lives
// in the fragment. Back/forward work through the browser's history (hashchange); query parameters carry a view's
// filters so every state is a deep link.

import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments, decoded: `#/nodes/mi-1` → ['nodes', 'mi-1']. */
  parts: string[];
  query: URLSearchParams;
  /** The raw hash, for comparisons. */
  hash: string;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = raw.split('?', 2) as [string, string?];
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { parts, query: new URLSearchParams(search), hash: raw };
}

/** `#/a/b?x=1` from segments and query values (empty values are left out). */
export function href(parts: readonly string[], query: Record<string, string | undefined> = {}): string {
  const path = '/' + parts.map((p) => encodeURIComponent(p)).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) {
    history.replaceState(history.state, '', to);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = to.replace(/^#/, '');
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
