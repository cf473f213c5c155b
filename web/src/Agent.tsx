import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent, type RefObject } from 'react';
import { api, ApiError, type Decision, type History, type HistoryEvent, type Me } from './api.js';
import { errorText, keepTypedCheck, readLocal, rememberedCaller, typedCheck, useI18n, writeLocal, type I18n } from './context.js';
import { CallerSelect } from './CallerSelect.js';
import { DICTS, LANGS, type Dict, type Lang } from './i18n.js';
import { AlertIcon, CheckIcon, CrossIcon, SpeakIcon } from './icons.js';
import { OPT_IN_SCRIPT, optInScript, recordedWording, scriptLangFor } from './script.js';
import { reasonHeadline } from './reasons.js';

/** A number as people of the caller's country write it: numbers without +country are read in that country. */
const NATIONAL_EXAMPLES: Record<string, string> = { NL: '06 1234 5678', DE: '0151 23456789', GB: '07400 123456', US: '(212) 555-0134' };
const nationalExample = (country: string | undefined): string => NATIONAL_EXAMPLES[country ?? ''] ?? '06 1234 5678';

type Panel = 'optIn' | 'request' | 'objection' | 'withdraw' | null;
type ActionName = 'optIn' | 'objection' | 'request' | 'withdraw' | 'callMade';

interface Checked {
  phone: string;
  entityId: string;
  productCategory: string;
  subscriberType: 'consumer' | 'business';
}

const AGENT_KEY = 'optline.agentId';

