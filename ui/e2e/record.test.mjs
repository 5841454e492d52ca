// End-to-end test of live stream recordings in the web client: a tutor
// records a ~20 s live from Chromium's fake camera and microphone, a Gold
// member replays it with sound afterwards, a lower-ranked member cannot,
// and the host deletes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSalon, launchMedia, mediaPerson, axe, shot, note, replays } from './harness.mjs';
import { waitText } from './util.mjs';

process.env.SALON_RTC_LOOPBACK = '1';

let s, browser;

before(async () => {
  ({ s } = await openSalon({
    tomo: ['Tomo Tutor', 'tomo@example.com', { role: 'tutor' }], vera: ['Vera', 'vera@example.com', { rank: 'Gold' }],
    mina: ['Mina', 'mina@example.com', { rank: 'Gold', lang: 'ja' }], rin: ['Rin', 'rin@example.com', { rank: 'Free' }],
  }));
  // the replay is started from the test, with sound
  browser = await launchMedia({ autoplay: true });
});

after(async () => {
  await browser?.close();
  await s?.close();
});

const person = (email, opts = {}) => mediaPerson(browser, s, email, opts);

test('a tutor records a live; a Gold member replays it with sound; a Free member cannot; the host deletes it', async () => {
  const host = await person('tomo@example.com');
  await host.goto('/live');
  await host.getByRole('button', { name: 'Plan a stream' }).click();
  await host.fill('#lt', 'Recorded workshop');
  await host.selectOption('#lr', { label: 'Gold and above' });
  await host.check('[data-testid=record]');
  await host.click('[data-testid=live-create] button[type=submit]');
  await host.waitForURL(/\/live\/[a-z0-9]+$/);
  const id = host.url().split('/').pop();
  assert.equal((await s.api('GET', `/api/collections/live_streams/records/${id}`)).record, true, 'the host chose to record');
  // the fake camera shows in the preview before going live
  await host.waitForFunction(() => {
    const v = document.querySelector('[data-testid=preview]');
    return v && v.videoWidth > 0 && v.currentTime > 0.5;
  }, null, { timeout: 20000, polling: 250 });
  await host.click('[data-testid=go-live]');
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live', 30000);
  const liveAt = Date.now();
  await new Promise((r) => setTimeout(r, 20000));
  host.once('dialog', (d) => d.accept());
  await host.click('[data-testid=end-live]');
  const liveFor = (Date.now() - liveAt) / 1000;

  // the recording is attached once the stream has ended
  let rec;
  for (let i = 0; i < 100; i++) {
    rec = await s.api('GET', `/api/collections/live_streams/records/${id}`);
    if (rec.recording) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(rec.status, 'ended');
  assert.ok(rec.recording, 'the recording is attached');

  if (process.env.RECORD_KEEP) {
    const ft = await s.api('POST', '/api/files/token', {});
    const file = await fetch(`${s.base}/api/files/live_streams/${id}/${rec.recording}?token=${ft.token}`);
    (await import('node:fs')).writeFileSync(process.env.RECORD_KEEP, Buffer.from(await file.arrayBuffer()));
  }
  const viewer = await person('vera@example.com');
  await viewer.goto('/live/' + id);
  // an ended stream says when it was streamed and how long, not "0 watching"
  // (the span from the record's started_at to its ended_at, as m:ss)
  const span = Math.round((Date.parse(rec.ended_at) - Date.parse(rec.started_at)) / 1000);
  const streamed = await waitText(viewer.locator('[data-testid=streamed]'), /^Streamed .+ · \d+:\d\d$/);
  assert.equal(streamed.split(' · ')[1], `${Math.floor(span / 60)}:${String(span % 60).padStart(2, '0')}`, `"${streamed}" for ${rec.started_at} → ${rec.ended_at}`);
  assert.equal(await viewer.locator('[data-testid=viewer-count]').count(), 0, 'no viewer count once it has ended');
  const played = await replays(viewer);
  assert.ok(played.w > 0 && played.h > 0, 'the replay shows the host\'s picture');
  assert.ok(played.audioBytes > 0, 'the replay has sound that decodes');
  assert.equal(played.muted, false);
  assert.ok(Math.abs(played.duration - liveFor) < 5, `duration ${played.duration} s for a live of ${liveFor} s`);
  note('record-replay.txt', `live ${liveFor.toFixed(1)} s, replay duration ${played.duration.toFixed(2)} s, ${played.w}x${played.h}, audio bytes decoded ${played.audioBytes}\n`);
  assert.equal(await viewer.locator('[data-testid=delete-recording]').count(), 0, 'only the host and admins may delete');
  const a = await axe(viewer);
  assert.deepEqual(a.violations, []);
  assert.ok(a.overflow <= 0);
  await shot(viewer, 'record-replay-en-desktop');

  // the same in Japanese, on a phone
  const mina = await person('mina@example.com', { lang: 'ja', phone: true });
  await mina.goto('/live/' + id);
  await replays(mina);
  await waitText(mina.locator('[data-testid=streamed]'), /に配信 · \d+:\d\d$/);
  assert.doesNotMatch(await mina.locator('main').innerText(), /視聴中/, 'no viewer count once it has ended');
  const b = await axe(mina);
  assert.deepEqual(b.violations, []);
  assert.ok(b.overflow <= 0, 'nothing wider than a phone');
  await shot(mina, 'record-replay-ja-phone');
  await mina.context().close();

  // a Free member sees neither the stream nor its recording
  const low = await person('rin@example.com');
  await low.goto('/live/' + id);
  await low.locator('.error').waitFor();
  assert.equal(await low.locator('[data-testid=replay-video]').count(), 0);
  const lowAuth = await s.login('rin@example.com');
  const lowFile = await s.api('POST', '/api/files/token', undefined, lowAuth.token);
  const res = await fetch(`${s.base}/api/files/live_streams/${id}/${rec.recording}?token=${lowFile.token}`);
  assert.equal(res.status, 404, 'a Free member cannot fetch the file');
  await low.context().close();

  // the host deletes it: the page goes back to "ended", the file is gone
  await host.reload();
  await host.locator('[data-testid=delete-recording]').waitFor();
  await shot(host, 'record-host-en-desktop');
  host.once('dialog', (d) => d.accept());
  await host.click('[data-testid=delete-recording]');
  await waitText(host.locator('[data-testid=live-ended]'), 'The stream has ended.');
  assert.equal((await s.api('GET', `/api/collections/live_streams/records/${id}`)).recording, '');
  await host.context().close();
  await viewer.context().close();
});
