/**
 * Bundles the `optline` command (CLI and server) and its worker threads into dist/ with esbuild.
 *
 * Why: running the TypeScript sources through tsx compiles them at every start – about a second
 * for the CLI and again in every scrub worker thread – which short commands and bulk scrubs feel.
 * The bundle is plain JavaScript that Node loads in about 0.3 s; packages stay in node_modules.
 * `bin/optline.js` rebuilds it when any source is newer (esbuild takes about 0.1 s), so a checkout
 * never runs stale code; `npm run build` builds it on purpose.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(root, 'dist');
export const CLI_BUNDLE = join(DIST, 'optline.mjs');

/** Entry points: the CLI and every module started as a worker thread (found from the CLI by URL). */
const ENTRIES = {
  optline: join(root, 'src', 'cli', 'main.ts'),
  'scrub-worker': join(root, 'src', 'scrub', 'worker.ts'),
  'decision-writer.worker': join(root, 'src', 'store', 'decision-writer.worker.mjs'),
};

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

/** Whether dist/ is missing or older than the sources, the lock file or this script. */
export function cliIsStale() {
  if (!existsSync(CLI_BUNDLE)) return true;
  const built = statSync(CLI_BUNDLE).mtimeMs;
  const inputs = [join(root, 'src'), join(root, 'package-lock.json'), fileURLToPath(import.meta.url)].filter(existsSync);
  return Math.max(...inputs.map(newest)) > built;
}

/**
 * Packages bundled into dist/ with the sources; every other dependency stays in node_modules.
 * Why: Node resolves and compiles an ESM package file by file, and kysely (about 200 ms) and
 * libphonenumber-js (about 80 ms) are hundreds of files – loaded by every command and by each scrub
 * worker thread. As part of the bundle they load in a few ms, which halves `optline --version`
 * (0.8 → 0.4 s) and the time before a scrub starts (1.1 → 0.55 s). Only pure ESM packages that no
 * external package loads itself: zod stays outside, as fastify-type-provider-zod reads our schemas
 * with its own copy; native or file-reading packages (better-sqlite3, pg, pdfkit, fastify's) too.
 */
const BUNDLED = new Set(['kysely', 'libphonenumber-js', 'luxon', 'uuid', 'udsv']);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const EXTERNAL = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);

export async function buildCli() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: ENTRIES,
    outdir: DIST,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // Modules imported with import() (the server, pdfkit users) become chunks loaded on first use,
    // beside the entries: code finds the worker files relative to its own module's URL.
    splitting: true,
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
  });
  // Each file is written beside its final name and renamed into place: a second process starting
  // meanwhile sees the old bundle or the new one, never half a file.
  mkdirSync(DIST, { recursive: true });
  // The CLI bundle last: it is what cliIsStale() dates.
  const files = [...result.outputFiles].sort((a, b) => (a.path === CLI_BUNDLE) - (b.path === CLI_BUNDLE));
  for (const f of files) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  // Chunks of earlier builds (named by content hash): removed once an hour old – a process started
  // before this build may still load its own chunks on first use.
  const current = new Set(files.map((f) => f.path));
  for (const name of readdirSync(DIST)) {
    const path = join(DIST, name);
    if (/-[A-Z0-9]{8}\.mjs(\.map)?$/.test(name) && !current.has(path) && statSync(path).mtimeMs < Date.now() - 3_600_000) rmSync(path, { force: true });
  }
  return files.map((f) => relative(root, f.path));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildCli();
  console.log(`built ${files.filter((f) => !f.endsWith('.map')).join(', ')}`);
}
