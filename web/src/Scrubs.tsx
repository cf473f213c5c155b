import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, type Me, type Scrub } from './api.js';
import { errorText, useI18n } from './context.js';
import { fill, type Dict } from './i18n.js';
import { Kpi } from './Kpi.js';
import { num, TableHead } from './TableHead.js';
// The download's name in the page's language, as the server names it in English.
import { savedName } from '../../src/scrub/file-names.js';

/** How often a running scrub is asked for its state. */
const POLL_MS = 1000;

type ScrubsState = { status: 'loading' } | { status: 'failed' } | { status: 'list'; items: Scrub[] };

/**
 * Call lists on the dashboard: the form to check one (keys that may scrub) and the caller's recent
 * scrubs (keys that may read them). `refresh` changes when the dashboard's Refresh is pressed.
 */
export function ScrubsCard({ me, entityId, entityName, refresh, onSessionEnded }: { me: Me; entityId: string; entityName: string; refresh: number; onSessionEnded: () => void }) {
  const { t } = useI18n();
  const mayScrub = me.permissions.includes('scrub');
  const mayRead = me.permissions.includes('scrub_read');
  const [scrubs, setScrubs] = useState<ScrubsState>({ status: 'loading' });
  const load = useCallback(() => {
    if (!mayRead || !entityId) return;
    api.scrubs(entityId).then(
      (items) => setScrubs({ status: 'list', items }),
      (err: unknown) => (err instanceof ApiError && err.status === 401 ? onSessionEnded() : setScrubs({ status: 'failed' })),
    );
  }, [entityId, mayRead, onSessionEnded]);
  useEffect(() => {
    setScrubs({ status: 'loading' });
    load();
  }, [load, refresh]);
  if (!mayScrub && !mayRead) return null;
  return (
    <section className="card call-list" aria-labelledby="call-list-title">
      <h2 id="call-list-title">{mayScrub ? t.callList.title : t.scrubs.title}</h2>
      {mayScrub && <CallListCheck entityId={entityId} entityName={entityName} onFinished={load} onSessionEnded={onSessionEnded} />}
      {mayRead && <RecentScrubs state={scrubs} heading={mayScrub} />}
    </section>
  );
}

/**
 * A campaign's call list checked before the campaign starts (POST /v1/scrubs): the supervisor
 * uploads the CRM export, sees how many rows may be called and why the others may not, and
 * downloads the list with the decision on every row.
 */
