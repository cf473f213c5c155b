/**
 * Screenshots of every page at 1366×768 and at 390 px wide, for docs/web.md and for looking at
 * the pages as a user would: `npx tsx web/screenshots.ts [outDir]` (default docs/screenshots).
 * Runs the real server over a fresh demo store and Debian's Chromium. Wide shots of the agent
 * page show the 1366×768 viewport (what fits on the screen); the rest show the whole page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn, startWebServer, verdict, type WebServer } from '../test/helpers/browser.js';
import { DEMO_TOKENS } from '../src/demo/seed.js';

const out = process.argv[2] ?? 'docs/screenshots';
mkdirSync(out, { recursive: true });

const SIZES = {
  desktop: { width: 1366, height: 768, full: false },
  narrow: { width: 390, height: 844, full: true },
} as const;
type Size = keyof typeof SIZES;

async function open(browser: Browser, size: Size, locale = 'en-GB'): Promise<Page> {
  const { width, height } = SIZES[size];
  const context = await browser.newContext({ viewport: { width, height }, locale, timezoneId: 'Europe/Amsterdam' });
  return context.newPage();
}

async function shot(page: Page, name: string, size: Size, full: boolean = SIZES[size].full): Promise<void> {
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(out, `${name}-${size}.png`), fullPage: full });
  console.log(`  ${name}-${size}.png`);
}

async function check(page: Page, phone: string, caller = 'Voltana Energie B.V.', product = ''): Promise<void> {
  await page.locator('#caller').selectOption({ label: caller });
  await page.locator('#phone').fill(phone);
  await page.locator('#product').fill(product);
  await page.locator('#phone').press('Enter');
  await page.getByRole('status').locator('.verdict-word').waitFor();
  await page.locator('#history-title').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
}

async function agentPages(server: WebServer, browser: Browser, size: Size): Promise<void> {
  const page = await open(browser, size);
  await page.goto(server.url);
  await page.getByLabel('API key').waitFor();
  await shot(page, 'sign-in', size, false);
  await signIn(page, server.url, DEMO_TOKENS.agent);
  await check(page, '06 1234 0001');
  await shot(page, 'agent-allowed', size);
  await check(page, '+31612340004');
  await shot(page, 'agent-not-allowed', size);
  await check(page, '06-12340005');
  await page.getByRole('button', { name: 'Record phone opt-in' }).click();
  await page.getByLabel('Agent ID').fill('agent-17');
  await page.getByLabel("Person's name").fill('E. Visser');
  await page.getByLabel('Call ID').fill('call-20261128-0815');
  await shot(page, 'agent-opt-in', size, false);
  if (size === 'desktop') {
    await page.getByRole('button', { name: /save opt-in/ }).click();
    await verdict(page, /^Allowed/);
    await check(page, '06 1234 0003');
    await shot(page, 'agent-call-request', size);
    await check(page, '06 1234 000');
    await shot(page, 'agent-unreadable', size, false);
    await check(page, '06 1234 0001');
    await page.getByRole('button', { name: 'Record objection' }).click();
    await shot(page, 'agent-confirm-objection', size, false);
  }
  await page.context().close();
}

async function dashboardPages(server: WebServer, browser: Browser, size: Size): Promise<void> {
  const page = await open(browser, size);
  await signIn(page, server.url, DEMO_TOKENS.supervisor, '/dashboard');
  await page.getByLabel('Caller').selectOption({ label: 'Voltana Energie B.V.' });
  await page.locator('#chart-given svg.recharts-surface').first().waitFor();
  await page.locator('.law-headline').waitFor();
  await shot(page, 'dashboard', size, true);
  await page.locator('section.calls').screenshot({ path: join(out, `dashboard-calls-${size}.png`) });
  console.log(`  dashboard-calls-${size}.png`);
  {
    // A campaign list checked from the dashboard, in the CRM's own columns and number formats.
    const rows = ['customer_id,name,telefoon,city'];
    for (let i = 1; i <= 60; i++) rows.push(`${1000 + i},"Klant ${i}",06 1234 ${String(i).padStart(4, '0')},Utrecht`);
    rows.push('2000,Onbekend,not a number,Delft');
    await page.getByLabel('Call list (CSV)').setInputFiles({ name: 'crm-export week 48.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n') + '\n') });
    await page.getByLabel('Moment of the calls').fill('2026-12-01T10:30');
    await page.getByLabel('by an automatic dialer').check();
    await page.getByRole('button', { name: 'Check list' }).click();
    await page.locator('.call-list-result').waitFor();
    await page.waitForTimeout(200);
    await page.locator('section.call-list').screenshot({ path: join(out, `dashboard-call-list-${size}.png`) });
    console.log(`  dashboard-call-list-${size}.png`);
  }
  if (size === 'desktop') {
    await page.getByLabel('Caller').selectOption({ label: 'Stichting Kinderhulp' });
    await page.locator('#expiring-title').waitFor();
    await page.locator('td.mono').first().waitFor();
    await shot(page, 'dashboard-charity', size, true);
  }
  await page.context().close();
}

/**
 * The Import records card (admin keys): a CRM export checked, imported, checked again (nothing
 * new), and – in English – next month's export, which repeats it and adds one row.
 */
