// End-to-end: the stream chat in realtime, tips paid through Stripe
// Checkout (stripe-mock, a signed webhook), a viewer's network drop, and
// the figures BENCHMARKS.md quotes (time to first frame, frames decoded per
// second, the host's sending bitrate), all from getStats() in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { loadavg } from 'node:os';
import { Server, launchMedia, mediaPerson, framesDecoded, rtp, decoding, blockLists, shot, note, repo } from './harness.mjs';
import { waitText as waitTextAt, waitCount as waitCountAt } from './util.mjs';

// a minute for anything to show: the machine these run on is shared
const waitText = (locator, want, timeout = 60000) => waitTextAt(locator, want, timeout);
const waitCount = (locator, n, timeout = 60000) => waitCountAt(locator, n, timeout);

process.env.SALON_RTC_LOOPBACK = '1';
const WEBHOOK_SECRET = 'whsec_salonbase_e2e';

let s, browser, stripe, tomo, streamId;
let host, vera, mina;

// stripe-mock, the pinned Go tool the Go tests use, on free loopback ports
async function startStripeMock() {
  const bin = execFileSync('go', ['tool', '-n', 'stripe-mock'], { cwd: repo, env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' } }).toString().trim();
  const proc = spawn(bin, ['-http-addr', '127.0.0.1:0', '-https-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('stripe-mock did not start')), 30000);
    proc.stdout.on('data', (d) => {
      buf += d.toString();
      const m = buf.match(/Listening for HTTP at address: (\S+)/);
      if (m) { clearTimeout(timer); resolve('http://' + m[1]); }
    });
  });
  proc.stdout.resume();
  return { url, close: () => proc.kill() };
}

before(async () => {
  stripe = await startStripeMock();
  process.env.STRIPE_API_BASE = stripe.url; // the server talks to stripe-mock
  s = new Server();
  await s.start();
  // Stripe sends buyers back to the application URL
  await s.api('PATCH', '/api/settings', { meta: { appURL: s.base } });
  tomo = await s.member('Tomo Tutor', 'tomo@example.com', { role: 'tutor' });
  await s.member('Vera', 'vera@example.com');
  const minaRec = await s.member('Mina', 'mina@example.com');
  // Mina follows Tomo: told once when he goes live
  await s.api('POST', '/api/collections/follows/records', { follower: minaRec.id, followee: tomo.id });
  browser = await launchMedia();
});

after(async () => {
  await browser?.close();
  await s?.close();
  stripe?.close();
});

// a signed-in member whose peer connections the test can read
const person = (email) => mediaPerson(browser, s, email, { timeout: 60000 });

// videoIn: the page's received video now (the open connections'
// inbound-rtp; Chrome's counters), for the frames-per-second timeline
const videoIn = (page) => page.evaluate(async () => {
  const o = { decoded: 0, received: 0, dropped: 0, keys: 0, plis: 0, freezes: 0, frozen: 0, width: 0, fps: 0 };
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((r) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
      o.decoded += r.framesDecoded ?? 0; o.received += r.framesReceived ?? 0; o.dropped += r.framesDropped ?? 0;
      o.keys += r.keyFramesDecoded ?? 0; o.plis += r.pliCount ?? 0; o.freezes += r.freezeCount ?? 0;
      o.frozen += r.totalFreezesDuration ?? 0; o.width = r.frameWidth ?? o.width; o.fps = r.framesPerSecond ?? o.fps;
    });
  }
  return o;
});

// videoOut: what the page sends per simulcast layer (outbound-rtp by rid)
const videoOut = (page) => page.evaluate(async () => {
  const o = {};
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((r) => {
      if (r.type !== 'outbound-rtp' || r.kind !== 'video') return;
      o[r.rid ?? '-'] = { encoded: r.framesEncoded ?? 0, keys: r.keyFramesEncoded ?? 0, plis: r.pliCount ?? 0,
        width: r.frameWidth ?? 0, fps: r.framesPerSecond ?? 0, limit: r.qualityLimitationReason ?? '', active: r.active };
    });
  }
  return o;
});

