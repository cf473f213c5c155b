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

// `optline scrub` runs in a copy of this process started with settings that can only be given at
// process start (OPTLINE_SCRUB_RESTART=0 runs it here, without them):
//  - Huge pages. The scrub's look-ups jump around register indexes of hundreds of MB and miss the
//    TLB on 4 KB pages (about 5 % of its time on a 50M register). Node cannot ask for huge pages,
//    but glibc's malloc – which holds large ArrayBuffers – does (MADV_HUGEPAGE) when
//    GLIBC_TUNABLES says so. Elsewhere than Linux with glibc the setting does nothing.
//  - V8 compiling hot code on the thread that runs it (--no-concurrent-recompilation). With a
//    scrub thread on every core, the background compiler threads wait for a core while the
//    threads run unoptimised code: about 0.3 s of the 10M-row benchmark's first seconds.
if (process.argv[2] === 'scrub' && process.env.OPTLINE_WRAPPED === undefined && process.env.OPTLINE_SCRUB_RESTART !== '0') {
  const env = { ...process.env, OPTLINE_WRAPPED: '1' };
  if (process.platform === 'linux' && !/glibc\.malloc\.hugetlb/.test(env.GLIBC_TUNABLES ?? '') && transparentHugePages()) {
    env.GLIBC_TUNABLES = [env.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':');
  }
  const child = spawn(process.execPath, [...process.execArgv, '--no-concurrent-recompilation', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    // The IPC channel only tells the copy when this process is gone (see below).
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env,
  });
  // The copy does the work: signals sent to this process are passed on (Ctrl-C reaches both).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  process.exit(code ?? 128 + (constants.signals[signal] ?? 1));
}

// In the started copy: should the first process be killed outright (SIGKILL), the copy goes too,
// as the one process would have – leaving its temporary output, never a file under the final name.
if (process.env.OPTLINE_WRAPPED === '1' && process.channel) {
  delete process.env.OPTLINE_WRAPPED;
  // Read before an output is put in place (AtomicFile.commit): 'disconnect' comes only when the
  // event loop gets to it, by which time a scrub near its end could have renamed its files.
  process.env.OPTLINE_PARENT_PID = String(process.ppid);
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
  // tsx as this project's, wherever the command is run from. OPTLINE_PARENT_PID goes down as it is:
  // it names the command, which the sources' process checks is still running (AtomicFile).
  let tsx;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    console.error('optline: neither the bundle in dist/ nor tsx to run the sources is there: run `npm install` in the project');
    process.exit(1);
  }
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