function CallListCheck({ entityId, entityName, onFinished, onSessionEnded }: { entityId: string; entityName: string; onFinished: () => void; onSessionEnded: () => void }) {
  const i18n = useI18n();
  const { t, fill, number } = i18n;
  const ids = { file: useId() };
  const [file, setFile] = useState<File | null>(null);
  const [phoneColumn, setPhoneColumn] = useState('');
  const [product, setProduct] = useState('');
  const [at, setAt] = useState('');
  const [autodialed, setAutodialed] = useState(false);
  const [prerecorded, setPrerecorded] = useState(false);
  const [lineType, setLineType] = useState<'' | 'mobile' | 'fixed'>('');
  const [lineTypeColumn, setLineTypeColumn] = useState('');
  /** Why the line type column cannot be read, said at its field; null: nothing to say. */
  const [lineTypeColumnMissing, setLineTypeColumnMissing] = useState<string | null>(null);
  const [subscriber, setSubscriber] = useState<'' | 'sole_trader' | 'business'>('');
  const [scrub, setScrub] = useState<Scrub | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // What is wrong with the file itself (none chosen; no header row), said at the file field.
  const [fileProblem, setFileProblem] = useState<string | null>(null);
  /** Why the list's phone column could not be found, said at the Phone column field; null: nothing to say. */
  const [phoneColumnMissing, setPhoneColumnMissing] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const fileRef = useRef<HTMLInputElement>(null);
  const running = sending || scrub?.status === 'running';

  // A refused list's reason at the field that fixes it: the file (no header row) or the phone column.
  const showRefusal = (errors: Array<{ path: string; message: string }> | null | undefined) => {
    const text = refusalText(errors, t, fill);
    const atFile = text !== null && text === t.callList.noHeaderRow;
    setFileProblem(atFile ? text : null);
    setPhoneColumnMissing(atFile ? null : text);
    setLineTypeColumnMissing(lineTypeColumnText(errors, t, fill));
  };

  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) return onSessionEnded();
    // No phone column: said in the page's language, at the field that fixes it.
    const refused = err instanceof ApiError ? (refusalText(err.problem?.errors, t, fill) ?? lineTypeColumnText(err.problem?.errors, t, fill)) : null;
    showRefusal(err instanceof ApiError ? err.problem?.errors : null);
    setError(refused === null ? errorText(err, i18n) : null);
  };

  // Another caller: another list.
  useEffect(() => {
    setScrub(null);
    setError(null);
    setPhoneColumnMissing(null);
    setLineTypeColumnMissing(null);
  }, [entityId]);

  // Poll a running scrub until it is done or failed; show the seconds meanwhile.
  const scrubId = scrub?.status === 'running' ? scrub.id : null;
  useEffect(() => {
    if (!scrubId) return;
    const started = Date.now();
    let stopped = false;
    const tick = setInterval(() => setElapsed(Math.round((Date.now() - started) / 1000)), 1000);
    const poll = async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (stopped) return;
        try {
          const s = await api.scrub(scrubId);
          if (stopped) return;
          if (s.status !== 'running') {
            setScrub(s);
            showRefusal(s.status === 'failed' ? s.errors : null);
            onFinished();
            return;
          }
        } catch (err) {
          if (!stopped) fail(err);
          return;
        }
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearInterval(tick);
    };
    // Only the scrub's id restarts the poll (fail and onFinished are new functions every render).
  }, [scrubId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (running) return;
    if (!file) {
      setFileProblem(t.callList.chooseFile);
      fileRef.current?.focus();
      return;
    }
    setError(null);
    setPhoneColumnMissing(null);
    setScrub(null);
    setElapsed(0);
    setSending(true);
    try {
      const s = await api.startScrub(file, {
        entityId,
        at: at ? new Date(at).toISOString() : undefined,
        productCategory: product.trim() || undefined,
        autodialed: autodialed ? 'true' : undefined,
        prerecorded: prerecorded ? 'true' : undefined,
        lineType: lineType || undefined,
        subscriberType: subscriber || undefined,
        phoneColumn: phoneColumn.trim() || undefined,
        lineTypeColumn: lineTypeColumn.trim() || undefined,
      });
      setScrub(s);
      showRefusal(s.status === 'failed' ? s.errors : null);
      if (s.status !== 'running') onFinished();
    } catch (err) {
      fail(err);
    } finally {
      setSending(false);
    }
  };

  return (
    <>
      <p className="muted">{fill(t.callList.intro, { entity: entityName })}</p>
      <form className="call-list-form" onSubmit={submit} noValidate>
        <div className="field file-field">
          <label htmlFor={ids.file}>{t.callList.file}</label>
          <input
            ref={fileRef}
            id={ids.file}
            type="file"
            accept=".csv,.txt,text/csv,text/plain"
            aria-invalid={fileProblem !== null || undefined}
            aria-describedby={`${ids.file}-hint`}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setFileProblem(null);
            }}
          />
          <span id={`${ids.file}-hint`} className={fileProblem !== null ? 'field-error' : 'hint'} role={fileProblem !== null ? 'alert' : undefined}>
            {fileProblem ?? t.callList.fileHint}
          </span>
        </div>
        <HintedField
          label={t.callList.phoneColumn}
          value={phoneColumn}
          onChange={(v) => {
            setPhoneColumn(v);
            setPhoneColumnMissing(null);
          }}
          hint={`${t.check.optional} · ${t.callList.phoneColumnHint}`}
          error={phoneColumnMissing}
        />
        <HintedField label={t.check.product} value={product} onChange={setProduct} hint={`${t.check.optional} · ${t.check.productHint}`} />
        <HintedField label={t.callList.at} type="datetime-local" value={at} onChange={setAt} hint={t.callList.atHint} />
        {/* US-6, GB-1: automatic dialling and recorded messages need consent where a live call does not. */}
        <fieldset className="dialling" aria-describedby={`${ids.file}-dialling-hint`}>
          <legend>{t.callList.dialling}</legend>
          <label className="check">
            <input type="checkbox" checked={autodialed} onChange={(e) => setAutodialed(e.target.checked)} /> {t.callList.autodialed}
          </label>
          <label className="check">
            <input type="checkbox" checked={prerecorded} onChange={(e) => setPrerecorded(e.target.checked)} /> {t.callList.prerecorded}
          </label>
          <Choice
            label={t.callList.lineType}
            value={lineType}
            onChange={setLineType}
            options={[
              ['', t.callList.lineTypeEach],
              ['mobile', t.callList.lineTypeMobile],
              ['fixed', t.callList.lineTypeFixed],
            ]}
          />
          <HintedField
            label={t.callList.lineTypeColumn}
            value={lineTypeColumn}
            onChange={(v) => {
              setLineTypeColumn(v);
              setLineTypeColumnMissing(null);
            }}
            hint={`${t.check.optional} · ${t.callList.lineTypeColumnHint}`}
            error={lineTypeColumnMissing}
          />
          <span id={`${ids.file}-dialling-hint`} className="hint">
            {t.callList.diallingHint}
          </span>
        </fieldset>
        {/* NL-1, DE-2: businesses are called under other rules than consumers. */}
        <fieldset className="dialling called-numbers" aria-describedby={`${ids.file}-who-hint`}>
          <legend>{t.callList.who}</legend>
          <Choice
            label={t.callList.subscriber}
            value={subscriber}
            onChange={setSubscriber}
            options={[
              ['', t.callList.subscriberConsumer],
              ['sole_trader', t.callList.subscriberSoleTrader],
              ['business', t.callList.subscriberBusiness],
            ]}
          />
          <span id={`${ids.file}-who-hint`} className="hint">
            {t.callList.whoHint}
          </span>
        </fieldset>
        <div className="field submit-field">
          {/* Not `disabled` while running: a disabled button drops the keyboard focus to the page. */}
          <button type="submit" className="button primary" aria-disabled={running || undefined} aria-busy={running || undefined}>
            {t.callList.submit}
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {/* What a screen reader hears: that the list is being checked, then one line of its result –
          not the seconds ticking nor the result's tables. */}
      <p className="sr-only" aria-live="polite">
        {running ? fill(t.callList.running, { name: file?.name ?? '' }) : scrub?.status === 'done' ? fill(t.callList.announceDone, { name: scrub.inputName ?? t.callList.unnamed, rows: number(scrub.rows), allowed: number(scrub.allowed), denied: number(scrub.denied), invalid: number(scrub.invalid) }) : ''}
      </p>
      {running && (
        <p className="call-list-running" aria-hidden="true">
          <span className="spinner" />
          {fill(t.callList.running, { name: file?.name ?? '' })}
          {elapsed > 0 && <span className="muted"> · {fill(t.callList.elapsed, { s: elapsed })}</span>}
        </p>
      )}
      {scrub && scrub.status !== 'running' && <ScrubResult scrub={scrub} />}
    </>
  );
}

