import { Fragment, useEffect, useId, useRef, useState, type FormEvent, type ReactNode, type RefObject } from 'react';
import { api, ApiError, type ImportKind, type ImportRecord, type ImportResult, type Me } from './api.js';
import { errorText, useI18n, type I18n } from './context.js';
import { Kpi } from './Kpi.js';
import { useRecentList, type RecentList } from './recent.js';
// The kinds the server takes and the zones it reads dates in, from the server's own module.
import { COUNTRY_ZONES, IMPORT_KINDS } from '../../src/imports/kinds.js';
import { num, TableHead } from './TableHead.js';
import { sendingState, Working, type Sent } from './Working.js';

/** The zones offered: the callers' countries', the six of the US, and UTC (what systems often write). */
const ZONES = ['Europe/Amsterdam', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'UTC'];

/** How many of the imports the server lists (at most 100) are shown. */
const RECENT_SHOWN = 20;

type RecentState = RecentList<ImportRecord>;

/**
 * Imports of a caller's existing records on the dashboard: the form that checks a CSV file and then
 * imports it (keys that may import: admin), and the caller's recent imports (keys that may read
 * them: admin, compliance, supervisor). `refresh` changes when the dashboard's Refresh is pressed.
 */
export function ImportsCard({ me, entityId, entityName, refresh, onSessionEnded }: { me: Me; entityId: string; entityName: string; refresh: number; onSessionEnded: () => void }) {
  const { t } = useI18n();
  const mayImport = me.permissions.includes('import');
  const mayRead = me.permissions.includes('import_read');
  const [recent, load] = useRecentList(api.imports, entityId, mayRead, refresh, onSessionEnded);
  if (!mayImport && !mayRead) return null;
  const country = me.entities.find((e) => e.id === entityId)?.country;
  return (
    <section className="card imports" aria-labelledby="imports-title">
      <h2 id="imports-title">{mayImport ? t.imports.title : t.imports.recentTitle}</h2>
      {mayImport && <ImportForm entityId={entityId} entityName={entityName} country={country} onImported={load} onSessionEnded={onSessionEnded} />}
      {mayRead && <RecentImports state={recent} heading={mayImport} />}
    </section>
  );
}

/** Where the form is: nothing asked yet, a check or an import under way or answered. */
type Stage = { step: 'idle' } | { step: 'checking' } | { step: 'checked'; result: ImportResult } | { step: 'importing'; result: ImportResult } | { step: 'done'; result: ImportResult };

/**
 * A file of records checked first (a dry run: every row read as the API would read it, nothing
 * written), its refused rows shown by line and the rows on record already counted, and only then
 * imported – all rows, or with the refused ones left out. Rows on record already are never
 * recorded again (the server leaves them out), so a file with nothing new offers no import.
 */
