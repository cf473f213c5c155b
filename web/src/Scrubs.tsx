import { useEffect, useEffectEvent, useId, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, serverNow, type Me, type Scrub } from './api.js';
import { errorText, useI18n, type I18n } from './context.js';
import { fill, type Dict } from './i18n.js';
import { Kpi } from './Kpi.js';
import { useRecentList, type RecentList } from './recent.js';
import { num, TableHead } from './TableHead.js';
import { sendingState, Working, type Sent, type WorkingState } from './Working.js';
// The download's name in the page's language, as the server names it in English.
import { savedName } from '../../src/scrub/file-names.js';

/** How often a running scrub is asked for its state. */
const POLL_MS = 1000;
/** After a status request that failed, the next waits 1 s, then twice as long each time, at most 10 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10_000;
/** A status request unanswered this long is given up and asked again (a connection that hangs rather than fails). */
const STATUS_TIMEOUT_MS = 15_000;
/** How often the recent list is read again while one of its scrubs runs. */
const RECENT_POLL_MS = 5000;

/** Why a running scrub's state could not be read just now, while the page keeps asking. */
type Retrying = { kind: 'network' } | { kind: 'status'; message: string };

type ScrubsState = RecentList<Scrub>;

/**
 * Call lists on the dashboard: the form to check one (keys that may scrub) and the caller's recent
 * scrubs (keys that may read them). `refresh` changes when the dashboard's Refresh is pressed.
 */
export function ScrubsCard({ me, entityId, entityName, refresh, onSessionEnded }: { me: Me; entityId: string; entityName: string; refresh: number; onSessionEnded: () => void }) {
  const { t } = useI18n();
  const mayScrub = me.permissions.includes('scrub');
  const mayRead = me.permissions.includes('scrub_read');
  const [scrubs, load] = useRecentList(api.scrubs, entityId, mayRead, refresh, onSessionEnded);
  // While a scrub of the list runs (started here, in another tab or by an integration), the list
  // is read again every few seconds, until none runs.
  const anyRunning = scrubs.status === 'list' && scrubs.items.some((s) => s.status === 'running');
  useEffect(() => {
    if (!anyRunning) return;
    const timer = setInterval(load, RECENT_POLL_MS);
    return () => clearInterval(timer);
  }, [anyRunning, load]);
  if (!mayScrub && !mayRead) return null;
  return (
    <section className="card call-list" aria-labelledby="call-list-title">
      <h2 id="call-list-title">{mayScrub ? t.callList.title : t.scrubs.title}</h2>
      {mayScrub && <CallListCheck entityId={entityId} entityName={entityName} onChanged={load} onSessionEnded={onSessionEnded} />}
      {mayRead && <RecentScrubs state={scrubs} heading={mayScrub} />}
    </section>
  );
}

/**
 * A campaign's call list checked before the campaign starts (POST /v1/scrubs): the supervisor
 * uploads the CRM export, sees how many rows may be called and why the others may not, and
 * downloads the list with the decision on every row. `onChanged`: a scrub started or ended (the
 * recent list is read again).
 */