/** A refused list's reason in the page's language where the page knows it (no phone column), else null. */
function refusalText(errors: Array<{ path: string; message: string }> | null | undefined, t: Dict, fill: (s: string, v: Record<string, string | number>) => string): string | null {
  const message = errors?.find((e) => e.path === 'phoneColumn')?.message ?? '';
  if (message === 'the first row is data, not a header row') return t.callList.noHeaderRow;
  const found = /^no phone column among (.*)$/.exec(message);
  if (found) return fill(t.callList.noPhoneColumn, { columns: found[1]! });
  return noSuchColumn(message, t.callList.noSuchColumn, fill);
}

/** A column named but not in the list ('no column "x" among …'), said with `text`; null: the message says something else. */
function noSuchColumn(message: string, text: string, fill: (s: string, v: Record<string, string | number>) => string): string | null {
  const named = /^no column "(.*)" among (.*)$/.exec(message);
  return named ? fill(text, { column: named[1]!, columns: named[2]! }) : null;
}

/** Why the line type column named cannot be read, in the page's language; null: nothing about it. */
function lineTypeColumnText(errors: Array<{ path: string; message: string }> | null | undefined, t: Dict, fill: (s: string, v: Record<string, string | number>) => string): string | null {
  const message = errors?.find((e) => e.path === 'lineTypeColumn')?.message;
  if (message === undefined) return null;
  if (message === 'the phone column') return t.callList.lineTypeColumnIsPhone;
  return noSuchColumn(message, t.callList.noSuchLineTypeColumn, fill) ?? message;
}

