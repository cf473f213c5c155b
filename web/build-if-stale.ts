/**
 * Builds the agent and dashboard pages when web/dist is missing or older than their sources.
 * Run by `npm start` (prestart) and by the browser tests, so a fresh checkout just works.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const root = dirname(web);

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

/** Whether web/dist is missing or older than anything it is built from (the pages import the API's schemas too). */
export function webIsStale(): boolean {
  const built = join(web, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = [join(web, 'src'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(root, 'src', 'api', 'schemas.ts'), join(root, 'src', 'api', 'web-schemas.ts')];
  const src = Math.max(...sources.filter(existsSync).map(newest));
  return src > statSync(built).mtimeMs;
}

export function buildWeb(): void {
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status ?? r.signal})`);
}

export function ensureWebBuilt(): boolean {
  if (!webIsStale()) return false;
  buildWeb();
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (ensureWebBuilt()) console.log('optline: built the agent and dashboard pages into web/dist');
}