function CallListCheck({ entityId, entityName, onChanged, onSessionEnded }: { entityId: string; entityName: string; onChanged: () => void; onSessionEnded: () => void }) {
  const i18n = useI18n();
  const { t, fill } = i18n;
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
  const [error, setError] = useState<string | null>(null);
  // What is wrong with the file itself (none chosen; no header row), said at the file field.
  const [fileProblem, setFileProblem] = useState<string | null>(null);
  /** Why the list's phone column could not be found, said at the Phone column field; null: nothing to say. */
  const [phoneColumnMissing, setPhoneColumnMissing] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState(0);
  /** How much of the list has gone up, while it is sent; null: not sending. */
  const [sent, setSent] = useState<Sent | null>(null);
  const sending = sent !== null;
  /** The running scrub's time left in ms, from its pace since it was first seen under way; null: not known yet. */
  const [leftMs, setLeftMs] = useState<number | null>(null);
  /** The running scrub's state could not be read just now and is asked again; null: it was read. */
  const [retrying, setRetrying] = useState<Retrying | null>(null);
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
    setRetrying(null);
    setPhoneColumnMissing(null);
    setLineTypeColumnMissing(null);
  }, [entityId]);

  // What the poll does with an answer, with this render's texts and callbacks.
  const finished = useEffectEvent((s: Scrub) => {
    setRetrying(null);
    setScrub(s);
    showRefusal(s.status === 'failed' ? s.errors : null);
    onChanged();
  });
  // The scrub cannot be followed any more (the session ended, the key may not read it, it is
  // gone): said why, and the form is free again. The scrub itself may still finish on the server.
  const lost = useEffectEvent((err: ApiError) => {
    setRetrying(null);
    setScrub(null);
    if (err.status === 401) return onSessionEnded();
    setError(err.status === 404 ? t.callList.checkGone : fill(t.callList.checkForbidden, { message: err.message }));
    onChanged();
  });

  // Poll a running scrub until it is done or failed; show the seconds meanwhile. A request that
  // fails (no connection, a proxy's 502–504, a server error) does not stop the scrub on the server:
  // it is asked again, 1 s later, then 2, 4, 8, 10, 10 … s, with a notice until an answer comes.
  // Only 401, 403 and 404 end the poll.
  const scrubId = scrub?.status === 'running' ? scrub.id : null;
  useEffect(() => {
    if (!scrubId) return;
    setLeftMs(null);
    let firstSeen: { at: number; bytes: number } | null = null;
    const started = Date.now();
    let stopped = false;
    let asking: AbortController | null = null;
    const tick = setInterval(() => setElapsed(Math.round((Date.now() - started) / 1000)), 1000);
    const poll = async () => {
      let failures = 0;
      while (!stopped) {
        await new Promise((r) => setTimeout(r, failures === 0 ? POLL_MS : Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS)));
        if (stopped) return;
        const ask = new AbortController();
        asking = ask;
        const timeout = setTimeout(() => ask.abort(), STATUS_TIMEOUT_MS);
        try {
          const s = await api.scrub(scrubId, ask.signal);
          if (stopped) return;
          if (!s) throw new TypeError('no answer'); // the body was cut off
          failures = 0;
          setRetrying(null);
          if (s.status !== 'running') return finished(s);
          // Still running: its progress, and the time left once its pace is known (a few seconds of it).
          setScrub(s);
          const p = s.progress;
          if (p && !p.waiting && p.bytes > 0) {
            const now = Date.now();
            firstSeen ??= { at: now, bytes: p.bytes };
            const pace = (p.bytes - firstSeen.bytes) / (now - firstSeen.at);
            if (pace > 0 && now - firstSeen.at >= 3000) setLeftMs((p.totalBytes - p.bytes) / pace);
          }
        } catch (err) {
          if (stopped) return;
          if (err instanceof ApiError && [401, 403, 404].includes(err.status)) return lost(err);
          failures++;
          setRetrying(!(err instanceof ApiError) || [502, 503, 504].includes(err.status) ? { kind: 'network' } : { kind: 'status', message: err.message });
        } finally {
          clearTimeout(timeout);
        }
      }
    };
    void poll();
    return () => {
      stopped = true;
      asking?.abort();
      clearInterval(tick);
    };
  }, [scrubId]);

  // A wrong caller, a box not ticked: the check is stopped rather than waited for (it holds one of
  // the server's few scrub slots). The poll then sees it failed, as does this answer.
  const cancelCheck = async (id: string) => {
    try {
      finished(await api.cancelScrub(id));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return onSessionEnded();
      // 409: it ended meanwhile (the poll shows how) or runs in another process.
      setError(fill(t.callList.cancelFailed, { message: errorText(err, i18n) }));
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (running) return;
    if (!file) {
      setFileProblem(t.callList.chooseFile);
      fileRef.current?.focus();
      return;
    }
    setError(null);
    setRetrying(null);
    setPhoneColumnMissing(null);
    setScrub(null);
    setElapsed(0);
    setSent({ sent: 0, total: file.size });
    try {
      const s = await api.startScrub(
        file,
        {
          entityId,
          at: at ? new Date(at).toISOString() : undefined,
          productCategory: product.trim() || undefined,
          autodialed: autodialed ? 'true' : undefined,
          prerecorded: prerecorded ? 'true' : undefined,
          lineType: lineType || undefined,
          subscriberType: subscriber || undefined,
          phoneColumn: phoneColumn.trim() || undefined,
          lineTypeColumn: lineTypeColumn.trim() || undefined,
        },
        (done, total) => setSent({ sent: done, total }),
      );
      setScrub(s);
      showRefusal(s.status === 'failed' ? s.errors : null);
      // Listed at once, running or not.
      onChanged();
    } catch (err) {
      fail(err);
    } finally {
      setSent(null);
    }
  };

  /** What the page says while the list goes up, waits its turn, and is checked. */
  const working = (): WorkingState => {
    const name = file?.name ?? '';
    const going = sendingState(name, sent, i18n);
    if (going) return going;
    const p = scrub?.status === 'running' ? scrub.progress : null;
    const withElapsed = (text: string) => (elapsed > 0 ? `${text} · ${fill(t.callList.elapsed, { s: elapsed })}` : text);
    if (p?.waiting) return { text: withElapsed(fill(t.callList.waiting, { name })), done: null, label: '' };
    if (p && p.totalBytes > 0 && p.bytes > 0) {
      const share = p.bytes / p.totalBytes;
      const text = fill(t.callList.progress, { name, percent: i18n.percent(share), rows: i18n.number(p.rows) });
      return { text: leftMs === null ? text : `${text} · ${fill(t.callList.left, { time: duration(leftMs, i18n) })}`, done: share, label: t.callList.checkedLabel };
    }
    return { text: withElapsed(fill(t.callList.running, { name })), done: null, label: '' };
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
        {running ? fill(t.callList.running, { name: file?.name ?? '' }) : scrub?.status === 'done' ? announceDone(scrub, i18n) : ''}
      </p>
      {running && <Working {...working()} />}
      {scrub?.status === 'running' && (
        <button type="button" className="button" onClick={() => void cancelCheck(scrub.id)}>
          {t.callList.cancel}
        </button>
      )}
      {/* A lost connection is said (once) where the spinner is, and goes when an answer comes. */}
      <div aria-live="polite">
        {running && retrying && (
          <p className="notice call-list-retrying">{retrying.kind === 'network' ? t.callList.connectionLost : fill(t.callList.statusRetrying, { message: retrying.message })}</p>
        )}
      </div>
      {scrub && scrub.status !== 'running' && <ScrubResult scrub={scrub} />}
    </>
  );
}

