import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, broken, launchChromium, signIn, startWebServer, verdict, WEB_ADMIN, type WebServer } from './helpers/browser.js';
import { DEMO_TOKENS } from '../src/demo/seed.js';

/**
 * The agent and supervisor pages in a real browser (Debian's Chromium through playwright-core),
 * against the real server over a temporary SQLite store with the demo data.
 */
const available = hasChromium();
if (!available) {
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPING the browser tests: no Chromium at ${CHROMIUM}.\n!! Install it with: apt-get update && apt-get install -y chromium\n${'!'.repeat(78)}\n`,
  );
}

let server: WebServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newPage(opts: { locale?: string; bypassCSP?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: opts.locale ?? 'en-GB', timezoneId: 'Europe/Amsterdam', bypassCSP: opts.bypassCSP });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

/** Fills the check form with the mouse-free basics and presses Enter in the number field. */
async function check(page: Page, phone: string, caller = 'Voltana Energie B.V.'): Promise<string> {
  await page.getByLabel('Caller').selectOption({ label: caller });
  const field = page.getByLabel('Phone number');
  await field.fill(phone);
  // This check's answer, not the last one still on screen: wait for the request, then for the page.
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/decisions') && r.request().method() === 'POST');
  await field.press('Enter');
  await answered;
  await page.locator('#verdict:not([aria-busy])').waitFor();
  return verdict(page, /^(Allowed|Not allowed)/);
}

async function toast(page: Page, text: RegExp): Promise<void> {
  await page.locator('.toast').filter({ hasText: text }).waitFor();
}

/** Presses Tab until the focused element satisfies `is` (by id or accessible text), at most `max` times. */
async function tabTo(page: Page, is: { id?: string; text?: string }, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    const hit = await page.evaluate(({ id, text }) => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return false;
      return (id !== undefined && el.id === id) || (text !== undefined && el.textContent?.trim() === text);
    }, is);
    if (hit) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${JSON.stringify(is)}`);
}

/** A scrub's record as GET /v1/scrubs answers it, for answers the test server cannot give. */
/** A supervisor's dashboard with its *Check a call list* card shown: the page and the card. */
async function callListCard(opts: { bypassCSP?: boolean } = {}): Promise<{ page: Page; lists: Locator }> {
  const page = await newPage(opts);
  await signIn(page, server.url, DEMO_TOKENS.supervisor, '/dashboard');
  const lists = page.locator('section.call-list');
  await lists.getByRole('heading', { name: 'Check a call list' }).waitFor();
  return { page, lists };
}

function scrubRecord(over: Record<string, unknown> = {}): Record<string, unknown> {
  const id = (over.id as string | undefined) ?? 'scrub-web-1';
  return {
    id,
    entityId: 'voltana',
    status: 'done',
    at: '2026-12-01T09:30:00.000Z',
    productCategory: null,
    autodialed: false,
    prerecorded: false,
    lineType: null,
    subscriberType: 'consumer',
    inputName: 'leads.csv',
    phoneColumn: 'Phone',
    lineTypeColumn: null,
    otherPhoneColumns: [],
    scrubbedBefore: false,
    rows: 3,
    allowed: 1,
    denied: 1,
    invalid: 1,
    byBasis: { consent: 1 },
    byDenial: { no_basis: 1 },
    rulesVersion: null,
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    finishedAt: new Date(Date.now() - 50_000).toISOString(),
    durationMs: 10_000,
    error: null,
    errors: null,
    links: { self: `/v1/scrubs/${id}`, output: `/v1/scrubs/${id}/output`, rejects: null },
    ...over,
  };
}

