// End-to-end tests of live streams, tips and calls in the web client: the
// built binary on a temp data dir, Debian's Chromium with its fake camera
// and microphone, two or three members in their own browser contexts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { Server, personPage, loginAs, shot, note, chromiumPath } from './harness.mjs';
import { waitText } from './util.mjs';

// the media server offers 127.0.0.1 candidates: everything stays on loopback
process.env.SALON_RTC_LOOPBACK = '1';

let s, browser, tomo, vera, mina, rin;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

before(async () => {
  s = new Server();
  await s.start();
  const ranks = await s.api('GET', '/api/collections/ranks/records?perPage=50');
  const rank = (name) => ranks.items.find((r) => r.name === name).id;
  tomo = await s.member('Tomo Tutor', 'tomo@example.com', { role: 'tutor' });
  vera = await s.member('Vera', 'vera@example.com', { rank: rank('Gold') });
  mina = await s.member('Mina', 'mina@example.com', { rank: rank('Gold') });
  rin = await s.member('Rin', 'rin@example.com', { rank: rank('Free') });
  browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=user-gesture-required'],
  });
});

after(async () => {
  await browser?.close();
  await s?.close();
});

async function person(email, opts = {}) {
  const p = await personPage(browser, s, opts);
  p.setDefaultTimeout(30000); // media pages on a shared two-core machine
  await p.context().grantPermissions(['camera', 'microphone']);
  await loginAs(p, email);
  return p;
}

// playing: the <video> shows frames and its clock runs (the decoder works)
async function waitPlaying(page, selector, timeout = 20000) {
  await page.waitForFunction((sel) => {
    const v = document.querySelector(sel);
    if (!v || v.videoWidth === 0) return false;
    const now = v.currentTime;
    if (!v.dataset.t0) { v.dataset.t0 = String(now); return false; }
    return now > Number(v.dataset.t0) + 0.5;
  }, selector, { timeout, polling: 250 });
  return page.$eval(selector, (v) => { delete v.dataset.t0; return { w: v.videoWidth, h: v.videoHeight, t: v.currentTime }; });
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

let streamId = '';

test('a tutor goes live from the browser; a viewer watches with sound, counts, chats; below the rank sees nothing; the end shows', async () => {
  const host = await person('tomo@example.com');
  await host.goto('/live');
  await host.getByRole('button', { name: 'Plan a stream' }).click();
  await host.fill('#lt', 'Morning sketching');
  await host.selectOption('#lr', { label: 'Silver and above' });
  await host.click('[data-testid=live-create] button[type=submit]');
  await host.waitForURL(/\/live\/[a-z0-9]+$/);
  streamId = host.url().split('/').pop();
  await waitPlaying(host, '[data-testid=preview]'); // the fake camera in the preview
  // the OBS panel: WHIP URL and a key that can be reset
  await host.locator('summary', { hasText: 'Broadcast from OBS' }).click();
  assert.equal(await host.inputValue('#whip'), `${s.base}/api/rtc/live/${streamId}/whip`);
  const key = await host.inputValue('[data-testid=stream-key]');
  assert.match(key, /^sk_/);
  await host.click('[data-testid=reset-key]');
  await host.waitForFunction((k) => document.querySelector('[data-testid=stream-key]').value !== k, key);
  await host.click('[data-testid=go-live]');
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live', 30000);

  // the viewer finds it in the list and watches
  const viewer = await person('vera@example.com');
  await viewer.goto('/live');
  await waitText(viewer.locator('[data-testid=live-now]'), 'Morning sketching');
  await viewer.locator('[data-testid=live-now] a', { hasText: 'Morning sketching' }).click();
  await viewer.waitForURL(`**/live/${streamId}`);
  await viewer.click('[data-testid=watch]');
  const size = await waitPlaying(viewer, '[data-testid=live-video]');
  assert.ok(size.w > 0 && size.h > 0, 'the viewer decodes the host\'s picture');
  const ttff = Number(await viewer.getAttribute('[data-testid=live-video]', 'data-ttff'));
  assert.ok(ttff > 0, 'the first frame was timed');
  const audio = await viewer.$eval('[data-testid=live-video]', (v) => ({ muted: v.muted, tracks: v.srcObject.getAudioTracks().length }));
  assert.deepEqual(audio, { muted: false, tracks: 1 }, 'one click plays with sound');
  note('live-ttff.txt', `time to first frame: ${ttff} ms\n`);
  await waitText(host.locator('[data-testid=viewer-count]'), '1 watching');
  await waitText(viewer.locator('[data-testid=viewer-count]'), '1 watching');

  // chat: the viewer writes, the host sees it live
  await viewer.fill('.live-chat input', 'Good morning from Osaka');
  await viewer.keyboard.press('Enter');
  await waitText(host.locator('[data-testid=live-chat]'), 'Good morning from Osaka');
  await waitText(host.locator('[data-testid=live-chat]'), 'Vera');
  await shot(viewer, 'live-watch-en-desktop');
  await shot(host, 'live-studio-en-desktop');

  // a member below the stream's rank sees neither the stream nor its page
  const low = await person('rin@example.com');
  await low.goto('/live');
  await waitText(low.locator('main'), 'No stream is live or planned right now.');
  await low.goto('/live/' + streamId);
  await low.locator('.error').waitFor();
  assert.equal(await low.locator('[data-testid=live-video]').count(), 0);
  await low.context().close();

  // the host ends: the viewer is told, the chat closes
  host.once('dialog', (d) => d.accept());
  await host.click('[data-testid=end-live]');
  await waitText(viewer.locator('[data-testid=live-ended]'), 'The stream has ended.');
  await waitText(viewer.locator('.live-chat'), 'The chat is closed.');
  const rec = await s.api('GET', `/api/collections/live_streams/records/${streamId}`);
  assert.equal(rec.status, 'ended');
  await host.context().close();
  await viewer.context().close();
});

test('a server restart ends the stream (the media server ends every stream when it stops): both pages say so by themselves', async () => {
  const host = await person('tomo@example.com');
  const rec = await s.api('POST', '/api/collections/live_streams/records', { title: 'Restarts', host: tomo.id });
  await host.goto('/live/' + rec.id);
  await waitPlaying(host, '[data-testid=preview]');
  await host.click('[data-testid=go-live]');
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live', 30000);
  const viewer = await person('vera@example.com');
  await viewer.goto('/live/' + rec.id);
  await viewer.click('[data-testid=watch]');
  await waitPlaying(viewer, '[data-testid=live-video]');

  await s.restart();
  assert.equal((await s.api('GET', `/api/collections/live_streams/records/${rec.id}`)).status, 'ended');
  // the viewer's player notices the lost connection, the page its record
  await waitText(viewer.locator('[data-testid=live-ended]'), 'The stream has ended.', 40000);
  await waitText(host.locator('[data-testid=live-ended]'), 'The stream has ended.', 40000);
  await host.context().close();
  await viewer.context().close();
});
