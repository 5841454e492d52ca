// The e2e harness: builds the binary, starts it on a temp data dir, seeds
// members and rooms through the real API, and drives Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
export function buildBinary() {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'salon-e2e-bin-'));
  built = join(dir, 'salonbase');
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync('go', ['build', '-o', built, '.'], { cwd: repo, stdio: 'inherit', env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' } });
  return built;
}

export class Server {
  constructor() {
    this.bin = buildBinary();
    this.dir = mkdtempSync(join(tmpdir(), 'salon-e2e-data-'));
    this.proc = null;
  }

  async start() {
    if (!this.port) {
      this.port = await freePort();
      execFileSync(this.bin, ['superuser', 'upsert', 'root@example.com', PASSWORD, '--dir', this.dir]);
    }
    this.base = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(this.bin, ['serve', '--http', `127.0.0.1:${this.port}`, '--dir', this.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
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
