// The web client applies realtime events in the order of the writes.
// PocketBase sends each realtime message from a goroutine of its own
// (apis/realtime.go), so writes to one record a moment apart can reach a
// client in any order; the Go suite saw a superuser's outbox create arrive
// after its update. Such an order cannot be provoked on demand from a
// browser, so this test feeds src/lib/order.ts (what every screen's
// subscription goes through, src/lib/realtime.ts) the orders PocketBase
// can deliver and checks what a screen is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const src = readFileSync(new URL('../src/lib/order.ts', import.meta.url), 'utf8');
const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
const { inOrder } = await import('data:text/javascript,' + encodeURIComponent(js));

const rec = (id, updated, title) => ({ id, updated, title });
const ev = (action, record) => ({ action, record });

// what a screen sees of a sequence of events, as ForumCategory applies them
function apply(events) {
  const seen = new Map();
  const shown = new Map();
  const given = [];
  for (const e of events) {
    const out = inOrder(seen, e);
    if (!out) continue;
    given.push(out.action + ' ' + out.record.title);
    if (out.action === 'delete') shown.delete(out.record.id);
    else shown.set(out.record.id, out.record.title);
  }
  return { shown: Object.fromEntries(shown), given };
}

test('an update that arrives before its create: the screen ends with the update', () => {
  const { shown } = apply([ev('update', rec('a', '2026-11-30 10:00:00.002Z', 'edited')), ev('create', rec('a', '2026-11-30 10:00:00.001Z', 'first'))]);
  assert.deepEqual(shown, { a: 'edited' });
});

test('a delete that arrives before the create and update it follows: nothing comes back', () => {
  const { shown, given } = apply([
    ev('delete', rec('a', '2026-11-30 10:00:00.002Z', 'edited')),
    ev('create', rec('a', '2026-11-30 10:00:00.001Z', 'first')),
    ev('update', rec('a', '2026-11-30 10:00:00.002Z', 'edited')),
  ]);
  assert.deepEqual(shown, {});
  assert.deepEqual(given, ['delete edited']);
});

test('an older update after a newer one is dropped (a stream\'s "live" after its "ended")', () => {
  const { shown } = apply([
    ev('create', rec('s', '2026-11-30 10:00:00.000Z', 'scheduled')),
    ev('update', rec('s', '2026-11-30 10:00:05.000Z', 'ended')),
    ev('update', rec('s', '2026-11-30 10:00:01.000Z', 'live')),
  ]);
  assert.deepEqual(shown, { s: 'ended' });
});

test('events in order pass unchanged, same-millisecond updates too, other records untouched', () => {
  const events = [
    ev('create', rec('a', '2026-11-30 10:00:00.001Z', 'first')),
    ev('update', rec('a', '2026-11-30 10:00:00.001Z', 'edited')),
    ev('create', rec('b', '2026-11-30 10:00:00.001Z', 'other')),
    ev('update', rec('a', '2026-11-30 10:00:00.005Z', 'again')),
    ev('delete', rec('b', '2026-11-30 10:00:00.006Z', 'other')),
  ];
  const { shown, given } = apply(events);
  assert.deepEqual(shown, { a: 'again' });
  assert.deepEqual(given, ['create first', 'update edited', 'create other', 'update again', 'delete other']);
});

test('events that are not record writes (typing, presence, seat counts) pass as they are', () => {
  const seen = new Map();
  for (const e of [{ type: 'typing', user: { id: 'u' } }, { going: 3, waitlist: 1 }, { action: 'presence', record: null }]) {
    assert.equal(inOrder(seen, e), e);
  }
});
