// End-to-end tests of the web client on a salon whose media backend is
// LiveKit: the built binary, a real livekit-server on loopback (the version
// pinned in tools/livekit, built the way the Go tests build it), and
// Debian's Chromium with its fake camera and microphone. The pages learn
// the backend from GET /api/salon/media and join LiveKit rooms with the
// tokens our routes mint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import dgram from 'node:dgram';
import { Server, repo, launchMedia, mediaPerson, decoding, rtp, waitPlaying, axe, ranks, shot, note, replays } from './harness.mjs';
import { waitText } from './util.mjs';

const lkKey = 'salone2ekey';
const lkSecret = 'salon-e2e-secret-of-at-least-32-characters';

// liveKitServer returns the livekit-server binary: SALON_LIVEKIT_SERVER, or
// the one the Go tests build from tools/livekit (testutil.ToolBinary: the
// same cache folder, keyed by the pinned version), building it if missing.
function liveKitServer() {
  if (process.env.SALON_LIVEKIT_SERVER) return process.env.SALON_LIVEKIT_SERVER;
  const env = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' };
  const pkg = 'github.com/livekit/livekit-server/cmd/server';
  const dir = join(repo, 'tools', 'livekit');
  const go = (...args) => execFileSync('go', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  const version = go('list', '-f', '{{.Module.Version}}', pkg);
  const [goos, goarch] = go('env', 'GOOS', 'GOARCH').split('\n');
  const cache = process.env.SALONBASE_TOOLS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'salonbase-tools');
  const bin = join(cache, `livekit-server-${version}-${goos}-${goarch}`, 'livekit-server');
  if (existsSync(bin)) return bin;
  mkdirSync(join(bin, '..'), { recursive: true });
  const tmp = `${bin}.tmp${process.pid}`;
  try {
    execFileSync('go', ['build', '-trimpath', '-o', tmp, pkg], { cwd: dir, env, stdio: 'inherit' });
  } catch (err) {
    throw new Error(`livekit-server ${version} could not be built (${err.message}). Build it once with ` +
      '`go test ./hooks/live -run LiveKit` (or .ci/run), or name a livekit-server binary in SALON_LIVEKIT_SERVER.');
  }
  renameSync(tmp, bin);
  return bin;
}