function ImportForm({ entityId, entityName, country, onImported, onSessionEnded }: { entityId: string; entityName: string; country: string | undefined; onImported: () => void; onSessionEnded: () => void }) {
  const i18n = useI18n();
  const { t, fill, number } = i18n;
  const ids = { kind: useId(), file: useId(), zone: useId(), leaveOut: useId() };
  const [kind, setKind] = useState<ImportKind>('consents');
  const [file, setFile] = useState<File | null>(null);
  const [zone, setZone] = useState('');
  const [stage, setStage] = useState<Stage>({ step: 'idle' });
  const [leaveOut, setLeaveOut] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** What is wrong with the file itself (none chosen, no column for a field, too large), said at the file field. */
  const [fileProblem, setFileProblem] = useState<string | null>(null);
  /** Dates without an offset and no zone to read them in (or a zone the server does not know), said at the zone field. */
  const [zoneProblem, setZoneProblem] = useState<string | null>(null);
  const [leaveOutProblem, setLeaveOutProblem] = useState<string | null>(null);
  /** How much of the file has gone up, while it is sent; null: nothing sent yet. */
  const [sent, setSent] = useState<Sent | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const leaveOutRef = useRef<HTMLInputElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const outcomeRef = useRef<HTMLDivElement>(null);
  // Only the answer to the latest request is shown: a change of file, kind, zone or caller drops the others.
  const runs = useRef(0);
  const defaultZone = country ? COUNTRY_ZONES[country as keyof typeof COUNTRY_ZONES] : undefined;
  const busy = stage.step === 'checking' || stage.step === 'importing';

  /** Anything the check was made for changed: its answer no longer stands. */
  const forget = () => {
    runs.current++;
    setStage({ step: 'idle' });
    setError(null);
    setZoneProblem(null);
    setLeaveOut(false);
    setLeaveOutProblem(null);
  };

  // Another caller: another file, checked again.
  useEffect(() => {
    runs.current++;
    setStage({ step: 'idle' });
    setError(null);
    setFileProblem(null);
    setZoneProblem(null);
    setZone('');
    setLeaveOut(false);
    setLeaveOutProblem(null);
  }, [entityId]);

  // A keyboard user goes on where the answer is: the check's heading (focus was on Check the file,
  // or lost), the import's outcome (its button is gone).
  const step = stage.step;
  useEffect(() => {
    if (step === 'checked') {
      const active = document.activeElement;
      if (active === document.body || (active instanceof HTMLElement && active.closest('.import-form .submit-field'))) headingRef.current?.focus();
    } else if (step === 'done') {
      outcomeRef.current?.focus();
    }
  }, [step]);

  /** Why the server refused the check, at the field that fixes it where there is one. */
  const checkFailed = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) return onSessionEnded();
    if (err instanceof ApiError && err.problem?.errors?.some((e) => e.path === 'querystring.timeZone')) return setZoneProblem(t.imports.timeZoneUnknown);
    if (err instanceof ApiError && err.status === 413) return setFileProblem(tooLarge(err, i18n));
    if (err instanceof ApiError && err.status === 422) return setFileProblem(fileRefusal(err, i18n));
    setError(errorText(err, i18n));
  };

  const check = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (!file) {
      setFileProblem(t.imports.chooseFile);
      fileRef.current?.focus();
      return;
    }
    forget();
    setFileProblem(null);
    const run = runs.current;
    setSent(null);
    setStage({ step: 'checking' });
    try {
      // A dry run writes nothing: it takes the rows that pass and lists the others (skipInvalid).
      const result = await api.importRecords(file, { entityId, kind, timeZone: zone || undefined, dryRun: 'true', skipInvalid: 'true' }, progress(run));
      if (run !== runs.current) return;
      setStage({ step: 'checked', result });
      if (result.errors.some((x) => / has no offset/.test(x.message))) setZoneProblem(t.imports.timeZoneMissing);
    } catch (err) {
      if (run !== runs.current) return;
      setStage({ step: 'idle' });
      checkFailed(err);
    }
  };

  /** Imports the file checked: what is new in it (the server leaves out the rows on record already). */
  const importChecked = async (checked: ImportResult) => {
    if (busy || !file) return;
    if (checked.rejected > 0 && !leaveOut) {
      setLeaveOutProblem(t.imports.leaveOutNeeded);
      leaveOutRef.current?.focus();
      return;
    }
    const run = ++runs.current;
    setError(null);
    setSent(null);
    setStage({ step: 'importing', result: checked });
    try {
      const result = await api.importRecords(file, { entityId, kind, timeZone: zone || undefined, skipInvalid: leaveOut ? 'true' : undefined }, progress(run));
      if (run !== runs.current) return;
      setStage({ step: 'done', result });
      // The next import starts from a file chosen again: this one is in the store now.
      setFile(null);
      if (fileRef.current) fileRef.current.value = '';
      setLeaveOut(false);
      onImported();
    } catch (err) {
      if (run !== runs.current) return;
      if (err instanceof ApiError && err.status === 401) return onSessionEnded();
      // The file changed since its check, the store refused, the connection failed: nothing was imported.
      setStage({ step: 'checked', result: checked });
      setError(err instanceof ApiError && err.status === 422 ? fileRefusal(err, i18n) : errorText(err, i18n));
    }
  };

  /** The file's upload, for the run `run`: a later run (or none) is not shown this one's bytes. */
  const progress = (run: number) => (done: number, total: number) => {
    if (run === runs.current) setSent({ sent: done, total });
  };

  const checked = stage.step === 'checked' || stage.step === 'importing' ? stage.result : null;
  /** Every row that passes is on record already: nothing to import. */
  const nothingNew = checked !== null && checked.imported === 0 && (checked.onRecord > 0 || checked.erased > 0);
  const name = file?.name ?? '';
  const announcement =
    stage.step === 'checking'
      ? fill(t.imports.checking, { name })
      : stage.step === 'checked'
        ? fill(t.imports.announceChecked, { name, rows: number(stage.result.rows), ok: number(stage.result.imported), onRecord: number(stage.result.onRecord), refused: number(stage.result.rejected) })
        : stage.step === 'importing'
          ? fill(t.imports.importing, { name })
          : stage.step === 'done'
            ? [doneText(stage.result, entityName, i18n), stage.result.id ? `${t.imports.importId}: ${stage.result.id}` : ''].join(' ')
            : '';

  return (
    <>
      <p className="muted">{fill(t.imports.intro, { entity: entityName })}</p>
      <form className="call-list-form import-form" onSubmit={check} noValidate>
        <div className="field">
          <label htmlFor={ids.kind}>{t.imports.kind}</label>
          <select
            id={ids.kind}
            value={kind}
            aria-describedby={`${ids.kind}-hint`}
            onChange={(e) => {
              setKind(e.target.value as ImportKind);
              forget();
              setFileProblem(null);
            }}
          >
            {IMPORT_KINDS.map((k) => (
              <option key={k} value={k}>
                {t.imports.kinds[k].name}
              </option>
            ))}
          </select>
          <span id={`${ids.kind}-hint`} className="hint">
            {withCode(t.imports.kinds[kind].hint)}
          </span>
        </div>
        <div className="field file-field">
          <label htmlFor={ids.file}>{t.imports.file}</label>
          <input
            ref={fileRef}
            id={ids.file}
            type="file"
            accept=".csv,.txt,text/csv,text/plain"
            aria-invalid={fileProblem !== null || undefined}
            aria-describedby={`${ids.file}-hint`}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              forget();
              setFileProblem(null);
            }}
          />
          <span id={`${ids.file}-hint`} className={fileProblem !== null ? 'field-error' : 'hint'} role={fileProblem !== null ? 'alert' : undefined}>
            {fileProblem ?? t.imports.fileHint}
          </span>
        </div>
        <div className="field">
          <label htmlFor={ids.zone}>{t.imports.timeZone}</label>
          <select
            id={ids.zone}
            value={zone}
            aria-invalid={zoneProblem !== null || undefined}
            aria-describedby={`${ids.zone}-hint`}
            onChange={(e) => {
              setZone(e.target.value);
              forget();
            }}
          >
            <option value="">{defaultZone ? fill(t.imports.timeZoneDefault, { zone: defaultZone }) : t.imports.timeZoneNone}</option>
            {ZONES.filter((z) => z !== defaultZone).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
          <span id={`${ids.zone}-hint`} className={zoneProblem !== null ? 'field-error' : 'hint'} role={zoneProblem !== null ? 'alert' : undefined}>
            {zoneProblem ?? t.imports.timeZoneHint}
          </span>
        </div>
        <div className="field submit-field">
          {/* Not `disabled` while busy: a disabled button drops the keyboard focus to the page. */}
          <button type="submit" className="button primary" aria-disabled={busy || undefined} aria-busy={stage.step === 'checking' || undefined}>
            {t.imports.check}
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {/* What a screen reader hears: the step under way, then one line of its answer. */}
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {busy && (
        <Working
          {...(sendingState(name, sent, i18n) ?? { text: fill(stage.step === 'checking' ? t.imports.checking : t.imports.importing, { name }), done: null, label: '' })}
        />
      )}
      {checked && (
        <>
          <CheckResult result={checked} name={name} entityName={entityName} headingRef={headingRef} />
          {/* Nothing new in the same file as before: said with that import, above; nothing to do here. */}
          {!(nothingNew && checked.importedBefore) && (
            <div className="import-step">
              {checked.imported === 0 ? (
                nothingNew ? <p className="notice">{checked.erased > 0 ? t.imports.nothingNewErased : t.imports.allOnRecord}</p> : <p className="error">{t.imports.nothingToImport}</p>
              ) : (
                <>
                  {checked.rejected > 0 && (
                    <div className="field">
                      <label className="check">
                        <input
                          ref={leaveOutRef}
                          id={ids.leaveOut}
                          type="checkbox"
                          checked={leaveOut}
                          aria-invalid={leaveOutProblem !== null || undefined}
                          aria-describedby={`${ids.leaveOut}-hint`}
                          onChange={(e) => {
                            setLeaveOut(e.target.checked);
                            setLeaveOutProblem(null);
                          }}
                        />{' '}
                        {fill(t.imports.leaveOut, { n: number(checked.rejected) })}
                      </label>
                      <span id={`${ids.leaveOut}-hint`} className={leaveOutProblem !== null ? 'field-error' : 'hint'} role={leaveOutProblem !== null ? 'alert' : undefined}>
                        {leaveOutProblem ?? t.imports.leaveOutHint}
                      </span>
                    </div>
                  )}
                  <div>
                    <button type="button" className="button primary" aria-disabled={busy || undefined} aria-busy={stage.step === 'importing' || undefined} onClick={() => void importChecked(checked)}>
                      {checked.imported === 1 ? t.imports.importOne : fill(t.imports.importMany, { n: number(checked.imported) })}
                    </button>
                  </div>
                </>
              )}
            </div>
          )}
        </>
      )}
      {stage.step === 'done' && (
        <div className={`${stage.result.id ? 'success' : 'notice'} import-outcome`} tabIndex={-1} ref={outcomeRef}>
          <p>
            <strong>{doneText(stage.result, entityName, i18n)}</strong>
            {stage.result.onRecord > 0 && ` ${fill(t.imports.doneOnRecord, { n: number(stage.result.onRecord) })}`}
            {stage.result.erased > 0 && ` ${fill(t.imports.doneErased, { n: number(stage.result.erased) })}`}
            {stage.result.rejected > 0 && ` ${fill(t.imports.leftOut, { n: number(stage.result.rejected) })}`}
          </p>
          {stage.result.id && (
            <p>
              {t.imports.importId}: <code className="import-id">{stage.result.id}</code>
            </p>
          )}
        </div>
      )}
    </>
  );
}

