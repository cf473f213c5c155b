import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError, setSession, type Me } from './api.js';
import { I18nContext, keepTypedCheck, makeI18n } from './context.js';
import { DICTS, detectLang, LANGS, localeFor, type Lang } from './i18n.js';
import { Logo } from './icons.js';
import { SignIn } from './SignIn.js';
import { Agent } from './Agent.js';

const Dashboard = lazy(() => import('./Dashboard.js'));

export type Page = 'agent' | 'dashboard';

const browserLanguages = (): readonly string[] => (navigator.languages?.length ? navigator.languages : [navigator.language || 'en']);

/** Keeps ?lang= when moving between the pages. */
const hrefWithLang = (path: string): string => {
  const lang = new URLSearchParams(location.search).get('lang');
  return lang ? `${path}?lang=${encodeURIComponent(lang)}` : path;
};

export function App({ page }: { page: Page }) {
  const [lang, setLang] = useState<Lang>(() => detectLang(location.search, browserLanguages()));
  const i18n = useMemo(() => makeI18n(lang, localeFor(lang, browserLanguages())), [lang]);
  const t = i18n.t;
  /** undefined while asking the server whether this browser is signed in. */
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${page === 'dashboard' ? t.dashboard.title : t.check.title} · Optline`;
  }, [lang, page, t]);

  useEffect(() => {
    api
      .me()
      .then((m) => {
        setSession(m);
        setMe(m);
      })
      .catch((err: unknown) => {
        setMe(null);
        if (!(err instanceof ApiError && err.status === 401)) setNotice('offline');
      });
  }, []);

  const changeLang = (l: Lang) => {
    const url = new URL(location.href);
    url.searchParams.set('lang', l);
    history.replaceState(null, '', url);
    setLang(l);
  };

  const signedIn = (m: Me) => {
    setSession(m);
    setNotice(null);
    setMe(m);
  };

  const signOut = async () => {
    try {
      await api.signOut();
    } catch {
      // the session is gone either way; the cookie is cleared by the answer or expires
    }
    setSession(null);
    setMe(null);
    keepTypedCheck(null);
  };

  /** What was being saved when the session ended, if anything: the sign-in page says it was not. */
  const [unsaved, setUnsaved] = useState<string | null>(null);
  const sessionEnded = useCallback((what?: string) => {
    setSession(null);
    setMe(null);
    setUnsaved(what ?? null);
    setNotice('ended');
  }, []);

  const noticeText =
    notice === 'ended' ? (unsaved ? t.done.endedUnsaved.replace('{what}', unsaved) : t.signIn.ended) : notice === 'offline' ? t.errors.offline : null;

  return (
    <I18nContext.Provider value={i18n}>
      <a className="skip-link" href="#main">
        {t.skip}
      </a>
      <header className="topbar">
        <a className="brand" href={hrefWithLang('/')}>
          <Logo />
          <span className="brand-name">{t.appName}</span>
          <span className="brand-tag">{t.tagline}</span>
        </a>
        {me && (
          <nav aria-label={t.nav.label} className="nav">
            <a href={hrefWithLang('/')} aria-current={page === 'agent' ? 'page' : undefined}>
              {t.nav.agent}
            </a>
            {me.permissions.includes('dashboard') && (
              <a href={hrefWithLang('/dashboard')} aria-current={page === 'dashboard' ? 'page' : undefined}>
                {t.nav.dashboard}
              </a>
            )}
          </nav>
        )}
        <div className="topbar-end">
          <label className="lang-picker">
            <span className="lang-label">{t.language}</span>
            <select value={lang} onChange={(e) => changeLang(e.target.value as Lang)}>
              {LANGS.map((l) => (
                <option key={l} value={l} lang={l}>
                  {DICTS[l].langName}
                </option>
              ))}
            </select>
          </label>
          {me && (
            <div className="who">
              <span className="who-role">{t.roles[me.role]}</span>
              {me.label && <span className="who-label">{me.label}</span>}
            </div>
          )}
          {me && (
            <button type="button" className="button subtle" onClick={() => void signOut()}>
              {t.signOut}
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {me === undefined ? (
          <p className="loading">{t.dashboard.loading}</p>
        ) : me === null ? (
          <SignIn onSignedIn={signedIn} notice={noticeText} />
        ) : page === 'dashboard' && !me.permissions.includes('dashboard') ? (
          // An agent's key on /dashboard (an old link, a bookmark): say so plainly, with the way back.
          <section className="card notice-page">
            <h1>{t.dashboard.title}</h1>
            <p>{t.nav.noDashboard}</p>
            <p>
              <a className="button primary" href={hrefWithLang('/')}>
                {t.nav.toAgent}
              </a>
            </p>
          </section>
        ) : page === 'dashboard' ? (
          <Suspense fallback={<p className="loading">{t.dashboard.loading}</p>}>
            <Dashboard me={me} onSessionEnded={sessionEnded} />
          </Suspense>
        ) : (
          <Agent me={me} onSessionEnded={sessionEnded} />
        )}
      </main>
    </I18nContext.Provider>
  );
}