async function importPages(server: WebServer, browser: Browser, size: Size, lang: 'en' | 'nl' = 'en'): Promise<void> {
  const page = await open(browser, size, lang === 'nl' ? 'nl-NL' : 'en-GB');
  await signIn(page, server.url, DEMO_TOKENS.admin, '/dashboard?lang=en');
  if (lang === 'nl') await page.goto(`${server.url}/dashboard?lang=nl`);
  await page.locator('#dash-caller').selectOption('voltana');
  const card = page.locator('section.imports');
  const suffix = lang === 'nl' ? '-nl' : '';
  const cardShot = async (name: string) => {
    await page.waitForTimeout(200);
    await card.screenshot({ path: join(out, `${name}${suffix}-${size}.png`) });
    console.log(`  ${name}${suffix}-${size}.png`);
  };
  // Opt-ins from a former system's export, two rows of it wrong; unique numbers per run of this function.
  const n = (size === 'desktop' ? 1 : 2) + (lang === 'nl' ? 2 : 0);
  const header = 'Phone,Channel,Status,At,Method,Wording,Agent ID,crm_id,city';
  const good = (i: number) => `06 1234 8${n}${String(i).padStart(2, '0')},phone,granted,2026-0${i}-1${i} 1${i}:05,agent_call,Mogen wij u bellen over zonnepanelen?,agent-${i},C-10${i},Utrecht`;
  const rows = [header, ...[1, 2, 3, 4, 5, 6].map(good)];
  rows.splice(3, 0, `06 1234 8${n}90,phone,granted,2031-03-01,agent_call,Mogen wij u bellen?,agent-2,C-190,Delft`, `not a number,phone,granted,2026-02-11,agent_call,Mogen wij u bellen?,agent-2,C-191,Gouda`);
  const check = async (name: string, lines: string[]) => {
    await card.locator('input[type="file"]').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n') + '\n') });
    await card.locator('.import-form button[type="submit"]').click();
    await card.locator('.import-result').waitFor();
  };
  await check('crm-optins-2026.csv', rows);
  await cardShot('dashboard-import-checked');
  await card.locator('.import-step input[type="checkbox"]').check();
  await card.locator('.import-step button').click();
  await card.locator('.import-outcome').waitFor();
  await card.locator('.imports-list tbody tr').first().waitFor();
  if (lang === 'en') await cardShot('dashboard-import-done');
  await check('crm-optins-2026.csv', rows);
  await card.locator('.import-before').waitFor();
  await cardShot('dashboard-import-again');
  if (lang === 'en') {
    // December's export: November's good rows again, and one new.
    await check('crm-optins-2026-12.csv', [header, ...[1, 2, 3, 4, 5, 6, 7].map(good)]);
    await card.locator('.import-on-record').waitFor();
    await cardShot('dashboard-import-overlap');
  }
  await page.context().close();
}

async function translated(server: WebServer, browser: Browser, size: Size, lang: 'nl' | 'de'): Promise<void> {
  const page = await open(browser, size, lang === 'nl' ? 'nl-NL' : 'de-DE');
  await page.goto(`${server.url}/?lang=${lang}`);
  await page.locator('#api-key').fill(DEMO_TOKENS.agent);
  await page.locator('#api-key').press('Enter');
  await page.locator('#phone').waitFor();
  await check(page, lang === 'nl' ? '06 1234 0003' : '06 1234 0001');
  await shot(page, `agent-${lang}`, size);
  await page.context().close();
}

const server = await startWebServer();
const browser = await launchChromium();
try {
  for (const size of Object.keys(SIZES) as Size[]) {
    await agentPages(server, browser, size);
    await dashboardPages(server, browser, size);
    await importPages(server, browser, size);
  }
  await importPages(server, browser, 'desktop', 'nl');
  await importPages(server, browser, 'narrow', 'nl');
  await translated(server, browser, 'desktop', 'nl');
  await translated(server, browser, 'narrow', 'de');
} finally {
  await browser.close();
  await server.close();
}
