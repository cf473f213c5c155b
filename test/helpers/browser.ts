import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Optline } from '../../src/service/optline.js';
import { ADMIN, startApi } from './api.js';
import { ensureWebBuilt } from '../../web/build-if-stale.js';

/** Debian's Chromium (`apt-get install chromium`); the browser tests skip loudly without it. */
export const CHROMIUM = process.env.OPTLINE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** The admin token of the test server. */
export const WEB_ADMIN = ADMIN;

export interface WebServer {
  url: string;
  app: Optline;
  server: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The real server on a free loopback port, over a fresh SQLite file with the demo data, serving
 * the built pages (built first when web/dist is missing or stale).
 */
export async function startWebServer(): Promise<WebServer> {
  ensureWebBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'optline-web-'));
  const api = await startApi({ db: join(dir, 'optline.db'), demo: true });
  await api.server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.server.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app: api.app,
    server: api.server,
    async close() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Signs in through the page's own form. */
export async function signIn(page: Page, base: string, token: string, path = '/'): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.getByLabel('API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Phone number').or(page.getByRole('heading', { name: 'Supervisor dashboard' })).first().waitFor();
}

/** The verdict's text once it starts with one of the given words (the check is asynchronous). */
export async function verdict(page: Page, startsWith: RegExp, timeout = 10_000): Promise<string> {
  const status = page.getByRole('status');
  await status.filter({ hasText: startsWith }).waitFor({ timeout });
  return (await status.textContent()) ?? '';
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The rules axe (WCAG 2.1 A and AA) finds broken on the page as it is now, as "rule: target" lines (the page needs bypassCSP). */
export async function broken(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Array<{ id: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}
