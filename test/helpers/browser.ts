import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Store } from '../../src/store/repository.js';
import { Optline } from '../../src/service/optline.js';
import { buildServer } from '../../src/api/server.js';
import { prepare } from '../../src/service/bootstrap.js';
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

export const WEB_ADMIN = 'web-test-admin-token';

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
export async function startWebServer(opts: { demo?: boolean } = {}): Promise<WebServer> {
  ensureWebBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'optline-web-'));
  const store = await Store.open(join(dir, 'optline.db'));
  const app = await Optline.open(store);
  await prepare(app, { OPTLINE_ADMIN_TOKEN: WEB_ADMIN, OPTLINE_DEMO: opts.demo === false ? '0' : '1' });
  const server = await buildServer(app);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    server,
    async close() {
      await server.close();
      await store.close();
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
