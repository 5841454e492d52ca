// The e2e runner (npm run e2e): builds the server binary once for every
// file, runs the files of pages E2E_CONCURRENCY (default 2) at a time, then
// the media files one at a time and alone: their pictures and the figures
// they note depend on the CPU they get. Arguments: the files to run (all
// *.test.mjs by default) and node --test options (those starting with -).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBinary } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// live video through the media server or LiveKit
const media = new Set(['live.test.mjs', 'record.test.mjs', 'netdrop.test.mjs', 'ui3.test.mjs', 'livekit.test.mjs']);

const args = process.argv.slice(2);
const options = args.filter((a) => a.startsWith('-'));
let files = args.filter((a) => !a.startsWith('-'));
if (!files.length) files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => relative(process.cwd(), join(here, f)));

process.env.SALON_E2E_BIN = buildBinary();

function run(list, concurrency) {
  if (!list.length) return 0;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...options, ...list], { stdio: 'inherit' });
  console.log(`# e2e: ${list.length} files, ${concurrency} at a time, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r.status ?? 1;
}

const pages = files.filter((f) => !media.has(basename(f)));
const moving = files.filter((f) => media.has(basename(f)));
const failed = [run(pages, Number(process.env.E2E_CONCURRENCY) || 2), run(moving, 1)].some((code) => code !== 0);
process.exit(failed ? 1 : 0);