/** `unsaved`: the answer that was being recorded when the session ended – the sign-in page says it was not saved. */
export function Agent({ me, onSessionEnded }: { me: Me; onSessionEnded: (unsaved?: string) => void }) {
  const i18n = useI18n();
  const { t, fill } = i18n;
  const entityIds = me.entities.map((e) => e.id);
  const [entityId, setEntityId] = useState(() => rememberedCaller(entityIds));
  const [phone, setPhone] = useState(() => typedCheck().phone);
  const [product, setProduct] = useState(() => typedCheck().product);
  const [subscriberType, setSubscriberType] = useState<'consumer' | 'business'>('consumer');
  useEffect(() => keepTypedCheck({ phone, product }), [phone, product]);
  const [checking, setChecking] = useState(false);
  const [checked, setChecked] = useState<Checked | null>(null);
  const [decision, setDecision] = useState<Decision | null>(null);
  const [history, setHistory] = useState<History | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [panel, setPanel] = useState<Panel>(null);
  const [busy, setBusy] = useState<ActionName | null>(null);
  const [message, setMessage] = useState('');
  /** An answer that failed to save: said beside the buttons, where the agent is looking. */
  const [actionError, setActionError] = useState<string | null>(null);
  const phoneRef = useRef<HTMLInputElement>(null);
  const optInButton = useRef<HTMLButtonElement>(null);
  const requestButton = useRef<HTMLButtonElement>(null);
  const objectionButton = useRef<HTMLButtonElement>(null);
  const withdrawButton = useRef<HTMLButtonElement>(null);

  const entityName = (id: string | null) => me.entities.find((e) => e.id === id)?.name ?? id ?? '';
  const canDecide = me.permissions.includes('decide');
  const canWrite = me.permissions.includes('write_events');
  const canLogCalls = me.permissions.includes('write_calls');
  /**
   * The form no longer says what the verdict on screen was checked for: the agent typed another
   * number, or chose another caller or product. The verdict is then marked as not for this, and
   * no answer can be recorded until the number is checked again – an objection typed for one
   * person must never land on another's number.
   */
  const edited =
    checked !== null && (phone.trim() !== checked.phone || entityId !== checked.entityId || product.trim() !== checked.productCategory || subscriberType !== checked.subscriberType);
  // A panel belongs to the verdict it was opened for: editing the form closes it, so undoing the
  // edit cannot bring back a panel whose button has the focus (one Enter would record it).
  useEffect(() => {
    if (edited) setPanel(null);
  }, [edited]);
  /** Answers are recorded for the number and caller of the verdict on screen, and only while the form still says so. */
  const target = decision?.phone && checked && !edited ? { phone: decision.phone, entityId: checked.entityId } : null;
  /**
   * Whether the caller holds a phone consent for the number now, by its history (newest first):
   * a withdrawal with none to withdraw would only add a confusing event. Unknown (no history
   * shown to this key): allowed.
   */
  const hasConsent =
    history === null || !checked
      ? true
      : history.events.find((e) => e.type === 'consent' && e.entityId === checked.entityId && e.data.channel === 'phone')?.data.status === 'granted';

  const fail = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) return onSessionEnded();
    setError(errorText(err, i18n));
  };

  const run = async (input: Checked) => {
    setChecking(true);
    setError(null);
    // The history shown is always the checked number's: none while another one is loading.
    if (!checked || input.phone !== checked.phone || input.entityId !== checked.entityId) setHistory(null);
    try {
      const d = await api.decide({ phone: input.phone, entityId: input.entityId, productCategory: input.productCategory || undefined, subscriberType: input.subscriberType });
      setChecked(input);
      setDecision(d);
      // The answer is in: the verdict is current (the history below still loading is not the check).
      setChecking(false);
      requestAnimationFrame(() => document.getElementById('verdict')?.scrollIntoView({ block: 'nearest' }));
      if (d.phone) {
        try {
          setHistory(await api.history(d.phone, input.entityId));
        } catch (err) {
          setHistory(null);
          if (!(err instanceof ApiError && err.status === 403)) throw err;
        }
      } else {
        setHistory(null);
      }
    } catch (err) {
      // No verdict rather than the last number's: after a failed check the screen must not still
      // say "Allowed" under the new number.
      setDecision(null);
      setChecked(null);
      setHistory(null);
      fail(err);
    } finally {
      setChecking(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!phone.trim() || !entityId) return phoneRef.current?.focus();
    setPanel(null);
    setMessage('');
    setActionError(null);
    void run({ phone: phone.trim(), entityId, productCategory: product.trim(), subscriberType }).then(() => {
      // Ready for the next number: typing replaces this one instead of adding to it.
      const active = document.activeElement;
      if (active === phoneRef.current || (active instanceof HTMLElement && active.closest('.check-form'))) {
        phoneRef.current?.focus();
        phoneRef.current?.select();
      }
    });
  };

  /** Records an answer, then checks the number again so the verdict on screen is never stale. */
  const act = async (name: ActionName, record: (tg: { phone: string; entityId: string }) => Promise<string | void>) => {
    if (!target || !checked || busy) return;
    setBusy(name);
    setError(null);
    setActionError(null);
    setMessage('');
    // A call logged on the person's own request uses it up (NL-7): the verdict turns to Not allowed
    // while the agent is still on that lawful call – say why.
    const usesRequest = name === 'callMade' && decision?.basis === 'requested_communication';
    try {
      const extra = await record(target);
      setPanel(null);
      await run(checked);
      const done = name === 'optIn' ? fill(t.done.optIn, { callId: extra ?? '' }) : t.done[name];
      setMessage(`${done} (${target.phone}) ${usesRequest ? t.done.oneCallUsed : t.done.rechecked}`);
    } catch (err) {
      const what = t.done.what[name];
      if (err instanceof ApiError && err.status === 401) onSessionEnded(what);
      else setActionError(`${fill(t.done.notSaved, { what })} ${errorText(err, i18n)}`);
    } finally {
      setBusy(null);
    }
  };

  /** The answers that cannot be taken back, recorded once the agent confirms them (see ConfirmPanel). */
  const irreversible = {
    objection: async (tg: { phone: string; entityId: string }) => {
      await api.objection(tg.phone, tg.entityId);
      objectionButton.current?.focus();
    },
    withdraw: async (tg: { phone: string; entityId: string }) => {
      await api.consent({ entityId: tg.entityId, phone: tg.phone, channel: 'phone', status: 'withdrawn', source: { method: 'agent_call', agentId: readLocal(AGENT_KEY) || null } });
      // Not back to its button: with no consent left it is disabled, and the focus would be lost.
      phoneRef.current?.focus();
    },
  };

  const closePanel = (back: RefObject<HTMLButtonElement | null>) => {
    setPanel(null);
    back.current?.focus();
  };

  return (
    <div className="agent-layout">
      <div className="col-main">
        <section className="card check-card" aria-labelledby="check-title">
          <h1 id="check-title">{t.check.title}</h1>
          <form className="check-form" onSubmit={submit} noValidate>
            <div className="field">
              <label htmlFor="phone">{t.check.phone}</label>
              <input
                id="phone"
                ref={phoneRef}
                type="tel"
                inputMode="tel"
                autoComplete="off"
                autoFocus
                value={phone}
                aria-describedby="phone-hint"
                onChange={(e) => setPhone(e.target.value)}
              />
              <span id="phone-hint" className="hint">
                {fill(t.check.phoneHint, { example: nationalExample(me.entities.find((e) => e.id === entityId)?.country) })}
              </span>
            </div>
            <CallerSelect id="caller" me={me} value={entityId} onChange={setEntityId} />
            <div className="field">
              <label htmlFor="product">{t.check.product}</label>
              <input id="product" type="text" autoComplete="off" value={product} aria-describedby="product-hint" onChange={(e) => setProduct(e.target.value)} />
              <span id="product-hint" className="hint">
                {t.check.optional} · {t.check.productHint}
              </span>
            </div>
            <div className="field submit-field">
              <button type="submit" className="button primary" disabled={!canDecide || entityIds.length === 0} aria-busy={checking || undefined}>
                {t.check.submit}
              </button>
            </div>
            {/* NL-1, DE-2, GB-1, US-1: a business line is under other rules than a person's. */}
            <fieldset className="called-party">
              <legend>{t.check.calledParty}</legend>
              {(['consumer', 'business'] as const).map((v) => (
                <label key={v} className="radio">
                  <input type="radio" name="called-party" value={v} checked={subscriberType === v} onChange={() => setSubscriberType(v)} /> {t.check[v]}
                </label>
              ))}
            </fieldset>
          </form>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </section>

        <Verdict decision={decision} checking={checking} stale={edited} />

        {decision?.allowed && <Obligations decision={decision} stale={edited} history={history} />}

        <section className="card" aria-labelledby="actions-title">
          <h2 id="actions-title">{t.actions.title}</h2>
          {!canWrite ? (
            <p className="muted">{t.actions.readOnly}</p>
          ) : edited && decision ? (
            <p className="notice" role="note">
              {fill(t.actions.changed, { phone: decision.phone ?? '—' })}
            </p>
          ) : !target ? (
            <p className="muted">{t.actions.needCheck}</p>
          ) : (
            <p className="muted actions-for">{fill(t.actions.forTarget, { phone: target.phone, caller: entityName(target.entityId) })}</p>
          )}
          {canWrite && (
            <div className="actions">
              <button
                ref={optInButton}
                type="button"
                className="button action positive"
                disabled={!target}
                aria-expanded={panel === 'optIn'}
                aria-controls="optin-panel"
                onClick={() => setPanel(panel === 'optIn' ? null : 'optIn')}
              >
                {t.actions.optIn}
              </button>
              <button
                ref={objectionButton}
                type="button"
                className="button action negative"
                disabled={!target}
                aria-busy={busy === 'objection' || undefined}
                aria-expanded={panel === 'objection'}
                aria-controls="objection-panel"
                onClick={() => setPanel(panel === 'objection' ? null : 'objection')}
              >
                {t.actions.objection}
              </button>
              <button
                ref={requestButton}
                type="button"
                className="button action"
                disabled={!target}
                aria-expanded={panel === 'request'}
                aria-controls="request-panel"
                onClick={() => setPanel(panel === 'request' ? null : 'request')}
              >
                {t.actions.request}
              </button>
              <button
                ref={withdrawButton}
                type="button"
                className="button action"
                disabled={!target || !hasConsent}
                aria-describedby={target && !hasConsent ? 'withdraw-hint' : undefined}
                aria-busy={busy === 'withdraw' || undefined}
                aria-expanded={panel === 'withdraw'}
                aria-controls="withdraw-panel"
                onClick={() => setPanel(panel === 'withdraw' ? null : 'withdraw')}
              >
                {t.actions.withdraw}
              </button>
              {canLogCalls && (
                <button
                  type="button"
                  className="button action"
                  disabled={!target}
                  aria-busy={busy === 'callMade' || undefined}
                  onClick={() => void act('callMade', (tg) => api.call(tg.phone, tg.entityId, decision?.decisionId ?? null, readLocal(AGENT_KEY).trim() || null).then(() => undefined))}
                >
                  {t.actions.callMade}
                </button>
              )}
            </div>
          )}
          {/* Why Withdraw consent cannot be pressed, in view: a disabled button's title reaches no keyboard. */}
          {canWrite && target && !hasConsent && (
            <p id="withdraw-hint" className="hint actions-hint">
              {t.actions.noConsent}
            </p>
          )}
          {panel === 'optIn' && target && (
            <OptInPanel
              callerName={entityName(target.entityId)}
              product={checked?.productCategory ?? ''}
              jurisdiction={decision?.jurisdiction ?? null}
              busy={busy === 'optIn'}
              onCancel={() => closePanel(optInButton)}
              onSave={(v) =>
                void act('optIn', async (tg) => {
                  await api.consent({
                    entityId: tg.entityId,
                    phone: tg.phone,
                    channel: 'phone',
                    status: 'granted',
                    ...(checked?.productCategory ? { products: [checked.productCategory] } : {}),
                    source: { method: 'agent_call', wording: v.wording, agentId: v.agentId, callId: v.callId, ...(v.recordingRef ? { recordingRef: v.recordingRef } : {}) },
                    ...(v.personName ? { person: { name: v.personName } } : {}),
                  });
                  optInButton.current?.focus();
                  return v.callId;
                })
              }
            />
          )}
          {panel === 'request' && target && (
            <RequestPanel
              busy={busy === 'request'}
              onCancel={() => closePanel(requestButton)}
              onSave={(offer) =>
                void act('request', async (tg) => {
                  await api.contactRequest(tg.phone, tg.entityId, offer);
                  requestButton.current?.focus();
                })
              }
            />
          )}
          {/* An objection or a withdrawal cannot be taken back (only the person's new consent
              answers it): one more press, with what it does, so a slip of the mouse records nothing. */}
          {(panel === 'objection' || panel === 'withdraw') && target && (
            <ConfirmPanel
              key={panel}
              id={`${panel}-panel`}
              title={t.confirm[`${panel}Title`]}
              text={fill(t.confirm[`${panel}Text`], { phone: target.phone, caller: entityName(target.entityId) })}
              yes={t.confirm[`${panel}Yes`]}
              busy={busy === panel}
              onCancel={() => closePanel(panel === 'objection' ? objectionButton : withdrawButton)}
              onConfirm={() => void act(panel, irreversible[panel])}
            />
          )}
          {actionError && (
            <p className="error" role="alert">
              {actionError}
            </p>
          )}
          <p className="toast" aria-live="polite">
            {message}
          </p>
        </section>
      </div>

      <div className={`col-side${edited ? ' stale' : ''}`}>
        {decision && <Reasons decision={decision} />}
        <Timeline history={history} entityName={entityName} callerId={checked?.entityId ?? null} />
      </div>
    </div>
  );
}

