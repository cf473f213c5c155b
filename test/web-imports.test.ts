import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, broken, launchChromium, signIn, startWebServer, type WebServer } from './helpers/browser.js';
import { DEMO_TOKENS } from '../src/demo/seed.js';

/**
 * The dashboard's Import records card in a real browser (Debian's Chromium through
 * playwright-core), against the real server over a temporary SQLite store with the demo data –
 * no answer is faked: a file checked (nothing written), its refused rows by line and field,
 * imported, listed with the key's label; the same file again (nothing new); an export that
 * overlaps the last (only the new row recorded); and who sees what.
 */
const available = hasChromium();
if (!available) {
  console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING the import card's browser tests: no Chromium at ${CHROMIUM}.\n${'!'.repeat(78)}\n`);
}

let server: WebServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newPage(opts: { locale?: string; bypassCSP?: boolean; width?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1366, height: 768 }, locale: opts.locale ?? 'en-GB', timezoneId: 'Europe/Amsterdam', bypassCSP: opts.bypassCSP });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** The dashboard signed in with `token`, for `caller`. */
async function dashboard(token: string, opts: { caller?: string; bypassCSP?: boolean; width?: number } = {}): Promise<Page> {
  const page = await newPage(opts);
  await signIn(page, server.url, token, '/dashboard');
  await page.getByLabel('Caller').selectOption({ label: opts.caller ?? 'Voltana Energie B.V.' });
  return page;
}

const card = (page: Page) => page.locator('section.imports');

/** Chooses the file and presses Check the file; answers the dry run's JSON once the page shows it. */
async function checkFile(page: Page, csv: string, name = 'crm-export.csv'): Promise<Record<string, unknown>> {
  await card(page).getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const answered = page.waitForResponse((r) => r.url().includes('/v1/imports?') && r.url().includes('dryRun=true') && r.request().method() === 'POST');
  await card(page).getByRole('button', { name: 'Check the file' }).click();
  const body = (await (await answered).json()) as Record<string, unknown>;
  await card(page).locator('.import-result, .field-error').first().waitFor();
  return body;
}

/** The server's imports for Voltana, newest first, as GET /v1/imports answers the admin. */
async function imports(): Promise<Array<Record<string, unknown>>> {
  const r = await server.server.inject({ method: 'GET', url: '/v1/imports?entityId=voltana', headers: { authorization: `Bearer ${DEMO_TOKENS.admin}` } });
  return r.json() as Array<Record<string, unknown>>;
}

/** The texts of the refused rows' table, row by row: [line, field, error]. */
async function refusedRows(page: Page): Promise<string[][]> {
  return card(page)
    .locator('.import-errors tbody tr')
    .evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent?.trim() ?? '')));
}

