#!/usr/bin/env node
// The `optline` command: runs the bundled CLI in dist/, built from src/ first when it is missing
// or older than the sources (scripts/build-cli.mjs, about 0.1 s). Should the build be impossible
// (esbuild missing), it runs the TypeScript sources through tsx instead, a second slower to start.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