// A browser on a busy machine: more time per test than the default.
describe.skipIf(!available)('agent and supervisor pages in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('signs in with an API key into an HttpOnly session cookie, remembers the caller, and signs out', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Sign in to Optline' }).waitFor();
    await page.getByLabel('API key').fill('wrong-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unknown, expired or revoked' }).waitFor();

    await page.getByLabel('API key').fill(DEMO_TOKENS.agent);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Phone number').waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'optline_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('optline_session');
    expect(await page.getByRole('status').textContent()).toMatch(/Enter a phone number/);

    // The caller chooser offers the key's entities, the key's first one first (the default), and remembers the choice.
    const options = await page.getByLabel('Caller').locator('option').allTextContents();
    expect(options).toEqual(['Voltana Energie B.V.', 'Voltana Solar B.V.', 'Stichting Kinderhulp', 'Het Dagblad']);
    expect(await page.getByLabel('Caller').inputValue()).toBe('voltana');
    await page.getByLabel('Caller').selectOption({ label: 'Stichting Kinderhulp' });
    await page.reload();
    await page.getByLabel('Phone number').waitFor();
    expect(await page.getByLabel('Caller').inputValue()).toBe('kinderhulp');
    // The number's example is in the caller's own format: national numbers are read in its country.
    expect(await page.locator('#phone-hint').textContent()).toBe('Any format, e.g. 06 1234 5678');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect((await page.context().cookies()).find((c) => c.name === 'optline_session')).toBeUndefined();
    await page.reload();
    await page.getByLabel('API key').waitFor();
    // A key for callers of other countries: the example follows the caller chosen.
    await signIn(page, server.url, WEB_ADMIN);
    await page.getByLabel('Caller').selectOption({ label: 'Solaris Home Inc.' });
    expect(await page.locator('#phone-hint').textContent()).toBe('Any format, e.g. (212) 555-0134');
  });

  it('checks a number with no basis: Not allowed, with every condition and its law row', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    const text = await check(page, '06 1234 9001');
    expect(text).toMatch(/^Not allowed/);
    expect(await page.locator('#verdict').getAttribute('class')).toMatch(/denied/);
    expect(await page.locator('[data-denial]').getAttribute('data-denial')).toBe('no_basis');
    expect(await page.locator('[data-denial]').textContent()).toMatch(/No basis to call/);
    // Conditions in plain language, each with its row of the law.
    const reasons = page.getByRole('heading', { name: 'Conditions checked' }).locator('xpath=ancestor::section').locator('li');
    expect(await reasons.count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('li[data-code="no_consent"]').textContent()).toMatch(/No consent to calls from Voltana Energie B\.V\. is on record\.\s*.*NL-2/);
    expect(await page.locator('li[data-code="no_request"] .rule').textContent()).toMatch(/NL-7/);
    // The national number is read in the caller's country and shown in E.164.
    expect(await page.locator('.verdict-details').textContent()).toMatch(/\+31612349001/);
    await page.getByRole('heading', { name: 'History of this number' }).waitFor();
    expect(await page.getByText('Nothing recorded for this number yet.').isVisible()).toBe(true);
    // Nothing to say when the call may not be made.
    expect(await page.getByRole('heading', { name: 'What you must say' }).count()).toBe(0);
  });

  it('says when a refusal only stands for now: the hour, the calls made, the register copy', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    // The engine's answer as it comes for such calls (the demo's clock is the real one, so the hour cannot be chosen).
    let denials: string[] = [];
    let callingWindow: Record<string, unknown> = { source: 'law', rule: 'US-5', timeZones: ['America/New_York', 'America/Los_Angeles'], from: '08:00', to: '21:00' };
    await page.route('**/v1/decisions', async (route) => {
      const real = (await (await route.fetch()).json()) as Record<string, unknown>;
      await route.fulfill({ json: { ...real, allowed: false, basis: null, denials, callingWindow } });
    });
    const lead = async (phone: string, d: string[]) => {
      denials = d;
      await check(page, phone);
      // This number's verdict, not the one before it.
      await page.locator('.verdict-details').filter({ hasText: `+3161234${phone.slice(-4)}` }).waitFor();
      return page.locator('.verdict-lead').textContent();
    };
    expect(await lead('06 1234 9001', ['outside_calling_hours'])).toBe(' Not at this hour: call between 08:00 and 21:00 the person’s local time (Eastern Time, Pacific Time). Nothing else stands in the way.');
    // An entity's window open on some days only: the days are said (on a Sunday, 10:00 is within 09:00–21:00 by the clock).
    callingWindow = { source: 'entity', rule: 'entity', timeZones: ['Europe/Amsterdam'], from: '09:00', to: '21:00', days: [1, 2, 3, 4, 5, 6] };
    expect(await lead('06 1234 9006', ['outside_calling_hours'])).toBe(' Not at this hour: call on Monday–Saturday between 09:00 and 21:00 the person’s local time (Central European Time). Nothing else stands in the way.');
    callingWindow = { ...callingWindow, days: [1, 3, 5] };
    expect(await lead('06 1234 9007', ['outside_calling_hours'])).toMatch(/^ Not at this hour: call on Monday, Wednesday,? and Friday between 09:00/);
    expect(await lead('06 1234 9002', ['frequency_cap'])).toMatch(/^ Not now: .* Try again later\.$/);
    expect(await lead('06 1234 9003', ['register_stale'])).toMatch(/^ Not until a current copy of the do-not-call register is loaded/);
    // Two of them together: both said, still not a refusal of the person.
    expect(await lead('06 1234 9005', ['outside_calling_hours', 'frequency_cap'])).toMatch(/^ Not at this hour: .* Not now: .* Try again later\.$/);
    // With a lasting reason too, the call is simply not to be made.
    expect(await lead('06 1234 9004', ['objected', 'outside_calling_hours'])).toBe(' Do not call this number. On a call already: make no offer and end it politely.');
  });

  it('records a phone opt-in with its versioned script: Allowed on the basis of consent', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await check(page, '+31 6 1234 9002')).toMatch(/^Not allowed/);
    await page.getByRole('button', { name: 'Record phone opt-in' }).click();
    const script = await page.locator('blockquote.script').textContent();
    expect(script).toMatch(/^Mag Voltana Energie B\.V\. u op dit nummer bellen/); // a Dutch number: the Dutch script
    expect(await page.getByText('Consent script phone-opt-in, version 1').isVisible()).toBe(true);
    await page.getByLabel('Agent ID').fill('agent-42');
    await page.getByLabel('Call ID').fill('call-9002');
    await page.getByRole('button', { name: 'The person agreed – save opt-in' }).click();
    expect(await verdict(page, /^Allowed/)).toMatch(/^Allowed/);
    await toast(page, /Phone opt-in saved \(call ID call-9002\)/);
    expect(await page.locator('[data-basis]').getAttribute('data-basis')).toBe('consent');
    expect(await page.locator('.verdict-basis').textContent()).toMatch(/Basis:\s*Consent/);
    // The obligations as sentences the agent says.
    const say = await page.locator('.say-list li').allTextContents();
    expect(say).toContain('Tell the person they can object to further calls, and note it if they do');
    // The history shows the consent with the wording, script version, agent and call.
    const event = page.locator('.timeline li[data-type="consent"]').first();
    await event.waitFor();
    const text = await event.textContent();
    expect(text).toMatch(/Consent given \(phone\)/);
    expect(text).toMatch(/by agent-42/);
    expect(text).toMatch(/call call-9002/);
    expect(text).toContain(`${script} [script phone-opt-in v1, nl]`);
    // Stored as the API records it.
    const history = await server.app.store.history('+31612349002');
    const fact = history.events.find((e) => e.type === 'consent');
    expect(fact).toMatchObject({ entityId: 'voltana', channel: 'phone', status: 'granted', source: { method: 'agent_call', agentId: 'agent-42', callId: 'call-9002', wording: `${script} [script phone-opt-in v1, nl]` } });
  });

  it('records an objection: Not allowed, objected', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await check(page, '06 1234 0001')).toMatch(/^Allowed/); // the demo's consent
    // It cannot be taken back: a second press, after saying what it does; Cancel (or Escape) records nothing.
    await page.getByRole('button', { name: 'Record objection' }).click();
    const confirm = page.getByRole('group', { name: 'Record an objection?' });
    expect(await confirm.textContent()).toContain('Voltana Energie B.V. will make no more marketing calls to +31612340001 unless the person consents again later.');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Record objection' }).evaluate((b) => b === document.activeElement)).toBe(true);
    await page.getByRole('button', { name: 'Record objection' }).click();
    await page.keyboard.press('Escape');
    expect(await confirm.count()).toBe(0);
    expect(await verdict(page, /^Allowed/)).toMatch(/^Allowed/);
    // The focus starts on Cancel; an edit of the form closes the panel for good, so undoing the
    // edit and pressing Enter checks the number again and records nothing.
    await page.getByRole('button', { name: 'Record objection' }).click();
    expect(await confirm.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === document.activeElement)).toBe(true);
    const field = page.getByLabel('Phone number');
    await field.press('End');
    await field.pressSequentially('9');
    expect(await confirm.count()).toBe(0);
    await field.press('Backspace');
    expect(await confirm.count()).toBe(0);
    await field.press('Enter');
    expect(await verdict(page, /^Allowed/)).toMatch(/^Allowed/);
    await page.getByRole('button', { name: 'Record objection' }).click();
    await confirm.getByRole('button', { name: 'Yes, record the objection' }).click();
    expect(await verdict(page, /^Not allowed/)).toMatch(/^Not allowed/);
    await toast(page, /Objection saved/);
    expect(await page.locator('[data-denial]').getAttribute('data-denial')).toBe('objected');
    expect(await page.locator('[data-denial]').textContent()).toBe('The person objected to calls');
    expect(await page.locator('li[data-code="objected"]').textContent()).toMatch(/objected to calls from Voltana Energie B\.V\..*NL-8/);
    // Newest first in the history.
    await page.locator('.timeline li').first().filter({ hasText: 'Objected to calls' }).waitFor();
  });

  /** Records a verified phone consent to Voltana for a number of a test's own, a minute ago. */
  const consentFor = async (phone: string) => {
    const res = await fetch(`${server.url}/v1/consents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEB_ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ entityId: 'voltana', channel: 'phone', status: 'granted', at: new Date(Date.now() - 60_000).toISOString(), phone, source: { method: 'web_form', recordingRef: 'rec://t' } }),
    });
    expect(res.status).toBe(201);
  };

  it('never records an answer for another number than the verdict on screen, nor keeps a verdict after a failed check', async () => {
    // A number of its own, with a consent (the demo's numbers change in the tests before).
    await consentFor('+31612349911');
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await check(page, '06 1234 9911')).toMatch(/^Allowed/);
    await page.getByText('For +31612349911 · Voltana Energie B.V.').waitFor();
    const objection = page.getByRole('button', { name: 'Record objection' });
    expect(await objection.isEnabled()).toBe(true);
    // Another number typed, not checked: the verdict is marked as not for it, and answers wait for a check.
    await page.getByLabel('Phone number').fill('06 1234 0009');
    await page.getByText('Checked for +31612349911 – not for what the form says now. Press Check.').waitFor();
    await page.getByText('The number, caller or product changed since +31612349911 was checked').waitFor();
    for (const name of ['Record phone opt-in', 'Record objection', 'Record call request', 'Withdraw consent', 'Log call made']) {
      expect(await page.getByRole('button', { name }).isDisabled(), name).toBe(true);
    }
    // Back to the checked number: the answers are open again.
    await page.getByLabel('Phone number').fill('06 1234 9911');
    expect(await objection.isEnabled()).toBe(true);
    // A check that fails leaves no verdict on screen – not the last number's "Allowed".
    await page.route('**/v1/decisions', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', json: { status: 503, title: 'Store unavailable', detail: 'The consent store cannot be reached right now.' } }));
    await page.getByLabel('Phone number').fill('06 1234 0004');
    await page.getByLabel('Phone number').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'cannot be reached' }).waitFor();
    expect(await page.locator('#verdict [data-allowed]').count()).toBe(0);
    expect(await objection.isDisabled()).toBe(true);
    await page.unroute('**/v1/decisions');
    // No consent on record for the number: nothing to withdraw, though an objection can be recorded.
    expect(await check(page, '06 1234 9912')).toMatch(/^Not allowed/);
    expect(await objection.isEnabled()).toBe(true);
    await expect.poll(() => page.getByRole('button', { name: 'Withdraw consent' }).isDisabled()).toBe(true);
  });

  it('gives the typed number back after a session that ended mid-call, and forgets it on sign-out', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    await page.getByLabel('Phone number').fill('06 1234 0077');
    await page.route('**/v1/decisions', (route) => route.fulfill({ status: 401, contentType: 'application/problem+json', json: { status: 401, title: 'Unauthorized' } }));
    await page.getByLabel('Phone number').press('Enter');
    await page.getByLabel('API key').waitFor();
    await page.unroute('**/v1/decisions');
    await page.getByLabel('API key').fill(DEMO_TOKENS.agent);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByLabel('Phone number').inputValue()).toBe('06 1234 0077');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').fill(DEMO_TOKENS.agent);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Phone number').waitFor();
    expect(await page.getByLabel('Phone number').inputValue()).toBe('');
  });

  it('is ready for the next number after a check, and says plainly when an answer was not saved', async () => {
    await consentFor('+31612349921');
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    const field = page.getByLabel('Phone number');
    await field.fill('0612340005');
    await field.press('Enter');
    expect(await verdict(page, /^(Allowed|Not allowed)/)).toMatch(/^Not allowed/);
    // A number with a digit too few is a slip to correct, not a refusal: said so, and nothing to record for it.
    await page.keyboard.type('061234992');
    await field.press('Enter');
    expect(await verdict(page, /^Number not readable/)).toBe('Number not readable: It is not a phone number that can be called. Nothing was decided: correct it and check again.');
    // No line of details for a number there is none of.
    expect(await page.locator('.verdict-details').count()).toBe(0);
    expect(await page.locator('.verdict.unreadable').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Record objection' }).isDisabled()).toBe(true);
    // Typing straight away replaces the checked number instead of adding to it.
    await page.keyboard.type('0612349921');
    expect(await field.inputValue()).toBe('0612349921');
    await field.press('Enter');
    expect(await verdict(page, /^Allowed/)).toMatch(/^Allowed/);
    // A save that fails says so beside the buttons, by name.
    await page.route('**/v1/objections', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', json: { status: 503, title: 'Store unavailable', detail: 'The consent store cannot be reached right now.' } }));
    await page.getByRole('button', { name: 'Record objection' }).click();
    await page.getByRole('button', { name: 'Yes, record the objection' }).click();
    await page.getByRole('alert').filter({ hasText: 'NOT saved: the objection' }).waitFor();
    // A session that ends during a save: the sign-in page says what was not recorded.
    await page.route('**/v1/objections', (route) => route.fulfill({ status: 401, contentType: 'application/problem+json', json: { status: 401, title: 'Unauthorized' } }));
    await page.getByRole('button', { name: 'Yes, record the objection' }).click();
    await page.getByText('Your session ended before the objection was saved: it was NOT recorded.').waitFor();
    await page.unroute('**/v1/objections');
    // A business line is checked as one (NL-1: the opt-out regime).
    await page.getByLabel('API key').fill(DEMO_TOKENS.agent);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await field.fill('+31201234567');
    await page.getByRole('radio', { name: 'A business line' }).check();
    await field.press('Enter');
    expect(await verdict(page, /^(Allowed|Not allowed)/)).toMatch(/^Allowed/);
    expect(await page.locator('[data-basis]').getAttribute('data-basis')).toBe('opt_out_regime');
  });

  it('tells an agent who opens the dashboard that it is not theirs, with the way back', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    await page.goto(`${server.url}/dashboard`);
    await page.getByText('This page is for supervisors and compliance officers').waitFor();
    await page.getByRole('link', { name: 'To the agent page' }).click();
    await page.getByLabel('Phone number').waitFor();
  });

  it('a call request allows exactly one call', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await check(page, '0612349004')).toMatch(/^Not allowed/);
    await page.getByRole('button', { name: 'Record call request' }).click();
    await page.getByLabel('What should the call be about?').fill('a heat pump for a semi-detached house');
    await page.getByRole('button', { name: 'Save call request' }).click();
    expect(await verdict(page, /^Allowed/)).toMatch(/^Allowed/);
    await toast(page, /Call request saved/);
    expect(await page.locator('[data-basis]').getAttribute('data-basis')).toBe('requested_communication');
    expect(await page.locator('.say-list li').allTextContents()).toContain('Say who you are calling for, what the offer is, and that you call because the person asked');
    await page.getByText('Asked to be called about “a heat pump for a semi-detached house”').waitFor();
    // What the call must keep to, where the agent reads what to say (NL-7).
    expect(await page.locator('.say-offer').textContent()).toBe('The person asked to be called about: “a heat pump for a semi-detached house”. Keep to that offer.');

    // The agent ID this browser remembers (from the agent's last opt-in) goes with the call.
    await page.evaluate(() => localStorage.setItem('optline.agentId', 'agent-31'));
    await page.getByRole('button', { name: 'Log call made' }).click();
    expect(await verdict(page, /^Not allowed/)).toMatch(/^Not allowed/);
    await toast(page, /Call logged\. \(\+\d+\) This was the one call the person asked for: you may finish it/);
    expect(await page.locator('li[data-code="request_used"]').textContent()).toMatch(/that one call was made/);
    // The history shows the call with who made it.
    await page.locator('.timeline li[data-type="call"]').filter({ hasText: 'by agent-31' }).waitFor();
    // The call is logged with the decision that allowed it.
    const calls = (await server.app.store.history('+31612349004')).events.filter((e) => e.type === 'call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ agentId: 'agent-31', allowed: true });
    await server.app.decisions.flush();
    const allowedBy = await server.app.store.getDecision((calls[0] as { decisionId: string }).decisionId);
    expect(allowedBy).toMatchObject({ allowed: true, basis: 'requested_communication', phone: '+31612349004' });
  });

  it('withdraws a consent after saying what it does', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await check(page, '06 1234 0001', 'Voltana Solar B.V.')).toMatch(/^Not allowed/); // the parent's consent does not count
    await page.getByRole('button', { name: 'Record phone opt-in' }).click();
    await page.getByLabel('Agent ID').fill('agent-7');
    await page.getByRole('button', { name: 'The person agreed – save opt-in' }).click();
    await verdict(page, /^Allowed/);
    await page.getByRole('button', { name: 'Withdraw consent' }).click();
    await page.getByRole('button', { name: 'Yes, withdraw the consent' }).click();
    await verdict(page, /^Not allowed/);
    await toast(page, /Consent withdrawal saved/);
    await page.locator('.timeline li').first().filter({ hasText: 'Consent withdrawn (phone)' }).waitFor();
  });

  it('renders the dashboard charts from real data', async () => {
    // An entity of its own, with figures known in advance.
    const call = async (method: 'PUT' | 'POST', path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${WEB_ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await call('PUT', '/v1/entities/webtest', { name: 'Web Test B.V.', kind: 'company', country: 'NL' });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    for (let i = 0; i < 3; i++) {
      await call('POST', '/v1/consents', { entityId: 'webtest', channel: 'phone', status: 'granted', at: iso(now - 1000 * (i + 1)), phone: `+3161111900${i}`, source: { method: 'agent_call', recordingRef: 'rec://x' } });
    }
    await call('POST', '/v1/consents', { entityId: 'webtest', channel: 'email', status: 'granted', at: iso(now - 7 * 86_400_000), email: 'a@example.org', phone: '+31611119100' });
    await call('POST', '/v1/consents', { entityId: 'webtest', channel: 'email', status: 'granted', at: iso(now - 7 * 86_400_000 - 1000), email: 'b@example.org', phone: '+31611119101' });
    await call('POST', '/v1/relationships', { phone: '+31611119200', entityId: 'webtest', kind: 'purchase', productCategory: 'energy', startedAt: '2024-02-01T00:00:00Z', informedAtCollection: true, optOutOfferedAtCollection: true });
    const decided: Record<string, string> = {};
    for (const phone of ['+31611119000', '+31611119001', '+31611119300']) {
      decided[phone] = (await call('POST', '/v1/decisions', { phone, entityId: 'webtest' })).decisionId as string;
      expect(decided[phone]).toBeTruthy();
    }
    // Two calls: one on an allowed check, one although the check refused it (no basis).
    await call('POST', '/v1/calls', { phone: '+31611119000', entityId: 'webtest', at: iso(now - 500), decisionId: decided['+31611119000'], agentId: 'agent-web-1' });
    await call('POST', '/v1/calls', { phone: '+31611119300', entityId: 'webtest', at: iso(now - 400), decisionId: decided['+31611119300'], agentId: 'agent-web-2' });

    const page = await newPage();
    await signIn(page, server.url, WEB_ADMIN, '/dashboard');
    await page.getByRole('heading', { name: 'Supervisor dashboard' }).waitFor();
    // Signed in, the keyboard starts at the page's heading (the sign-in form it was in is gone).
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    await page.getByLabel('Caller').selectOption({ label: 'Web Test B.V.' });
    await page.getByText('Figures for Web Test B.V.').waitFor();
    // Choosing the caller already shown again (the change event repeats it) keeps the figures.
    await page.getByLabel('Caller').selectOption({ label: 'Web Test B.V.' });

    const given = page.locator('#chart-given');
    await given.locator('svg.recharts-surface').first().waitFor({ timeout: 10_000 });
    // Twelve weekly columns, this week's total 3 and last week's 2, as labels on the stacks.
    // SVG text sits in recharts' zero-width measuring wrapper: wait for it to be in the page, not "visible".
    const attached = { state: 'attached' } as const;
    await given.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').first().waitFor(attached);
    const ticks = await given.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents();
    expect(ticks.length).toBeGreaterThanOrEqual(6);
    expect(ticks.every((t) => /^W\d\d$/.test(t))).toBe(true);
    await given.locator('.bar-total').filter({ hasText: /^3$/ }).waitFor(attached);
    // Left to right: last week's 2, then this week's 3.
    const totals = await given.locator('.bar-total').evaluateAll((els) => els.map((e) => ({ text: e.textContent, x: Number(e.getAttribute('x')) })).sort((a, b) => a.x - b.x).map((e) => e.text));
    expect(totals).toEqual(['2', '3']);
    // Bars are drawn: phone (this week) and e-mail (last week) rectangles with a height.
    const heights = await given.locator('.recharts-bar-rectangle path').evaluateAll((els) => els.map((e) => (e as SVGGraphicsElement).getBBox().height).filter((h) => h > 0));
    expect(heights).toHaveLength(2);
    expect(Math.max(...heights) / Math.min(...heights)).toBeCloseTo(1.5, 1);
    const legend = await given.locator('.recharts-legend-item-text').allTextContents();
    expect(legend).toEqual(['Phone', 'E-mail', 'SMS']);

    // Decisions by basis and by denial.
    const basis = page.locator('#chart-basis');
    await basis.locator('.recharts-yAxis-tick-labels').getByText('Consent', { exact: true }).waitFor(attached);
    expect(await basis.locator('.bar-value').allTextContents()).toEqual(['2']);
    const denial = page.locator('#chart-denial');
    await denial.locator('.recharts-yAxis-tick-labels').getByText('No basis to call').waitFor(attached);
    expect(await denial.locator('.bar-value').allTextContents()).toEqual(['1']);
    expect(await page.locator('.kpi').filter({ hasText: 'Checks' }).locator('.kpi-value').textContent()).toBe('3');
    expect(await page.locator('.kpi').filter({ hasText: 'Consents given' }).locator('.kpi-value').textContent()).toBe('5');

    // Calls by agent: the one made although refused is counted against its agent and listed.
    const calls = page.locator('section.calls');
    await calls.getByRole('heading', { name: 'Calls by agent · last 90 days' }).waitFor();
    expect(await calls.locator('.kpi').filter({ hasText: 'Calls logged' }).locator('.kpi-value').textContent()).toBe('2');
    expect(await calls.locator('.kpi.bad').filter({ hasText: 'Called although not allowed' }).locator('.kpi-value').textContent()).toBe('1');
    const agentRows = await calls.locator('table.agents tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    expect(agentRows).toEqual([
      ['agent-web-2', '1', '1', '0'],
      ['agent-web-1', '1', '0', '0'],
      ['no agent ID given', '0', '0', '3'], // the opt-ins above were recorded without one
    ]);
    const refusedRow = calls.locator('table.refused-calls tbody tr');
    expect(await refusedRow.count()).toBe(1);
    expect(await refusedRow.locator('td.mono').textContent()).toBe('+31611119300');
    expect(await refusedRow.locator('td').last().textContent()).toBe('No basis to call');

    // The law change: the customer of 2024 loses the basis on 1 July 2026 (NL-3).
    const law = page.locator('section.law');
    await law.locator('.law-headline[data-lost="1"]').waitFor();
    expect(await law.locator('.law-headline').textContent()).toMatch(/^1 of \d+ numbers callable the day before lose their basis on 1 Jul 2026$/);
    await law.locator('#chart-law .recharts-yAxis-tick-labels').getByText(/NL-3/).waitFor(attached);
    expect(await law.locator('td.mono').allTextContents()).toEqual(['+31611119200']);
    // An audit of another date through the date picker: nothing changes then.
    await law.getByLabel('Date of the change').fill('2026-03-02');
    await law.getByRole('button', { name: 'Show impact' }).click();
    await law.locator('.law-headline[data-lost="0"]').waitFor();
    expect(await law.getByText('No change of law is known for this date').isVisible()).toBe(true);
    await law.getByRole('button', { name: /1 Jul 2026 · NL-3/ }).click();
    await law.locator('.law-headline[data-lost="1"]').waitFor();

    // Check a call list: uploaded from the page, scrubbed by the server (POST /v1/scrubs), its
    // summary shown, its output downloadable, and listed under the caller's recent scrubs.
    const lists = page.locator('section.call-list');
    await lists.getByRole('heading', { name: 'Check a call list' }).waitFor();
    await lists.getByRole('heading', { name: 'Recent list checks' }).waitFor();
    await lists.getByText('No lists checked yet.', { exact: false }).waitFor();
    const fileField = lists.getByLabel('Call list (CSV)');
    const checkList = lists.getByRole('button', { name: 'Check list' });
    // Without a file: said so at the field, nothing sent.
    await checkList.click();
    await lists.getByText('Choose the CSV file of the list first.').waitFor();
    expect(await fileField.getAttribute('aria-invalid')).toBe('true');
    // A list without a header row: said in the page's words, the person's data not repeated.
    await fileField.setInputFiles({ name: 'no-header.csv', mimeType: 'text/csv', buffer: Buffer.from('+31612340004,Jan Jansen\n') });
    await checkList.click();
    await lists.getByRole('alert').filter({ hasText: 'no header row' }).waitFor();
    expect(await lists.getByRole('alert').textContent()).toBe('The first row of the list holds a phone number: the list has no header row naming its columns. Add one (for example phone,name,…) and check the list again.');
    // A list without a phone column: the server's problem, naming the columns it saw.
    await fileField.setInputFiles({ name: 'no-phone.csv', mimeType: 'text/csv', buffer: Buffer.from('id,name\n1,A\n') });
    await checkList.click();
    await lists.getByRole('alert').filter({ hasText: '"id", "name"' }).waitFor();
    // Said in the page's words, at the field that fixes it (not the command line's --phone-column).
    expect(await lists.getByRole('alert').textContent()).toBe('No column of the list was recognised as the phone numbers (columns: "id", "name"). Enter the name of the column with the numbers under Phone column and check the list again.');
    expect(await lists.getByLabel('Phone column').getAttribute('aria-invalid')).toBe('true');
    // A column named that the list does not have: said the same way, in the page's words.
    await lists.getByLabel('Phone column').fill('telefoon');
    expect(await lists.getByLabel('Phone column').getAttribute('aria-invalid')).toBeNull();
    await checkList.click();
    await lists.getByRole('alert').filter({ hasText: 'The list has no column “telefoon” (columns: "id", "name")' }).waitFor();
    expect(await lists.getByLabel('Phone column').getAttribute('aria-invalid')).toBe('true');
    await lists.getByLabel('Phone column').fill('');
    // A list in the CRM's own columns and the customer's own format, decided for a moment after 1 July 2026.
    const csv = ['klant,naam,telefoon', '1,"Jansen, A",06 1111 9000', '2,B,+31611119200', '3,C,+31611119300', '4,D,geen nummer'].join('\r\n') + '\r\n';
    await fileField.setInputFiles({ name: 'leads week 48 – één.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await lists.getByLabel('Moment of the calls').fill('2026-12-01T10:30');
    // Dialled by an automatic dialer: asked of every row (no Dutch row needs more for it), and said with the result.
    await lists.getByRole('group', { name: 'How the calls are made' }).getByLabel('by an automatic dialer').check();
    await lists.getByRole('group', { name: 'How the calls are made' }).getByLabel('Line type:').selectOption({ label: 'all mobile' });
    // From the keyboard: the button keeps the focus while the list runs, the result's heading takes
    // it when the result is in, and a screen reader hears one line of it.
    await checkList.focus();
    await page.keyboard.press('Enter');
    const result = lists.locator('.call-list-result');
    await result.waitFor();
    await page.waitForFunction(() => document.activeElement?.matches('.call-list-result h3'));
    expect(await lists.locator('p[aria-live]').textContent()).toBe('leads week 48 – één.csv checked: 4 rows, 1 may be called, 2 may not, 1 unreadable.');
    expect(await result.locator('h3').textContent()).toBe('leads week 48 – één.csv, decided for 1 Dec 2026, 10:30');
    expect(await result.locator('.call-list-question').textContent()).toBe('automatic dialer, mobile lines');
    // The column whose numbers were checked, found from the header; no other column looks like phone numbers.
    expect(await result.locator('.call-list-phone-column').textContent()).toBe('Phone column checked: “telefoon”');
    expect(await result.locator('.call-list-other-columns, .call-list-scrubbed-before').count()).toBe(0);
    const kpi = (label: string) => result.locator('.kpi').filter({ hasText: label }).locator('.kpi-value').textContent();
    expect([await kpi('Rows'), await kpi('May be called'), await kpi('May not be called'), await kpi('Unreadable numbers')]).toEqual(['4', '1', '2', '1']);
    expect(await result.locator('.count-list').first().locator('tbody tr').allInnerTexts()).toEqual([expect.stringMatching(/^Consent\s+1\s+25%$/)]);
    expect(await result.locator('.count-list').nth(1).locator('tbody tr').allInnerTexts()).toEqual([expect.stringMatching(/^No basis to call.*\s+2\s+50%$/)]);
    // The download is the scrubbed list: every column kept, the decision appended (the 2024 customer lost its basis on 1 July 2026, NL-3).
    const href = await result.getByRole('link', { name: 'Download the checked list' }).getAttribute('href');
    // Saved under the list's name with what it now is, in the page's language.
    expect(await result.getByRole('link', { name: 'Download the checked list' }).getAttribute('download')).toBe('leads week 48 – één-checked.csv');
    expect(await result.getByRole('link', { name: 'Download the unreadable rows' }).getAttribute('download')).toBe('leads week 48 – één-unreadable.csv');
    const download = await page.request.get(`${server.url}${href}`);
    expect(download.status()).toBe(200);
    // Saved under the list's own name.
    expect(download.headers()['content-disposition']).toBe(`attachment; filename="leads week 48 ? één-checked.csv"; filename*=UTF-8''leads%20week%2048%20%E2%80%93%20%C3%A9%C3%A9n-checked.csv`);
    expect((await download.text()).split('\r\n')).toEqual([
      'klant,naam,telefoon,e164,allowed,basis,denials',
      '1,"Jansen, A",06 1111 9000,+31611119000,true,consent,',
      '2,B,+31611119200,+31611119200,false,,no_basis',
      '3,C,+31611119300,+31611119300,false,,no_basis',
      '4,D,geen nummer,,false,,invalid_number',
      '',
    ]);
    expect(await result.getByRole('link', { name: 'Download the unreadable rows' }).getAttribute('href')).toMatch(/^\/v1\/scrubs\/[^/]+\/rejects$/);
    const scrubRow = lists.locator('table.scrubs tbody tr');
    await scrubRow.first().waitFor();
    // Newest first; the list without a phone column is on record as failed, with the reason.
    expect(await scrubRow.count()).toBe(4);
    // Each with what its rows were decided for: the moment, the product, how the calls are made.
    expect(await scrubRow.first().locator('td').allInnerTexts()).toEqual([expect.any(String), 'leads week 48 – één.csv', '1 Dec 2026, 10:30\nautomatic dialer, mobile lines\nPhone column checked: “telefoon”', '4', '1', '2', '1', 'Download']);
    expect((await scrubRow.nth(1).locator('td').allTextContents()).at(-1)).toMatch(/^Failed.*The list has no column “telefoon”/);
    const failedCells = (await scrubRow.nth(2).locator('td').allTextContents()).slice(1);
    expect(failedCells.slice(0, 1)).toEqual(['no-phone.csv']);
    expect(failedCells.slice(2, 6)).toEqual(['—', '—', '—', '—']);
    // Nothing was decided for a list that failed: no moment, no "live calls".
    expect(failedCells[1]).toBe('—');
    // The reason is in the row, not only on hover.
    expect(failedCells[6]).toMatch(/^Failed.*No column of the list was recognised as the phone numbers \(columns: "id", "name"\)/);
    expect((await scrubRow.nth(3).locator('td').allTextContents()).at(-1)).toMatch(/^Failed.*The first row of the list holds a phone number/);
    // Another caller has its own lists.
    await page.getByLabel('Caller').selectOption({ label: 'Voltana Energie B.V.' });
    await lists.getByText('No lists checked yet.', { exact: false }).waitFor();
    await page.getByLabel('Caller').selectOption({ label: 'Web Test B.V.' });
    await scrubRow.first().waitFor();
    // Past scrubs that cannot be read are said to be unavailable, not "none".
    await page.route('**/v1/scrubs?*', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', json: { status: 503, title: 'Store unavailable' } }));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await lists.getByText('Past list checks cannot be shown right now.').waitFor();
    await page.unroute('**/v1/scrubs?*');
  });

  it('checks a list of businesses as such (NL-1: legal persons are called under opt-out)', async () => {
    const { lists } = await callListCard();
    await lists.getByLabel('Call list (CSV)').setInputFiles({ name: 'companies.csv', mimeType: 'text/csv', buffer: Buffer.from('company,phone\nAcme B.V.,020 123 4567\n') });
    await lists.getByRole('group', { name: 'Whose numbers' }).getByLabel('Numbers of:').selectOption({ label: 'businesses (legal persons)' });
    await lists.getByRole('button', { name: 'Check list' }).click();
    const result = lists.locator('.call-list-result');
    await result.waitFor();
    expect(await result.locator('.call-list-question').textContent()).toBe('live calls, businesses');
    expect(await result.locator('.kpi').filter({ hasText: 'May be called' }).locator('.kpi-value').textContent()).toBe('1');
    expect(await result.locator('.count-list').first().locator('tbody tr').allInnerTexts()).toEqual([expect.stringMatching(/^Opt-out regime.*\s+1\s+100%$/)]);
  });

  it('reads each row\'s line type from a column the supervisor names, says what it read, and a column the list lacks at its field', async () => {
    const { page, lists } = await callListCard();
    const list = (buffer: string) => lists.getByLabel('Call list (CSV)').setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(buffer) });
    const column = lists.getByRole('group', { name: 'How the calls are made' }).getByLabel('Line type column');
    await list('phone,wireless\n06 1234 0001,yes\n');
    await column.fill('carrier type');
    await lists.getByRole('button', { name: 'Check list' }).click();
    await page.waitForFunction(() => document.querySelector('section.call-list [aria-invalid="true"]') !== null);
    expect(await column.getAttribute('aria-invalid')).toBe('true');
    expect(await lists.getByRole('alert').filter({ hasText: 'carrier type' }).textContent()).toBe('The list has no column “carrier type” for the line type. Columns in the list: "phone", "wireless".');
    await list('phone,line\n06 1234 0001,Wireless\n06 1234 0005,landline\n06 1234 0002,voip\n');
    await column.fill('line');
    expect(await column.getAttribute('aria-invalid')).toBeNull();
    await lists.getByRole('button', { name: 'Check list' }).click();
    const result = lists.locator('.call-list-result');
    await result.waitFor();
    expect(await result.locator('.call-list-question').textContent()).toBe('live calls, line types from “line”');
    expect(await result.locator('.call-list-line-types').textContent()).toBe('Line types in “line”: 1 mobile, 1 landline, 0 empty. Neither: 1, decided as empty ones.');
  });

  it('keeps asking after a failed status request while a list is checked, and gives up only when the check cannot be read', async () => {
    const { page, lists } = await callListCard();
    const fileField = lists.getByLabel('Call list (CSV)');
    const checkList = lists.getByRole('button', { name: 'Check list' });
    const spinner = lists.locator('.call-list-running');
    const notice = lists.locator('.call-list-retrying');
    const lostText = 'Connection lost – the check goes on on the server; trying again…';
    // The status requests (GET /v1/scrubs/{id}) as a flaky connection answers them, in turn: none,
    // a server error, a proxy's 503, then through; the upload is real.
    type Answer = 'offline' | 'through' | number;
    const flaky: Answer[] = ['offline', 500, 503];
    let then: Answer = 'through';
    const asked: number[] = [];
    await page.route('**/v1/scrubs/*', async (route) => {
      asked.push(Date.now());
      const answer = flaky.shift() ?? then;
      if (answer === 'offline') return route.abort('internetdisconnected');
      if (answer === 'through') return route.continue();
      const detail = answer === 403 ? 'This key may not read scrubs.' : answer === 404 ? 'No such scrub.' : 'The store did not answer.';
      return route.fulfill({ status: answer, contentType: 'application/problem+json', json: { status: answer, title: 'Problem', detail } });
    });
    await fileField.setInputFiles({ name: 'blip.csv', mimeType: 'text/csv', buffer: Buffer.from('phone\n06 1234 0001\n06 1234 0002\n') });
    await checkList.click();
    // No answer to the first status request: said, in a live region, while the check goes on.
    const exactly = (text: string) => new RegExp('^' + text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
    await notice.filter({ hasText: exactly(lostText) }).waitFor();
    expect(await notice.evaluate((el) => el.closest('[aria-live]') !== null)).toBe(true);
    expect(await spinner.isVisible()).toBe(true);
    expect(await lists.getByRole('alert').count()).toBe(0);
    expect(await checkList.getAttribute('aria-disabled')).toBe('true');
    // A server error is said as one; a proxy's 503 is a lost connection again; both are asked again.
    await notice.filter({ hasText: exactly('Optline could not answer just now (The store did not answer.) – the check goes on on the server; trying again…') }).waitFor();
    await expect.poll(() => asked.length, { timeout: 10_000 }).toBe(3);
    await notice.filter({ hasText: exactly(lostText) }).waitFor();
    // The connection is back: the result comes, the notice goes.
    const result = lists.locator('.call-list-result');
    await result.waitFor({ timeout: 15_000 });
    expect(await notice.count()).toBe(0);
    expect(await spinner.count()).toBe(0);
    expect(await result.locator('.kpi').filter({ hasText: 'Rows' }).locator('.kpi-value').textContent()).toBe('2');
    // Asked again 1 s, then 2 s, then 4 s after each failure, not every second.
    const gaps = asked.slice(1).map((t, i) => t - asked[i]!);
    expect(gaps.length).toBe(3);
    expect(gaps[1]).toBeGreaterThanOrEqual(1900);
    expect(gaps[2]).toBeGreaterThanOrEqual(3900);

    // A check that is gone (404) is given up: said why, and the form works again.
    then = 404;
    await checkList.click();
    await lists.getByRole('alert').filter({ hasText: 'no longer knows this check' }).waitFor();
    expect(await lists.getByRole('alert').textContent()).toBe('Optline no longer knows this check (it may have been removed), so its result cannot be shown. Check the list again.');
    expect(await spinner.count()).toBe(0);
    expect(await notice.count()).toBe(0);
    expect(await checkList.getAttribute('aria-disabled')).toBeNull();
    // So does one the key may not read (403), with the server's reason.
    then = 403;
    await checkList.click();
    await lists.getByRole('alert').filter({ hasText: 'may not read the result' }).waitFor();
    expect(await lists.getByRole('alert').textContent()).toBe('Your key may not read the result of this check (This key may not read scrubs.). The check may still finish on the server; ask an administrator for a key that may read list checks.');
    expect(await checkList.getAttribute('aria-disabled')).toBeNull();
    then = 'through';
    await checkList.click();
    await lists.locator('.call-list-result').waitFor();
    expect(await lists.getByRole('alert').count()).toBe(0);
    await page.unroute('**/v1/scrubs/*');
  });

  it('shows a long list going up, waiting its turn, and how far its check has got, with the time left', async () => {
    const { page, lists } = await callListCard();
    const working = lists.locator('.call-list-running');
    // A slow office line: 4 MB at 1 MB/s takes seconds to go up.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1_000_000 });
    const rows = Array.from({ length: 200_000 }, (_, i) => `${i},06 ${String(12_000_000 + i).padStart(8, '0')}`);
    const csv = 'id,phone\n' + rows.join('\n') + '\n';
    expect(csv.length).toBeGreaterThan(3_500_000);
    // The server's answers about the check, as a busy server gives them: waiting for a slot, then
    // under way at a steady pace, then through.
    let firstAsked = 0;
    await page.route('**/v1/scrubs/*', async (route) => {
      const real = (await (await route.fetch()).json()) as Record<string, unknown>;
      firstAsked ||= Date.now();
      const s = (Date.now() - firstAsked) / 1000;
      if (s > 7) return route.fulfill({ json: real });
      const totalBytes = csv.length;
      const progress = s < 1.5 ? { waiting: true, bytes: 0, totalBytes, rows: 0 } : { waiting: false, bytes: Math.round(totalBytes * (0.1 + s * 0.08)), totalBytes, rows: Math.round(200_000 * (0.1 + s * 0.08)) };
      return route.fulfill({ json: { ...real, status: 'running', finishedAt: null, links: { ...(real.links as object), output: null, rejects: null }, progress } });
    });
    await lists.getByLabel('Call list (CSV)').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await lists.getByRole('button', { name: 'Check list' }).click();
    // Going up: how much of it, as a line and as a bar.
    await working.filter({ hasText: /^Sending big\.csv: [\d.]+ (kB|MB) of 3\.\d MB$/ }).waitFor({ timeout: 10_000 });
    const sentBar = lists.getByRole('progressbar', { name: 'Sent' });
    const sent = Number(await sentBar.getAttribute('value'));
    expect(sent).toBeGreaterThanOrEqual(0);
    expect(sent).toBeLessThan(1);
    // Arrived, waiting for a slot; then under way, with the share read and the rows.
    await working.filter({ hasText: /^big\.csv has arrived and waits for its turn: the server is checking other lists first…/ }).waitFor({ timeout: 20_000 });
    expect(await sentBar.count()).toBe(0);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await working.filter({ hasText: /^Checking big\.csv: \d+ ?% · [\d,]+ rows/ }).waitFor({ timeout: 10_000 });
    const checkedBar = lists.getByRole('progressbar', { name: 'Checked' });
    const share = Number(await checkedBar.getAttribute('value'));
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(1);
    // A few seconds of its pace: the time left.
    await working.filter({ hasText: /^Checking big\.csv: \d+ ?% · [\d,]+ rows · about \d+ s left$/ }).waitFor({ timeout: 10_000 });
    // Done: the result, and no bar.
    await lists.locator('.call-list-result').waitFor({ timeout: 20_000 });
    expect(await lists.getByRole('progressbar').count()).toBe(0);
    expect(await lists.locator('.call-list-result .kpi').filter({ hasText: 'Rows' }).locator('.kpi-value').textContent()).toBe('200,000');
    await page.unroute('**/v1/scrubs/*');
  });

  it('cancels a running check: stopped on the server, said so, and the form is free again', async () => {
    const { page, lists } = await callListCard();
    const checkList = lists.getByRole('button', { name: 'Check list' });
    // The check as a long one looks: running until cancelled (the list itself is checked at once here).
    let cancelled: Record<string, unknown> | null = null;
    const deletes: string[] = [];
    await page.route('**/v1/scrubs/*', async (route) => {
      if (route.request().method() === 'DELETE') {
        deletes.push(route.request().url());
        const real = (await (await route.fetch({ method: 'GET' })).json()) as Record<string, unknown>;
        cancelled = { ...real, status: 'failed', error: 'Cancelled by demo supervisor; no output was written.', links: { ...(real.links as object), output: null, rejects: null } };
        return route.fulfill({ json: cancelled });
      }
      const real = (await (await route.fetch()).json()) as Record<string, unknown>;
      return route.fulfill({ json: cancelled ?? { ...real, status: 'running', finishedAt: null } });
    });
    await lists.getByLabel('Call list (CSV)').setInputFiles({ name: 'wrong-caller.csv', mimeType: 'text/csv', buffer: Buffer.from('phone\n06 1234 0001\n') });
    await checkList.click();
    const cancel = lists.getByRole('button', { name: 'Cancel the check' });
    await cancel.waitFor();
    await cancel.click();
    await lists.getByRole('alert').filter({ hasText: 'cancelled' }).waitFor();
    expect(await lists.getByRole('alert').textContent()).toBe('The check was cancelled; no list was written. Check the list again when it is ready.');
    expect(deletes).toHaveLength(1);
    expect(await cancel.count()).toBe(0);
    expect(await lists.locator('.call-list-running').count()).toBe(0);
    expect(await checkList.getAttribute('aria-disabled')).toBeNull();
    expect(await lists.getByRole('link', { name: 'Download the checked list' }).count()).toBe(0);
    await page.unroute('**/v1/scrubs/*');
  });

  it('says which column was checked, and warns of other columns that look like phone numbers and of a list checked before', async () => {
    const { page, lists } = await callListCard({ bypassCSP: true });
    // Other phone-like columns and an earlier check, as the server says them for such a list (faked
    // here so that every state shows on one small list; test/scrub-api.test.ts checks the server's values).
    let others = ['Mobile'];
    const withColumns = (r: Record<string, unknown>) => (r.status === 'done' ? { ...r, otherPhoneColumns: others, scrubbedBefore: true } : r);
    await page.route('**/v1/scrubs/*', async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, json: withColumns((await res.json()) as Record<string, unknown>) });
    });
    await page.route('**/v1/scrubs?*', async (route) => {
      if (route.request().method() !== 'GET') return route.fallback(); // the upload
      const res = await route.fetch();
      await route.fulfill({ response: res, json: ((await res.json()) as Array<Record<string, unknown>>).map(withColumns) });
    });
    const csv = 'Phone,Mobile,name,e164,allowed,basis,denials\n06 1234 0001,06 1234 0002,A,+31612340001,true,consent,\n06 1234 0003,,B,,,,\n';
    await lists.getByLabel('Call list (CSV)').setInputFiles({ name: 'two-numbers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await lists.getByRole('button', { name: 'Check list' }).click();
    const result = lists.locator('.call-list-result');
    await result.waitFor();
    expect(await result.locator('.call-list-phone-column').textContent()).toBe('Phone column checked: “Phone”');
    const warning = result.locator('.call-list-other-columns');
    expect(await warning.textContent()).toBe(
      'Another column looks like phone numbers too: “Mobile”. Only “Phone” was checked: a dialer that dials that column would call numbers nobody checked. Check the list again with that column named under Phone column.',
    );
    expect(await warning.getAttribute('role')).toBe('note');
    // Above the figures.
    expect(await warning.evaluate((el) => Boolean(el.compareDocumentPosition(el.parentElement!.querySelector('.kpis')!) & Node.DOCUMENT_POSITION_FOLLOWING))).toBe(true);
    expect(await result.locator('.call-list-scrubbed-before').textContent()).toBe('The list had been checked before: it already had the columns e164, allowed, basis and denials. The checked list has them twice; the last four are this check’s.');
    // A screen reader hears it with the result.
    expect(await lists.locator('p[aria-live]').textContent()).toMatch(/^two-numbers\.csv checked: 2 rows, .*\. Warning: only the column “Phone” was checked; not checked: “Mobile”\.$/);
    // The recent list says it too.
    const row = lists.locator('table.scrubs tbody tr').first();
    await row.filter({ hasText: 'two-numbers.csv' }).waitFor();
    expect(await row.locator('td').nth(2).innerText()).toMatch(/\nlive calls\nPhone column checked: “Phone”\nOther phone-like columns, not checked: “Mobile”$/);
    expect(await broken(page), 'result with a warning').toEqual([]);

    // Several such columns, in German.
    others = ['Mobile', 'GSM'];
    await page.getByLabel('Language').selectOption('de');
    await lists.getByRole('button', { name: 'Liste prüfen' }).click();
    await result.locator('.call-list-other-columns').filter({ hasText: 'Weitere Spalten' }).waitFor();
    expect(await result.locator('.call-list-other-columns').textContent()).toBe(
      'Weitere Spalten sehen ebenfalls nach Telefonnummern aus: „Mobile“ und „GSM“. Geprüft wurde nur „Phone“: Ein Wählsystem, das diese Spalten wählt, riefe Nummern an, die niemand geprüft hat. Prüfen Sie die Liste erneut mit jeder dieser Spalten unter Telefonspalte.',
    );
    expect(await result.locator('.call-list-phone-column').textContent()).toBe('Geprüfte Telefonspalte: „Phone“');
  });

  it('reads the recent list again while a check in it runs, until none runs; a failed one is decided for nothing', async () => {
    const page = await newPage({ bypassCSP: true });
    const failed = scrubRecord({ id: 'scrub-web-failed', status: 'failed', inputName: 'broken.csv', phoneColumn: null, rows: 0, allowed: 0, denied: 0, invalid: 0, byBasis: {}, byDenial: {}, error: 'the list is empty', links: { self: '/v1/scrubs/scrub-web-failed', output: null, rejects: null } });
    const running = scrubRecord({ status: 'running', phoneColumn: null, rows: 0, allowed: 0, denied: 0, invalid: 0, byBasis: {}, byDenial: {}, startedAt: new Date(Date.now() - 42_000).toISOString(), finishedAt: null, durationMs: null, links: { self: '/v1/scrubs/scrub-web-1', output: null, rejects: null }, progress: { waiting: false, bytes: 450_000, totalBytes: 1_000_000, rows: 9_000 } });
    const waiting = { ...running, id: 'scrub-web-2', inputName: 'next.csv', progress: { waiting: true, bytes: 0, totalBytes: 5_000, rows: 0 } };
    let items = [running, waiting, failed];
    const reads: number[] = [];
    await page.route('**/v1/scrubs?*', (route) => {
      reads.push(Date.now());
      return route.fulfill({ json: items });
    });
    await signIn(page, server.url, DEMO_TOKENS.supervisor, '/dashboard');
    const lists = page.locator('section.call-list');
    await lists.getByRole('heading', { name: 'Recent list checks' }).waitFor();
    const rows = lists.locator('table.scrubs tbody tr');
    await rows.first().waitFor();
    // The running one says for how long it has run (by the server's clock) and how far it has got;
    // the next one that it waits for its turn.
    expect(await rows.first().locator('td').last().innerText()).toMatch(/^Running\nfor (4\d|5\d) s · 45 ?%$/);
    expect(await rows.nth(1).locator('td').last().innerText()).toMatch(/^Running\nfor (4\d|5\d) s · waiting for its turn$/);
    // The failed one: no moment, no "live calls", as if it had been decided.
    expect(await rows.nth(2).locator('td').nth(2).textContent()).toBe('—');
    expect(await rows.nth(2).locator('td').last().textContent()).toBe('Failedthe list is empty');
    expect(await broken(page), 'recent list with a running check').toEqual([]);
    // It ends on the server: the list shows it without a Refresh.
    items = [scrubRecord(), failed];
    await rows.first().getByRole('link', { name: /^Download/ }).waitFor({ timeout: 8000 });
    expect(await rows.first().locator('td').nth(2).innerText()).toMatch(/\nlive calls\nPhone column checked: “Phone”$/);
    // Read again while one ran (how often is no business of a test on a shared machine: the page
    // may also read it twice as it starts, once for the caller it picks).
    const read = reads.length;
    expect(read).toBeGreaterThanOrEqual(2);
    // None runs: the list is not read again.
    await page.waitForTimeout(6000);
    expect(reads.length).toBe(read);
    // In Dutch: no "scrubs" for the person.
    items = [];
    await page.goto(`${server.url}/dashboard?lang=nl`);
    await lists.getByRole('heading', { name: 'Recente lijstcontroles' }).waitFor();
    expect(await lists.locator('.recent-scrubs .empty').textContent()).toBe('Nog geen lijsten gecontroleerd. Elke gecontroleerde bellijst verschijnt hier met de samenvatting.');
  });

  it('walks the golden path with the keyboard only, with visible focus', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await tabTo(page, { id: 'api-key' });
    await page.keyboard.type(DEMO_TOKENS.agent);
    await page.keyboard.press('Enter');
    await page.getByLabel('Phone number').waitFor();
    await tabTo(page, { id: 'phone' });
    await page.keyboard.type('0612349005');
    await page.keyboard.press('Enter'); // the default caller: Voltana, the demo agent key's first entity
    expect(await verdict(page, /^(Allowed|Not allowed)/)).toMatch(/^Not allowed/);

    await tabTo(page, { text: 'Record phone opt-in' });
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    await page.keyboard.press('Enter');
    // The panel opens with the focus in the agent ID (empty in a new browser).
    await page.waitForFunction(() => document.activeElement?.id === 'agent-id');
    await page.keyboard.type('agent-kb');
    // Next: the name the person gives, which ties the consent to them (NL-10).
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('person-name');
    await page.keyboard.type('M. de Wit');
    await page.keyboard.press('Enter');
    expect(await verdict(page, /^Allowed/)).toMatch(/^Allowed/);
    expect(await page.locator('[data-basis]').getAttribute('data-basis')).toBe('consent');
    // Focus returns to the button that opened the panel.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Record phone opt-in');
    const stored = (await server.app.store.history('+31612349005')).events.find((e) => e.type === 'consent');
    expect(stored).toMatchObject({ entityId: 'voltana', source: { agentId: 'agent-kb', method: 'agent_call' }, person: { name: 'M. de Wit', reference: null } });
  });

  it('tells a screen reader each check and for which number, and opens the opt-in on its script', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    const status = page.getByRole('status');
    expect(await check(page, '0612349021')).toMatch(/^Not allowed: Do not call.*\. Number \+31612349021\. Why not: No basis to call: .*\)\.$/);
    // A second check with the same answer changes what the live region says: while it runs it
    // says only "Checking…" (the last verdict stays in view, hidden from the region), then the new number.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/v1/decisions', async (route) => {
      await held;
      await route.continue();
    });
    const field = page.getByLabel('Phone number');
    await field.fill('0612349022');
    await field.press('Enter');
    await page.locator('.verdict-text[aria-hidden="true"]').waitFor();
    expect(await status.locator(':scope > .sr-only').textContent()).toBe('Checking…');
    release();
    await status.filter({ hasText: 'Number +31612349022.' }).waitFor();
    expect(await page.locator('.verdict-text[aria-hidden]').count()).toBe(0);
    await page.unroute('**/v1/decisions');

    // An opt-in with the agent ID remembered opens on the script, not on its save button: an
    // Enter pressed twice records nothing the person was not read.
    await page.getByRole('button', { name: 'Record phone opt-in' }).click();
    await page.getByLabel('Agent ID').fill('agent-sr');
    await page.getByRole('button', { name: 'The person agreed – save opt-in' }).click();
    expect(await verdict(page, /^Allowed/)).toMatch(/Number \+31612349022\. Basis: Consent\.$/);
    expect(await check(page, '0612349023')).toMatch(/^Not allowed/);
    await page.getByRole('button', { name: 'Record phone opt-in' }).click();
    await page.waitForFunction(() => document.activeElement?.id === 'optin-script');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    expect((await server.app.store.history('+31612349023')).events.filter((e) => e.type === 'consent')).toHaveLength(0);
    expect(await page.getByRole('button', { name: 'The person agreed – save opt-in' }).getAttribute('aria-describedby')).toBe('optin-script');
  });

  it('announces a missing agent ID or offer as an alert', async () => {
    const page = await newPage();
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await check(page, '0612349024')).toMatch(/^Not allowed/);
    await page.getByRole('button', { name: 'Record phone opt-in' }).click();
    await page.getByLabel('Agent ID').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Agent ID' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Record call request' }).click();
    await page.locator('#offer').press('Enter');
    await page.locator('#offer-error[role="alert"]').waitFor();
  });

  it('passes axe (WCAG 2.1 A and AA) in the states an agent and a supervisor see', async () => {
    // The page's Content-Security-Policy forbids injected scripts such as axe's.
    const page = await newPage({ bypassCSP: true });
    await signIn(page, server.url, DEMO_TOKENS.agent);
    expect(await broken(page), 'idle').toEqual([]);
    await page.getByLabel('Product category').fill('donations');
    expect(await check(page, '06 1234 0006', 'Stichting Kinderhulp')).toMatch(/^Allowed/); // a donor (NL-6)
    expect(await broken(page), 'allowed').toEqual([]);
    expect(await check(page, '06 1234 0004', 'Voltana Energie B.V.')).toMatch(/^Not allowed/);
    expect(await broken(page), 'not allowed').toEqual([]);
    // Another number typed: the last verdict is faded, yet must stay readable.
    await page.getByLabel('Phone number').fill('06 1234 0005');
    await page.locator('.verdict.stale').waitFor();
    expect(await broken(page), 'stale').toEqual([]);
    await page.getByLabel('Phone number').press('Enter');
    await verdict(page, /^Not allowed/);
    await page.getByRole('button', { name: 'Record phone opt-in' }).click();
    expect(await broken(page), 'opt-in panel').toEqual([]);

    const supervisor = await newPage({ bypassCSP: true });
    await signIn(supervisor, server.url, DEMO_TOKENS.supervisor, '/dashboard');
    await supervisor.locator('#chart-given').waitFor();
    for (const summary of await supervisor.locator('details.as-table summary').all()) await summary.click();
    expect(await broken(supervisor), 'dashboard').toEqual([]);
  });

  it('switches language with ?lang= and the picker; labels change, roles stay', async () => {
    const page = await newPage({ locale: 'nl-NL' });
    await signIn(page, server.url, DEMO_TOKENS.agent, '/?lang=en');
    // Without ?lang= the browser's language (nl-NL) is used.
    await page.goto(server.url);
    await page.getByLabel('Telefoonnummer').waitFor();
    expect(await page.getByRole('status').textContent()).toMatch(/^Vul een telefoonnummer in/);

    await page.goto(`${server.url}/?lang=en`);
    await page.getByLabel('Phone number').waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');

    await page.goto(`${server.url}/?lang=nl`);
    await page.getByLabel('Beller').selectOption({ label: 'Voltana Energie B.V.' });
    await page.getByLabel('Telefoonnummer').fill('06 1234 0005');
    await page.getByRole('button', { name: 'Controleren' }).click();
    expect(await verdict(page, /^(Toegestaan|Niet toegestaan)/)).toMatch(/^Niet toegestaan/);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('nl');
    // Each condition gets a Dutch headline above the engine's English sentence (marked lang="en").
    expect(await page.locator('li[data-code="no_consent"] .reason-headline').textContent()).toBe('Geen toestemming vastgelegd');
    expect(await page.locator('li[data-code="no_consent"] .reason-detail').getAttribute('lang')).toBe('en');
    expect(await page.locator('[data-denial="no_basis"]').textContent()).toMatch(/^Geen grondslag om te bellen/);
    for (const name of ['Telefonische opt-in vastleggen', 'Bezwaar vastleggen', 'Belverzoek vastleggen', 'Afmelden']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(1);
    }

    await page.goto(`${server.url}/?lang=de`);
    await page.getByLabel('Telefonnummer').fill('+31612340001');
    await page.getByLabel('Anrufer').selectOption({ label: 'Voltana Energie B.V.' });
    await page.getByRole('button', { name: 'Prüfen' }).click();
    expect(await verdict(page, /^(Erlaubt|Nicht erlaubt)/)).toMatch(/^(Erlaubt|Nicht erlaubt)/);
    for (const name of ['Telefonische Einwilligung festhalten', 'Widerspruch festhalten', 'Rückrufbitte festhalten']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(1);
    }
    // Dates in the agent's locale: the demo consent of 14 September 2026, 10:12 Amsterdam time.
    await page.locator('.timeline time').last().waitFor();
    expect(await page.locator('.timeline time').last().textContent()).toMatch(/14\.09\.2026, 10:12/);

    // The picker switches without a reload and keeps the same roles and structure.
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('button', { name: 'Record phone opt-in' }).waitFor();
    expect(await page.getByRole('status').textContent()).toMatch(/^(Allowed|Not allowed)/);
    expect(page.url()).toMatch(/lang=en/);
    expect(await page.locator('.timeline time').last().textContent()).toMatch(/14 Sept? 2026, 10:12/);
  });
});