/** A labelled choice of a few values, the first the default. */
function Choice<V extends string>({ label, value, onChange, options }: { label: string; value: V; onChange: (v: V) => void; options: Array<[V, string]> }) {
  return (
    <label className="check">
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value as V)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A labelled input with its hint below, the hint read out with it. */
function HintedField({ label, value, onChange, hint, type = 'text', error = null }: { label: string; value: string; onChange: (v: string) => void; hint: string; type?: 'text' | 'datetime-local'; error?: string | null }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} autoComplete="off" value={value} aria-invalid={error !== null || undefined} aria-describedby={`${id}-hint`} onChange={(e) => onChange(e.target.value)} />
      {/* A problem with the field takes the place of its hint, where the eye and the screen reader are. */}
      <span id={`${id}-hint`} className={error !== null ? 'field-error' : 'hint'} role={error !== null ? 'alert' : undefined}>
        {error ?? hint}
      </span>
    </div>
  );
}

function ScrubResult({ scrub }: { scrub: Scrub }) {
  const { t, fill, number, percent, dateTime } = useI18n();
  const headingRef = useRef<HTMLHeadingElement>(null);
  // A keyboard user who pressed Check list goes on at the result (focus left on the button, or lost).
  const resultId = scrub.status === 'done' ? scrub.id : null;
  useEffect(() => {
    const active = document.activeElement;
    if (resultId && (active === document.body || (active instanceof HTMLElement && active.closest('.call-list-form .submit-field')))) headingRef.current?.focus();
  }, [resultId]);
  if (scrub.status === 'failed') {
    // A phone or line type column that could not be found is said at its field (CallListCheck).
    if (refusalText(scrub.errors, t, fill) !== null || lineTypeColumnText(scrub.errors, t, fill) !== null) return null;
    return (
      <p className="error" role="alert">
        {fill(t.callList.failed, { message: scrub.error ?? '' })}
      </p>
    );
  }
  const share = (n: number) => (scrub.rows > 0 ? percent(n / scrub.rows) : '');
  const byBasis = Object.entries(scrub.byBasis).sort((a, b) => b[1] - a[1]);
  const byDenial = Object.entries(scrub.byDenial).sort((a, b) => b[1] - a[1]);
  return (
    <div className="call-list-result">
      <h3 tabIndex={-1} ref={headingRef}>{fill(t.callList.result, { name: scrub.inputName ?? t.callList.unnamed, at: dateTime(scrub.at) })}</h3>
      <p className="muted call-list-question">{questionText(scrub, t)}</p>
      {scrub.lineTypes && scrub.lineTypeColumn && (
        // What the line type column said, and what it said that is neither mobile nor a landline.
        <p className="muted call-list-line-types">
          {fill(t.callList.lineTypesRead, { column: scrub.lineTypeColumn, mobile: number(scrub.lineTypes.mobile), fixed: number(scrub.lineTypes.fixed), empty: number(scrub.lineTypes.notGiven) })}
          {scrub.lineTypes.unread > 0 &&
            ` ${fill(t.callList.lineTypesUnread, { n: number(scrub.lineTypes.unread) })}`}
        </p>
      )}
      <div className="kpis small">
        <Kpi
          label={t.callList.rows}
          value={scrub.rows}
          note={scrub.durationMs !== null ? fill(t.callList.took, { s: scrub.durationMs < 100 ? `< ${number(0.1)}` : number(Math.round(scrub.durationMs / 100) / 10) }) : ''}
        />
        <Kpi label={t.callList.allowed} value={scrub.allowed} note={share(scrub.allowed)} tone="good" />
        <Kpi label={t.callList.denied} value={scrub.denied} note={share(scrub.denied)} tone="bad" />
        <Kpi label={t.callList.invalid} value={scrub.invalid} note={share(scrub.invalid)} tone="warn" />
      </div>
      <div className="grid-2 inner">
        <CountList title={t.callList.byBasis} rows={byBasis.map(([k, n]) => ({ key: k, name: (t.bases[k as keyof Dict['bases']] ?? [k])[0], count: n }))} total={scrub.rows} />
        <CountList
          title={t.callList.byDenial}
          note={byDenial.length > 1 ? t.callList.severalDenials : undefined}
          rows={byDenial.map(([k, n]) => ({ key: k, name: t.denials[k as keyof Dict['denials']] ?? k, count: n }))}
          total={scrub.rows}
        />
      </div>
      <p className="call-list-links">
        {scrub.links.output ? (
          <a className="button primary" href={scrub.links.output} download={savedName(scrub.inputName, scrub.id, t.callList.checkedSuffix)}>
            {t.callList.downloadOutput}
          </a>
        ) : (
          <span className="muted">{t.callList.gone}</span>
        )}
        {scrub.invalid > 0 && scrub.links.rejects && (
          <a className="button" href={scrub.links.rejects} download={savedName(scrub.inputName, scrub.id, t.callList.unreadableSuffix)}>
            {t.callList.downloadRejects}
          </a>
        )}
      </p>
    </div>
  );
}

