// End-to-end test of live stream recordings in the web client: a tutor
// records a ~20 s live from Chromium's fake camera and microphone, a Gold
// member replays it with sound afterwards, a lower-ranked member cannot,
// and the host deletes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { Server, personPage, loginAs, shot, note, chromiumPath } from './harness.mjs';
import { waitText } from './util.mjs';

process.env.SALON_RTC_LOOPBACK = '1';

let s, browser;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

before(async () => {
  s = new Server();
  await s.start();
  const ranks = await s.api('GET', '/api/collections/ranks/records?perPage=50');
  const rank = (name) => ranks.items.find((r) => r.name === name).id;
  await s.member('Tomo Tutor', 'tomo@example.com', { role: 'tutor' });
  await s.member('Vera', 'vera@example.com', { rank: rank('Gold') });
  await s.member('Mina', 'mina@example.com', { rank: rank('Gold'), lang: 'ja' });
  await s.member('Rin', 'rin@example.com', { rank: rank('Free') });
  browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      // the replay is started from the test, with sound
      '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close();
  await s?.close();
});

async function person(email, opts = {}) {
  const p = await personPage(browser, s, opts);
  p.setDefaultTimeout(30000);
  await p.context().grantPermissions(['camera', 'microphone']);
  await loginAs(p, email);
  return p;
}

async function axe(page) {
  return page.evaluate(async (src) => {
    if (!window.axe) eval(src);
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      violations: res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`),
    };
  }, axeSource);
}

// replays plays the recording: its clock runs, pictures and sound decode.
async function replays(page) {
  const sel = '[data-testid=replay-video]';
  await page.locator(sel).waitFor();
  await page.$eval(sel, (v) => { v.muted = false; return v.play(); });
  await page.waitForFunction((q) => {
    const v = document.querySelector(q);
    return v && v.currentTime > 2 && v.videoWidth > 0;
  }, sel, { timeout: 20000, polling: 250 }).catch(async (err) => {
    const st = await page.$eval(sel, (v) => JSON.stringify({ rs: v.readyState, ns: v.networkState, err: v.error?.message, t: v.currentTime,
      d: v.duration, w: v.videoWidth, paused: v.paused, src: v.currentSrc.slice(0, 80) }));
    throw new Error(`the replay does not play: ${st}: ${err.message}`);
  });
  return page.$eval(sel, (v) => ({
    w: v.videoWidth, h: v.videoHeight, t: v.currentTime, duration: v.duration, muted: v.muted, paused: v.paused,
    audioBytes: v.webkitAudioDecodedByteCount, videoBytes: v.webkitVideoDecodedByteCount,
  }));
}

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
