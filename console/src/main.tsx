// The console's shell: resumes the session (Patchline.GetConsoleSession) or shows sign-in, then the navigation and
// the routed view. On every route change the new page's heading takes the focus and the document title follows,
// so keyboard and screen-reader users land on the new content.

import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './styles.css';
import { currentSession, onSessionChange, resumeSession, signOut, type Session } from './api.ts';
import { Loading } from './components.tsx';
import { useRoute, type Route } from './router.ts';
import { SignIn } from './views/signin.tsx';
import { Dashboard } from './views/dashboard.tsx';
import { NodesView } from './views/nodes.tsx';
import { NodeView } from './views/node.tsx';
import { GroupsView, GroupView } from './views/groups.tsx';
import { BaselinesView } from './views/baselines.tsx';
import { BaselineView } from './views/baseline.tsx';
import { BaselineEditor } from './views/baseline-edit.tsx';
import { CveView } from './views/cves.tsx';
import { AddNodesView } from './views/add-nodes.tsx';

const NAV: Array<{ href: string; label: string; section: string }> = [
  { href: '#/', label: 'Dashboard', section: '' },
  { href: '#/nodes', label: 'Nodes', section: 'nodes' },
  { href: '#/groups', label: 'Patch groups', section: 'groups' },
  { href: '#/baselines', label: 'Baselines', section: 'baselines' },
  { href: '#/cves', label: 'CVEs', section: 'cves' },
  { href: '#/add-nodes', label: 'Add nodes', section: 'add-nodes' },
];

function View({ route }: { route: Route }) {
  const [a, b, c] = route.parts;
  switch (a) {
    case undefined:
      return <Dashboard />;
    case 'nodes':
      return b ? <NodeView instanceId={b} route={route} /> : <NodesView route={route} />;
    case 'groups':
      return b !== undefined ? <GroupView group={b} /> : <GroupsView />;
    case 'baselines':
      if (b === 'new') return <BaselineEditor />;
      if (b && c === 'edit') return <BaselineEditor baselineId={b} />;
      return b ? <BaselineView baselineId={b} /> : <BaselinesView route={route} />;
    case 'cves':
      return <CveView cveId={b} route={route} />;
    case 'add-nodes':
      return <AddNodesView />;
    default:
      return (
        <div>
          <h1 tabIndex={-1} id="page-title">
            Page not found
          </h1>
          <p>
            There is no page at <code>{route.hash}</code>. <a href="#/">Go to the dashboard</a>.
          </p>
        </div>
      );
  }
}

function App() {
  const [session, setSession] = useState<Session | undefined>(currentSession());
  const [checking, setChecking] = useState(true);
  const [reason, setReason] = useState<string>();
  const route = useRoute();
  const path = route.parts.join('/');
  const first = useRef(true);

  useEffect(() => {
    const off = onSessionChange((s, why) => {
      setSession(s);
      if (!s) setReason(why);
    });
    void resumeSession().finally(() => setChecking(false));
    return off;
  }, []);

  // Focus and title follow the route (not query-only changes such as a filter, which keep the focus where it is).
  useEffect(() => {
    const h1 = document.getElementById('page-title');
    const title = h1?.textContent?.trim();
    document.title = title ? `${title} · Patchline` : 'Patchline';
    if (first.current) {
      first.current = false;
      return;
    }
    h1?.focus();
    window.scrollTo(0, 0);
  }, [path, session !== undefined, checking]);

  if (checking) {
    return (
      <main class="center">
        <Loading label="Checking your session…" />
      </main>
    );
  }
  if (!session) return <SignIn reason={reason} />;
  const section = route.parts[0] ?? '';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('page-title')?.focus();
      }}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/">
          Patchline
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li>
                <a href={n.href} aria-current={n.section === section ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="muted" title="Signed in with this access key">
            {session.AccessKeyId}
          </span>
          <button type="button" class="secondary small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" class="content">
        <View route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