/** Presses Tab until the focused element's text is `text`, at most `max` times. */
async function tabTo(page: Page, text: string, max = 20): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await page.evaluate(() => document.activeElement?.textContent?.trim())) === text) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${text}`);
}

const HEADER = 'Phone,Channel,Status,At,Method,Wording,crm_id';
const row = (phone: string, at: string) => `${phone},phone,granted,${at},web_form,Mogen wij u bellen over zonnepanelen?,C-${phone.slice(-4)}`;

describe.skipIf(!available)('importing records from the dashboard in Chromium', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    server = await startWebServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('checks a file without writing anything, shows each refused row by line and field, and imports the others only when asked to leave those out – by keyboard', async () => {
    const page = await dashboard(DEMO_TOKENS.admin, { bypassCSP: true });
    await card(page).getByRole('heading', { name: 'Import records', level: 2 }).waitFor();
    // The kind's hint says what a row is and which columns it needs.
    await card(page).getByLabel('Kind of records').selectOption({ label: 'Objections (do not call)' });
    expect(await card(page).locator('.field .hint').first().textContent()).toMatch(/asked not to be called again\. Required columns: phone, at\./);
    await card(page).getByLabel('Kind of records').selectOption({ label: 'Consents (opt-ins and withdrawals)' });
    expect(await card(page).getByLabel('Time zone of the dates').locator('option:checked').textContent()).toBe('Europe/Amsterdam (default)');

    const csv = [HEADER, row('06 1234 9701', '2026-01-10 10:00'), row('not a number', '2026-01-11'), row('06 1234 9703', '2031-01-01'), row('06 1234 9704', '2026-01-12T09:30:00+01:00')].join('\n') + '\n';
    const dry = await checkFile(page, csv);
    expect(dry).toMatchObject({ dryRun: true, id: null, rows: 4, imported: 2, rejected: 2 });
    const result = card(page).locator('.import-result');
    expect(await result.getByRole('heading', { level: 3 }).textContent()).toBe('crm-export.csv: checked, nothing recorded yet');
    expect(await result.locator('.kpi').allInnerTexts()).toEqual(['Rows\n4', 'Can be imported\n2', 'On record already\n0', 'Refused\n2']);
    expect(await card(page).locator('.import-before').count()).toBe(0);
    expect(await result.locator('.import-columns').textContent()).toBe('Columns read: phone ← “Phone”, channel ← “Channel”, status ← “Status”, at ← “At”, source.method ← “Method”, source.wording ← “Wording”');
    expect(await result.locator('.import-ignored').textContent()).toMatch(/^Not imported, because they are no field of these records: “crm_id”\./);
    const rows = await refusedRows(page);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(['3', 'phone “Phone”', expect.stringMatching(/not a valid phone number/)]);
    expect(rows[1]).toEqual(['4', 'at “At”', expect.stringMatching(/in the future/)]);
    expect(await result.locator('.import-errors td[lang="en"]').count()).toBe(2);
    // Nothing was written by the check.
    expect(await imports()).toEqual([]);
    expect(await broken(page), 'checked').toEqual([]);

    // Keyboard only from here: the focus went on to the result's heading.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('crm-export.csv: checked, nothing recorded yet');
    await tabTo(page, 'Import 2 records');
    await page.keyboard.press('Enter');
    // Refused rows and no leave-out: said at the box, which takes the focus; nothing sent.
    await card(page).getByRole('alert').filter({ hasText: 'Tick this box to import the other rows' }).waitFor();
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type)).toBe('checkbox');
    expect(await imports()).toEqual([]);
    await page.keyboard.press('Space');
    expect(await card(page).getByLabel('Leave out the refused rows (2)').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    const posted = page.waitForRequest((r) => r.url().includes('/v1/imports?') && r.method() === 'POST');
    await page.keyboard.press('Enter');
    const url = new URL((await posted).url());
    expect(Object.fromEntries(url.searchParams)).toEqual({ entityId: 'voltana', kind: 'consents', skipInvalid: 'true' });

    const done = card(page).locator('.import-outcome.success');
    await done.waitFor();
    const [record] = await imports();
    expect(record).toMatchObject({ kind: 'consents', rows: 4, imported: 2, rejected: 2 });
    expect(await done.textContent()).toBe(`Imported for Voltana Energie B.V.: 2 records. Refused rows left out: 2.Import ID: ${record!.id as string}`);
    // The focus is on the outcome (the button that was pressed is gone), and a screen reader hears it.
    expect(await page.evaluate(() => document.activeElement?.classList.contains('import-outcome'))).toBe(true);
    expect(await card(page).locator('[aria-live="polite"]').textContent()).toContain(`Import ID: ${record!.id as string}`);
    // The file field is empty again: the next import starts from a file chosen anew.
    expect(await card(page).getByLabel('CSV file').inputValue()).toBe('');
    expect(await broken(page), 'imported').toEqual([]);
  });

  it('imports a good file, lists it with the key’s label, and says when the same file is checked again that it was imported before and nothing is new', async () => {
    const page = await dashboard(DEMO_TOKENS.admin, { bypassCSP: true });
    const list = card(page).locator('.imports-list tbody tr');
    await list.first().waitFor(); // the import of the test before
    const before = await list.count();
    const csv = [HEADER, row('06 1234 9711', '2026-02-01'), row('06 1234 9712', '2026-02-02 14:15')].join('\n') + '\n';
    await checkFile(page, csv, 'opt-ins februari.csv');
    expect(await card(page).locator('.import-errors').count()).toBe(0);
    expect(await card(page).getByLabel(/Leave out/).count()).toBe(0);
    await card(page).getByRole('button', { name: 'Import 2 records' }).click();
    await card(page).locator('.import-outcome.success').waitFor();
    const [record] = await imports();
    expect(record).toMatchObject({ kind: 'consents', inputName: 'opt-ins februari.csv', rows: 2, imported: 2, onRecord: 0, rejected: 0, keyLabel: 'demo admin' });
    expect(await card(page).locator('.import-outcome').textContent()).toBe(`Imported for Voltana Energie B.V.: 2 records.Import ID: ${record!.id as string}`);

    // The recent list is read again: the new import on top, with its file's name and the label of the key that made it.
    await list.nth(before).waitFor();
    const top = await list.first().locator('td').allTextContents();
    expect(top[0]).toMatch(new RegExp(`Import ID ${record!.id as string}$`));
    expect(top.slice(1)).toEqual(['Consentsopt-ins februari.csv', '2', '2', '0', '0', 'demo admin']);
    expect(await card(page).locator('.imports-list thead th').allTextContents()).toEqual(['When', 'Kind', 'Rows', 'Imported', 'On record already', 'Left out', 'By']);

    // The same file again: every row is on record, and the check names the import it came in by.
    const dry = await checkFile(page, csv, 'opt-ins februari.csv');
    expect(dry).toMatchObject({ id: null, imported: 0, onRecord: 2, rejected: 0, importedBefore: { id: record!.id } });
    const result = card(page).locator('.import-result');
    expect(await result.locator('.kpi').allInnerTexts()).toEqual(['Rows\n2', 'Can be imported\n0', 'On record already\n2', 'Refused\n0']);
    expect(await result.locator('.import-before').textContent()).toMatch(
      new RegExp(`^This file was imported for Voltana Energie B\\.V\\. before: on \\d+ \\w+ 2\\d{3}, \\d\\d:\\d\\d \\(import ${record!.id as string}\\)\\. There is nothing new to import: every row that passes the check is on record already\\.$`),
    );
    // Nothing to press: no import, no leave-out.
    expect(await card(page).locator('.import-step button, .import-step input').count()).toBe(0);
    expect(await card(page).locator('[aria-live="polite"]').textContent()).toBe('opt-ins februari.csv checked: 2 rows, 0 can be imported, 2 on record already, 0 refused.');
    expect(await broken(page), 'imported before').toEqual([]);
    expect(await imports()).toHaveLength(before + 1);
  });

  it('imports from an export that overlaps the last only the new row, and counts the rest as on record', async () => {
    const page = await dashboard(DEMO_TOKENS.admin);
    // February's rows again (in another file: other bytes) and one new.
    const csv = [HEADER, row('06 1234 9712', '2026-02-02 14:15'), row('06 1234 9713', '2026-03-01 09:00'), row('06 1234 9711', '2026-02-01')].join('\n') + '\n';
    const dry = await checkFile(page, csv, 'opt-ins maart.csv');
    expect(dry).toMatchObject({ rows: 3, imported: 1, onRecord: 2, rejected: 0, importedBefore: null });
    expect(await card(page).locator('.import-result .kpi').allInnerTexts()).toEqual(['Rows\n3', 'Can be imported\n1', 'On record already\n2', 'Refused\n0']);
    // Not the same file: no import is named, but what "on record" means is said.
    expect(await card(page).locator('.import-before').count()).toBe(0);
    expect(await card(page).locator('.import-on-record').textContent()).toBe('Rows on record already – the same number, moment and content – are not recorded again.');
    await card(page).getByRole('button', { name: 'Import 1 record' }).click();
    const done = card(page).locator('.import-outcome.success');
    await done.waitFor();
    const [record] = await imports();
    expect(record).toMatchObject({ inputName: 'opt-ins maart.csv', rows: 3, imported: 1, onRecord: 2, rejected: 0 });
    expect(await done.textContent()).toBe(`Imported for Voltana Energie B.V.: 1 record. On record already, so not recorded again: 2.Import ID: ${record!.id as string}`);
    const top = card(page).locator('.imports-list tbody tr').first();
    await top.filter({ hasText: record!.id as string }).waitFor();
    expect((await top.locator('td').allTextContents()).slice(1)).toEqual(['Consentsopt-ins maart.csv', '3', '1', '2', '0', 'demo admin']);
  });

  it("leaves out the rows about a person erased at their request, and says so with their lines", async () => {
    const page = await dashboard(DEMO_TOKENS.admin);
    const csv = [HEADER, row('06 1234 9721', '2026-04-01 10:00'), row('06 1234 9722', '2026-04-01 10:05')].join('\n') + '\n';
    await checkFile(page, csv, 'april.csv');
    await card(page).getByRole('button', { name: 'Import 2 records' }).click();
    await card(page).locator('.import-outcome.success').waitFor();
    // The person behind the first number asks to be erased; the same export comes again, renamed.
    const erased = await server.server.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: { authorization: `Bearer ${DEMO_TOKENS.admin}`, 'content-type': 'application/json' },
      payload: { phone: '+31612349721', entityId: 'voltana', reference: 'DSR-7' },
    });
    expect(erased.statusCode, erased.body).toBe(201);
    const again = await dashboard(DEMO_TOKENS.admin);
    const dry = await checkFile(again, csv, 'april (2).csv');
    expect(dry).toMatchObject({ rows: 2, imported: 0, onRecord: 1, erased: 1, erasedLines: [2] });
    expect(await card(again).locator('.import-erased').textContent()).toBe(
      'Rows about people erased at their request for Voltana Energie B.V., dated before the erasure, are not imported: 1 (line 2). An erased person’s data does not come back from an old file; a consent given after the erasure is imported.',
    );
    // The same bytes as before: that import is named, and there is nothing to import – nor to correct.
    expect(await card(again).locator('.import-before').textContent()).toMatch(
      /^This file was imported for Voltana Energie B\.V\. before: .+ There is nothing new to import: the rows that pass the check are on record already or about people erased at their request\.$/,
    );
    expect(await card(again).getByRole('button', { name: /^Import / }).count()).toBe(0);
    // With a new row: that one is imported, and the recent imports say what was left out and why.
    await checkFile(again, csv + row('06 1234 9723', '2026-04-02 09:00') + '\n', 'april (3).csv');
    await card(again).getByRole('button', { name: 'Import 1 record' }).click();
    await card(again).locator('.import-outcome.success').waitFor();
    const top = card(again).locator('.imports-list tbody tr').first();
    await top.filter({ hasText: 'april (3).csv' }).waitFor();
    expect((await top.locator('td').allInnerTexts()).slice(2, 6)).toEqual(['3', '1', '1', '0\n1 about erased people']);
  });

  it('shows a file going up over a slow line, as a line and a bar', async () => {
    const page = await dashboard(DEMO_TOKENS.admin);
    // 588 kB at 200 kB/s: seconds to go up.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 200_000 });
    const csv = [HEADER, ...Array.from({ length: 6_000 }, (_, i) => row(`06 1250 ${String(i).padStart(4, '0')}`, '2026-01-05 10:00'))].join('\n') + '\n';
    await card(page).getByLabel('CSV file').setInputFiles({ name: 'crm-big.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await card(page).getByRole('button', { name: 'Check the file' }).click();
    const working = card(page).locator('.call-list-running');
    await working.filter({ hasText: /^Sending crm-big\.csv: [\d.]+ kB of 588\.1 kB$/ }).waitFor({ timeout: 10_000 });
    const sent = Number(await card(page).getByRole('progressbar', { name: 'Sent' }).getAttribute('value'));
    expect(sent).toBeGreaterThanOrEqual(0);
    expect(sent).toBeLessThan(1);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    // Up: the server's check, then its answer; no bar any more.
    await card(page).locator('.import-result').waitFor({ timeout: 30_000 });
    expect(await card(page).getByRole('progressbar').count()).toBe(0);
    expect(await card(page).locator('.import-result .kpi').first().innerText()).toBe('Rows\n6,000');
  });

  it('says at its field what the file or the time zone lacks', async () => {
    const page = await dashboard(DEMO_TOKENS.admin);
    // No column for two required fields: said at the file field, in the page's words.
    await checkFile(page, 'phone,at,city\n0612349731,2026-01-01,Delft\n');
    const fileError = card(page).locator('.file-field .field-error');
    expect(await fileError.textContent()).toBe('The file has no column for channel, status. Its columns are: phone, at, city. Name the columns as the fields – the required ones are listed under Kind of records – and check the file again.');
    expect(await card(page).getByLabel('CSV file').getAttribute('aria-invalid')).toBe('true');

    // A US caller has no default zone: dates without an offset are refused, and the zone field says why.
    await page.getByLabel('Caller').selectOption({ label: 'Solaris Home Inc.' });
    await card(page).getByLabel('Kind of records').selectOption('objections');
    const zone = card(page).getByLabel('Time zone of the dates');
    expect(await zone.locator('option:checked').textContent()).toBe('None chosen');
    const csv = 'phone,at\n+12125550181,2026-01-05\n+12125550182,2026-01-06 10:00\n';
    await checkFile(page, csv);
    expect((await refusedRows(page)).map((r) => r.slice(0, 2))).toEqual([
      ['2', 'at'],
      ['3', 'at'],
    ]);
    await card(page).getByRole('alert').filter({ hasText: 'The file has dates without an offset: choose the time zone they were written in' }).waitFor();
    expect(await zone.getAttribute('aria-invalid')).toBe('true');
    expect(await card(page).getByText('No row can be imported.').count()).toBe(1);
    // Chosen: the change drops the check (it no longer stands), and the next one reads every row.
    await zone.selectOption('America/New_York');
    expect(await card(page).locator('.import-result').count()).toBe(0);
    const dry = await checkFile(page, csv);
    expect(dry).toMatchObject({ rows: 2, imported: 2, rejected: 0 });
    await card(page).getByRole('button', { name: 'Import 2 records' }).waitFor();
    expect(await zone.getAttribute('aria-invalid')).toBeNull();
  });

  it('shows a supervisor the recent imports but not the form, and an agent neither', async () => {
    const page = await dashboard(DEMO_TOKENS.supervisor, { bypassCSP: true });
    await card(page).getByRole('heading', { name: 'Recent imports', level: 2 }).waitFor();
    await card(page).locator('.imports-list tbody tr').first().waitFor();
    expect(await card(page).getByRole('button', { name: 'Check the file' }).count()).toBe(0);
    expect(await card(page).locator('input[type="file"]').count()).toBe(0);
    expect(await card(page).getByRole('heading', { name: 'Import records' }).count()).toBe(0);
    // Who imported: the admin key, by its label.
    const [record] = await imports();
    const top = await card(page).locator('.imports-list tbody tr').first().locator('td').allTextContents();
    expect(top[0]).toContain(record!.id as string);
    expect(top.at(-1)).toBe('demo admin');
    expect(await broken(page), 'supervisor').toEqual([]);

    const agent = await newPage();
    await signIn(agent, server.url, DEMO_TOKENS.agent, '/');
    await agent.goto(`${server.url}/dashboard`);
    await agent.getByText('This page is for supervisors and compliance officers').waitFor();
    expect(await card(agent).count()).toBe(0);
  });

  it('speaks Dutch, and fits a phone', async () => {
    const page = await newPage({ locale: 'nl-NL', width: 390 });
    await signIn(page, server.url, DEMO_TOKENS.admin, '/dashboard?lang=en');
    await page.goto(`${server.url}/dashboard?lang=nl`);
    await page.getByLabel('Beller').selectOption({ label: 'Voltana Energie B.V.' });
    await card(page).getByRole('heading', { name: 'Gegevens importeren', level: 2 }).waitFor();
    await card(page).getByLabel('CSV-bestand').setInputFiles({ name: 'bezwaren.csv', mimeType: 'text/csv', buffer: Buffer.from('telefoon,at\n0612349741,2026-01-01\n') });
    await card(page).getByLabel('Soort gegevens').selectOption({ label: 'Bezwaren (niet meer bellen)' });
    await card(page).getByRole('button', { name: 'Bestand controleren' }).click();
    await card(page).locator('.file-field .field-error').waitFor();
    expect(await card(page).locator('.file-field .field-error').textContent()).toMatch(/^Het bestand heeft geen kolom voor phone\. De kolommen zijn: telefoon, at\. Staan de telefoonnummers in “telefoon”\? Noem die kolom dan phone\. /);
    await card(page).getByLabel('CSV-bestand').setInputFiles({ name: 'bezwaren.csv', mimeType: 'text/csv', buffer: Buffer.from('phone,at\n0612349741,2026-01-01\n') });
    await card(page).getByRole('button', { name: 'Bestand controleren' }).click();
    await card(page).getByRole('button', { name: '1 regel importeren' }).waitFor();
    expect(await card(page).locator('.kpi').allInnerTexts()).toEqual(['Regels\n1', 'Te importeren\n1', 'Al vastgelegd\n0', 'Geweigerd\n0']);
    // Nothing sticks out of the 390-px screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });
});
