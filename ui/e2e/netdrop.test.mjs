// End-to-end: a member's network really drops for 10 s, while watching a
// live and during a call. Chromium's own network emulation leaves open
// WebRTC and realtime (SSE) connections alone, so the cut is made by the
// kernel: this file runs in a network namespace of its own (it starts itself
// again under `unshare --net`), where the server, the host's and the other
// member's Chromium share the loopback, and the member who loses the network
// runs in a second namespace joined to the first by a veth pair. The drop
// is a queue that holds no packet (`tc qdisc … pfifo limit 0`) on both ends
// of that pair: packets vanish, as on a train in a tunnel; nothing tells
// the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, chromiumPath, launchMedia, mediaPerson, framesDecoded, decoding } from './harness.mjs';
import { waitText as waitTextAt, waitCount as waitCountAt } from './util.mjs';

const waitText = (locator, want, timeout = 60000) => waitTextAt(locator, want, timeout);
const waitCount = (locator, n, timeout = 60000) => waitCountAt(locator, n, timeout);

const NEAR = '10.77.0.1'; // the test's namespace: the server listens here
const FAR = '10.77.0.2'; // the namespace of the member who loses the network
const DROP_MS = 10000;

if (!process.env.SALON_E2E_NETNS) {
  test('a real network drop, run in a network namespace of its own', (t) => {
    const missing = ['unshare', 'nsenter', 'ip', 'tc'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
    assert.deepEqual(missing, [], `this test cuts a browser's network with the kernel: install ${missing.join(', ')} ` +
      '(Debian: apt-get install iproute2 util-linux) and run it as root');
    assert.equal(process.getuid?.(), 0, 'this test cuts a browser\'s network with the kernel (unshare --net, tc): run it as root, ' +
      'e.g. sudo -E npm run e2e -- e2e/netdrop.test.mjs, or in a container started with --cap-add NET_ADMIN --cap-add SYS_ADMIN');
    // a fresh test runner (one that thinks it is a runner's child runs nothing)
    const env = { ...process.env, SALON_E2E_NETNS: '1' };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync('unshare', ['--net', process.execPath, '--test', fileURLToPath(import.meta.url)], {
      env, encoding: 'utf8', maxBuffer: 64 << 20,
    });
    const out = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    if (/unshare failed|Operation not permitted/.test(out)) {
      assert.fail('cannot make a network namespace (unshare --net needs root or CAP_SYS_ADMIN; in a container: --cap-add SYS_ADMIN --cap-add NET_ADMIN): ' + out.slice(0, 500));
    }
    for (const line of out.split('\n')) if (/^(not )?ok |figure:|^# (tests|pass|fail)/.test(line.trim())) t.diagnostic(line.trim());
    assert.equal(run.status, 0, 'in its network namespace:\n' + out.slice(-6000));
  });
} else {
  let s, near, far, holder, dir, tomo, vera, mina;

  const sh = (cmd) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  const inFar = (cmd) => execFileSync('nsenter', [`--net=/proc/${holder.pid}/ns/net`, 'sh', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  // cut: both ends of the pair drop every packet they would send
  const cut = () => { sh('tc qdisc add dev nd0 root pfifo limit 0'); inFar('tc qdisc add dev nd1 root pfifo limit 0'); };
  const restore = () => { sh('tc qdisc del dev nd0 root'); inFar('tc qdisc del dev nd1 root'); };

  // reaches: can this page fetch from the server within 2 s?
  const reaches = (page) => page.evaluate(() => fetch('/api/health', { signal: AbortSignal.timeout(2000), cache: 'no-store' }).then(() => true, () => false));

  before(async () => {
    sh('ip link set lo up');
    sh(`ip link add nd0 type veth peer name nd1 && ip addr add ${NEAR}/24 dev nd0 && ip link set nd0 up`);
    // the second namespace is held by a sleeping process; its Chromium
    // enters it with nsenter
    holder = spawn('unshare', ['--net', 'sleep', '900'], { stdio: 'ignore' });
    process.on('exit', () => holder.kill());
    const own = readlinkSync('/proc/self/ns/net');
    for (let i = 0; i < 100; i++) {
      try { if (readlinkSync(`/proc/${holder.pid}/ns/net`) !== own) break; } catch { /* not started */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    sh(`ip link set nd1 netns ${holder.pid}`);
    inFar(`ip link set lo up && ip addr add ${FAR}/24 dev nd1 && ip link set nd1 up`);
    dir = mkdtempSync(join(tmpdir(), 'salon-e2e-netns-'));
    const wrapper = join(dir, 'chromium-far');
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/proc/${holder.pid}/ns/net ${chromiumPath} "$@"\n`, { mode: 0o755 });

    // no SALON_RTC_LOOPBACK: the media server offers NEAR, which both
    // namespaces reach
    delete process.env.SALON_RTC_LOOPBACK;
    s = new Server({ host: NEAR });
    await s.start();
    tomo = await s.member('Tomo Tutor', 'tomo@example.com', { role: 'tutor' });
    vera = await s.member('Vera', 'vera@example.com');
    mina = await s.member('Mina', 'mina@example.com');
    // the camera needs a secure context: 127.0.0.1 is one, NEAR is not
    const args = [`--unsafely-treat-insecure-origin-as-secure=${s.base}`];
    near = await launchMedia({ args });
    far = await launchMedia({ executablePath: wrapper, args });
  });

  after(async () => {
    await near?.close();
    await far?.close();
    await s?.close();
    holder?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a viewer\'s network drops for 10 s: the page says it is reconnecting, decodes again by itself, and gets the chat lines written meanwhile once', async () => {
    const rec = await s.api('POST', '/api/collections/live_streams/records', { title: 'Rainy day inks', host: tomo.id });
    const host = await mediaPerson(near, s, 'tomo@example.com', { timeout: 60000 });
    await host.goto('/live/' + rec.id);
    await host.locator('[data-testid=go-live]').waitFor();
    await host.waitForFunction(() => document.querySelector('[data-testid=preview]')?.videoWidth > 0);
    await host.click('[data-testid=go-live]');
    await waitText(host.locator('[data-testid=studio-status]'), 'You are live');
    const v = await mediaPerson(near, s, 'vera@example.com', { timeout: 60000 });
    const m = await mediaPerson(far, s, 'mina@example.com', { timeout: 60000 });
    for (const p of [v, m]) {
      await p.goto('/live/' + rec.id);
      await p.click('[data-testid=watch]');
      await decoding(p);
    }
    await waitText(host.locator('[data-testid=viewer-count]'), '2 watching');
    await m.evaluate(() => { window.__samePage = true; });
    assert.equal(await reaches(m), true, 'Mina reaches the server before the drop');

    const during = ['Written during the drop, one', 'Written during the drop, two'];
    cut();
    const cutAt = Date.now();
    let stalled;
    try {
      assert.equal(await reaches(m), false, 'the drop is real: Mina\'s page reaches nothing');
      await waitText(m.locator('[data-testid=live-status]'), 'reconnecting', DROP_MS);
      stalled = await framesDecoded(m);
      for (const line of during) {
        await v.fill('.live-chat input', line);
        await v.keyboard.press('Enter');
        await waitCount(v.locator('[data-testid=chat-line]', { hasText: line }), 1);
      }
      await v.waitForTimeout(Math.max(0, DROP_MS - (Date.now() - cutAt)));
      const still = await framesDecoded(m);
      assert.ok(still - stalled < 5, `no picture arrives during the drop (${stalled} → ${still} frames)`);
    } finally {
      restore();
    }
    const back = Date.now();
    await decoding(m, 10, 90000);
    const resumed = (Date.now() - back) / 1000;
    await waitCount(m.locator('[data-testid=live-status]'), 0); // "reconnecting" is gone
    for (const line of during) await waitCount(m.locator('[data-testid=chat-line]', { hasText: line }), 1);
    // Mina writes again; by the time Vera has it, a late duplicate would be there too
    await m.fill('.live-chat input', 'Back on the network');
    await m.keyboard.press('Enter');
    await waitCount(v.locator('[data-testid=chat-line]', { hasText: 'Back on the network' }), 1);
    for (const line of [...during, 'Back on the network']) assert.equal(await m.locator('[data-testid=chat-line]', { hasText: line }).count(), 1, `"${line}" once`);
    assert.equal(await m.evaluate(() => window.__samePage), true, 'no reload');
    await waitText(host.locator('[data-testid=viewer-count]'), '2 watching');
    console.log(`# figure: live viewer decodes again ${resumed.toFixed(1)} s after a ${DROP_MS / 1000} s drop`);
    host.once('dialog', (d) => d.accept());
    await host.click('[data-testid=end-live]');
    await waitText(m.locator('[data-testid=live-ended]'), 'The stream has ended.');
    for (const p of [host, v, m]) await p.context().close();
  });

  test('a call survives a 10 s drop on one side: that side says it is reconnecting, both pictures come back, the chat line written meanwhile arrives once', async () => {
    const a = await mediaPerson(near, s, 'vera@example.com', { timeout: 60000 });
    const b = await mediaPerson(far, s, 'mina@example.com', { timeout: 60000 });
    await b.goto('/rooms');
    await a.goto('/members/' + mina.id);
    await a.click('[data-testid=call-button]');
    await a.waitForURL(/\/calls\/[a-z0-9]+$/);
    const callId = a.url().split('/').pop();
    await waitText(b.locator('[data-testid=incoming-call]'), 'Vera is calling you');
    await b.click('[data-testid=accept-call]');
    await b.waitForURL(`**/calls/${callId}`);
    await decoding(a);
    await decoding(b);
    await b.evaluate(() => { window.__samePage = true; });

    const line = 'Can you hear me now?';
    cut();
    const cutAt = Date.now();
    try {
      assert.equal(await reaches(b), false, 'the drop is real');
      await waitText(b.locator('[data-testid=call-state]'), 'reconnecting', DROP_MS);
      await a.fill('.call-chat input', line);
      await a.keyboard.press('Enter');
      await waitText(a.locator('[data-testid=call-chat]'), line);
      await a.waitForTimeout(Math.max(0, DROP_MS - (Date.now() - cutAt)));
    } finally {
      restore();
    }
    const back = Date.now();
    await decoding(b, 10, 90000);
    await decoding(a, 10, 90000);
    const resumed = (Date.now() - back) / 1000;
    for (const [who, p] of [['Vera (caller)', a], ['Mina (dropped)', b]]) {
      await waitCount(p.locator('[data-testid=call-state]'), 0).catch(async (err) => {
        throw new Error(`${who}'s page still shows "${await p.locator('[data-testid=call-state]').allInnerTexts()}": ${err.message}`);
      });
    }
    await waitText(b.locator('[data-testid=call-chat]'), line);
    await b.fill('.call-chat input', 'Yes, you are back');
    await b.keyboard.press('Enter');
    await waitText(a.locator('[data-testid=call-chat]'), 'Yes, you are back');
    assert.equal(await b.locator('[data-testid=call-chat] .line', { hasText: line }).count(), 1, 'the line once');
    assert.equal(await b.evaluate(() => window.__samePage), true, 'no reload');
    assert.equal((await s.api('GET', `/api/collections/calls/records/${callId}`)).status, 'active');
    console.log(`# figure: both sides of the call decode again ${resumed.toFixed(1)} s after a ${DROP_MS / 1000} s drop`);
    await a.click('[data-testid=hang-up]');
    await waitText(a.locator('[data-testid=call-over]'), 'The call has ended.');
    await waitText(b.locator('[data-testid=call-over]'), 'The call has ended.');
    await a.context().close();
    await b.context().close();
  });
}
