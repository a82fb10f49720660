import { render, type ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, credential, type ApiError } from './api.js';
import { ShellContext } from './shell.js';
import { Both, Card, ErrorBox, Field } from './ui.js';
import { OverviewView } from './views/overview.js';
import { CentreView, NewCentreView } from './views/centre.js';
import { BoxView } from './views/box.js';
import { ReleasesView } from './views/releases.js';
import { AdminsView } from './views/admins.js';
import { MediaNodesView } from './views/media-nodes.js';
import { FleetView } from './views/fleet.js';
import { RegionsView } from './views/regions.js';
import './style.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const changed = () => setHash(location.hash || '#/');
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function Login({ error, onSignedIn }: { error?: unknown; onSignedIn(): void }) {
  const [token, setToken] = useState('');
  const [failure, setFailure] = useState<unknown>(error);
  const submit = async (event: Event) => {
    event.preventDefault();
    credential.set(token.trim());
    try {
      await api('GET', '/centres');
      onSignedIn();
    } catch (e) {
      credential.clear();
      setFailure(e);
    }
  };
  return (
    <Card title={<Both zh="登录" en="Sign in" />}>
      <p class="muted">凭证由 classbox fleet admin create 生成 · made by `classbox fleet admin create`</p>
      <form class="grid" onSubmit={submit}>
        <Field
          id="login-token"
          zh="管理员凭证"
          en="Admin credential"
          type="password"
          size={48}
          autocomplete="off"
          placeholder="cbx_admin_…"
          value={token}
          onValue={setToken}
          autofocus
        />
        <span />
        <button id="login-button" type="submit">
          <Both zh="登录" en="Sign in" />
        </button>
      </form>
      {failure !== undefined && <ErrorBox error={failure} />}
    </Card>
  );
}

const NAV: [string, string, string][] = [
  ['#/', '总览', 'Overview'],
  ['#/regions', '按地区', 'By region'],
  ['#/fleet', '全网趋势', 'Fleet trends'],
  ['#/releases', '版本发布', 'Releases'],
  ['#/media-nodes', '媒体服务器', 'Media nodes'],
  ['#/admins', '管理员与审计', 'Admins & audit'],
  ['#/new-centre', '新建教学点', 'New centre'],
];

function route(hash: string) {
  const [path = '', query = ''] = hash.slice(1).split('?');
  const centre = /^\/centre\/(.+)$/.exec(path);
  if (centre) return <CentreView key={centre[1]} id={decodeURIComponent(centre[1]!)} />;
  const box = /^\/box\/(.+)$/.exec(path);
  if (box) return <BoxView key={box[1]} id={decodeURIComponent(box[1]!)} />;
  switch (path) {
    case '/new-centre':
      return <NewCentreView />;
    case '/releases':
      return <ReleasesView />;
    case '/admins':
      return <AdminsView />;
    case '/media-nodes':
      return <MediaNodesView />;
    case '/regions':
      return <RegionsView key={query} region={new URLSearchParams(query).get('region') ?? undefined} />;
    case '/fleet':
      return <FleetView key={query} region={new URLSearchParams(query).get('region') ?? undefined} />;
    default:
      return <OverviewView query={new URLSearchParams(query)} />;
  }
}

/** The hash is the router's: the skip link focuses the page's content instead of following its href. */
function skipToContent(event: Event) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

function App() {
  const hash = useHash();
  const [signedIn, setSignedIn] = useState(credential.get() !== null);
  const [loginError, setLoginError] = useState<unknown>(undefined);
  const [panel, setPanel] = useState<ComponentChildren | null>(null);
  const signedOut = useCallback((error: ApiError) => {
    credential.clear();
    setLoginError(error);
    setSignedIn(false);
  }, []);
  const path = hash.split('?')[0];
  // A panel belongs to the page it was asked from: another page closes it (a box's log is not shown
  // over another box's page).
  useEffect(() => setPanel(null), [path]);
  return (
    <ShellContext.Provider value={{ showPanel: setPanel, signedOut }}>
      <a id="skip" href="#main" onClick={skipToContent}>
        跳到内容 Skip to content
      </a>
      <header>
        <h1>
          课堂盒子管理 <small>classbox fleet</small>
        </h1>
        {signedIn && (
          <nav id="nav" aria-label="主菜单 Main menu">
            {NAV.map(([href, zh, en]) => (
              <a href={href} aria-current={path === href ? 'page' : undefined}>
                {zh} <small>{en}</small>
              </a>
            ))}
            <button
              id="logout"
              type="button"
              onClick={() => {
                credential.clear();
                setLoginError(undefined);
                setSignedIn(false);
              }}
            >
              <Both zh="退出" en="Sign out" />
            </button>
          </nav>
        )}
      </header>
      {signedIn && panel && <aside id="panel">{panel}</aside>}
      <main id="main" tabIndex={-1}>
        {signedIn ? (
          route(hash)
        ) : (
          <Login
            error={loginError}
            onSignedIn={() => {
              setLoginError(undefined);
              setSignedIn(true);
            }}
          />
        )}
      </main>
    </ShellContext.Provider>
  );
}

const root = document.getElementById('app')!;
// The "loading" line of index.html goes: Preact would keep it beside what it renders.
root.replaceChildren();
render(<App />, root);
