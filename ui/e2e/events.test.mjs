// End-to-end tests of the events and shop pages: the built binary on a temp
// data dir, a real stripe-mock (the Go tool pinned in go.mod, as the Go
// tests start it), Debian's Chromium, two members in two browser contexts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openSalon, operator, launchMedia, personPage, loginAs, signedIn, closeAll, shot, pageProblems, sweep, repo } from './harness.mjs';
import { waitText, waitCount, png } from './util.mjs';

const WEBHOOK_SECRET = 'whsec_e2e_events';
let s, browser, stripeMock, rank;
let admin, aiko, ben, chika, gold, tomo;

// startStripeMock runs stripe-mock on free loopback ports and returns its URL.
async function startStripeMock() {
  const bin = execFileSync('go', ['tool', '-n', 'stripe-mock'], { cwd: repo, env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' } }).toString().trim();
  const proc = spawn(bin, ['-http-addr', '127.0.0.1:0', '-https-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error('stripe-mock did not start')), 30000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /Listening for HTTP at address: (\S+)/.exec(buf);
      if (m) { clearTimeout(timer); res('http://' + m[1]); }
    });
    proc.once('exit', (code) => rej(new Error('stripe-mock exited: ' + code)));
  });
  proc.stdout.resume();
  return { proc, url };
}

before(async () => {
  stripeMock = await startStripeMock();
  // the server reads these when it starts: Stripe calls go to stripe-mock;
  // the keys themselves are set later, as an operator would, in salon_settings
  process.env.STRIPE_API_BASE = stripeMock.url;
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.STRIPE_WEBHOOK_SECRET;
  let who;
  ({ s, who, rank } = await openSalon({
    admin: operator, aiko: ['Aiko', 'aiko@example.com', { rank: 'Free' }], ben: ['Ben', 'ben@example.com', { rank: 'Free' }],
    chika: ['Chika', 'chika@example.com', { rank: 'Free', lang: 'ja' }], gold: ['Goro Gold', 'goro@example.com', { rank: 'Gold' }],
    tomo: ['Tomo Tutor', 'tomo@example.com', { role: 'tutor', lang: 'ja' }],
  }));
  ({ admin, aiko, ben, chika, gold, tomo } = who);
  // links the server writes (the calendar feed, Stripe's return URL) point here
  await s.api('PATCH', '/api/settings', { meta: { appURL: s.base } });
  // the fake camera: a tutor goes live from the studio
  browser = await launchMedia();
});

after(async () => {
  await browser?.close();
  await s?.close();
  stripeMock?.proc.kill();
});

const person = (email, opts) => signedIn(browser, s, email, opts);

function inDays(days, hour = 19) {
  const d = new Date(Date.now() + days * 86400_000);
  d.setUTCHours(hour - 9, 0, 0, 0); // hour in Tokyo
  return d;
}

async function newEvent(values) {
  const start = values.starts_at ?? inDays(3);
  return s.api('POST', '/api/collections/events/records', {
    title: 'Monthly meetup', kind: 'meetup', timezone: 'Asia/Tokyo', published: true, organizer: admin.id,
    starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 2 * 3600_000).toISOString(), ...values,
  });
}

const keys = /\b(nav|events|shop|err|common)\.[a-zA-Z_.]+\b/g;

// problems: what pageProblems finds once the page's requests are done
async function problems(p, label) {
  await p.waitForLoadState('networkidle');
  return pageProblems(p, label, { keys });
}

