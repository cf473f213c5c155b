import { useState, type FormEvent } from 'react';
import { api, ApiError, type Me } from './api.js';
import { useI18n } from './context.js';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: string | null }) {
  const { t, fill } = useI18n();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || key.trim() === '') return;
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.signIn(key.trim()));
    } catch (err) {
      setError(err instanceof ApiError ? (err.status === 401 || err.status === 400 ? t.signIn.failed : fill(t.errors.generic, { message: err.message })) : t.errors.offline);
      setBusy(false);
    }
  };

  return (
    <section className="signin card" aria-labelledby="signin-title">
      <h1 id="signin-title">{t.signIn.title}</h1>
      <p className="muted">{t.signIn.intro}</p>
      {notice && (
        <p className="notice" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor="api-key">{t.signIn.apiKey}</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            autoFocus
            required
            value={key}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'signin-error' : undefined}
            onChange={(e) => setKey(e.target.value)}
          />
        </div>
        {error && (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary wide" aria-busy={busy || undefined}>
          {t.signIn.submit}
        </button>
      </form>
    </section>
  );
}
