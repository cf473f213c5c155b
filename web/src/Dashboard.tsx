import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, LabelList, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, ApiError, type Dashboard as Stats, type LawChangeImpact, type Me } from './api.js';
import { errorText, rememberedCaller, useI18n } from './context.js';
import { CallerSelect } from './CallerSelect.js';
import type { Dict } from './i18n.js';
import { reasonHeadline } from './reasons.js';
import { ScrubsCard } from './Scrubs.js';
import { ImportsCard } from './Imports.js';
import { Kpi } from './Kpi.js';
import { num, TableHead } from './TableHead.js';

const CHANNEL_COLORS = { phone: '#1d4ed8', email: '#7c3aed', sms: '#0f766e' } as const;
const GREEN = '#15803d';
const RED = '#b91c1c';
const AMBER = '#b45309';
const AXIS = { fontSize: 12, fill: '#475569' };

export default function Dashboard({ me, onSessionEnded }: { me: Me; onSessionEnded: () => void }) {
  const i18n = useI18n();
  const { t, fill } = i18n;
  const [entityId, setEntityId] = useState(() => rememberedCaller(me.entities.map((e) => e.id)));
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [lawDate, setLawDate] = useState<string | undefined>(undefined);
  const [impact, setImpact] = useState<LawChangeImpact | null>(null);
  const [impactLoading, setImpactLoading] = useState(false);
  const [refreshed, setRefreshed] = useState(0);
  const entity = me.entities.find((e) => e.id === entityId);
  const titleRef = useRef<HTMLHeadingElement>(null);
  // Just signed in, the focus was on the sign-in form, now gone: start at the page's heading.
  useEffect(() => {
    if (document.activeElement === document.body) titleRef.current?.focus();
  }, []);

  const fail = useCallback(
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) return onSessionEnded();
      setError(errorText(err, i18n));
    },
    [onSessionEnded, i18n],
  );

  const load = useCallback(() => {
    if (!entityId) return;
    setError(null);
    api.dashboard(entityId).then(setStats, fail);
  }, [entityId, fail]);

  useEffect(load, [load]);

  useEffect(() => {
    if (!entityId) return;
    setImpactLoading(true);
    api
      .lawChange(entityId, lawDate)
      .then((x) => {
        setImpact(x);
        if (!lawDate) setLawDate(x.date);
      }, fail)
      .finally(() => setImpactLoading(false));
  }, [entityId, lawDate, fail]);

  const given = stats?.consentsByWeek.reduce((s, w) => s + w.given.phone + w.given.email + w.given.sms, 0) ?? 0;
  const withdrawn = stats?.consentsByWeek.reduce((s, w) => s + w.withdrawn.phone + w.withdrawn.email + w.withdrawn.sms, 0) ?? 0;
  const weeks = stats?.consentsByWeek.length ?? 12;
  const days = stats?.expiringRelationships.days ?? 90;

  return (
    <div className="dashboard">
      <div className="dash-head">
        <div>
          <h1 ref={titleRef} tabIndex={-1}>
            {t.dashboard.title}
          </h1>
          <p className="muted">{fill(t.dashboard.intro, { entity: entity?.name ?? entityId, zone: stats?.timeZone ?? '' })}</p>
        </div>
        <div className="dash-controls">
          <CallerSelect
            id="dash-caller"
            me={me}
            value={entityId}
            onChange={(id) => {
              setEntityId(id);
              setStats(null);
              setImpact(null);
              setLawDate(undefined);
            }}
          />
          <button
            type="button"
            className="button subtle"
            onClick={() => {
              load();
              setRefreshed((n) => n + 1);
            }}
          >
            {t.dashboard.refresh}
          </button>
        </div>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!stats ? (
        <p className="loading">{t.dashboard.loading}</p>
      ) : (
        <>
          <div className="kpis">
            <Kpi label={t.dashboard.consentsGiven} value={given} note={fill(t.dashboard.lastWeeks, { n: weeks })} tone="good" />
            <Kpi label={t.dashboard.consentsWithdrawn} value={withdrawn} note={fill(t.dashboard.lastWeeks, { n: weeks })} tone="bad" />
            <Kpi
              label={t.dashboard.checks}
              value={stats.decisions.total}
              note={
                stats.decisions.total
                  ? `${fill(t.dashboard.lastDays, { n: days })} · ${fill(t.dashboard.allowedShare, { pct: i18n.percent(stats.decisions.allowed / stats.decisions.total) })}`
                  : fill(t.dashboard.lastDays, { n: days })
              }
            />
            <Kpi label={t.dashboard.expiringSoon} value={stats.expiringRelationships.total} note={fill(t.dashboard.nextDays, { n: days })} tone="warn" />
          </div>

          <div className="grid-2">
            <WeeklyChart id="chart-given" title={t.dashboard.givenPerWeek} stats={stats} which="given" />
            <WeeklyChart id="chart-withdrawn" title={t.dashboard.withdrawnPerWeek} stats={stats} which="withdrawn" />
          </div>

          <div className="grid-2">
            <CountChart
              id="chart-basis"
              title={`${t.dashboard.byBasis} · ${fill(t.dashboard.lastDays, { n: days })}`}
              color={GREEN}
              item={t.verdict.basis}
              rows={stats.decisions.byBasis.map((b) => ({ key: b.basis, name: (t.bases[b.basis as keyof Dict['bases']] ?? [b.basis])[0], count: b.count }))}
            />
            <CountChart
              id="chart-denial"
              title={`${t.dashboard.byDenial} · ${fill(t.dashboard.lastDays, { n: days })}`}
              color={RED}
              item={t.verdict.reasons}
              rows={stats.decisions.byDenial.map((b) => ({ key: b.denial, name: shortDenial(t, b.denial), count: b.count }))}
            />
          </div>
          <CallsByAgent stats={stats} />
        </>
      )}

      <ScrubsCard me={me} entityId={entityId} entityName={entity?.name ?? entityId} refresh={refreshed} onSessionEnded={onSessionEnded} />

      <ImportsCard me={me} entityId={entityId} entityName={entity?.name ?? entityId} refresh={refreshed} onSessionEnded={onSessionEnded} />

      <LawImpact impact={impact} loading={impactLoading} entityName={entity?.name ?? entityId} date={lawDate} onDate={setLawDate} />

      {stats && <Expiring stats={stats} />}
    </div>
  );
}

