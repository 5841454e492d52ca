// The call and live pages show the newest copy of their record. A page
// reads its call (or stream) with getOne and also hears its updates in
// realtime; on a loaded machine or a network that just came back, a read
// can be answered after an update written later. The netdrop e2e once saw
// the caller's page keep "Calling Mina…" for good while both pictures
// played: the read made before Mina answered came back after the realtime
// "active" and was applied over it. A browser cannot be made to answer in
// that order on demand, so this test feeds src/lib/newest.ts (what
// Call.svelte and LiveStream.svelte apply every copy through) the orders
// that happen and checks what the page ends up showing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const src = readFileSync(new URL('../src/lib/newest.ts', import.meta.url), 'utf8');
const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
const { newest } = await import('data:text/javascript,' + encodeURIComponent(js));

const at = (ms) => `2026-11-30 10:00:${(ms / 1000).toFixed(3).padStart(6, '0')}Z`;
const call = (status, ms, expand) => ({ id: 'c1', status, updated: at(ms), ...(expand ? { expand } : {}) });
const people = { caller: { name: 'Vera' }, callee: { name: 'Mina' } };

// what the page shows after applying copies in the order they arrive
function shown(copies) {
  let cur = null;
  for (const c of copies) cur = newest(cur, c);
  return cur;
}

test('a read answered after the realtime answer: the caller\'s page shows the call answered, not "Calling…"', () => {
  const read = call('ringing', 0, people); // read before Mina answered, delayed
  const answered = call('active', 2500); // realtime: no expand
  const c = shown([answered, read]);
  assert.equal(c.status, 'active');
  assert.deepEqual(c.expand, people, 'the names the read expanded stay');
});

test('the end of a call is kept when an older read or event comes after it', () => {
  assert.equal(shown([call('ringing', 0, people), call('active', 2500), call('ended', 9000), call('active', 2500)]).status, 'ended');
  assert.equal(shown([call('ended', 9000), call('ringing', 0, people)]).status, 'ended');
});

test('copies in order pass: each newer one replaces the shown one, the expand is kept', () => {
  const c = shown([call('ringing', 0, people), call('active', 2500), call('ended', 9000)]);
  assert.equal(c.status, 'ended');
  assert.deepEqual(c.expand, people);
});

test('the same millisecond: the copy that came last wins (a read after its update is the same state)', () => {
  const c = shown([call('ringing', 2500), call('active', 2500)]);
  assert.equal(c.status, 'active');
});

test('a newer copy with its own expand keeps it; the first copy is taken as it is', () => {
  const other = { caller: { name: 'Vera V.' }, callee: { name: 'Mina' } };
  assert.deepEqual(shown([call('ringing', 0, people), call('active', 2500, other)]).expand, other);
  assert.deepEqual(shown([call('active', 2500)]), call('active', 2500));
});
