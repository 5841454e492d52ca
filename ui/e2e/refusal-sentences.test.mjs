// Unit test of the refusal sentences: every code in docs/refusal-codes.md
// has a sentence in English and in Japanese, and a refusal shown to a
// Japanese member is only the client's own Japanese sentence (never the
// server's English detail). The client's modules are loaded through
// Vite's SSR loader, as the build compiles them; no browser needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'vite';
import { ClientResponseError } from 'pocketbase';
import { repo } from './harness.mjs';

let vite, i18n, errors;
const codes = [...readFileSync(join(repo, 'docs', 'refusal-codes.md'), 'utf8').matchAll(/^\| ([a-z][a-z0-9_]*) \| \d{3}/gm)].map((m) => m[1]);

before(async () => {
  // what the modules touch when they load (the language the browser prefers)
  globalThis.localStorage ??= { getItem: () => null, setItem() {}, removeItem() {} };
  globalThis.navigator ??= { language: 'en', languages: ['en'] };
  globalThis.document ??= { documentElement: {} };
  vite = await createServer({ root: join(repo, 'ui'), logLevel: 'error', appType: 'custom', server: { middlewareMode: true, hmr: false, ws: false } });
  i18n = await vite.ssrLoadModule('/src/lib/i18n.svelte.ts');
  errors = await vite.ssrLoadModule('/src/lib/errors.ts');
});

after(async () => { i18n?.setLang('en', false); await vite?.close(); });

const detail = 'This category needs the Gold rank or above (yours: Silver).';
function refusal(code, status = 403) {
  return new ClientResponseError({ status, data: { status, message: detail, data: { reason: { code, message: detail } } } });
}

test('every documented refusal code has a sentence in en and ja', () => {
  assert.ok(codes.length > 60, `codes read from the docs: ${codes.length}`);
  const missing = [];
  for (const lang of ['en', 'ja']) {
    i18n.setLang(lang, false);
    for (const code of codes) {
      const key = 'err.code.' + code;
      if (!i18n.has(key) || !i18n.t(key).trim()) missing.push(`${lang} ${code}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('a Japanese member sees only the Japanese sentence, never the server\'s English detail', () => {
  i18n.setLang('ja', false);
  for (const code of codes) {
    const shown = errors.explain(refusal(code));
    assert.ok(!shown.includes(detail) && !shown.includes('{message}'), `${code}: ${shown}`);
    assert.equal(shown, i18n.t('err.code.' + code), `${code} is its own sentence`);
    assert.match(shown, /[\u3040-\u30ff\u4e00-\u9fff]/, `${code} is Japanese: ${shown}`);
  }
  assert.equal(errors.explain(refusal('rank_too_low')), i18n.t('err.code.rank_too_low'));
});

test('an English member gets the English sentence', () => {
  i18n.setLang('en', false);
  for (const code of codes) {
    const shown = errors.explain(refusal(code));
    assert.ok(shown.startsWith(i18n.t('err.code.' + code, { message: '' }).replace(/ \(\)$/, '').slice(0, 10)), `${code}: ${shown}`);
    assert.doesNotMatch(shown, /[\u3040-\u30ff\u4e00-\u9fff]/, `${code} is English: ${shown}`);
  }
});
