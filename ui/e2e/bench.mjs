// Figures for BENCHMARKS.md: the client's initial download (gzip) and the
// time to a usable first screen in Chromium on a throttled mid-range phone
// profile (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, CPU slowed 4×),
// against the built binary on loopback; then the frame times while
// scrolling back through a room of 50,000 messages, from a Chromium
// performance trace. `npm run bench`.
//
// Times are taken inside the page (performance.now(), from the start of
// the navigation to the frame after the first screen is in the DOM), so a
// busy test process does not add to them.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Server, launch, personPage, loginAs, repo } from './harness.mjs';

// what index.html loads at once (pages are split off and load on first use)
const indexHTML = readFileSync(join(repo, 'pb_public', 'index.html'), 'utf8');
let js = 0, css = 0, all = 0;
for (const [, f] of indexHTML.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)) {
  const n = gzipSync(readFileSync(join(repo, 'pb_public', f)), { level: 9 }).length;
  if (f.endsWith('.js')) js += n; else if (f.endsWith('.css')) css += n;
}
for (const f of readdirSync(join(repo, 'pb_public', 'assets'))) all += gzipSync(readFileSync(join(repo, 'pb_public', 'assets', f)), { level: 9 }).length;
const html = gzipSync(indexHTML, { level: 9 }).length;
console.log(`all pages together, gzip: ${(all / 1024).toFixed(1)} KB`);
console.log(`initial download, gzip: JS ${(js / 1024).toFixed(1)} KB + CSS ${(css / 1024).toFixed(1)} KB + HTML ${(html / 1024).toFixed(1)} KB = ${((js + css + html) / 1024).toFixed(1)} KB`);

const s = new Server();
await s.start();
const browser = await launch();
try {
  await s.member('Aiko', 'aiko@example.com');
  const room = await s.api('POST', '/api/collections/rooms/records', { name: 'lounge' });
  const tok = (await s.login('aiko@example.com')).token;
  for (let i = 0; i < 120; i++) {
    await s.api('POST', '/api/collections/room_messages/records', { room: room.id, body: `message ${i} with some **Markdown** text` }, tok);
  }

  const page = await personPage(browser, s, { phone: true });
  // the first screen: the room's newest message and its input box; the
  // login form. Resolved in the frame after they are in the DOM.
  await page.addInitScript(() => {
    const ready = () => location.pathname.startsWith('/rooms/')
      ? !!document.querySelector('textarea') && [...document.querySelectorAll('[data-testid=message]')].some((e) => e.textContent.includes('message 119'))
      : !!document.querySelector('#email');
    window.__firstScreen = new Promise((resolve) => {
      const obs = new MutationObserver(() => {
        if (!ready()) return;
        obs.disconnect();
        requestAnimationFrame(() => setTimeout(() => {
          // and what had come over the network by then
          const t = performance.now();
          const nav = performance.getEntriesByType('navigation')[0];
          const done = performance.getEntriesByType('resource').filter((r) => r.responseEnd <= t);
          resolve({ t, requests: done.length + 1, bytes: done.reduce((n, r) => n + r.transferSize, nav?.transferSize ?? 0) });
        }, 0));
      });
      obs.observe(document, { childList: true, subtree: true, characterData: true });
    });
  });
  await loginAs(page, 'aiko@example.com');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });

  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // a first screen that never comes counts as a minute (and says so)
  const firstScreen = async (what) => {
    const r = await Promise.race([page.evaluate(() => window.__firstScreen), new Promise((res) => setTimeout(() => res(null), 60000))]);
    if (!r) console.error(`  ${what}: no first screen within a minute`);
    else console.error(`  ${what}: ${Math.round(r.t)} ms`);
    return r ?? { t: 60000, requests: 0, bytes: 0 };
  };
  const runs = 5;
  const roomTimes = [];
  let roomLoad = null;
  for (let i = 0; i < runs; i++) {
    await page.goto('/rooms/' + room.id, { waitUntil: 'commit' });
    roomLoad = await firstScreen('room');
    roomTimes.push(Math.round(roomLoad.t));
  }
  const loginTimes = [];
  let loginLoad = null;
  await page.evaluate(() => localStorage.clear());
  for (let i = 0; i < runs; i++) {
    await page.goto('/login', { waitUntil: 'commit' });
    loginLoad = await firstScreen('login');
    loginTimes.push(Math.round(loginLoad.t));
  }
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();
  console.log(`first screen, throttled phone profile, cache off, median of ${runs}: login page ${median(loginTimes)} ms; a room with its latest messages (signed in) ${median(roomTimes)} ms`);
  console.log(`  login runs: ${loginTimes.join(', ')} ms; room runs: ${roomTimes.join(', ')} ms`);
  console.log(`  before the first screen: login page ${loginLoad.requests} requests, ${(loginLoad.bytes / 1024).toFixed(1)} KB over the wire; ` +
    `room ${roomLoad.requests} requests, ${(roomLoad.bytes / 1024).toFixed(1)} KB`);

  // a long room: open it (one page), then scroll back 1,000 messages while
  // counting frames; the list keeps at most 300 messages in the DOM
  const total = Number(process.env.ROOM_MESSAGES || 50000);
  const big = await s.api('POST', '/api/collections/rooms/records', { name: 'big' });
  // written straight into SQLite (the sqlite3 command) while the server is
  // stopped: through the API this would take a quarter of an hour
  const aikoId = (await s.login('aiko@example.com')).record.id;
  await s.stop();
  execFileSync('sqlite3', [join(s.dir, 'data.db'), `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${total - 1})
    INSERT INTO room_messages (id, room, author, author_name, body, created, updated)
    SELECT printf('seed%011d', i), '${big.id}', '${aikoId}', 'Aiko', 'history message ' || i,
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'),
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds') FROM n;`]);
  await s.start();
  const desk = await personPage(browser, s);
  await loginAs(desk, 'aiko@example.com');
  const requests = [];
  desk.on('request', (r) => { if (r.url().includes('/room_messages/records')) requests.push(r.url()); });
  await desk.goto('/rooms/' + big.id);
  await desk.locator('[data-testid=message]').first().waitFor();
  await desk.waitForTimeout(500);
  const opening = requests.length;
  await browser.startTracing(desk, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'toplevel'] });
  const res = await desk.evaluate(async () => {
    const box = document.querySelector('[data-testid=messages]');
    const frames = [];
    let last = performance.now();
    let running = true;
    const tick = (t) => { frames.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    let seen = new Set();
    let maxNodes = 0, maxMsgs = 0;
    const deadline = performance.now() + 120000;
    while (seen.size < 1050 && performance.now() < deadline) {
      box.scrollTop = Math.max(0, box.scrollTop - 400); // a wheel's worth at a time
      await new Promise((r) => setTimeout(r, 16));
      for (const el of box.querySelectorAll('[data-testid=message]')) seen.add(el.id);
      maxNodes = Math.max(maxNodes, document.getElementsByTagName('*').length);
      maxMsgs = Math.max(maxMsgs, box.querySelectorAll('[data-testid=message]').length);
    }
    running = false;
    frames.shift();
    frames.sort((a, b) => a - b);
    const q = (p) => frames[Math.min(frames.length - 1, Math.floor(frames.length * p))];
    return { scrolled: seen.size, frames: frames.length, p50: q(0.5), p95: q(0.95), max: frames[frames.length - 1], maxNodes, maxMsgs };
  });
  const trace = frameWork(JSON.parse((await browser.stopTracing()).toString()));
  console.log(`room of ${total} messages: opening made ${opening} message request(s); scrolling back through ${res.scrolled} messages: ` +
    `${res.frames} frames, time between frames (requestAnimationFrame) p50 ${res.p50.toFixed(1)} ms, p95 ${res.p95.toFixed(1)} ms, max ${res.max.toFixed(1)} ms; ` +
    `at most ${res.maxMsgs} messages and ${res.maxNodes} DOM elements on the page`);
  console.log(`  trace: ${trace.frames} main-thread frames; main-thread work per frame p50 ${trace.p50.toFixed(1)} ms, p95 ${trace.p95.toFixed(1)} ms, ` +
    `max ${trace.max.toFixed(1)} ms (CPU time p95 ${trace.cpuP95.toFixed(1)} ms); frames over 16 ms: ${trace.over16} (${(100 * trace.over16 / trace.frames).toFixed(1)} %)`);
} finally {
  await browser.close();
  await s.close();
}