// sampler: the viewer's and the host's video every 500 ms until stopped
function sampler(viewer, host, from) {
  const samples = [];
  let on = true;
  const done = (async () => {
    while (on) {
      try {
        const [v, h] = await Promise.all([videoIn(viewer), videoOut(host)]);
        samples.push({ t: Date.now() - from, v, h });
      } catch { /* a page between documents */ }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return { samples, stop: async () => { on = false; await done; } };
}

// fpsBetween: frames decoded per second between two times after the start
// of the samples (ms), and the frame width at the end
function fpsBetween(samples, a, b) {
  const at = (t) => samples.find((x) => x.t >= t) ?? samples[samples.length - 1];
  const s0 = at(a), s1 = at(b);
  return { fps: (s1.v.decoded - s0.v.decoded) * 1000 / Math.max(1, s1.t - s0.t), width: s1.v.width, from: s0.t, to: s1.t };
}

// serverLog: the media server's simulcast lines (written to the logs in
// batches every 3 s)
async function serverLog(match = 'rtc simulcast', until = 'rtc simulcast viewer left') {
  const filter = encodeURIComponent(`message ~ '${match}'`);
  let items = [];
  for (let i = 0; i < 20; i++) {
    items = (await s.api('GET', `/api/logs?perPage=500&sort=created&filter=${filter}`)).items;
    if (items.some((x) => x.message === until)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return items.map((x) => `${x.created} ${x.message} ${JSON.stringify(x.data)}`).join('\n') + '\n';
}

const sign = (payload, at = Math.floor(Date.now() / 1000)) =>
  `t=${at},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${at}.${payload}`).digest('hex')}`;

test('a host goes live; two viewers decode frames; a chat line reaches the other viewer through realtime alone; no tip button without payments', async () => {
  // the media server's layer decisions (debug) into the logs, for the timeline
  await s.api('PATCH', '/api/settings', { logs: { minLevel: -4 } });
  const rec = await s.api('POST', '/api/collections/live_streams/records', { title: 'Evening brushwork', host: tomo.id, tips_enabled: true });
  streamId = rec.id;
  host = await person('tomo@example.com');
  await host.goto('/live/' + streamId);
  await host.locator('[data-testid=go-live]').waitFor();
  await host.waitForFunction(() => document.querySelector('[data-testid=preview]')?.videoWidth > 0);
  // the host's sending bitrate over its first 10 s live
  await host.click('[data-testid=go-live]');
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live', 30000);
  const sent0 = await rtp(host, 'outbound-rtp', 'video', 'bytesSent');
  const t0 = Date.now();

  vera = await person('vera@example.com');
  mina = await person('mina@example.com');
  const ttffs = [], answers = [];
  let watched = 0, timeline;
  for (const v of [vera, mina]) {
    await v.goto('/live/' + streamId);
    if (v === vera) {
      watched = Date.now();
      timeline = sampler(vera, host, watched);
    }
    await v.click('[data-testid=watch]');
    await v.waitForFunction(() => Number(document.querySelector('[data-testid=live-video]')?.dataset.ttff) > 0);
    ttffs.push(Number(await v.getAttribute('[data-testid=live-video]', 'data-ttff')));
    answers.push(Number(await v.getAttribute('[data-testid=live-video]', 'data-answered')));
    await decoding(v);
  }
  await waitText(host.locator('[data-testid=viewer-count]'), '2 watching');

  // frames decoded per second, over 5 s
  const f0 = await framesDecoded(vera);
  const both = Date.now() - watched;
  await vera.waitForTimeout(5000);
  const fps = ((await framesDecoded(vera)) - f0) / 5;
  const wait = 10000 - (Date.now() - t0);
  if (wait > 0) await host.waitForTimeout(wait);
  const kbps = Math.round(((await rtp(host, 'outbound-rtp', 'video', 'bytesSent')) - sent0) * 8 / (Date.now() - t0));
  // and later: 10–15 s after the first viewer clicked watch
  const later = 15500 - (Date.now() - watched);
  if (later > 0) await vera.waitForTimeout(later);
  await timeline.stop();
  const early = fpsBetween(timeline.samples, both, both + 5000), settled = fpsBetween(timeline.samples, 10000, 15000);
  const last = timeline.samples[timeline.samples.length - 1];
  const layers = Object.entries(last.h).map(([rid, o]) => `${rid} ${o.width} px ${o.fps ?? 0} fps`).join(', ');
  const figures = `time to first frame: ${ttffs.join(' ms, ')} ms (the server's answer after ${answers.join(' ms, ')} ms)\n` +
    `frames decoded per second: ${fps.toFixed(1)} (first viewer, 5 s once both decode)\n` +
    `frames decoded per second, first viewer, ${(early.from / 1000).toFixed(1)}-${(early.to / 1000).toFixed(1)} s after watch: ${early.fps.toFixed(1)} at ${early.width} px wide\n` +
    `frames decoded per second, first viewer, ${(settled.from / 1000).toFixed(1)}-${(settled.to / 1000).toFixed(1)} s after watch: ${settled.fps.toFixed(1)} at ${settled.width} px wide\n` +
    `host's layers at ${(last.t / 1000).toFixed(1)} s: ${layers}\n` +
    `host video sending bitrate, first 10 s: ${kbps} kbit/s\nload average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`;
  note('ui3-figures.txt', figures);
  process.stdout.write(figures);
  // the whole timeline: the viewer's counters and the host's layers
  note('ui3-fps-timeline.txt', timeline.samples.map(({ t, v, h }) =>
    `${(t / 1000).toFixed(1)} s viewer ${JSON.stringify(v)} host ${JSON.stringify(h)}`).join('\n') + '\n');
  // figures, not limits (the machine is shared): the media flows
  assert.ok(fps > 0, 'the viewer decodes frames');
  assert.ok(kbps > 0, 'the host sends video');

  // payments are not configured: no tip button, even on a stream with tips
  // on, once the page has the server's answer (not after some time)
  const options = vera.waitForResponse((r) => r.url().includes(`/api/salon/live/${streamId}/tips/options`));
  await vera.reload();
  assert.equal((await (await options).json()).available, false);
  await vera.locator('[data-testid=watch]').waitFor();
  assert.equal(await vera.locator('[data-testid=tip-button]').count(), 0);
  await vera.click('[data-testid=watch]');
  await decoding(vera);
  // the media server's account of the first viewer's session (logged when
  // it left, at the reload) and of its layer decisions
  note('ui3-server-log.txt', await serverLog());

  // Mina may not fetch the chat list any more (every such fetch is refused):
  // Vera's line can reach her through the realtime event alone. The page
  // may still try a catch-up (its subscription got ready late on a loaded
  // machine, or the realtime connection came back): that fetch fails and
  // proves nothing either way, so it is not counted against the page.
  const minaLists = await blockLists(mina, 'live_chat_messages');
  await vera.fill('.live-chat input', 'Lovely colours tonight');
  await vera.keyboard.press('Enter');
  await waitText(mina.locator('[data-testid=live-chat]'), 'Lovely colours tonight');
  await waitText(host.locator('[data-testid=live-chat]'), 'Lovely colours tonight');
  await minaLists.stop();
});

test('a tip: Checkout opens in a new tab, the return page says it is being confirmed, the line shows in both chats only once the signed webhook says paid', async () => {
  assert.ok(streamId, 'the first test went live');
  const s0 = await s.api('GET', '/api/collections/salon_settings/records?perPage=1');
  await s.settings({ stripe_secret_key: 'sk_test_salonbase', stripe_webhook_secret: WEBHOOK_SECRET, tip_min: 100, tip_max: 50000, tip_presets: [300, 1000], tip_currency: 'jpy' });
  try {
    await vera.reload();
    await vera.click('[data-testid=watch]');
    await vera.click('[data-testid=tip-button]');
    await vera.locator('[data-testid=tip-form]').waitFor();
    await waitText(vera.locator('[data-testid=tip-form]'), /100\D[^]*50,000/); // the salon's limits
    // an amount within the limits, and a message
    await vera.fill('#tipamt', '700');
    await vera.fill('#tipmsg', 'For the new brushes');
    // no internet here: the Checkout page itself is a stand-in
    await vera.context().route('https://checkout.stripe.com/**', (r) => r.fulfill({ contentType: 'text/html', body: '<title>Stripe Checkout</title><p>Checkout</p>' }));
    const [tab] = await Promise.all([
      vera.context().waitForEvent('page'),
      vera.click('[data-testid=tip-form] button[type=submit]'),
    ]);
    tab.setDefaultTimeout(60000);
    await tab.waitForURL(/checkout\.stripe\.com/);
    assert.match(tab.url(), /^https:\/\/checkout\.stripe\.com\//, 'Stripe Checkout opens in the new tab');
    await vera.locator('[data-testid=tip-sent]').waitFor();
    const tips = await s.api('GET', `/api/collections/tips/records?filter=${encodeURIComponent(`stream = '${streamId}'`)}`);
    assert.equal(tips.items.length, 1);
    const tip = tips.items[0];
    assert.equal(tip.amount, 700);
    assert.equal(tip.status, 'pending');

    // Stripe sends the buyer back: the stream page, "being confirmed"
    await tab.goto(`/?stream=${streamId}&tip=${tip.id}&checkout=success`, { waitUntil: 'commit' });
    await waitText(tab.locator('[data-testid=tip-return]'), 'being confirmed');
    await waitText(tab.locator('h1'), 'Evening brushwork');
    await shot(tab, 'tip-return-en-desktop');
    // not paid yet: no tip line anywhere
    await mina.waitForTimeout(1000);
    assert.equal(await mina.locator('[data-testid=tip-line]').count(), 0);
    assert.equal(await vera.locator('[data-testid=tip-line]').count(), 0);

    // the signed checkout.session.completed, as the Go tests send it
    const payload = JSON.stringify({
      id: `evt_e2e_${Date.now()}`, object: 'event', api_version: '2026-01-28.clover', created: Math.floor(Date.now() / 1000),
      type: 'checkout.session.completed', livemode: false,
      data: { object: {
        id: tip.stripe_session, object: 'checkout.session', status: 'complete', payment_status: 'paid',
        amount_total: 700, currency: 'jpy', payment_intent: 'pi_tip_' + tip.id,
        metadata: { salon_kind: 'tips', salon_id: tip.id },
      } },
    });
    // one hex digit of the signature changed (to another digit: a signature
    // that began with 0 stayed valid when it was always set to 0, and the
    // test failed once in 16 runs)
    const wrong = sign(payload).replace(/v1=(.)/, (_, c) => 'v1=' + (c === '0' ? '1' : '0'));
    const bad = await fetch(s.base + '/api/salon/stripe/webhook', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': wrong }, body: payload });
    assert.equal(bad.status, 400, 'a wrong signature is refused');
    const res = await fetch(s.base + '/api/salon/stripe/webhook', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': sign(payload) }, body: payload });
    assert.equal(res.status, 200, await res.text());
    for (const p of [mina, vera]) {
      await waitCount(p.locator('[data-testid=tip-line]'), 1);
      await waitText(p.locator('[data-testid=tip-line]'), 'Vera sent 700 JPY: For the new brushes');
    }
    await waitText(tab.locator('[data-testid=tip-return]'), 'Your tip is in the chat');
    await shot(mina, 'tip-line-en-desktop');
    await tab.close();
  } finally {
    await s.settings({ stripe_secret_key: s0.items[0].stripe_secret_key ?? '', stripe_webhook_secret: s0.items[0].stripe_webhook_secret ?? '' });
  }
});

// Chromium's network emulation (offline) fails every new request but
// leaves established connections alone: in our runs the realtime (SSE)
// connection stayed up and frames kept decoding through the "drop". The
// media side of a real drop (every connection lost, new sessions) is the
// server restart test below; an ICE restart is in the media server's
// Chromium tests. What the emulation shows: a line written while offline
// is not lost, and goes once the network is back.
test('a viewer goes offline and back: the line written offline stays in the input with the reason, and goes out afterwards; the player keeps decoding, no reload', async () => {
  assert.ok(streamId, 'the first test went live');
  const cdp = await mina.context().newCDPSession(mina);
  await cdp.send('Network.enable');
  await decoding(mina);
  const url = mina.url();
  await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await mina.fill('.live-chat input', 'Written on the train');
  await mina.keyboard.press('Enter');
  await mina.locator('.live-chat .error').waitFor();
  assert.equal(await mina.inputValue('.live-chat input'), 'Written on the train', 'the text is kept');
  const during = await framesDecoded(mina);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await mina.keyboard.press('Enter');
  await waitText(vera.locator('[data-testid=live-chat]'), 'Written on the train');
  await waitCount(mina.locator('[data-testid=chat-line]', { hasText: 'Written on the train' }), 1);
  assert.equal(await mina.locator('.live-chat .error').count(), 0, 'the error is gone');
  assert.ok((await decoding(mina)) > during);
  assert.equal(mina.url(), url, 'no reload, no navigation');
  await cdp.detach();
});

test('a server restart within the rejoin window keeps the stream: the studio publishes again, the viewers reconnect by themselves and decode frames', async () => {
  assert.ok(streamId, 'the first test went live');
  await decoding(vera);
  for (const p of [host, vera, mina]) await p.evaluate(() => { window.__samePage = true; });
  await s.restart();
  // the record stays live: no "ended" between the two runs
  const rec = await s.api('GET', `/api/collections/live_streams/records/${streamId}`);
  assert.equal(rec.status, 'live');
  assert.equal(rec.ended_at, '');
  // the host's studio publishes again, the viewers' players reconnect
  try {
    for (const v of [vera, mina]) await decoding(v, 10, 90000);
  } catch (err) {
    // what the pages and the media server saw, for the failure's cause
    const pages = [];
    for (const [who, p] of [['host', host], ['vera', vera], ['mina', mina]]) {
      pages.push(`${who}: ${JSON.stringify(await p.evaluate(() => window.__pcs.map((pc) => pc.connectionState)))} in ${JSON.stringify(await videoIn(p))} out ${JSON.stringify(await videoOut(p))}`);
    }
    note('ui3-restart-failure.txt', pages.join('\n') + '\n' + await serverLog('rtc', 'none'));
    throw err;
  }
  await waitText(host.locator('[data-testid=viewer-count]'), '2 watching', 30000);
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live');
  for (const p of [host, vera, mina]) assert.equal(await p.evaluate(() => window.__samePage), true, 'no reload');
  const after = await s.api('GET', `/api/collections/live_streams/records/${streamId}`);
  assert.equal(after.status, 'live');
  // the followers were told once, not again for the resumption
  const notes = await s.api('GET', `/api/collections/notifications/records?filter=${encodeURIComponent(`kind = 'live' && source_id = '${streamId}'`)}`);
  assert.equal(notes.items.length, 1, 'one "is live" notification');
  // and the chat still works through realtime after the reconnection
  await vera.fill('.live-chat input', 'Still here after the restart');
  await vera.keyboard.press('Enter');
  await waitText(mina.locator('[data-testid=live-chat]'), 'Still here after the restart');
});