/** The one line a screen reader hears of a finished scrub: its counts, and the columns it did not check. */
function announceDone(scrub: Scrub, i18n: I18n): string {
  const { t, fill, number } = i18n;
  const done = fill(t.callList.announceDone, { name: scrub.inputName ?? t.callList.unnamed, rows: number(scrub.rows), allowed: number(scrub.allowed), denied: number(scrub.denied), invalid: number(scrub.invalid) });
  const others = scrub.otherPhoneColumns;
  return others.length > 0 && scrub.phoneColumn ? `${done} ${fill(t.callList.announceOtherColumns, { column: quoted(scrub.phoneColumn, i18n), columns: columnList(others, i18n) })}` : done;
}

/** A column's name in the page language's quotation marks. */
const quoted = (column: string, { t, fill }: I18n): string => fill(t.callList.quote, { text: column });

/** Columns named in the page's language: “Mobile”, “GSM” and “Cell”. */
const columnList = (columns: string[], i18n: I18n): string => new Intl.ListFormat(i18n.locale, { type: 'conjunction' }).format(columns.map((c) => quoted(c, i18n)));

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
  const i18n = useI18n();
  const { t, fill, number, percent, dateTime } = i18n;
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
        {cancelled(scrub) ? t.callList.cancelled : fill(t.callList.failed, { message: scrub.error ?? '' })}
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
      {scrub.phoneColumn && <p className="muted call-list-phone-column">{fill(t.callList.phoneColumnChecked, { column: quoted(scrub.phoneColumn, i18n) })}</p>}
      <ColumnNotes scrub={scrub} />
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