// frameWork reads a Chromium trace: on the page's main thread, the time
// its top-level tasks took within each frame (between two
// BeginMainThreadFrame events), as wall time and as CPU time.
function frameWork(trace) {
  const events = trace.traceEvents ?? trace;
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') names.set(e.pid + ':' + e.tid, true);
  const begins = new Map();
  for (const e of events) {
    const k = e.pid + ':' + e.tid;
    if (e.name === 'BeginMainThreadFrame' && names.has(k)) begins.set(k, [...(begins.get(k) ?? []), e.ts]);
  }
  let main = '', most = 0;
  for (const [k, v] of begins) if (v.length > most) { most = v.length; main = k; }
  const frames = (begins.get(main) ?? []).sort((a, b) => a - b);
  let tasks = events.filter((e) => e.ph === 'X' && (e.pid + ':' + e.tid) === main && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask'))
    .sort((a, b) => a.ts - b.ts);
  // only the outermost tasks
  const top = [];
  for (const t of tasks) if (!top.length || t.ts >= top[top.length - 1].ts + top[top.length - 1].dur) top.push(t);
  tasks = top;
  const wall = [], cpu = [];
  let k = 0;
  for (let i = 0; i + 1 < frames.length; i++) {
    const a = frames[i], b = frames[i + 1];
    let w = 0, c = 0;
    while (k < tasks.length && tasks[k].ts + tasks[k].dur <= a) k++;
    for (let j = k; j < tasks.length && tasks[j].ts < b; j++) {
      const t = tasks[j];
      const part = Math.min(b, t.ts + t.dur) - Math.max(a, t.ts);
      w += part;
      c += t.tdur ? t.tdur * (part / t.dur) : part;
    }
    wall.push(w / 1000); cpu.push(c / 1000);
  }
  const q = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0; };
  return { frames: wall.length, p50: q(wall, 0.5), p95: q(wall, 0.95), max: q(wall, 1), cpuP95: q(cpu, 0.95), over16: wall.filter((x) => x > 16).length };
}
