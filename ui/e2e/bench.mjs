// Figures for BENCHMARKS.md: the client's initial download (gzip) and the
// time to a usable first screen in Chromium on a throttled mid-range phone
// profile (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, CPU slowed 4×),
// against the built binary on loopback. `npm run bench`.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Server, launch, personPage, loginAs, repo } from './harness.mjs';

const assets = join(repo, 'pb_public', 'assets');
let js = 0, css = 0;
for (const f of readdirSync(assets)) {
  const n = gzipSync(readFileSync(join(assets, f)), { level: 9 }).length;
  if (f.endsWith('.js')) js += n; else if (f.endsWith('.css')) css += n;
}
const html = gzipSync(readFileSync(join(repo, 'pb_public', 'index.html')), { level: 9 }).length;
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
  await loginAs(page, 'aiko@example.com');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });

  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const runs = 5;
  const roomTimes = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now();
    await page.goto('/rooms/' + room.id, { waitUntil: 'commit' });
    await page.locator('[data-testid=message]', { hasText: 'message 119' }).waitFor({ timeout: 30000 });
    await page.locator('textarea').waitFor();
    roomTimes.push(Date.now() - t0);
  }
  const loginTimes = [];
  await page.evaluate(() => localStorage.clear());
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now();
    await page.goto('/login', { waitUntil: 'commit' });
    await page.locator('#email').waitFor({ timeout: 30000 });
    loginTimes.push(Date.now() - t0);
  }
  console.log(`first screen, throttled phone profile, cache off, median of ${runs}: login page ${median(loginTimes)} ms; a room with its latest messages (signed in) ${median(roomTimes)} ms`);
  console.log(`  login runs: ${loginTimes.join(', ')} ms; room runs: ${roomTimes.join(', ')} ms`);
} finally {
  await browser.close();
  await s.close();
}