/** What a scrub's rows were decided for besides the moment: the product and how the calls are made. */
function questionText(s: Scrub, t: Dict): string {
  const dialling = [s.autodialed ? t.callList.autodialedShort : '', s.prerecorded ? t.callList.prerecordedShort : ''].filter(Boolean).join(', ') || t.callList.liveShort;
  const lines = s.lineType ? `${dialling}, ${t.callList[s.lineType === 'mobile' ? 'mobileShort' : 'fixedShort']}` : dialling;
  const how = s.lineTypeColumn ? `${lines}, ${fill(t.callList.lineTypesFrom, { column: s.lineTypeColumn })}` : lines;
  const who = s.subscriberType === 'business' ? `${how}, ${t.callList.businessesShort}` : s.subscriberType === 'sole_trader' ? `${how}, ${t.callList.soleTradersShort}` : how;
  return s.productCategory ? `${s.productCategory} · ${who}` : who;
}

function CountList({ title, rows, total, note }: { title: string; rows: Array<{ key: string; name: string; count: number }>; total: number; note?: string }) {
  const { t, number, percent } = useI18n();
  return (
    <div className="card count-list">
      <h4>{title}</h4>
      {rows.length === 0 ? (
        <p className="empty">{t.callList.noRows}</p>
      ) : (
        <table className="table compact">
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.name}</th>
                <td className="num">{number(r.count)}</td>
                <td className="num muted">{total > 0 ? percent(r.count / total) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {note && <p className="hint">{note}</p>}
    </div>
  );
}

/** The caller's recent scrubs, newest first, with their lists to download while they are kept. */
function RecentScrubs({ state, heading }: { state: ScrubsState; heading: boolean }) {
  const { t, fill, dateTime, number } = useI18n();
  return (
    <div className={heading ? 'recent-scrubs' : undefined}>
      {heading && <h3 id="scrubs-title">{t.scrubs.title}</h3>}
      {state.status === 'loading' ? (
        <p className="loading">{t.dashboard.loading}</p>
      ) : state.status === 'failed' ? (
        <p className="empty">{t.scrubs.unavailable}</p>
      ) : state.items.length === 0 ? (
        <p className="empty">{t.scrubs.none}</p>
      ) : (
        <div className="table-wrap">
          <table className="table stack scrubs">
            <TableHead columns={[t.scrubs.started, t.scrubs.list, t.scrubs.decidedFor, num(t.scrubs.numbers), num(t.scrubs.allowed), num(t.scrubs.notAllowed), num(t.scrubs.invalid), t.scrubs.status]} />
            <tbody>
              {state.items.map((s) => (
                <tr key={s.id}>
                  <td className="nowrap" data-label={t.scrubs.started}>
                    {dateTime(s.startedAt)}
                  </td>
                  <td data-label={t.scrubs.list}>{s.inputName ?? '—'}</td>
                  <td data-label={t.scrubs.decidedFor}>
                    <div>
                      <span className="nowrap">{dateTime(s.at)}</span>
                      <span className="scrub-question">{questionText(s, t)}</span>
                    </div>
                  </td>
                  <td className="num" data-label={t.scrubs.numbers}>
                    {s.status === 'done' ? number(s.rows) : '—'}
                  </td>
                  <td className="num" data-label={t.scrubs.allowed}>
                    {s.status === 'done' ? number(s.allowed) : '—'}
                  </td>
                  <td className="num" data-label={t.scrubs.notAllowed}>
                    {s.status === 'done' ? number(s.denied) : '—'}
                  </td>
                  <td className="num" data-label={t.scrubs.invalid}>
                    {s.status === 'done' ? number(s.invalid) : '—'}
                  </td>
                  <td data-label={t.scrubs.status}>
                    {s.status === 'done' && s.links.output ? (
                      <a href={s.links.output} download={savedName(s.inputName, s.id, t.callList.checkedSuffix)} aria-label={`${t.scrubs.download}: ${s.inputName ?? s.id}, ${dateTime(s.startedAt)}`}>
                        {t.scrubs.download}
                      </a>
                    ) : (
                      <div>
                        <span className={s.status === 'failed' ? 'bad-text' : undefined}>{t.scrubs.statuses[s.status]}</span>
                        {s.status === 'failed' && s.error && <span className="scrub-error">{refusalText(s.errors, t, fill) ?? s.error}</span>}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