/**
 * Before the figures: other columns that look like phone numbers, which were not checked (a
 * dialer that dials them calls numbers nobody checked), and a list that had been scrubbed before.
 */
function ColumnNotes({ scrub }: { scrub: Scrub }) {
  const i18n = useI18n();
  const { t, fill } = i18n;
  const others = scrub.otherPhoneColumns;
  return (
    <>
      {others.length > 0 && scrub.phoneColumn && (
        <p className="notice call-list-other-columns" role="note">
          {fill(others.length === 1 ? t.callList.otherPhoneColumn : t.callList.otherPhoneColumns, { column: quoted(scrub.phoneColumn, i18n), columns: columnList(others, i18n) })}
        </p>
      )}
      {scrub.scrubbedBefore && <p className="muted call-list-scrubbed-before">{t.callList.scrubbedBefore}</p>}
    </>
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

/** A scrub stopped by DELETE /v1/scrubs/{id} (its error says so in English, for the page to say in its own language). */
const cancelled = (s: Scrub): boolean => s.status === 'failed' && /^Cancelled\b/.test(s.error ?? '');

/** How long a running scrub has run: 42 s, 3 min 5 s (by the server's clock). */
const runningFor = (startedAt: string, i18n: I18n): string => duration(Date.parse(serverNow()) - Date.parse(startedAt), i18n);

/** A stretch of time: 42 s, 3 min 5 s. */
function duration(ms: number, { t, fill }: I18n): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? fill(t.scrubs.seconds, { s }) : fill(t.scrubs.minutes, { m: Math.floor(s / 60), s: s % 60 });
}

/**
 * The caller's recent scrubs, newest first, with their lists to download while they are kept. A
 * failed one was decided for nothing: its row says why it failed instead.
 */
function RecentScrubs({ state, heading }: { state: ScrubsState; heading: boolean }) {
  const i18n = useI18n();
  const { t, fill, dateTime, number, percent } = i18n;
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
                    {s.status === 'failed' ? (
                      '—'
                    ) : (
                      <div>
                        <span className="nowrap">{dateTime(s.at)}</span>
                        <span className="scrub-question">{questionText(s, t)}</span>
                        {s.phoneColumn && <span className="scrub-question">{fill(t.callList.phoneColumnChecked, { column: quoted(s.phoneColumn, i18n) })}</span>}
                        {s.otherPhoneColumns.length > 0 && <span className="block small bad-text">{fill(t.scrubs.notChecked, { columns: columnList(s.otherPhoneColumns, i18n) })}</span>}
                      </div>
                    )}
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
                        {s.status === 'running' && (
                          <span className="scrub-error">
                            {fill(t.scrubs.runningFor, { time: runningFor(s.startedAt, i18n) })}
                            {/* How far it has got, when this server runs it. */}
                            {s.progress && (s.progress.waiting ? ` · ${t.scrubs.waiting}` : s.progress.totalBytes > 0 ? ` · ${percent(s.progress.bytes / s.progress.totalBytes)}` : '')}
                          </span>
                        )}
                        {s.status === 'failed' && s.error && <span className="scrub-error">{cancelled(s) ? t.callList.cancelled : (refusalText(s.errors, t, fill) ?? s.error)}</span>}
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