function freePort(kind = 'tcp') {
  return new Promise((res, rej) => {
    if (kind === 'udp') {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
      s.on('error', rej);
      return;
    }
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

// startLiveKit runs livekit-server on loopback (one UDP port, one TCP
// port for media), sending its webhooks to the salon.
async function startLiveKit(webhookURL) {
  const bin = liveKitServer();
  const port = await freePort();
  const conf = `port: ${port}
bind_addresses: ["127.0.0.1"]
rtc:
  tcp_port: ${await freePort()}
  udp_port: ${await freePort('udp')}
  use_external_ip: false
  node_ip: 127.0.0.1
keys:
  ${lkKey}: ${lkSecret}
webhook:
  api_key: ${lkKey}
  urls: ["${webhookURL}"]
room:
  empty_timeout: 30
  departure_timeout: 5
logging:
  level: warn
`;
  const proc = spawn(bin, ['--dev', '--config-body', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; if (process.env.E2E_VERBOSE) process.stderr.write(d); });
  const url = `ws://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try { const r = await fetch(`http://127.0.0.1:${port}/`); if (r.ok) break; } catch { /* not up yet */ }
    if (proc.exitCode !== null) throw new Error(`livekit-server exited: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    stop: () => new Promise((res) => {
      if (proc.exitCode !== null) return res();
      proc.once('exit', res);
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 5000);
    }),
  };
}

let s, lk, browser, tomo, vera, mina, rin, noa;

before(async () => {
  s = new Server();
  await s.start();
  lk = await startLiveKit(`${s.base}/api/salon/livekit/webhook`);
  const rank = await ranks(s);
  tomo = await s.member('Tomo Tutor', 'tomo@example.com', { role: 'tutor' });
  // a tutor who reads Japanese: the planning form in ja
  await s.member('Aya Tutor', 'aya@example.com', { role: 'tutor', lang: 'ja' });
  vera = await s.member('Vera', 'vera@example.com', { rank: rank('Gold') });
  mina = await s.member('Mina', 'mina@example.com', { rank: rank('Gold'), lang: 'ja' });
  rin = await s.member('Rin', 'rin@example.com', { rank: rank('Free') });
  // the call's parties: members the live test leaves alone
  await s.member('Kai', 'kai@example.com', { rank: rank('Gold') });
  noa = await s.member('Noa', 'noa@example.com', { rank: rank('Gold'), lang: 'ja' });
  // the replay is started from the test, with sound
  browser = await launchMedia({ autoplay: true });
});

after(async () => {
  await browser?.close();
  await lk?.stop();
  await s?.close();
});

const person = (email, opts = {}) => mediaPerson(browser, s, email, opts);

// chunks records the livekit-client chunk a page downloads
function chunks(page) {
  const got = [];
  page.on('request', (r) => { if (/\/assets\/livekit-client[^/]*\.js$/.test(r.url())) got.push(r.url()); });
  return got;
}

test('on LiveKit: a tutor plans a recorded stream and goes live from the browser, two members decode the picture, one below the rank is refused, the host reloads and the viewers get the picture back, one whose rank is lowered is removed, the end shows, the recording replays for a Gold member and not a Free one', async (t) => {
  t.after(() => { if (t.passed === false) console.log('livekit-server log:\n' + lk.log()); });
  const host = await person('tomo@example.com');
  const loaded = chunks(host);

  // on the embedded server the client never downloads livekit-client
  await host.goto('/live');
  await host.getByRole('button', { name: 'Plan a stream' }).click();
  await host.locator('[data-testid=record]').waitFor();
  assert.deepEqual(loaded, [], 'a salon on the embedded server does not load livekit-client');

  // the operator switches the salon to LiveKit
  await s.settings({ media_backend: 'livekit', livekit_url: lk.url, livekit_api_key: lkKey, livekit_api_secret: lkSecret });
  const media = await (await fetch(s.base + '/api/salon/media')).json();
  assert.deepEqual(media, { backend: 'livekit', url: lk.url });

  await host.reload();
  await host.getByRole('button', { name: 'Plan a stream' }).click();
  // the server records on LiveKit too: the form offers the choice as on the
  // embedded server
  await host.check('[data-testid=record]');
  await shot(host, 'livekit-plan-en-desktop');
  // the same form in Japanese, on a phone and on a desktop
  const aya = await person('aya@example.com', { lang: 'ja', phone: true });
  await aya.goto('/live');
  await aya.getByRole('button', { name: '配信を作成' }).click();
  await aya.locator('[data-testid=record]').waitFor();
  await shot(aya, 'livekit-plan-ja-phone');
  const formCheck = await axe(aya);
  assert.deepEqual(formCheck.violations, []);
  assert.ok(formCheck.overflow <= 0, `${formCheck.overflow}px wider than the screen`);
  await aya.setViewportSize({ width: 1280, height: 800 });
  await shot(aya, 'livekit-plan-ja-desktop');
  await aya.context().close();
  await host.setViewportSize({ width: 375, height: 740 });
  await shot(host, 'livekit-plan-en-phone');
  await host.setViewportSize({ width: 1280, height: 800 });
  await host.fill('#lt', 'Sketching on LiveKit');
  await host.selectOption('#lr', { label: 'Silver and above' });
  await host.click('[data-testid=live-create] button[type=submit]');
  await host.waitForURL(/\/live\/[a-z0-9]+$/);
  const streamId = host.url().split('/').pop();
  assert.equal((await s.api('GET', `/api/collections/live_streams/records/${streamId}`)).record, true, 'the host chose to record');
  await waitPlaying(host, '[data-testid=preview]');
  // OBS publishes to the same WHIP URL with the stream key on LiveKit too
  // (the server relays it into the room: hooks/live/livekit_whip.go)
  await host.locator('.obs summary').click();
  assert.equal(await host.inputValue('#whip'), `${s.base}/api/rtc/live/${streamId}/whip`);
  assert.match(await host.inputValue('[data-testid=stream-key]'), /^sk_/);
  await host.locator('.obs summary').click();
  await host.click('[data-testid=go-live]');
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live', 30000);
  const liveAt = Date.now();
  assert.ok(loaded.length > 0, 'the studio loaded livekit-client');
  // LiveKit's webhook took the stream live
  for (let i = 0; i < 100; i++) {
    if ((await s.api('GET', `/api/collections/live_streams/records/${streamId}`)).status === 'live') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal((await s.api('GET', `/api/collections/live_streams/records/${streamId}`)).status, 'live');
  // the host's own connection is to livekit-server, not to /api/rtc
  assert.ok((await host.evaluate(() => window.__pcs.length)) > 0);

  // two members watch: both decode frames, counted by the webhooks
  const vPage = await person('vera@example.com');
  const mPage = await person('mina@example.com', { lang: 'ja', phone: true });
  for (const p of [vPage, mPage]) {
    await p.goto('/live/' + streamId);
    await p.click('[data-testid=watch]');
  }
  await decoding(vPage, 10, 40000);
  await decoding(mPage, 10, 40000);
  const audio = await vPage.$eval('[data-testid=live-video]', (v) => v.srcObject.getAudioTracks().length);
  assert.equal(audio, 1, 'the host\'s sound arrives');
  await waitText(host.locator('[data-testid=viewer-count]'), '2 watching', 30000);
  // the viewers' tokens only subscribe: nothing goes out of their pages
  const sent = await vPage.evaluate(async () => {
    let n = 0;
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r) => { if (r.type === 'outbound-rtp') n += r.packetsSent ?? 0; });
    }
    return n;
  });
  assert.equal(sent, 0, 'a viewer publishes nothing');
  await shot(vPage, 'livekit-watch-en-desktop');
  await shot(mPage, 'livekit-watch-ja-phone');
  await shot(host, 'livekit-studio-en-desktop');
  for (const p of [vPage, mPage, host]) {
    const check = await axe(p);
    assert.deepEqual(check.violations, []);
    assert.ok(check.overflow <= 0, `${check.overflow}px wider than the screen`);
  }

  // a member below the stream's rank: no page, and no token (the other side
  // of the same rule)
  const low = await person('rin@example.com');
  await low.goto('/live/' + streamId);
  await low.locator('.error').waitFor();
  assert.equal(await low.locator('[data-testid=live-video]').count(), 0);
  const rinToken = (await s.login('rin@example.com')).token;
  const refused = await fetch(`${s.base}/api/salon/live/${streamId}/livekit`, { method: 'POST', headers: { Authorization: rinToken } });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).token, undefined);
  await low.context().close();

  // the host reloads the studio mid-live and goes on air again: the stream
  // stays live (LiveKit's webhook gives the host 15 s) and both viewers
  // decode the host's new tracks, on the same page (no reload of theirs)
  for (const p of [vPage, mPage]) await p.evaluate(() => { window.__samePage = true; });
  await host.reload();
  const reloadedAt = Date.now();
  await waitPlaying(host, '[data-testid=preview]');
  await host.click('[data-testid=go-live]');
  await waitText(host.locator('[data-testid=studio-status]'), 'You are live', 30000);
  const before = await Promise.all([vPage, mPage].map(decodedBySsrc));
  const back = await Promise.all([vPage, mPage].map((p, i) => decodingAgain(p, before[i], 10, 40000)));
  note('livekit-reload.txt', `host reloaded; viewers decoding the host's tracks again after ${back.map((ms) => ((ms - reloadedAt) / 1000).toFixed(1)).join(' s, ')} s (from the reload, including the click on Resume)\n`);
  for (const p of [vPage, mPage]) {
    assert.equal(await p.evaluate(() => window.__samePage), true, 'the viewer\'s page was not reloaded');
    assert.equal(await p.locator('[data-testid=live-video]').count(), 1);
  }
  assert.equal((await s.api('GET', `/api/collections/live_streams/records/${streamId}`)).status, 'live', 'the stream stayed live');
  await waitText(host.locator('[data-testid=viewer-count]'), '2 watching', 30000);

  // Vera's rank is lowered while she watches: the server removes her from
  // the room, her page asks for a new token, is refused and says why
  const rank = await ranks(s);
  await s.api('PATCH', `/api/collections/users/records/${vera.id}`, { rank: rank('Free') });
  await vPage.locator('[role=alert]').first().waitFor({ timeout: 30000 });
  await vPage.waitForFunction(() => window.__pcs.every((pc) => pc.connectionState === 'closed'));
  await shot(vPage, 'livekit-removed-en-desktop');
  await waitText(host.locator('[data-testid=viewer-count]'), '1 watching', 30000);
  await decodingAgain(mPage, await decodedBySsrc(mPage), 10, 40000); // the other viewer goes on
  await s.api('PATCH', `/api/collections/users/records/${vera.id}`, { rank: rank('Gold') });

  // the host ends: the viewer is told
  host.once('dialog', (d) => d.accept());
  await host.click('[data-testid=end-live]');
  const liveFor = (Date.now() - liveAt) / 1000;
  // (the page says it ended, or already offers the replay when the
  // recording was attached as fast)
  await mPage.waitForFunction(() => document.querySelector('[data-testid=replay-video]')
    || document.querySelector('[data-testid=live-ended]')?.textContent.includes('配信は終了しました'), null, { timeout: 30000, polling: 250 });
  for (const p of [host, vPage, mPage]) await p.context().close();

  // the recorder's file is attached once the stream has ended; it covers
  // the whole live, the part after the host's reload too
  let rec;
  for (let i = 0; i < 150; i++) {
    rec = await s.api('GET', `/api/collections/live_streams/records/${streamId}`);
    if (rec.recording) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(rec.status, 'ended');
  assert.ok(rec.recording, 'the recording is attached');
  const gold = await person('vera@example.com');
  await gold.goto('/live/' + streamId);
  const played = await replays(gold);
  assert.ok(played.w > 0 && played.h > 0, 'the replay shows the host\'s picture');
  assert.ok(played.audioBytes > 0, 'the replay has sound that decodes');
  // the recorder joins once LiveKit's webhook has taken the stream live,
  // seconds after the studio says so on a loaded machine; a file that
  // stopped at the host's reload (half-way) would be half as long
  assert.ok(played.duration > 0.9 * liveFor && played.duration < liveFor + 5, `duration ${played.duration} s for a live of ${liveFor} s`);
  note('livekit-replay.txt', `live ${liveFor.toFixed(1)} s with a host reload, replay duration ${played.duration.toFixed(2)} s, ${played.w}x${played.h}\n`);
  await shot(gold, 'livekit-replay-en-desktop');
  await gold.context().close();
  // a Free member sees neither the stream nor its recording
  const low2 = await person('rin@example.com');
  await low2.goto('/live/' + streamId);
  await low2.locator('.error').waitFor();
  assert.equal(await low2.locator('[data-testid=replay-video]').count(), 0);
  const lowFile = await s.api('POST', '/api/files/token', undefined, rinToken);
  const file = await fetch(`${s.base}/api/files/live_streams/${streamId}/${rec.recording}?token=${lowFile.token}`);
  assert.equal(file.status, 404, 'a Free member cannot fetch the file');
  await low2.context().close();
});

// decodedBySsrc: frames decoded so far per incoming video stream (SSRC)
function decodedBySsrc(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') out[r.ssrc] = r.framesDecoded ?? 0; });
    }
    return out;
  });
}

// decodingAgain: some incoming video stream decodes more than n frames
// beyond what it had in before (a new stream from 0); returns when
async function decodingAgain(page, before, n, timeout) {
  const end = Date.now() + timeout;
  let now = {};
  while (Date.now() < end) {
    now = await decodedBySsrc(page);
    if (Object.entries(now).some(([ssrc, f]) => f - (before[ssrc] ?? 0) > n)) return Date.now();
    await page.waitForTimeout(250);
  }
  throw new Error(`no video decoding again: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
}

test('on LiveKit: a 1:1 call, both sides decode each other, hang-up ends it for both', async (t) => {
  t.after(() => { if (t.passed === false) console.log('livekit-server log:\n' + lk.log()); });
  await s.settings({ media_backend: 'livekit', livekit_url: lk.url, livekit_api_key: lkKey, livekit_api_secret: lkSecret });
  const a = await person('kai@example.com');
  const loaded = chunks(a);
  const b = await person('noa@example.com', { lang: 'ja', phone: true });
  await b.goto('/rooms');
  await a.goto('/members/' + noa.id);
  await a.click('[data-testid=call-button]');
  await a.waitForURL(/\/calls\/[a-z0-9]+$/);
  const callId = a.url().split('/').pop();
  await b.click('[data-testid=accept-call]');
  await b.waitForURL(`**/calls/${callId}`);
  // on failure: what each side receives (packets, frames), to tell the
  // network from the decoder
  const state = async () => {
    for (const p of [a, b]) {
      console.log('STATE', await p.locator('main').innerText().catch(() => '-'),
        await rtp(p, 'inbound-rtp', 'video', 'packetsReceived'), await rtp(p, 'inbound-rtp', 'video', 'framesReceived'),
        await rtp(p, 'outbound-rtp', 'video', 'framesEncoded'));
    }
  };
  await decoding(a, 10, 60000).catch(async (err) => { await state(); throw err; });
  await decoding(b, 10, 60000).catch(async (err) => { await state(); throw err; });
  const audio = await a.$eval('[data-testid=remote-video]', (v) => v.srcObject.getAudioTracks().length);
  assert.equal(audio, 1, 'the other\'s sound arrives');
  assert.ok(loaded.length > 0, 'the call went through livekit-client');
  // the call's token is for its two parties only
  const rinToken = (await s.login('rin@example.com')).token;
  const refused = await fetch(`${s.base}/api/salon/calls/${callId}/livekit`, { method: 'POST', headers: { Authorization: rinToken } });
  assert.equal(refused.status, 403);
  await shot(a, 'livekit-call-en-desktop');
  await shot(b, 'livekit-call-ja-phone');

  await a.click('[data-testid=hang-up]');
  await waitText(a.locator('[data-testid=call-over]'), 'The call has ended.');
  await b.locator('[data-testid=call-over]').waitFor();
  assert.equal((await s.api('GET', `/api/collections/calls/records/${callId}`)).status, 'ended');
  await a.context().close();
  await b.context().close();
});