/** The denial's sentence cut to its first clause, short enough for an axis label. */
const shortDenial = (t: Dict, d: string): string => (t.denials[d as keyof Dict['denials']] ?? d).split(':')[0]!;

/** A chart with its table; `level`: its heading's (3 inside a section with a heading of its own). */
function ChartCard({ id, title, empty, table, children, level = 2 }: { id: string; title: string; empty: boolean; table: ReactNode; children: ReactNode; level?: 2 | 3 }) {
  const { t } = useI18n();
  const Heading = level === 2 ? 'h2' : 'h3';
  return (
    <figure className="card chart-card" id={id} aria-labelledby={`${id}-title`}>
      <figcaption>
        <Heading id={`${id}-title`}>{title}</Heading>
      </figcaption>
      {/* Hidden from screen readers, which read the same figures from the table below (its axis
          labels and legend icons read as a jumble of numbers). */}
      {empty ? <p className="empty">{t.dashboard.noData}</p> : <div className="chart" aria-hidden="true">{children}</div>}
      {!empty && (
        <details className="as-table">
          <summary>{t.dashboard.showTable}</summary>
          {table}
        </details>
      )}
    </figure>
  );
}

function WeeklyChart({ id, title, stats, which }: { id: string; title: string; stats: Stats; which: 'given' | 'withdrawn' }) {
  const { t, date, number } = useI18n();
  const rows = stats.consentsByWeek.map((w) => ({ week: w.week, label: `W${w.week.slice(-2)}`, start: date(w.weekStart), ...w[which], total: w[which].phone + w[which].email + w[which].sms }));
  const empty = rows.every((r) => r.total === 0);
  const channels = ['phone', 'email', 'sms'] as const;
  const name = (c: (typeof channels)[number]) => t.channels[c].charAt(0).toUpperCase() + t.channels[c].slice(1);
  return (
    <ChartCard
      id={id}
      title={title}
      empty={empty}
      table={
        <div className="table-wrap">
          <table className="table compact">
            <TableHead columns={[t.dashboard.week, ...channels.map((c) => num(name(c))), num(t.dashboard.total)]} />
            <tbody>
              {rows.map((r) => (
                <tr key={r.week}>
                  <th scope="row">
                    {r.week} <span className="muted">({r.start})</span>
                  </th>
                  {channels.map((c) => (
                    <td key={c} className="num">
                      {number(r[c])}
                    </td>
                  ))}
                  <td className="num">{number(r.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      }
    >
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={rows} margin={{ top: 18, right: 8, bottom: 0, left: -18 }} accessibilityLayer={false}>
          <CartesianGrid stroke="#e2e8f0" vertical={false} />
          <XAxis dataKey="label" tick={AXIS} tickLine={false} axisLine={{ stroke: '#cbd5e1' }} interval="preserveStartEnd" />
          <YAxis allowDecimals={false} tick={AXIS} tickLine={false} axisLine={false} />
          <Tooltip labelFormatter={(_l, p) => (p?.[0]?.payload ? `${p[0].payload.week} · ${p[0].payload.start}` : '')} cursor={{ fill: '#f1f5f9' }} />
          <Legend iconType="square" wrapperStyle={{ fontSize: 13 }} itemSorter={(item) => channels.indexOf(item.dataKey as (typeof channels)[number])} />
          {channels.map((c) => (
            <Bar key={c} dataKey={c} name={name(c)} stackId="week" fill={CHANNEL_COLORS[c]} isAnimationActive={false}>
              {/* The week's total, above whichever segment is on top of the stack. */}
              <LabelList
                dataKey={c}
                content={(p) => {
                  const r = rows[Number(p.index)];
                  if (!r || channels.findLast((k) => r[k] > 0) !== c) return null;
                  return (
                    <text className="bar-total" x={Number(p.x) + Number(p.width) / 2} y={Number(p.y) - 6} textAnchor="middle">
                      {r.total}
                    </text>
                  );
                }}
              />
            </Bar>
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

/** Counts by a key as bars, and as a table whose first column is headed `item`. */
function CountChart({ id, title, item, rows, color, level }: { id: string; title: string; item: string; rows: Array<{ key: string; name: string; count: number }>; color: string; level?: 2 | 3 }) {
  const { t, number } = useI18n();
  const height = Math.max(140, rows.length * 44 + 30);
  return (
    <ChartCard
      id={id}
      title={title}
      level={level}
      empty={rows.length === 0}
      table={
        <table className="table compact">
          <TableHead columns={[item, num(t.dashboard.count)]} />
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.name}</th>
                <td className="num">{number(r.count)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t.dashboard.total}</th>
              <td className="num">{number(rows.reduce((s, r) => s + r.count, 0))}</td>
            </tr>
          </tfoot>
        </table>
      }
    >
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 40, bottom: 4, left: 4 }} barCategoryGap={10} accessibilityLayer={false}>
          <CartesianGrid stroke="#e2e8f0" horizontal={false} />
          <XAxis type="number" allowDecimals={false} tick={AXIS} tickLine={false} axisLine={false} />
          <YAxis type="category" dataKey="name" width={180} tick={{ ...AXIS, fill: '#1e293b' }} tickLine={false} axisLine={false} />
          <Tooltip cursor={{ fill: '#f1f5f9' }} />
          <Bar dataKey="count" name={t.dashboard.count} fill={color} radius={[0, 4, 4, 0]} isAnimationActive={false} maxBarSize={28}>
            <LabelList dataKey="count" position="right" className="bar-value" />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

function LawImpact({ impact, loading, entityName, date, onDate }: { impact: LawChangeImpact | null; loading: boolean; entityName: string; date: string | undefined; onDate: (d: string) => void }) {
  const { t, fill, date: fmtDate, number, lang } = useI18n();
  const [draft, setDraft] = useState(date ?? '');
  const inputId = useId();
  useEffect(() => setDraft(date ?? ''), [date]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (/^\d{4}-\d{2}-\d{2}$/.test(draft)) onDate(draft);
  };
  const change = impact?.change;
  const upcoming = impact?.changes.find((c) => c.id === change?.id)?.upcoming;
  const reasonRows =
    impact?.lostByReason.map((r) => ({ key: `${r.rule} ${r.code}`, name: `${r.rule} · ${reasonHeadline(r.code, lang) ?? r.code.replaceAll('_', ' ')}`, count: r.count })) ?? [];
  return (
    <section className="card law" aria-labelledby="law-title" aria-busy={loading || undefined}>
      <h2 id="law-title">{t.law.title}</h2>
      <p className="muted">{fill(t.law.intro, { entity: entityName })}</p>
      <div className="law-controls">
        <form className="law-date" onSubmit={submit}>
          <div className="field">
            <label htmlFor={inputId}>{t.law.date}</label>
            <input id={inputId} type="date" value={draft} onChange={(e) => setDraft(e.target.value)} />
          </div>
          <button type="submit" className="button">
            {t.law.show}
          </button>
        </form>
        {impact && impact.changes.length > 0 && (
          <div className="chips" role="group" aria-label={t.law.known}>
            <span className="chips-label">{t.law.known}:</span>
            {impact.changes.map((c) => (
              <button key={c.id} type="button" className="chip" aria-pressed={c.date === impact.date} onClick={() => onDate(c.date)}>
                {fmtDate(c.date)} · {c.rule} · {c.upcoming ? t.law.upcoming : t.law.inForce}
              </button>
            ))}
          </div>
        )}
      </div>
      {!impact ? (
        <p className="loading">{t.dashboard.loading}</p>
      ) : (
        <>
          <div className="law-change">
            {change ? (
              <p>
                <strong>
                  {change.rule}: {t.law.changes[change.id] ?? change.title}
                </strong>{' '}
                <span className="muted">{fill(upcoming ? t.law.future : t.law.audit, { date: fmtDate(impact.date) })}</span>
              </p>
            ) : (
              <p className="muted">{t.law.unknownChange}</p>
            )}
          </div>
          <p className="law-headline" data-lost={impact.lost}>
            {fill(t.law.headline, { lost: number(impact.lost), before: number(impact.callableBefore), date: fmtDate(impact.date) })}
          </p>
          <div className="kpis small">
            <Kpi label={t.law.checked} value={impact.numbersChecked} note="" />
            <Kpi label={t.law.callableBefore} value={impact.callableBefore} note={fmtDate(impact.before)} tone="good" />
            <Kpi label={t.law.callableAfter} value={impact.callableAfter} note={fmtDate(impact.after)} />
            <Kpi label={t.law.lost} value={impact.lost} note="" tone="bad" />
          </div>
          {impact.truncated && <p className="muted">{fill(t.law.truncated, { n: number(impact.numbersChecked) })}</p>}
          {impact.lost === 0 ? (
            <p className="empty">{t.law.none}</p>
          ) : (
            <div className="grid-2 inner">
              <CountChart id="chart-law" title={t.law.why} item={t.law.reason} color={AMBER} rows={reasonRows} level={3} />
              <div className="law-examples">
                <h3>{t.law.examples}</h3>
                <div className="table-wrap">
                  <table className="table stack">
                    <TableHead columns={[t.law.number, t.law.basisBefore, t.law.reason]} />
                    <tbody>
                      {impact.examples.slice(0, 10).map((x) => (
                        <tr key={x.phone}>
                          <td className="nowrap mono" data-label={t.law.number}>
                            {x.phone}
                          </td>
                          <td data-label={t.law.basisBefore}>{(t.bases[x.basisBefore as keyof Dict['bases']] ?? [x.basisBefore])[0]}</td>
                          <td data-label={t.law.reason}>
                            {x.reasons.map((r) => (
                              <span key={r.code} className="reason-line">
                                <span className="rule">{r.rule}</span> {reasonHeadline(r.code, lang) && <strong>{reasonHeadline(r.code, lang)}: </strong>}
                                <span lang="en">{r.detail}</span>
                              </span>
                            ))}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {impact.lost > Math.min(10, impact.examples.length) && <p className="muted small">{fill(t.expiring.more, { n: number(impact.lost - Math.min(10, impact.examples.length)) })}</p>}
                </div>
              </div>
            </div>
          )}
        </>
      )}
    </section>
  );
}

/** Who logged which calls, and the calls made although the check refused them: what a supervisor follows up. */
function CallsByAgent({ stats }: { stats: Stats }) {
  const { t, fill, dateTime, number } = useI18n();
  const c = stats.calls;
  const days = stats.expiringRelationships.days;
  return (
    <section className="card calls" aria-labelledby="calls-title">
      <h2 id="calls-title">{fill(t.calls.title, { n: days })}</h2>
      <p className="muted">{t.calls.intro}</p>
      {c.byAgent.length === 0 ? (
        <p className="empty">{t.calls.none}</p>
      ) : (
        <>
          <div className="kpis small">
            <Kpi label={t.calls.logged} value={c.total} note="" />
            <Kpi label={t.calls.refused} value={c.refused} note={c.refused ? t.calls.followUp : t.calls.noneRefused} tone={c.refused ? 'bad' : 'good'} />
          </div>
          <div className="table-wrap">
            <table className="table compact stack agents">
              <TableHead columns={[t.calls.agent, num(t.calls.calls), num(t.calls.refused), num(t.calls.optIns)]} />
              <tbody>
                {c.byAgent.map((a) => (
                  <tr key={a.agentId ?? ''}>
                    <th scope="row">{a.agentId ?? <span className="muted">{t.calls.noAgent}</span>}</th>
                    <td className="num" data-label={t.calls.calls}>
                      {number(a.calls)}
                    </td>
                    <td className="num" data-label={t.calls.refused}>
                      {a.refused ? <span className="count-bad">{number(a.refused)}</span> : number(0)}
                    </td>
                    <td className="num" data-label={t.calls.optIns}>
                      {number(a.optIns)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {c.refusedItems.length > 0 && (
            <>
              <h3>{t.calls.refusedTitle}</h3>
              <div className="table-wrap">
                <table className="table stack refused-calls">
                  <TableHead columns={[t.calls.when, t.calls.number, t.calls.agent, t.calls.reason]} />
                  <tbody>
                    {c.refusedItems.map((r) => (
                      <tr key={r.id}>
                        <td className="nowrap" data-label={t.calls.when}>
                          {dateTime(r.at)}
                        </td>
                        <td className="nowrap mono" data-label={t.calls.number}>
                          {r.phone ?? '–'}
                        </td>
                        <td data-label={t.calls.agent}>{r.agentId ?? <span className="muted">{t.calls.noAgent}</span>}</td>
                        <td data-label={t.calls.reason}>
                          {/* One block: in the stacked (phone) layout a cell's parts sit side by side. */}
                          <div>
                            {r.denials.map((d) => shortDenial(t, d)).join('; ') || '–'}
                            {r.allowedAtCheck && <span className="muted small block">{t.calls.changedSinceCheck}</span>}
                          </div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {c.refused > c.refusedItems.length && <p className="muted">{fill(t.expiring.more, { n: number(c.refused - c.refusedItems.length) })}</p>}
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}

function Expiring({ stats }: { stats: Stats }) {
  const { t, fill, date, number } = useI18n();
  const x = stats.expiringRelationships;
  return (
    <section className="card" aria-labelledby="expiring-title">
      <h2 id="expiring-title">{fill(t.expiring.title, { n: x.days })}</h2>
      {x.items.length === 0 ? (
        <p className="empty">{t.expiring.none}</p>
      ) : (
        <div className="table-wrap">
          <table className="table stack">
            <TableHead columns={[t.expiring.number, t.expiring.kind, t.expiring.expires, num(t.expiring.daysLeft)]} />
            <tbody>
              {x.items.map((r) => (
                <tr key={r.id}>
                  <td className="nowrap mono" data-label={t.expiring.number}>
                    {r.phone}
                  </td>
                  <td data-label={t.expiring.kind}>
                    {t.kinds[r.kind as keyof Dict['kinds']] ?? r.kind}, {r.productCategory}
                    <span className="muted small block">
                      {t.expiring.ended} {date(r.endedAt)}
                    </span>
                  </td>
                  <td className="nowrap" data-label={t.expiring.expires}>
                    {date(r.expiresAt)}
                  </td>
                  <td className="num" data-label={t.expiring.daysLeft}>
                    <span className={`days ${r.daysLeft < 30 ? 'soon' : ''}`}>{number(r.daysLeft)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {x.total > x.items.length && <p className="muted">{fill(t.expiring.more, { n: x.total - x.items.length })}</p>}
        </div>
      )}
    </section>
  );
}