function Verdict({ decision, checking, stale }: { decision: Decision | null; checking: boolean; stale: boolean }) {
  const i18n = useI18n();
  const { t, fill } = i18n;
  // A number that cannot be read is a typing slip to correct, not a refusal to call someone.
  const unreadable = decision !== null && !decision.allowed && decision.denials.length === 1 && decision.denials[0] === 'invalid_number';
  const state = decision ? (decision.allowed ? 'allowed' : unreadable ? 'unreadable' : 'denied') : 'idle';
  // The verdict's sign, word and lead, by its state.
  const look = !decision
    ? null
    : decision.allowed
      ? { icon: <CheckIcon size={40} />, word: t.verdict.allowed, lead: t.verdict.allowedLead }
      : unreadable
        ? { icon: <AlertIcon size={40} />, word: t.verdict.unreadable, lead: t.verdict.unreadableLead }
        : { icon: <CrossIcon size={40} />, word: t.verdict.notAllowed, lead: refusalLead(decision, i18n) };
  const basis = decision?.allowed ? t.bases[(decision.basis ?? 'none') as keyof Dict['bases']] : null;
  const denials = decision && !decision.allowed ? decision.denials.map((d) => t.denials[d as keyof Dict['denials']] ?? d) : [];
  // What a screen reader hears after the word and lead: which number, and why.
  const announcement = !decision
    ? ''
    : [
        decision.phone ? fill(t.verdict.announceNumber, { phone: decision.phone }) : '',
        basis ? `${t.verdict.basis}: ${basis[0]}.` : denials.length > 0 && !unreadable ? `${t.verdict.reasons}: ${denials.join('; ').replace(/[^.!?]$/, '$&.')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
  return (
    <section id="verdict" className={`card verdict ${state}${stale && decision ? ' stale' : ''}`} aria-busy={checking || undefined} aria-labelledby="verdict-title">
      {/* A heading to jump to: the answer sits between the form and the next visible heading. */}
      <h2 id="verdict-title" className="sr-only">
        {t.verdict.heading}
      </h2>
      {stale && decision && <p className="verdict-stale">{fill(t.verdict.stale, { phone: decision.phone ?? '—' })}</p>}
      {/* One live region: while a check runs it says only that (the last verdict stays in view but
          is hidden from it), then the verdict with its number and basis or reasons – so a second
          check with the same answer is announced too, and for which number. */}
      <div role="status" aria-atomic="true" className="verdict-status" data-allowed={decision ? String(decision.allowed) : undefined}>
        {decision ? (
          <>
            <span className="verdict-icon">{look!.icon}</span>
            <span className="verdict-text" aria-hidden={checking || undefined}>
              <span className="verdict-word">{look!.word}</span>
              <span className="sr-only">:</span>
              <span className="verdict-lead"> {look!.lead}</span>
              {announcement && <span className="sr-only"> {announcement}</span>}
            </span>
            {checking && <span className="sr-only">{t.check.busy}</span>}
          </>
        ) : (
          <span className="verdict-idle">{checking ? t.check.busy : t.check.idle}</span>
        )}
      </div>
      {basis && (
        <p className="verdict-basis" data-basis={decision?.basis ?? 'none'}>
          <span className="label">{t.verdict.basis}:</span> <strong>{basis[0]}</strong> <span className="muted">– {basis[1]}</span>
        </p>
      )}
      {denials.length > 0 && !unreadable && (
        <ul className="verdict-denials" aria-label={t.verdict.reasons}>
          {decision!.denials.map((d, i) => (
            <li key={d} data-denial={d}>
              {denials[i]}
            </li>
          ))}
        </ul>
      )}
      {decision && !unreadable && <VerdictDetails decision={decision} />}
    </section>
  );
}

/**
 * What a refusal asks of the agent. Most are final for this call ("do not call"); the ones that
 * only stand in the way for now – the hour, the calls already made, an old register copy – say
 * when or how the number can be called after all, so they do not read as the person's refusal.
 */
function refusalLead(decision: Decision, i18n: I18n): string {
  const { t, fill } = i18n;
  const temporary = decision.denials.length > 0 && decision.denials.every((d) => FOR_NOW.has(d));
  if (!temporary) return t.verdict.notAllowedLead;
  const leads: string[] = [];
  const w = decision.callingWindow;
  if (decision.denials.includes('outside_calling_hours')) {
    if (!w) leads.push(t.verdict.notAllowedLead);
    else {
      const hours = { from: w.from, to: w.to, zones: zoneNames(w.timeZones, i18n.locale) ?? t.verdict.everyZone };
      leads.push(w.days ? fill(t.verdict.notNowHoursOn, { ...hours, days: weekdayNames(w.days, i18n.locale) }) : fill(t.verdict.notNowHours, hours));
    }
  }
  if (decision.denials.includes('frequency_cap')) leads.push(t.verdict.notNowCalls);
  if (decision.denials.includes('register_stale')) leads.push(t.verdict.notNowRegister);
  return leads.join(' ');
}

/** Refusals that stand only for now: the hour, the calls already made, an old register copy. */
const FOR_NOW = new Set(['outside_calling_hours', 'frequency_cap', 'register_stale']);

/** ISO weekdays as the agent reads them: runs of three or more as a range ("Monday–Friday and Sunday"). */
function weekdayNames(days: number[], locale: string): string {
  // 2024-01-01 was a Monday: ISO weekday d falls on 2024-01-0d.
  const name = (d: number) => new Intl.DateTimeFormat(locale, { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, d));
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${name(sorted[i]!)}–${name(sorted[j]!)}`);
    else for (let k = i; k <= j; k++) parts.push(name(sorted[k]!));
    i = j + 1;
  }
  return new Intl.ListFormat(locale, { type: 'conjunction' }).format(parts);
}