function sign(payload, secret = WEBHOOK_SECRET) {
  const ts = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${ts}.${payload}`).digest('hex');
  return `t=${ts},v1=${v1}`;
}

async function postWebhook(type, object) {
  const payload = JSON.stringify({
    id: 'evt_e2e_' + Date.now() + Math.random().toString(36).slice(2), object: 'event', api_version: '2025-01-01',
    created: Math.floor(Date.now() / 1000), type, livemode: false, data: { object },
  });
  const res = await fetch(s.base + '/api/salon/stripe/webhook', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Stripe-Signature': sign(payload) }, body: payload,
  });
  return { status: res.status, body: await res.text() };
}

test('a full event: the second member is waitlisted, sees their place move and the promotion live when seats free up', async () => {
  const ev = await newEvent({ title: 'Tea in Shibuya', capacity: 1, location: 'Shibuya, Tokyo', description: '<p>Bring a cup. <script>alert(1)</script></p>' });
  const a = await person('aiko@example.com');
  const b = await person('ben@example.com');
  const c = await person('chika@example.com', { lang: 'ja', phone: true });

  // the list shows it; the row opens the event page
  await a.goto('/events');
  await waitText(a.locator('[data-testid=event-list]'), 'Tea in Shibuya');
  await a.click('[data-testid=event-row]:has-text("Tea in Shibuya")');
  await a.waitForURL('**/events/' + ev.id);
  await waitText(a.locator('[data-testid=event-where]'), 'Shibuya, Tokyo');
  await waitText(a.locator('[data-testid=seats]'), '0 of 1 seats taken');
  assert.equal(await a.locator('[data-testid=event] script').count(), 0, 'the description is sanitized');
  await a.click('[data-testid=rsvp-go]');
  await waitText(a.locator('[data-testid=rsvp-status]'), 'You are going.');
  await waitText(a.locator('[data-testid=seats]'), '1 of 1 seats taken');

  // the e-mail link lands on the event page; the event is full: waitlist
  await b.goto('/events/' + ev.id);
  await waitText(b.locator('[data-testid=rsvp-go]'), 'Join the waitlist');
  await b.click('[data-testid=rsvp-go]');
  await waitText(b.locator('[data-testid=position]'), 'You are number 1 on the waitlist.');
  await c.goto('/events/' + ev.id);
  await waitText(c.locator('[data-testid=rsvp-go]'), 'キャンセル待ちに登録する');
  await c.click('[data-testid=rsvp-go]');
  await waitText(c.locator('[data-testid=position]'), 'キャンセル待ち 2 番目です。');
  await shot(b, 'event-waitlist-en-desktop');
  await shot(c, 'event-waitlist-ja-phone');

  // the first member cancels: the second is promoted, live; the third moves up, live
  a.once('dialog', (d) => d.accept());
  await a.click('[data-testid=rsvp-cancel]');
  await waitText(a.locator('[data-testid=rsvp-status]'), 'You cancelled your RSVP.');
  await waitText(b.locator('[data-testid=promoted]'), 'A seat freed up: you are going now!');
  await waitText(c.locator('[data-testid=position]'), 'キャンセル待ち 1 番目です。');
  await shot(b, 'event-promoted-en-desktop');
  await shot(c, 'event-moved-up-ja-phone');
  const rsvps = await s.api('GET', '/api/collections/event_rsvps/records?filter=' + encodeURIComponent(`event='${ev.id}'`));
  const status = Object.fromEntries(rsvps.items.map((r) => [r.user, r.status]));
  assert.deepEqual(status, { [aiko.id]: 'cancelled', [ben.id]: 'going', [chika.id]: 'waitlist' });

  // the list marks the member's own answer
  await b.goto('/events');
  await waitText(b.locator('[data-testid=event-row]:has-text("Tea in Shibuya") [data-testid=my-rsvp]'), 'Going');
  await closeAll(a, b, c);
});

test('a three-seat event raced by four members in four browsers: three go, one waits', async () => {
  const ev = await newEvent({ title: 'Three seats', capacity: 3 });
  const emails = ['aiko@example.com', 'ben@example.com', 'goro@example.com', 'admin@example.com'];
  const pages = [];
  for (const e of emails) {
    const p = await person(e);
    await p.goto('/events/' + ev.id);
    await p.locator('[data-testid=rsvp-go]').waitFor();
    pages.push(p);
  }
  await Promise.all(pages.map((p) => p.click('[data-testid=rsvp-go]')));
  const texts = [];
  for (const p of pages) {
    texts.push(await waitText(p.locator('[data-testid=rsvp-status]'), /You are going\.|You are number \d on the waitlist\./));
  }
  assert.equal(texts.filter((x) => x.includes('going')).length, 3, texts.join(' | '));
  assert.deepEqual(texts.filter((x) => x.includes('waitlist')), ['You are number 1 on the waitlist.']);
  const going = await s.api('GET', '/api/collections/event_rsvps/records?filter=' + encodeURIComponent(`event='${ev.id}' && status='going'`));
  assert.equal(going.totalItems, 3);
  await closeAll(...pages);
});

test('refusals are sentences: RSVP to an event cancelled while the page was open (realtime cut), in en and ja', async () => {
  const ev = await newEvent({ title: 'Soon cancelled' });
  const p = await person('ben@example.com');
  await p.route('**/api/realtime**', (r) => r.abort()); // the page cannot hear the cancellation
  await p.goto('/events/' + ev.id);
  await p.locator('[data-testid=rsvp-go]').waitFor();
  await s.api('PATCH', '/api/collections/events/records/' + ev.id, { cancelled: true });
  await p.click('[data-testid=rsvp-go]');
  await waitText(p.locator('[data-testid=rsvp] .error'), 'This event is cancelled.');
  await p.click('button.lang');
  await p.click('[data-testid=rsvp-go]');
  await waitText(p.locator('[data-testid=rsvp] .error'), 'このイベントは中止になりました。');
  await p.click('button.lang');
  await closeAll(p);
});

test('month calendar in the member\'s time zone, the .ics file, the calendar feed and its reset', async () => {
  // 23:30 in Tokyo on the 10th of next month is 14:30 UTC: the calendar shows it on the 10th
  const now = new Date();
  const y = now.getUTCFullYear(), m = now.getUTCMonth() + 1;
  const ny = m === 12 ? y + 1 : y, nm = m === 12 ? 1 : m + 1;
  const start = new Date(Date.UTC(ny, nm - 1, 10, 14, 30));
  const ev = await newEvent({ title: 'Late seminar', kind: 'seminar', starts_at: start, online_url: 'https://meet.example.com/late' });
  const p = await person('aiko@example.com');
  const ym = `${ny}-${String(nm).padStart(2, '0')}`;
  await p.goto('/events?view=month&m=' + ym);
  await waitText(p.locator(`[data-day="${ym}-10"]`), 'Late seminar');
  assert.equal(await p.locator(`[data-day="${ym}-11"] [data-testid=cal-event]`).count(), 0);
  await shot(p, 'events-month-en-desktop');
  // the previous/next buttons move a month
  await p.click(`button[aria-label="Previous month"]`);
  await p.waitForURL((u) => u.searchParams.get('m') !== ym);
  await p.click(`button[aria-label="Next month"]`);
  await waitText(p.locator(`[data-day="${ym}-10"]`), 'Late seminar');
  await p.click('[data-testid=cal-event]:has-text("Late seminar")');
  await p.waitForURL('**/events/' + ev.id);
  await waitText(p.locator('[data-testid=event-where] a'), 'Join the stream');
  await p.click('[data-testid=rsvp-go]');
  await waitText(p.locator('[data-testid=rsvp-status]'), 'You are going.');

  // add to calendar: the .ics file downloads with the member's token
  const [dl] = await Promise.all([p.waitForEvent('download'), p.click('[data-testid=ics]')]);
  const ics = readFileSync(await dl.path(), 'utf8');
  assert.match(ics, /BEGIN:VCALENDAR/);
  assert.match(ics, /SUMMARY:Late seminar/);
  assert.match(ics, new RegExp('DTSTART:' + start.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')));

  // the feed lists the event; after a reset the old address stops working
  await p.goto('/events');
  await p.click('[data-testid=feed-show]');
  const url1 = await p.inputValue('[data-testid=feed-url]');
  const feed = await fetch(url1);
  assert.equal(feed.status, 200);
  assert.match(await feed.text(), /SUMMARY:Late seminar/);
  p.once('dialog', (d) => d.accept());
  await p.click('[data-testid=feed-reset]');
  await waitText(p.locator('[data-testid=calendar-feed] .ok'), 'The old address no longer works.');
  const url2 = await p.inputValue('[data-testid=feed-url]');
  assert.notEqual(url1, url2);
  assert.equal((await fetch(url1)).status, 403);
  assert.equal((await fetch(url2)).status, 200);
  await closeAll(p);
});

test('admins see the attendees and their CSV; a member does not', async () => {
  const ev = await newEvent({ title: 'Counted meetup', capacity: 1 });
  for (const u of ['aiko@example.com', 'ben@example.com']) {
    await s.api('POST', `/api/salon/events/${ev.id}/rsvp`, undefined, (await s.login(u)).token);
  }
  const p = await person('admin@example.com');
  await p.goto('/events/' + ev.id);
  await p.click('[data-testid=attendees-show]');
  await waitCount(p.locator('[data-testid=attendee]'), 2);
  await waitText(p.locator('[data-testid=attendee]').nth(0), 'aiko@example.com');
  await waitText(p.locator('[data-testid=attendee]').nth(1), 'Waitlist 1');
  const [dl] = await Promise.all([p.waitForEvent('download'), p.click('[data-testid=attendees-csv]')]);
  const csv = readFileSync(await dl.path(), 'utf8');
  assert.match(csv, /^\uFEFFname,email,rank,status/);
  assert.match(csv, /Aiko,aiko@example.com,Free,going/);
  assert.match(csv, /Ben,ben@example.com,Free,waitlist/);
  await shot(p, 'event-attendees-en-desktop');

  const m = await person('chika@example.com');
  await m.goto('/events/' + ev.id);
  await m.locator('[data-testid=event-title]').waitFor();
  await m.locator('[data-testid=seats]').waitFor();
  assert.equal(await m.locator('[data-testid=attendees]').count(), 0);
  await closeAll(p, m);
});

test('the shop says payments are not set up instead of showing a buy button', async () => {
  await s.api('POST', '/api/collections/products/records', { name: 'Sticker set', price: 500, currency: 'jpy', stock: 5, active: true });
  const p = await person('aiko@example.com');
  await p.goto('/shop');
  await waitText(p.locator('[data-testid=payments-off]'), 'Payments are not set up in this salon yet');
  await waitText(p.locator('[data-testid=product][data-name="Sticker set"]'), '¥500');
  assert.equal(await p.locator('[data-testid=buy]').count(), 0);
  await shot(p, 'shop-payments-off-en-desktop');
  await closeAll(p);
});

test('rank gates and member prices: a lower rank does not see the Gold product; Gold sees its own price', async () => {
  await s.settings({ stripe_secret_key: 'sk_test_e2e', stripe_webhook_secret: WEBHOOK_SECRET });
  await s.api('POST', '/api/collections/products/records', { name: 'Salon mug', price: 1500, currency: 'jpy', stock: 3, active: true, rank_prices: { Gold: 1200 } });
  await s.api('POST', '/api/collections/products/records', { name: 'Gold lounge pass', price: 9000, currency: 'jpy', unlimited: true, active: true, min_rank: rank('Gold') });
  await s.api('POST', '/api/collections/products/records', { name: 'Next season box', price: 3000, currency: 'jpy', stock: 5, active: true, sale_starts: new Date(Date.now() + 7 * 86400_000).toISOString() });

  const free = await person('aiko@example.com');
  await s.api('PATCH', '/api/collections/users/records/' + gold.id, { lang: 'ja' });
  const g = await person('goro@example.com', { lang: 'ja', phone: true });
  await free.goto('/shop');
  await waitText(free.locator('[data-testid=product][data-name="Salon mug"] [data-testid=price]'), '¥1,500');
  assert.equal(await free.locator('[data-testid=product][data-name="Gold lounge pass"]').count(), 0);
  await waitText(free.locator('[data-testid=product][data-name="Next season box"] [data-testid=availability]'), 'On sale from');
  assert.equal(await free.locator('[data-testid=product][data-name="Next season box"] [data-testid=buy]').count(), 0);

  await g.goto('/shop');
  await waitText(g.locator('[data-testid=product][data-name="Gold lounge pass"]'), 'Gold 以上限定');
  const mug = await waitText(g.locator('[data-testid=product][data-name="Salon mug"] [data-testid=price]'), /[¥￥]1,200/);
  assert.match(mug, /通常価格 [¥￥]1,500/);
  await shot(g, 'shop-gold-ja-phone');
  await shot(free, 'shop-free-en-desktop');
  await s.api('PATCH', '/api/collections/users/records/' + gold.id, { lang: 'en' });
  await closeAll(free, g);
});

test('buying: Stripe Checkout (stripe-mock) up to the redirect, stock reserved live for another member, a signed webhook marks the order paid on the return page', async () => {
  const product = (await s.api('GET', '/api/collections/products/records?filter=' + encodeURIComponent("name='Salon mug'"))).items[0];
  const buyer = await person('goro@example.com');
  const other = await person('ben@example.com', { phone: true });
  await other.goto('/shop');
  await waitText(other.locator('[data-testid=product][data-name="Salon mug"] [data-testid=availability]'), '3 left');

  // Stripe's page is not reachable from here: answer it with a stand-in and
  // record that the browser was sent there
  await buyer.context().route((u) => !u.href.startsWith(s.base), (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<title>Stripe Checkout</title><h1>Checkout</h1>' }));
  await buyer.goto('/shop');
  const card = buyer.locator('[data-testid=product][data-name="Salon mug"]');
  await card.locator('input[type=number]').fill('2');
  await waitText(card.locator('[data-testid=buy]'), '¥2,400');
  await card.locator('[data-testid=buy]').click();
  await buyer.waitForURL((u) => !u.href.startsWith(s.base));
  const orders = await s.api('GET', '/api/collections/orders/records?filter=' + encodeURIComponent(`user='${gold.id}'`));
  assert.equal(orders.items.length, 1);
  const order = orders.items[0];
  assert.equal(order.status, 'pending');
  assert.equal(order.amount, 2400);
  assert.equal(new URL(buyer.url()).href, new URL(order.checkout_url).href);
  // the other member's shop shows the reserved stock without a reload
  await waitText(other.locator('[data-testid=product][data-name="Salon mug"] [data-testid=availability]'), '1 left');

  // back from Stripe: the order waits for the webhook
  await buyer.goto(`/?order=${order.id}&checkout=success`);
  await waitText(buyer.locator('[data-testid=order-status]'), 'Awaiting payment');
  await waitText(buyer.locator('[data-testid=order-message]'), 'Stripe is confirming your payment');
  await shot(buyer, 'order-pending-en-desktop');
  // a forged webhook changes nothing
  const forged = await fetch(s.base + '/api/salon/stripe/webhook', { method: 'POST', headers: { 'Stripe-Signature': sign('{}', 'whsec_wrong') }, body: '{}' });
  assert.equal(forged.status, 400);
  const res = await postWebhook('checkout.session.completed', {
    id: order.stripe_session, object: 'checkout.session', status: 'complete', payment_status: 'paid',
    amount_total: 2400, currency: 'jpy', payment_intent: 'pi_e2e_1', client_reference_id: order.id,
    metadata: { salon_kind: 'orders', salon_id: order.id },
  });
  assert.equal(res.status, 200, res.body);
  await waitText(buyer.locator('[data-testid=order-status]'), 'Paid');
  await waitText(buyer.locator('[data-testid=order-message]'), 'Payment received. Thank you for your order!');
  await shot(buyer, 'order-paid-en-desktop');
  await buyer.goto('/shop/orders');
  await waitText(buyer.locator('[data-testid=order-row]'), 'Paid');
  await waitText(buyer.locator('[data-testid=order-row]'), '¥2,400');
  await closeAll(buyer, other);
});

test('back from Stripe without paying: the cancel page offers to pay or cancel; cancelling puts the last item back on sale, live', async () => {
  const watcher = await person('aiko@example.com');
  const buyer = await person('ben@example.com', { phone: true });
  await watcher.goto('/shop');
  const mug = watcher.locator('[data-testid=product][data-name="Salon mug"] [data-testid=availability]');
  await waitText(mug, '1 left');
  await buyer.context().route((u) => !u.href.startsWith(s.base), (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<title>Stripe Checkout</title>' }));
  await buyer.goto('/shop');
  await buyer.locator('[data-testid=product][data-name="Salon mug"] [data-testid=buy]').click();
  await buyer.waitForURL((u) => !u.href.startsWith(s.base));
  await waitText(mug, 'Sold out'); // the last one is reserved for the buyer
  const order = (await s.api('GET', '/api/collections/orders/records?sort=-created&filter=' + encodeURIComponent(`user='${ben.id}'`))).items[0];
  assert.equal(order.amount, 1500); // a Free member pays the list price

  await buyer.goto(`/?order=${order.id}&checkout=cancel`);
  await waitText(buyer.locator('[data-testid=order-message]'), 'You left the payment page without paying.');
  assert.equal(await buyer.getAttribute('[data-testid=pay-now]', 'href'), order.checkout_url);
  await shot(buyer, 'order-cancel-page-en-phone');
  buyer.once('dialog', (d) => d.accept());
  await buyer.click('[data-testid=order-cancel]');
  await waitText(buyer.locator('[data-testid=order-status]'), 'Canceled');
  await waitText(mug, '1 left');
  await closeAll(watcher, buyer);
});

test('a refusal at checkout is a sentence: the sale ended while the page was open (realtime cut), in en and ja', async () => {
  const p = await person('aiko@example.com');
  await p.route('**/api/realtime**', (r) => r.abort());
  await p.goto('/shop');
  const card = p.locator('[data-testid=product][data-name="Sticker set"]');
  await card.locator('[data-testid=buy]').waitFor();
  const sticker = (await s.api('GET', '/api/collections/products/records?filter=' + encodeURIComponent("name='Sticker set'"))).items[0];
  await s.api('PATCH', '/api/collections/products/records/' + sticker.id, { sale_starts: new Date(Date.now() - 86400_000).toISOString(), sale_ends: new Date(Date.now() - 1000).toISOString() });
  await card.locator('[data-testid=buy]').click();
  await waitText(card.locator('.error'), 'The sale of this product has ended.');
  await p.click('button.lang');
  await card.locator('[data-testid=buy]').click();
  await waitText(card.locator('.error'), 'この商品の販売は終了しました。');
  await p.click('button.lang');
  await closeAll(p);
});

test('events and shop pages in ja and en, phone and desktop: no overflow, no missing words, no serious axe-core violation', async () => {
  const ev = (await s.api('GET', '/api/collections/events/records?sort=-created&perPage=1')).items[0];
  const order = (await s.api('GET', '/api/collections/orders/records?filter=' + encodeURIComponent(`user='${gold.id}'`))).items[0];
  const pages = [['events', '/events'], ['events-month', '/events?view=month'], ['event', '/events/' + ev.id],
    ['shop', '/shop'], ['orders', '/shop/orders'], ['order', '/shop/orders/' + order.id]];
  assert.deepEqual(await sweep(browser, s, { email: 'goro@example.com', pages, keys }), []);
});

// patient: a person whose page waits longer (going live and uploads on a
// busy 2-core machine)
async function patient(email, opts = {}) {
  const p = await personPage(browser, s, opts);
  p.setDefaultTimeout(45000);
  p.setDefaultNavigationTimeout(45000);
  await loginAs(p, email);
  return p;
}

// coverLoaded: the image at sel is drawn (a protected file needs the token)
async function coverLoaded(p, sel) {
  await p.locator(sel).first().waitFor();
  await p.waitForFunction((q) => { const i = document.querySelector(q); return i && i.complete && i.naturalWidth > 0; }, sel);
}

test('event editor, admin on behalf of a tutor: picks the tutor as organizer and one of the tutor\'s streams, uploads a cover; the member sees the cover everywhere and "watch" once the tutor goes live', async () => {
  const mine = await s.api('POST', '/api/collections/live_streams/records', { title: 'Admin own stream', host: admin.id });
  const tutors = await s.api('POST', '/api/collections/live_streams/records', { title: 'Brush basics live', host: tomo.id });
  const o = await patient('admin@example.com');
  await o.goto('/events/new');
  await o.locator('[data-testid=event-form]').waitFor();
  await o.fill('#ev-title', 'Brush basics (online)');
  await o.selectOption('#ev-kind', 'live');
  const start = inDays(5);
  await o.fill('#ev-start', new Date(start.getTime() + 9 * 3600_000).toISOString().slice(0, 16));
  await o.selectOption('#ev-tz', 'Asia/Tokyo');
  // the admin's own streams first; picking the tutor lists the tutor's instead
  await o.locator(`#ev-stream option[value="${mine.id}"]`).waitFor({ state: 'attached' });
  await o.selectOption('[data-testid=ev-organizer]', tomo.id);
  await o.locator(`#ev-stream option[value="${tutors.id}"]`).waitFor({ state: 'attached' });
  assert.equal(await o.locator(`#ev-stream option[value="${mine.id}"]`).count(), 0, 'another host\'s stream is not offered');
  // the admin is not the organizer: no stream is created in the tutor's name
  assert.equal(await o.locator('[data-testid=ev-stream-create]').count(), 0);
  await o.selectOption('[data-testid=ev-stream]', tutors.id);
  await o.setInputFiles('[data-testid=ev-cover]', { name: 'cover.png', mimeType: 'image/png', buffer: png(600, 300, [40, 110, 160]) });
  await coverLoaded(o, '[data-testid=ev-cover-preview]');
  assert.deepEqual(await problems(o, 'editor (admin)'), []);
  await o.locator('#ev-stream').scrollIntoViewIfNeeded();
  await shot(o, 'events-editor-admin-en-desktop');
  await o.click('[data-testid=event-save]');
  await o.waitForURL((u) => /^\/events\/[a-z0-9]{15}$/.test(u.pathname));
  const id = new URL(o.url()).pathname.split('/').pop();
  const saved = await s.api('GET', '/api/collections/events/records/' + id);
  assert.equal(saved.organizer, tomo.id);
  assert.equal(saved.stream, tutors.id);
  assert.ok(saved.cover, 'the cover was uploaded');
  // a protected file: no token, no cover
  assert.equal((await fetch(`${s.base}/api/files/events/${id}/${saved.cover}`)).status, 404);
  await waitText(o.locator('[data-testid=event]'), 'Tomo Tutor');

  // a member, in Japanese on a phone: the cover on the list, the calendar and the page
  const m = await patient('chika@example.com', { lang: 'ja', phone: true });
  await m.goto('/events');
  await coverLoaded(m, `a[href="/events/${id}"] [data-testid=event-row-cover]`);
  await m.locator(`a[href="/events/${id}"]`).scrollIntoViewIfNeeded();
  await shot(m, 'events-list-cover-ja-phone');
  const ym = `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  await m.goto('/events?view=month&m=' + ym);
  await m.locator(`a[href="/events/${id}"] [data-testid=cal-cover]`).waitFor({ state: 'attached' });
  await m.goto('/events/' + id);
  await coverLoaded(m, '[data-testid=event-cover]');
  await waitText(m.locator('[data-testid=event-stream-wait]'), '配信を始めると');
  assert.equal(await m.locator('[data-testid=event-watch]').count(), 0, 'no watch button before the stream is live');

  // the tutor goes live: the member's page offers "watch" without a reload
  const host = await patient('tomo@example.com');
  await host.goto('/live/' + tutors.id);
  await host.locator('[data-testid=go-live]').waitFor();
  await host.waitForFunction(() => document.querySelector('[data-testid=preview]')?.videoWidth > 0);
  await host.click('[data-testid=go-live]');
  await waitText(m.locator('[data-testid=event-watch]'), '視聴する', 60000);
  assert.equal(await m.getAttribute('[data-testid=event-watch] a', 'href'), '/live/' + tutors.id);
  assert.deepEqual(await problems(m, 'event page (watch)'), []);
  await shot(m, 'events-page-watch-ja-phone');
  const d = await patient('aiko@example.com');
  await d.goto('/events/' + id);
  await coverLoaded(d, '[data-testid=event-cover]');
  await waitText(d.locator('[data-testid=event-watch]'), 'Watch');
  await shot(d, 'events-page-watch-en-desktop');
  await d.click('[data-testid=event-watch] a');
  await d.waitForURL('**/live/' + tutors.id);
  await closeAll(o, m, host, d);
});

test('event editor, a tutor in Japanese on a phone: no organizer picker, creates a live stream for the event, a cover too large or not an image is refused before uploading', async () => {
  const p = await patient('tomo@example.com', { lang: 'ja', phone: true });
  await p.goto('/events/new');
  await p.locator('[data-testid=event-form]').waitFor();
  assert.equal(await p.locator('[data-testid=ev-organizer]').count(), 0, 'only admins pick the organizer');
  await p.fill('#ev-title', '質問会ライブ');
  await p.selectOption('#ev-kind', 'live');
  await p.fill('#ev-start', new Date(inDays(6).getTime() + 9 * 3600_000).toISOString().slice(0, 16));
  await p.click('[data-testid=ev-stream-create]');
  await waitText(p.locator('[data-testid=ev-stream-note]'), '質問会ライブ');
  const streamId = await p.inputValue('[data-testid=ev-stream]');
  assert.match(streamId, /^[a-z0-9]{15}$/);

  let uploads = 0;
  p.on('request', (r) => { if (r.method() !== 'GET' && r.url().includes('/api/collections/events/records')) uploads++; });
  await p.setInputFiles('[data-testid=ev-cover]', { name: 'big.png', mimeType: 'image/png', buffer: Buffer.concat([png(10, 10), Buffer.alloc(5 * 1024 * 1024 + 1)]) });
  await waitText(p.locator('[data-testid=ev-cover-error]'), '5 MBまで');
  await p.setInputFiles('[data-testid=ev-cover]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await waitText(p.locator('[data-testid=ev-cover-error]'), '画像');
  await p.click('[data-testid=event-save]');
  await waitText(p.locator('[data-testid=event-form-error]'), '画像');
  assert.equal(uploads, 0, 'nothing was sent');
  await p.setInputFiles('[data-testid=ev-cover]', { name: 'cover.png', mimeType: 'image/png', buffer: png(600, 300, [180, 90, 40]) });
  await coverLoaded(p, '[data-testid=ev-cover-preview]');
  assert.equal(await p.locator('[data-testid=ev-cover-error]').count(), 0);
  assert.deepEqual(await problems(p, 'editor (tutor, ja)'), []);
  await p.locator('[data-testid=ev-cover-preview]').scrollIntoViewIfNeeded();
  await shot(p, 'events-editor-tutor-ja-phone');
  await p.click('[data-testid=event-save]');
  await p.waitForURL((u) => /^\/events\/[a-z0-9]{15}$/.test(u.pathname));
  const id = new URL(p.url()).pathname.split('/').pop();
  await coverLoaded(p, '[data-testid=event-cover]');
  await waitText(p.locator('[data-testid=event-stream-wait]'), '配信を始めると');
  const ev = await s.api('GET', '/api/collections/events/records/' + id);
  const st = await s.api('GET', '/api/collections/live_streams/records/' + streamId);
  assert.equal(ev.organizer, tomo.id);
  assert.equal(ev.stream, streamId);
  assert.equal(st.host, tomo.id);
  assert.equal(st.title, '質問会ライブ');
  await shot(p, 'events-page-stream-ja-phone');

  // the English editor on a desktop: the same form, the stream already linked
  const e = await patient('tomo@example.com');
  await e.goto(`/events/${id}/edit`);
  await e.locator('[data-testid=event-form]').waitFor();
  assert.equal(await e.inputValue('[data-testid=ev-stream]'), streamId);
  await coverLoaded(e, 'img.cover');
  assert.deepEqual(await problems(e, 'editor (tutor, en)'), []);
  await e.locator('#ev-stream').scrollIntoViewIfNeeded();
  await shot(e, 'events-editor-tutor-en-desktop');
  await closeAll(p, e);
});