/**
 * What the check found: the counts, the import the same file came in by before (and that only
 * what is new is recorded – or that nothing is), the columns read and left out, and the refused
 * rows by line.
 */
function CheckResult({ result, name, entityName, headingRef }: { result: ImportResult; name: string; entityName: string; headingRef: RefObject<HTMLHeadingElement | null> }) {
  const i18n = useI18n();
  const { t, fill, number, dateTime } = i18n;
  const before = result.importedBefore;
  const errorsId = useId();
  const columns = Object.entries(result.columns);
  const quoted = (text: string) => fill(t.callList.quote, { text });
  return (
    <div className="call-list-result import-result">
      <h3 tabIndex={-1} ref={headingRef}>
        {fill(t.imports.checked, { name })}
      </h3>
      <div className="kpis small">
        <Kpi label={t.imports.rows} value={result.rows} note="" />
        <Kpi label={t.imports.canImport} value={result.imported} note="" tone={result.imported > 0 ? 'good' : undefined} />
        <Kpi label={t.imports.onRecord} value={result.onRecord} note="" />
        <Kpi label={t.imports.refused} value={result.rejected} note="" tone={result.rejected > 0 ? 'bad' : undefined} />
      </div>
      {before ? (
        <p className="notice import-before" role="note">
          {fill(t.imports.importedBefore, { entity: entityName, at: dateTime(before.createdAt), id: before.id })} {result.imported === 0 && (result.onRecord > 0 || result.erased > 0) ? (result.erased > 0 ? t.imports.nothingNewErased : t.imports.allOnRecord) : t.imports.onlyNew}
        </p>
      ) : (
        result.onRecord > 0 && <p className="muted small import-on-record">{t.imports.onRecordHint}</p>
      )}
      {result.erased > 0 && (
        <p className="notice import-erased" role="note">
          {fill(t.imports.erasedRows, {
            entity: entityName,
            n: number(result.erased),
            lines: result.erasedLines.slice(0, 10).map((line) => number(line)).join(', ') + (result.erased > 10 ? ', …' : ''),
          })}
        </p>
      )}
      <p className="import-columns">
        <strong>{t.imports.columnsRead}</strong>{' '}
        {columns.map(([field, header], i) => (
          <Fragment key={field}>
            {i > 0 && ', '}
            <span className="nowrap">
              <code>{field}</code> ← {quoted(header)}
            </span>
          </Fragment>
        ))}
      </p>
      {result.ignoredColumns.length > 0 && (
        <p className="notice import-ignored">{fill(t.imports.notImported, { columns: new Intl.ListFormat(i18n.locale, { type: 'conjunction' }).format(result.ignoredColumns.map(quoted)) })}</p>
      )}
      {result.errors.length > 0 && (
        <>
          <h4 id={errorsId}>{t.imports.refusedRows}</h4>
          <p className="muted small">
            {t.imports.refusedIntro}
            {result.errors.length >= 1000 && ` ${fill(t.imports.firstErrors, { n: number(result.errors.length) })}`}
          </p>
          {/* Scrolls on its own when long (up to 1,000 errors): focusable, so a keyboard can scroll it. */}
          <div className="table-wrap import-errors" tabIndex={0} role="region" aria-labelledby={errorsId}>
            <table className="table compact stack">
              <TableHead columns={[num(t.imports.line), t.imports.field, t.imports.error]} />
              <tbody>
                {result.errors.map((e, i) => (
                  <tr key={i}>
                    <td className="num" data-label={t.imports.line}>
                      {number(e.line)}
                    </td>
                    <td data-label={t.imports.field}>
                      {e.path ? (
                        <span>
                          <code>{e.path}</code>
                          {result.columns[e.path] && result.columns[e.path] !== e.path && <span className="muted"> {quoted(result.columns[e.path]!)}</span>}
                        </span>
                      ) : (
                        <span className="muted">{t.imports.wholeRow}</span>
                      )}
                    </td>
                    {/* The server's sentence, in English. */}
                    <td data-label={t.imports.error} lang="en">
                      {e.message}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

/** The caller's recent imports, newest first: what was imported, when, how much, and by which key. */
function RecentImports({ state, heading }: { state: RecentState; heading: boolean }) {
  const { t, fill, dateTime, number } = useI18n();
  return (
    <div className={heading ? 'recent-scrubs' : undefined}>
      {heading && <h3 id="imports-recent-title">{t.imports.recentTitle}</h3>}
      {state.status === 'loading' ? (
        <p className="loading">{t.dashboard.loading}</p>
      ) : state.status === 'failed' ? (
        <p className="empty">{t.imports.unavailable}</p>
      ) : state.items.length === 0 ? (
        <p className="empty">{t.imports.none}</p>
      ) : (
        <div className="table-wrap">
          <table className="table stack imports-list">
            <TableHead columns={[t.imports.when, t.imports.kindColumn, num(t.imports.rows), num(t.imports.imported), num(t.imports.onRecord), num(t.imports.leftOutColumn), t.imports.by]} />
            <tbody>
              {state.items.slice(0, RECENT_SHOWN).map((r) => (
                <tr key={r.id}>
                  <td data-label={t.imports.when}>
                    {/* One block: in the stacked (phone) layout a cell's parts sit side by side. */}
                    <div>
                      <span className="nowrap">{dateTime(r.createdAt)}</span>
                      <span className="block small muted">
                        {t.imports.importId} <span className="mono any-break">{r.id}</span>
                      </span>
                    </div>
                  </td>
                  <td data-label={t.imports.kindColumn}>
                    <div>
                      {t.imports.kinds[r.kind]?.short ?? r.kind}
                      {r.inputName && <span className="block small muted">{r.inputName}</span>}
                    </div>
                  </td>
                  <td className="num" data-label={t.imports.rows}>
                    {number(r.rows)}
                  </td>
                  <td className="num" data-label={t.imports.imported}>
                    {number(r.imported)}
                  </td>
                  <td className="num" data-label={t.imports.onRecord}>
                    {number(r.onRecord)}
                  </td>
                  <td className="num" data-label={t.imports.leftOutColumn}>
                    {/* Refused rows, and rows about people erased at their request (never imported again). */}
                    <div>
                      {number(r.rejected)}
                      {r.erased > 0 && <span className="block small muted">{fill(t.imports.erasedLeftOut, { n: number(r.erased) })}</span>}
                    </div>
                  </td>
                  <td data-label={t.imports.by}>{r.keyLabel ? r.keyLabel : r.keyId ? <span className="mono small">{shortId(r.keyId)}</span> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {state.items.length > RECENT_SHOWN && <p className="muted">{fill(t.imports.more, { shown: number(RECENT_SHOWN), n: number(state.items.length) })}</p>}
        </div>
      )}
    </div>
  );
}

/** A text with `field` names in it, the names set as code. */
function withCode(text: string): ReactNode {
  return text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part));
}

/** What an import did, in one sentence. */
function doneText(r: ImportResult, entityName: string, { t, fill, number }: I18n): string {
  if (!r.id || r.imported === 0) return t.imports.doneNone;
  return r.imported === 1 ? fill(t.imports.doneOne, { entity: entityName }) : fill(t.imports.doneMany, { n: number(r.imported), entity: entityName });
}

/** A key without a label, by the start of its ID (enough to tell keys apart in a short list). */
const shortId = (id: string): string => (id.length > 10 ? `${id.slice(0, 8)}…` : id);

/** A file over the server's limit (413): the limit in MB (or KB), from the server's "larger than N bytes". */
function tooLarge(err: ApiError, { t, fill, number }: I18n): string {
  const m = /larger than (\d+) bytes/.exec(err.message);
  if (!m) return fill(t.imports.fileRefused, { message: err.message });
  const bytes = Number(m[1]);
  const max = bytes >= 2 ** 20 ? `${number(Math.round((bytes / 2 ** 20) * 10) / 10)} MB` : `${number(Math.ceil(bytes / 1024))} KB`;
  return fill(t.imports.tooLarge, { max });
}

/**
 * Why a file was refused whole (422), in the page's language where the page knows the reason (a
 * field without a column, two columns for one field); else the server's sentence.
 */
function fileRefusal(err: ApiError, { t, fill }: I18n): string {
  const errors = err.problem?.errors ?? [];
  const detail = err.problem?.detail ?? err.message;
  const seen = /the columns seen are: (.*)\.$/s.exec(detail);
  if (errors.length > 0 && errors.every((e) => e.message === 'no column') && seen) {
    // The server's guess at the phone column, where it has one: "no column for phone (is it "Mobiel"?)".
    const phone = /\(is it "(.*?)"\?\)/.exec(detail);
    const guess = phone ? ` ${fill(t.imports.phoneGuess, { column: phone[1]! })}` : '';
    return fill(t.imports.noColumns, { fields: errors.map((e) => e.path).join(', '), columns: seen[1]!, guess });
  }
  const two = /^Columns "(.*)" and "(.*)" both give ([^:]+):/.exec(detail);
  if (two) return fill(t.imports.twoColumns, { a: two[1]!, b: two[2]!, field: two[3]! });
  return fill(t.imports.fileRefused, { message: detail });
}
