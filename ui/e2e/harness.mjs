// The e2e harness: builds the binary, starts it on a temp data dir, seeds
// members and rooms through the real API, and drives Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..');
export const shots = join(here, '..', 'e2e-output');
export const PASSWORD = 'e2e-password-123';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

let built = '';
// buildBinary builds the server once per process; the e2e runner (run.mjs)
// builds it once for every file and names it in SALON_E2E_BIN.
export function buildBinary() {
  if (built) return built;
  if (process.env.SALON_E2E_BIN) return (built = process.env.SALON_E2E_BIN);
  const dir = mkdtempSync(join(tmpdir(), 'salon-e2e-bin-'));
  built = join(dir, 'salonbase');
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync('go', ['build', '-o', built, '.'], { cwd: repo, stdio: 'inherit', env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' } });
  return built;
}

export class Server {
  // host: the address it listens on (a test in its own network namespace
  // serves on an address a second namespace can reach)
  constructor({ host = '127.0.0.1' } = {}) {
    this.host = host;
    this.bin = buildBinary();
    this.dir = mkdtempSync(join(tmpdir(), 'salon-e2e-data-'));
    this.proc = null;
  }

  async start() {
    if (!this.port) {
      this.port = await freePort();
      execFileSync(this.bin, ['superuser', 'upsert', 'root@example.com', PASSWORD, '--dir', this.dir]);
    }
    this.base = `http://${this.host}:${this.port}`;
    this.proc = spawn(this.bin, ['serve', '--http', `${this.host}:${this.port}`, '--dir', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (d) => { if (process.env.E2E_VERBOSE) process.stderr.write(d); });
    for (let i = 0; i < 300; i++) {
      try { const r = await fetch(this.base + '/api/health'); if (r.ok) break; } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!this.rootToken) {
      this.rootToken = (await this.api('POST', '/api/collections/_superusers/auth-with-password', { identity: 'root@example.com', password: PASSWORD }, '')).token;
      // every test person logs in from 127.0.0.1: the per-IP login limit
      // would throttle the suite, which is not what it tests
      await this.api('PATCH', '/api/settings', { rateLimits: { enabled: false } });
    }
  }

  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    await new Promise((res) => { p.once('exit', res); p.kill('SIGTERM'); setTimeout(() => p.kill('SIGKILL'), 5000); });
  }

  async restart() { await this.stop(); await this.start(); }

  async close() { await this.stop(); rmSync(this.dir, { recursive: true, force: true }); }

  // api calls the server as the superuser (or with token)
  async api(method, path, body, token = this.rootToken) {
    const res = await fetch(this.base + path, {
      method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data; try { data = JSON.parse(text); } catch { data = text; }
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return data;
  }

  async member(name, email, extra = {}) {
    const rec = await this.api('POST', '/api/collections/users/records',
      { name, email, password: PASSWORD, passwordConfirm: PASSWORD, verified: true, lang: 'en', ...extra });
    return rec;
  }

  async settings(patch) {
    const s = await this.api('GET', '/api/collections/salon_settings/records?perPage=1');
    return this.api('PATCH', `/api/collections/salon_settings/records/${s.items[0].id}`, patch);
  }

  async login(email) {
    return this.api('POST', '/api/collections/users/auth-with-password', { identity: email, password: PASSWORD }, '');
  }
}

export async function launch() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

// page opens a browser context for one person (phone or desktop, a language).
export async function personPage(browser, server, { lang = 'en', phone = false } = {}) {
  const ctx = await browser.newContext({
    baseURL: server.base, locale: lang === 'ja' ? 'ja-JP' : 'en-US', timezoneId: 'Asia/Tokyo',
    viewport: phone ? { width: 375, height: 740 } : { width: 1280, height: 800 },
    deviceScaleFactor: 1, hasTouch: phone, isMobile: phone,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

export async function loginAs(page, email) {
  await page.goto('/login');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

export async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name + '.png') });
}

export function note(file, text) {
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, file), text);
}

// startMailCapture runs e2e/mailcapture (a real go-smtp server on loopback)
// and points the salon's SMTP settings at it; next(match) waits for the
// first e-mail for which match(mail) is true ({to, subject, text, html}).
export async function startMailCapture(server) {
  const dir = mkdtempSync(join(tmpdir(), 'salon-e2e-mail-'));
  const bin = join(dir, 'mailcapture');
  execFileSync('go', ['build', '-o', bin, './ui/e2e/mailcapture'], { cwd: repo, stdio: 'inherit', env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' } });
  const proc = spawn(bin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const mails = [];
  let addr = '';
  let buf = '';
  const waiting = new Set();
  proc.stdout.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('listening ')) addr = line.slice(10);
      else if (line.trim()) mails.push(JSON.parse(line));
      waiting.forEach((fn) => fn());
    }
  });
  for (let i = 0; i < 100 && !addr; i++) await new Promise((r) => setTimeout(r, 50));
  if (!addr) throw new Error('mailcapture did not start');
  const [host, port] = addr.split(':');
  await server.api('PATCH', '/api/settings', {
    smtp: { enabled: true, host, port: Number(port), tls: false },
    meta: { appURL: server.base, senderName: 'Salon', senderAddress: 'no-reply@salon.example.com' },
  });
  return {
    mails,
    next(match, timeout = 20000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = mails.find(match);
          if (m) { waiting.delete(check); clearTimeout(timer); resolve(m); }
        };
        const timer = setTimeout(() => { waiting.delete(check); reject(new Error(`no such e-mail in ${timeout} ms; got: ${mails.map((m) => m.subject).join(', ')}`)); }, timeout);
        waiting.add(check);
        check();
      });
    },
    close() { proc.kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}

