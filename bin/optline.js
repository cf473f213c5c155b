#!/usr/bin/env node
// The `optline` command: runs the bundled CLI in dist/, built from src/ first when it is missing
// or older than the sources (scripts/build-cli.mjs, about 0.1 s). Should the build be impossible
// (esbuild missing), it runs the TypeScript sources through tsx instead, a second slower to start.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Huge pages for `optline scrub`: its look-ups jump around register indexes of hundreds of MB
// and miss the TLB on 4 KB pages (about 5 % of its time on a 50M register). Node cannot ask for
// huge pages, but glibc's malloc – which holds large ArrayBuffers – can (MADV_HUGEPAGE) when
// GLIBC_TUNABLES says so at process start: so the command starts itself once more with it set.
// OPTLINE_HUGE_PAGES=0 turns this off; elsewhere than Linux with glibc the setting does nothing.
if (process.argv[2] === 'scrub' && process.platform === 'linux' && process.env.OPTLINE_HUGE_PAGES !== '0' && !/glibc\.malloc\.hugetlb/.test(process.env.GLIBC_TUNABLES ?? '') && transparentHugePages()) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    // The IPC channel only tells the child when this process is gone (see below).
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, GLIBC_TUNABLES: [process.env.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':'), OPTLINE_WRAPPED: '1' },
  });
  // The child does the work: signals sent to this process are passed on (Ctrl-C reaches both).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  process.exit(code ?? 128 + (constants.signals[signal] ?? 1));
}

// In the started copy: should the first process be killed outright (SIGKILL), the copy goes too,
// as the one process would have – leaving its temporary output, never a file under the final name.
if (process.env.OPTLINE_WRAPPED === '1' && process.channel) {
  delete process.env.OPTLINE_WRAPPED;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

function transparentHugePages() {
  try {
    return !readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[never]');
  } catch {
    return false;
  }
}
let bundle = null;
try {
  const build = await import('../scripts/build-cli.mjs');
  if (build.cliIsStale()) await build.buildCli();
  bundle = build.CLI_BUNDLE;
} catch (err) {
  console.error(`optline: could not build dist/ (${err.message}); running the sources with tsx`);
}
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