/**
 * The zones of a calling window as people name them ("Eastern Time", "Central European Time"), or
 * null when there are too many to read (a toll-free number may be anywhere in the country).
 */
function zoneNames(zones: string[], locale: string): string | null {
  const names = new Set<string>();
  for (const timeZone of zones) {
    try {
      const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'longGeneric' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName');
      names.add(part?.value ?? timeZone);
    } catch {
      names.add(timeZone);
    }
  }
  return names.size === 0 || names.size > 3 ? null : [...names].join(', ');
}

function VerdictDetails({ decision }: { decision: Decision }) {
  const { t, fill, dateTime } = useI18n();
  return (
    <p className="verdict-details">
      {fill(t.verdict.details, {
        phone: decision.phone ?? '—',
        law: decision.jurisdiction ? fill(t.verdict.law, { country: decision.jurisdiction }) : t.verdict.noLaw,
        rules: decision.rulesVersion,
        time: dateTime(decision.at),
      })}
    </p>
  );
}

function Obligations({ decision, stale, history }: { decision: Decision; stale: boolean; history: History | null }) {
  const { t, fill } = useI18n();
  // NL-7: a call on the person's request names the offer they asked about – the one on record.
  const request =
    decision.basis === 'requested_communication' ? history?.events.find((e) => e.type === 'contact_request' && (decision.evidence ?? []).includes(e.id)) : undefined;
  const offer = typeof request?.data.offer === 'string' && request.data.offer.trim() ? request.data.offer.trim() : null;
  return (
    <section className={`card say${stale ? ' stale' : ''}`} aria-labelledby="say-title">
      <h2 id="say-title">
        <SpeakIcon /> {t.say.title}
      </h2>
      {offer && <p className="say-offer">{fill(t.say.offer, { offer })}</p>}
      {decision.obligations.length === 0 ? (
        <p className="muted">{t.say.none}</p>
      ) : (
        <ol className="say-list">
          {decision.obligations.map((o) => (
            <li key={o} data-obligation={o}>
              {t.obligations[o as keyof Dict['obligations']] ?? o}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Reasons({ decision }: { decision: Decision }) {
  const { t, fill, lang } = useI18n();
  const met = decision.reasons.filter((r) => r.passed).length;
  return (
    <section className="card" aria-labelledby="reasons-title">
      <div className="card-head">
        <h2 id="reasons-title">{t.reasons.title}</h2>
        <span className="muted small">{fill(t.reasons.count, { met, total: decision.reasons.length })}</span>
      </div>
      <ul className={`reasons ${decision.allowed ? 'when-allowed' : 'when-denied'}`}>
        {decision.reasons.map((r, i) => (
          <li key={`${r.code}-${i}`} className={r.passed ? 'met' : 'unmet'} data-code={r.code}>
            <span className="reason-icon">{r.passed ? <CheckIcon size={18} /> : <CrossIcon size={18} />}</span>
            <span className="reason-text">
              <span className="sr-only">{r.passed ? t.reasons.met : t.reasons.notMet}: </span>
              {reasonHeadline(r.code, lang) ? (
                <>
                  <span className="reason-headline">{reasonHeadline(r.code, lang)}</span>
                  <span className="reason-detail" lang="en">
                    {r.detail}
                  </span>
                </>
              ) : (
                r.detail
              )}
            </span>
            <span className="rule" title={fill(t.reasons.rule, { rule: r.rule })}>
              <span className="sr-only">{fill(t.reasons.rule, { rule: '' })}</span>
              {r.rule}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function OptInPanel(props: {
  callerName: string;
  product: string;
  jurisdiction: string | null;
  busy: boolean;
  onCancel: () => void;
  onSave: (v: { wording: string; agentId: string; callId: string; recordingRef: string; personName: string }) => void;
}) {
  const { t, lang } = useI18n();
  const [scriptLang, setScriptLang] = useState<Lang>(() => scriptLangFor(props.jurisdiction, lang));
  const [agentId, setAgentId] = useState(() => readLocal(AGENT_KEY));
  const [callId, setCallId] = useState('');
  const [recordingRef, setRecordingRef] = useState('');
  const [personName, setPersonName] = useState('');
  const [invalid, setInvalid] = useState(false);
  const agentRef = useRef<HTMLInputElement>(null);
  const scriptRef = useRef<HTMLQuoteElement>(null);
  const sd = DICTS[scriptLang].optIn;
  const text = useMemo(
    () => optInScript(scriptLang, props.callerName, props.product ? sd.about.replace('{product}', props.product) : sd.aboutAny),
    [scriptLang, props.callerName, props.product, sd],
  );

  useEffect(() => {
    // The script first, so a screen reader reads it and a second Enter records nothing unread;
    // without a remembered agent ID, the field to fill in.
    (agentId ? scriptRef : agentRef).current?.focus();
    // Only when the panel opens.
  }, []);

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (props.busy) return;
    if (!agentId.trim()) {
      setInvalid(true);
      return agentRef.current?.focus();
    }
    writeLocal(AGENT_KEY, agentId.trim());
    const id = callId.trim() || `web-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${Math.random().toString(36).slice(2, 6)}`;
    props.onSave({ wording: recordedWording(text, scriptLang), agentId: agentId.trim(), callId: id, recordingRef: recordingRef.trim(), personName: personName.trim() });
  };

  const escape = (e: KeyboardEvent) => {
    if (e.key === 'Escape') props.onCancel();
  };

  return (
    <div id="optin-panel" className="panel" role="group" aria-labelledby="optin-title" onKeyDown={escape}>
      <div className="panel-head">
        <h3 id="optin-title">{t.optIn.title}</h3>
        <label className="inline-field">
          <span>{t.optIn.scriptLanguage}</span>
          <select value={scriptLang} onChange={(e) => setScriptLang(e.target.value as Lang)}>
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {DICTS[l].langName}
              </option>
            ))}
          </select>
        </label>
      </div>
      {props.jurisdiction === 'US' && (
        <p className="notice" role="note">
          {t.optIn.usWritten}
        </p>
      )}
      <blockquote id="optin-script" className="script" lang={scriptLang} ref={scriptRef} tabIndex={-1}>
        {text}
      </blockquote>
      <p className="script-meta">{t.optIn.script.replace('{id}', OPT_IN_SCRIPT.id).replace('{version}', String(OPT_IN_SCRIPT.version))}</p>
      <form onSubmit={save} noValidate>
        <div className="panel-fields">
          <div className="field">
            <label htmlFor="agent-id">{t.optIn.agentId}</label>
            <input
              id="agent-id"
              ref={agentRef}
              value={agentId}
              autoComplete="off"
              required
              aria-invalid={invalid && !agentId.trim() ? true : undefined}
              aria-describedby={invalid && !agentId.trim() ? 'agent-id-error' : undefined}
              onChange={(e) => setAgentId(e.target.value)}
            />
            {invalid && !agentId.trim() && (
              <span id="agent-id-error" className="field-error" role="alert">
                {t.optIn.agentIdMissing}
              </span>
            )}
          </div>
          <div className="field">
            <label htmlFor="person-name">{t.optIn.personName}</label>
            <input id="person-name" value={personName} autoComplete="off" maxLength={200} aria-describedby="person-hint" onChange={(e) => setPersonName(e.target.value)} />
            <span id="person-hint" className="hint">
              {DICTS[lang].check.optional} · {t.optIn.personHint.replace('{rule}', props.jurisdiction === 'NL' ? ' (NL-10)' : props.jurisdiction === 'DE' ? ' (DE-3)' : '')}
            </span>
          </div>
          <div className="field">
            <label htmlFor="call-id">{t.optIn.callId}</label>
            <input id="call-id" value={callId} autoComplete="off" aria-describedby="call-id-hint" onChange={(e) => setCallId(e.target.value)} />
            <span id="call-id-hint" className="hint">
              {t.optIn.callIdHint}
            </span>
          </div>
          <div className="field">
            <label htmlFor="recording-ref">{t.optIn.recordingRef}</label>
            <input id="recording-ref" value={recordingRef} autoComplete="off" aria-describedby="recording-hint" onChange={(e) => setRecordingRef(e.target.value)} />
            <span id="recording-hint" className="hint">
              {DICTS[lang].check.optional} · {t.optIn.recordingHint}
            </span>
          </div>
        </div>
        <div className="panel-actions">
          <button type="submit" className="button primary positive-solid" aria-describedby="optin-script" aria-busy={props.busy || undefined}>
            {t.optIn.confirm}
          </button>
          <button type="button" className="button subtle" onClick={props.onCancel}>
            {t.optIn.cancel}
          </button>
        </div>
      </form>
    </div>
  );
}

/** One more press for an answer that cannot be taken back: what it does, then Yes or Cancel (Escape). */
function ConfirmPanel({ id, title, text, yes, busy, onCancel, onConfirm }: { id: string; title: string; text: string; yes: string; busy: boolean; onCancel: () => void; onConfirm: () => void }) {
  const { t } = useI18n();
  return (
    <div id={id} className="panel confirm" role="group" aria-labelledby={`${id}-title`} aria-describedby={`${id}-text`} onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h3 id={`${id}-title`}>{title}</h3>
      <p id={`${id}-text`}>{text}</p>
      <div className="panel-actions">
        <button type="button" className="button danger" aria-busy={busy || undefined} onClick={() => !busy && onConfirm()}>
          {yes}
        </button>
        {/* The focus starts on the way out: an Enter meant for something else records nothing. */}
        <button type="button" className="button subtle" autoFocus onClick={onCancel}>
          {t.optIn.cancel}
        </button>
      </div>
    </div>
  );
}

function RequestPanel({ busy, onCancel, onSave }: { busy: boolean; onCancel: () => void; onSave: (offer: string) => void }) {
  const { t } = useI18n();
  const [offer, setOffer] = useState('');
  const [invalid, setInvalid] = useState(false);
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (!offer.trim()) return setInvalid(true);
    onSave(offer.trim());
  };
  return (
    <div id="request-panel" className="panel" role="group" aria-labelledby="request-title" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h3 id="request-title">{t.request.title}</h3>
      <form onSubmit={save} noValidate>
        <div className="field">
          <label htmlFor="offer">{t.request.offer}</label>
          <input
            id="offer"
            autoFocus
            value={offer}
            autoComplete="off"
            aria-invalid={invalid && !offer.trim() ? true : undefined}
            aria-describedby={invalid && !offer.trim() ? 'offer-hint offer-error' : 'offer-hint'}
            onChange={(e) => setOffer(e.target.value)}
          />
          <span id="offer-hint" className="hint">
            {t.request.offerHint}
          </span>
          {invalid && !offer.trim() && (
            <span id="offer-error" className="field-error" role="alert">
              {t.request.offerMissing}
            </span>
          )}
        </div>
        <div className="panel-actions">
          <button type="submit" className="button primary" aria-busy={busy || undefined}>
            {t.request.confirm}
          </button>
          <button type="button" className="button subtle" onClick={onCancel}>
            {t.optIn.cancel}
          </button>
        </div>
      </form>
    </div>
  );
}

function eventTitle(e: HistoryEvent, t: Dict, fill: I18n['fill'], date: I18n['date']): string {
  const d = e.data;
  const channel = t.channels[d.channel as keyof Dict['channels']] ?? String(d.channel ?? '');
  switch (e.type) {
    case 'consent':
      return fill(d.status === 'withdrawn' ? t.history.consentWithdrawn : t.history.consentGiven, { channel });
    case 'objection':
      return t.history.objection;
    case 'relationship': {
      const s = fill(t.history.relationship, { kind: t.kinds[d.kind as keyof Dict['kinds']] ?? String(d.kind), product: String(d.productCategory ?? '') });
      return typeof d.endedAt === 'string' ? `${s} (${fill(t.history.relationshipEnded, { date: date(d.endedAt) })})` : s;
    }
    case 'contact_request':
      return fill(t.history.request, { offer: String(d.offer ?? '') });
    case 'call':
      return t.history.call;
    case 'presumed_consent':
      return t.history.presumed;
    case 'reassignment':
      return t.history.reassignment;
    default:
      return e.type;
  }
}

function Timeline({ history, entityName, callerId }: { history: History | null; entityName: (id: string | null) => string; callerId: string | null }) {
  const { t, fill, dateTime, date } = useI18n();
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">{t.history.title}</h2>
      {!history ? (
        <p className="muted">{t.history.none}</p>
      ) : history.events.length === 0 ? (
        <p className="muted">{t.history.empty}</p>
      ) : (
        <ol className="timeline">
          {history.events.map((e) => {
            const d = e.data;
            const source = (d.source ?? {}) as { method?: string; agentId?: string | null; callId?: string | null; wording?: string | null };
            const person = (d.person ?? null) as { name?: string | null } | null;
            const meta = [
              e.entityId && e.entityId !== callerId ? fill(t.history.for, { entity: entityName(e.entityId) }) : null,
              person?.name ? fill(t.history.person, { name: person.name }) : null,
              e.type === 'consent' && source.method ? fill(t.history.method, { method: t.methods[source.method as keyof Dict['methods']] ?? source.method }) : null,
              source.agentId ? fill(t.history.agent, { agent: source.agentId }) : null,
              // A call keeps who made it and whether its check allowed it.
              e.type === 'call' && typeof d.agentId === 'string' ? fill(t.history.agent, { agent: d.agentId }) : null,
              e.type === 'call' && d.allowed === false ? (d.refusedAtCall === true ? t.calls.changedSinceCheck : t.history.callRefused) : null,
              source.callId ? fill(t.history.callId, { callId: source.callId }) : null,
            ].filter(Boolean);
            const kind = e.type === 'consent' ? (d.status === 'withdrawn' ? 'withdrawn' : 'consent') : e.type;
            return (
              <li key={e.id} className={`event ev-${kind}${e.type === 'call' && d.allowed === false ? ' ev-call-refused' : ''}`} data-type={e.type}>
                <span className="event-dot" aria-hidden="true" />
                <div className="event-body">
                  <p className="event-title">{eventTitle(e, t, fill, date)}</p>
                  <p className="event-meta">
                    <time dateTime={e.at}>{dateTime(e.at)}</time>
                    {meta.length > 0 && <> · {meta.join(' · ')}</>}
                  </p>
                  {source.wording && (
                    <p className="event-wording">
                      <span className="sr-only">{t.history.wording}: </span>“{source.wording}”
                    </p>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