// --- media pages (live streams, calls): shared by live, ui3, record, netdrop

// launchMedia starts Chromium with its fake camera and microphone; autoplay
// with sound needs a click unless autoplay is true. executablePath: another
// way to start Chromium (e.g. in another network namespace); args: more flags.
export async function launchMedia({ autoplay = false, executablePath = chromiumPath, args = [] } = {}) {
  return chromium.launch({
    executablePath, headless: true,
    args: [...chromiumArgs, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--autoplay-policy=${autoplay ? 'no-user-gesture-required' : 'user-gesture-required'}`, ...args],
  });
}

// mediaPerson: a signed-in member with camera and microphone allowed, whose
// peer connections the test can read (window.__pcs, for rtp below).
export async function mediaPerson(browser, server, email, { timeout = 30000, ...opts } = {}) {
  const p = await personPage(browser, server, opts);
  p.setDefaultTimeout(timeout); // media pages on a shared two-core machine
  await p.context().grantPermissions(['camera', 'microphone']);
  await p.addInitScript(() => {
    const Orig = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) { const pc = new Orig(...args); window.__pcs.push(pc); return pc; };
    window.RTCPeerConnection.prototype = Orig.prototype;
  });
  await loginAs(p, email);
  return p;
}

// rtp sums an RTP counter over every peer connection the page made (a
// closed one counts with its last value: the sum never goes back when a
// reconnection replaces a connection)
export function rtp(page, type, kind, field) {
  return page.evaluate(async ([type, kind, field]) => {
    let n = 0;
    const key = type + kind + field;
    for (const pc of window.__pcs) {
      pc.__last ??= {};
      if (pc.connectionState !== 'closed') {
        let v = 0;
        try { (await pc.getStats()).forEach((r) => { if (r.type === type && r.kind === kind) v += r[field] ?? 0; }); } catch { v = pc.__last[key] ?? 0; }
        pc.__last[key] = Math.max(v, pc.__last[key] ?? 0);
      }
      n += pc.__last[key] ?? 0;
    }
    return n;
  }, [type, kind, field]);
}

export const framesDecoded = (page) => rtp(page, 'inbound-rtp', 'video', 'framesDecoded');

// decoding: framesDecoded rises by more than n within the timeout
export async function decoding(page, n = 10, timeout = 60000) {
  const first = await framesDecoded(page);
  const end = Date.now() + timeout;
  let now = first;
  while (Date.now() < end) {
    await page.waitForTimeout(500);
    now = await framesDecoded(page);
    if (now - first > n) return now;
  }
  throw new Error(`frames decoded stayed at ${first} → ${now}`);
}

// waitPlaying: the <video> shows frames and its clock runs (the decoder works)
export async function waitPlaying(page, selector, timeout = 20000) {
  await page.waitForFunction((sel) => {
    const v = document.querySelector(sel);
    if (!v || v.videoWidth === 0) return false;
    const now = v.currentTime;
    if (!v.dataset.t0) { v.dataset.t0 = String(now); return false; }
    return now > Number(v.dataset.t0) + 0.5;
  }, selector, { timeout, polling: 250 });
  return page.$eval(selector, (v) => { delete v.dataset.t0; return { w: v.videoWidth, h: v.videoHeight, t: v.currentTime }; });
}

let axeSource = '';
// axe runs axe-core on the page: its serious and critical violations, and
// how far the page is wider than the screen.
export async function axe(page) {
  axeSource ||= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
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

// blockLists: list fetches of a collection are counted and refused, so
// that a line that shows up anyway can only have come through realtime
export async function blockLists(page, collection) {
  const seen = { n: 0 };
  const match = (u) => u.pathname === `/api/collections/${collection}/records`;
  await page.route(match, (r) => { seen.n++; return r.abort(); });
  seen.stop = () => page.unroute(match);
  return seen;
}

// ranks: rank name → id, for s.member(..., { rank: rank('Gold') })
export async function ranks(server) {
  const list = await server.api('GET', '/api/collections/ranks/records?perPage=50');
  return (name) => list.items.find((r) => r.name === name).id;
}

// --- what the page files share: a salon and its people, signed-in pages,
// and the sweep that checks pages in both languages at both widths

// openSalon starts a server and creates the file's people, key → [name,
// e-mail, fields] (fields.rank: a rank's name). It returns the server, the
// people's records by key, and rank (a rank's name → its id).
export async function openSalon(people) {
  const s = new Server();
  await s.start();
  const rank = await ranks(s);
  const who = {};
  for (const [key, [name, email, fields = {}]] of Object.entries(people)) {
    who[key] = await s.member(name, email, fields.rank ? { ...fields, rank: rank(fields.rank) } : fields);
  }
  return { s, who, rank };
}

// the salon's operator, as most files have one
export const operator = ['Operator Oda', 'admin@example.com', { role: 'admin' }];

// signedIn: a page for one person (personPage's options), logged in;
// dialogs: true accepts every confirm() the page asks.
export async function signedIn(browser, server, email, { dialogs = false, ...opts } = {}) {
  const p = await personPage(browser, server, opts);
  if (dialogs) p.on('dialog', (d) => d.accept());
  await loginAs(p, email);
  return p;
}

export async function closeAll(...pages) {
  for (const p of pages) await p.context().close();
}

const inflight = new WeakMap();
// watchRequests counts the page's requests in flight, for settled (the
// realtime stream aside: it stays open). Call it before the page loads.
export function watchRequests(page) {
  if (inflight.has(page)) return;
  const st = { n: 0, last: Date.now() };
  inflight.set(page, st);
  const counted = (r) => !(r.method() === 'GET' && new URL(r.url()).pathname === '/api/realtime');
  page.on('request', (r) => { if (counted(r)) { st.n++; st.last = Date.now(); } });
  const done = (r) => { if (counted(r)) { st.n = Math.max(0, st.n - 1); st.last = Date.now(); } };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
}

// settled waits until the page shows what it loaded: no request in flight
// for quietMs, then two animation frames (the DOM updated from the answers).
export async function settled(page, { quietMs = 200, timeout = 15000 } = {}) {
  const st = inflight.get(page);
  if (!st) throw new Error('settled: call watchRequests(page) before the page loads');
  const end = Date.now() + timeout;
  while (st.n > 0 || Date.now() - st.last < quietMs) {
    if (Date.now() > end) throw new Error(`settled: ${st.n} requests still in flight after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

// pageProblems: what is wrong with the page as shown, as sentences that
// start with label: wider than the screen, a dictionary key shown instead
// of words (keys: a global RegExp of them), <html lang> other than lang,
// serious or critical axe-core violations (axe: false leaves axe-core out).
export async function pageProblems(page, label, { keys, lang, axe: withAxe = true }) {
  const c = withAxe ? await axe(page) : { violations: [], overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) };
  const seen = await page.evaluate(([src, flags]) => ({
    keys: document.body.innerText.match(new RegExp(src, flags)) || [],
    lang: document.documentElement.lang,
  }), [keys.source, keys.flags]);
  const problems = [];
  if (c.overflow > 0) problems.push(`${label}: ${c.overflow}px wider than the screen`);
  if (seen.keys.length) problems.push(`${label}: untranslated ${seen.keys.join(', ')}`);
  if (c.violations.length) problems.push(`${label}: axe ${c.violations.join('; ')}`);
  if (lang && seen.lang !== lang) problems.push(`${label}: <html lang=${seen.lang}>`);
  return problems;
}

export const desktop = { width: 1280, height: 800 };
export const phone = { width: 375, height: 740 };

// sweep shows each page, [name, path, prepare?], to one member in ja and en
// (their saved language set first, as it wins over the browser's) at 1280
// px, then the same page at 375 px; it screenshots each as NAME-LANG-WIDTH
// and returns the problems pageProblems finds. One context per language:
// the widths differ only by CSS width queries. start(page, lang) runs on
// the fresh page before the member logs in; ready: a selector each page
// shows once drawn; axeAt(tag) says where axe-core runs (all by default).
export async function sweep(browser, server, { email, pages, keys, start, ready, axeAt = () => true }) {
  const me = (await server.api('GET', '/api/collections/users/records?filter=' + encodeURIComponent(`email='${email}'`))).items[0];
  const problems = [];
  for (const lang of ['en', 'ja']) {
    await server.api('PATCH', '/api/collections/users/records/' + me.id, { lang });
    const p = await personPage(browser, server, { lang });
    watchRequests(p);
    if (start) await start(p, lang);
    await loginAs(p, email);
    for (const [name, path, prepare] of pages) {
      await p.setViewportSize(desktop);
      await p.goto(path);
      if (ready) await p.locator(ready).first().waitFor();
      await settled(p);
      if (prepare) { await prepare(p); await settled(p); }
      for (const size of [desktop, phone]) {
        const tag = `${lang}-${size === phone ? 'phone' : 'desktop'}`;
        if (size === phone) { await p.setViewportSize(phone); await settled(p); }
        await shot(p, `${name}-${tag}`);
        problems.push(...await pageProblems(p, `${name} ${tag}`, { keys, lang, axe: axeAt(tag) }));
      }
    }
    await closeAll(p);
  }
  await server.api('PATCH', '/api/collections/users/records/' + me.id, { lang: 'en' });
  return problems;
}

// replays plays the recording: its clock runs, pictures and sound decode.
export async function replays(page) {
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
