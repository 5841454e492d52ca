// End-to-end tests of the long topic (replies by cursor, a bounded page,
// #POST links into the middle), topic editing, client_id retries, the event
// editor, live seat counts and the admins' orders CSV: the built binary on a
// temp data dir, Debian's Chromium, members each in their own context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSalon, operator, launch, signedIn, closeAll, shot, sweep } from './harness.mjs';
import { waitText, waitCount } from './util.mjs';

const REPLIES = 600;
let s, browser, rank, admin, aiko, ben, tutor, general, longTopic;

before(async () => {
  let who;
  ({ s, who, rank } = await openSalon({
    admin: operator, aiko: ['Aiko', 'aiko@example.com', { rank: 'Free' }], ben: ['Ben', 'ben@example.com', { rank: 'Free' }],
    tutor: ['Toshi Tutor', 'toshi@example.com', { role: 'tutor', rank: 'Free' }], goldie: ['Goro Gold', 'goro@example.com', { rank: 'Gold' }],
  }));
  ({ admin, aiko, ben, tutor } = who);
  general = await s.api('POST', '/api/collections/forum_categories/records', { name: 'General', sort: 1 });
  longTopic = await s.api('POST', '/api/collections/forum_topics/records', { category: general.id, author: aiko.id, title: 'A long thread', body: 'Replies below' });
  // the replies go straight into SQLite while the server is stopped (the
  // forum bench does the same; the database's triggers keep post_count and
  // last_post_at as the API would)
  await s.stop();
  execFileSync('sqlite3', [join(s.dir, 'data.db'), `
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${REPLIES - 1})
    INSERT INTO forum_posts (id, topic, author, body, quote, attachments, reply_to, edited_at, client_id, created, updated)
    SELECT printf('lp%013d', i), '${longTopic.id}', '${ben.id}', 'Reply number ' || i, '', '[]', '', '', '',
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-02-01', '+' || i || ' seconds'),
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-02-01', '+' || i || ' seconds') FROM n;`]);
  await s.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await s?.close();
});

const person = (email, opts) => signedIn(browser, s, email, { dialogs: true, ...opts });

const postId = (i) => 'lp' + String(i).padStart(13, '0');
const shownNumbers = (p) => p.locator('[data-testid=post]').evaluateAll((els) => els.map((e) => Number(/Reply number (\d+)/.exec(e.innerText)?.[1] ?? -1)));

test('a topic of 600 replies: pages by cursor both ways with at most 200 in the page; a #post link opens the page around that reply', async () => {
  const p = await person('aiko@example.com');
  await p.goto('/forum/topics/' + longTopic.id);
  await waitCount(p.locator('[data-testid=post]'), 50);
  assert.deepEqual((await shownNumbers(p)).slice(0, 2), [0, 1]);
  assert.equal(await p.locator('[data-testid=earlier-replies]').count(), 0);
  // page on: the page never holds more than 200 replies; the first ones
  // leave and come back through "earlier"
  for (let i = 0; i < 6; i++) {
    const last = (await shownNumbers(p)).at(-1);
    await p.click('[data-testid=later-replies]');
    await p.waitForFunction((n) => { const r = document.querySelectorAll('[data-testid=post]'); return Number(/Reply number (\d+)/.exec(r[r.length - 1]?.innerText ?? '')?.[1]) > n; }, last);
  }
  let nums = await shownNumbers(p);
  assert.equal(nums.length, 200);
  // each page's inclusive cursor brings the last reply shown again (dropped):
  // 50 + 6 × 49 replies read, the first 144 gone from the page
  assert.deepEqual([nums[0], nums.at(-1)], [144, 343]);
  assert.deepEqual(nums, nums.map((_, i) => 144 + i), 'replies in order, none twice, none missing');
  await p.locator('[data-testid=earlier-replies]').waitFor();
  await p.click('[data-testid=earlier-replies]');
  await p.waitForFunction(() => /Reply number 95\b/.test(document.querySelector('[data-testid=post]')?.innerText ?? ''));
  nums = await shownNumbers(p);
  assert.equal(nums.length, 200);
  assert.deepEqual([nums[0], nums.at(-1)], [95, 294]);

  // a reply sent from the middle of the topic lands at its end, shown
  await p.fill('#reply-body', 'Written from the middle');
  await p.click('[data-testid=reply-form] button[type=submit]');
  await waitText(p.locator('[data-testid=post]').last(), 'Written from the middle');
  nums = await shownNumbers(p);
  assert.deepEqual(nums.slice(-3), [598, 599, -1]);

  // the link an e-mail carries: /forum/topics/ID#POST, deep in the topic
  await p.goto('/forum');
  await p.goto(`/forum/topics/${longTopic.id}#${postId(450)}`);
  const target = p.locator('#p-' + postId(450));
  await target.waitFor();
  assert.match(await target.getAttribute('class'), /highlight/);
  nums = await shownNumbers(p);
  assert.deepEqual([nums[0], nums.at(-1)], [425, 499], 'half a page before the reply, a page from it');
  assert.ok(await target.evaluate((el) => { const r = el.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }), 'the reply is on screen');
  await p.locator('[data-testid=earlier-replies]').waitFor();
  await p.locator('[data-testid=later-replies]').waitFor();
  await shot(p, 'ui2-long-topic-en-desktop');
  await closeAll(p);
});

test('topic edit: the author changes title, body and tags, a reader sees it live; an admin edits too; access lost meanwhile is refused in words (en and ja)', async () => {
  const t = await s.api('POST', '/api/collections/forum_topics/records', { category: general.id, author: aiko.id, title: 'Tea sets', body: 'Which one?', tags: ['tea'] });
  const a = await person('aiko@example.com');
  const b = await person('ben@example.com');
  await b.goto('/forum/topics/' + t.id);
  await waitText(b.locator('[data-testid=topic-title]'), 'Tea sets');
  assert.equal(await b.locator('[data-testid=topic-edited]').count(), 0, 'a new topic is not marked edited');
  // only the author (and admins) are offered the edit
  assert.equal(await b.locator('[data-testid=edit-topic-open]').count(), 0);

  await a.goto('/forum/topics/' + t.id);
  await a.click('[data-testid=edit-topic-open]');
  await a.fill('#et-title', 'Tea sets for beginners');
  await a.fill('#et-body', 'Which one **first**?');
  await a.fill('#et-tags', 'tea, Beginners');
  await shot(a, 'ui2-topic-edit-en-desktop');
  await a.click('[data-testid=edit-topic] button[type=submit]');
  await waitText(a.locator('[data-testid=topic-title]'), 'Tea sets for beginners');
  await waitText(b.locator('[data-testid=topic-title]'), 'Tea sets for beginners');
  await waitText(b.locator('[data-testid=topic-body] strong'), 'first');
  // the reader sees that the topic was edited, as with replies
  await waitText(b.locator('[data-testid=topic-edited]'), 'edited');
  const saved = await s.api('GET', '/api/collections/forum_topics/records/' + t.id);
  assert.deepEqual(saved.tags, ['tea', 'beginners']);
  assert.ok(saved.edited_at, 'the server set edited_at');

  const o = await person('admin@example.com');
  await o.goto('/forum/topics/' + t.id);
  await o.click('[data-testid=edit-topic-open]');
  await o.fill('#et-title', 'Tea sets for beginners (moved to the FAQ)');
  await o.click('[data-testid=edit-topic] button[type=submit]');
  await waitText(a.locator('[data-testid=topic-title]'), '(moved to the FAQ)');

  // the author opens the form, then loses the right to write here
  for (const lang of ['en', 'ja']) {
    await s.api('PATCH', '/api/collections/forum_categories/records/' + general.id, { post_min_rank: '' });
    await s.api('PATCH', '/api/collections/users/records/' + aiko.id, { lang });
    const p = await person('aiko@example.com', { lang, phone: lang === 'ja' });
    await p.goto('/forum/topics/' + t.id);
    await p.click('[data-testid=edit-topic-open]');
    await s.api('PATCH', '/api/collections/forum_categories/records/' + general.id, { post_min_rank: rank('Gold') });
    await p.fill('#et-title', 'Renamed after losing access');
    await p.click('[data-testid=edit-topic] button[type=submit]');
    // the English sentence quotes the server's detail (the rank needed); a
    // Japanese member sees only the client's own sentence
    const err = await waitText(p.locator('[data-testid=edit-topic-error]'), lang === 'en' ? 'Your rank is not high enough' : 'ランクが足りないため');
    if (lang === 'en') assert.match(err, /Gold/);
    await shot(p, `ui2-topic-edit-refused-${lang}-${lang === 'ja' ? 'phone' : 'desktop'}`);
    await closeAll(p);
  }
  assert.equal((await s.api('GET', '/api/collections/forum_topics/records/' + t.id)).title, 'Tea sets for beginners (moved to the FAQ)');
  // and, back on a fresh page, the form is not offered at all
  const again = await person('aiko@example.com');
  await again.goto('/forum/topics/' + t.id);
  await again.locator('[data-testid=write-state]').waitFor();
  assert.equal(await again.locator('[data-testid=edit-topic-open]').count(), 0);
  await s.api('PATCH', '/api/collections/forum_categories/records/' + general.id, { post_min_rank: '' });
  await s.api('PATCH', '/api/collections/users/records/' + aiko.id, { lang: 'en' });
  await closeAll(a, b, o, again);
});

test('client_id: a reply and a new topic whose answers were lost are sent again with the same client_id and stored once', async () => {
  const p = await person('ben@example.com');
  // the first POST reaches the server, which stores it; the browser is
  // told the connection failed (as when a phone drops off the network)
  const cut = (kind) => {
    let done = false;
    const ids = [];
    p.route(`**/api/collections/${kind}/records*`, async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      ids.push((req.postData() ?? '').match(/client_id"?\s*(?:\r\n\r\n|:\s*")([A-Za-z0-9-]+)/)?.[1] ?? '');
      if (done) return route.continue();
      done = true;
      await route.fetch();
      await route.abort('failed');
    });
    return ids;
  };
  const postIds = cut('forum_posts');
  await p.goto('/forum/topics/' + longTopic.id);
  await p.locator('[data-testid=post]').first().waitFor();
  await p.fill('#reply-body', 'Sent through a flaky network');
  await p.click('[data-testid=reply-form] button[type=submit]');
  await waitText(p.locator('[data-testid=posts]'), 'Sent through a flaky network');
  assert.ok(postIds.length >= 2 && postIds[0] && postIds.every((x) => x === postIds[0]), 'the retry sent the same client_id: ' + postIds.join(', '));
  const posts = await s.api('GET', '/api/collections/forum_posts/records?filter=' + encodeURIComponent(`body = 'Sent through a flaky network'`));
  assert.equal(posts.totalItems, 1);
  assert.equal(posts.items[0].client_id, postIds[0]);
  assert.equal(await p.locator('[data-testid=post]:has-text("Sent through a flaky network")').count(), 1);
  // the next reply is another draft, with another client_id
  await p.fill('#reply-body', 'A second reply');
  await p.click('[data-testid=reply-form] button[type=submit]');
  await waitText(p.locator('[data-testid=posts]'), 'A second reply');
  assert.notEqual(postIds.at(-1), postIds[0]);

  const topicIds = cut('forum_topics');
  await p.goto('/forum/categories/' + general.id);
  await p.click('text=New topic');
  await p.fill('#nt-title', 'Opened once despite the retry');
  await p.fill('#nt-body', 'Hello');
  await p.click('[data-testid=new-topic] button[type=submit]');
  await waitText(p.locator('[data-testid=topic-title]'), 'Opened once despite the retry');
  const topics = await s.api('GET', '/api/collections/forum_topics/records?filter=' + encodeURIComponent(`title = 'Opened once despite the retry'`));
  assert.equal(topics.totalItems, 1);
  assert.ok(topicIds.length >= 2 && topicIds.every((x) => x === topicIds[0]), 'same client_id on the retry: ' + topicIds.join(', '));
  assert.equal(topics.items[0].client_id, topicIds[0]);
  await closeAll(p);
});

test('events: a tutor creates an event in their time zone and edits it; a plain member is not offered it and is refused in words', async () => {
  const p = await person('toshi@example.com');
  await p.goto('/events');
  await p.click('[data-testid=event-new]');
  await p.locator('[data-testid=event-form]').waitFor();
  // the form starts in the member's zone (the browser's: Asia/Tokyo)
  assert.equal(await p.inputValue('#ev-tz'), 'Asia/Tokyo');
  await p.fill('#ev-title', 'Seminar on tea');
  await p.selectOption('#ev-kind', 'seminar');
  await p.fill('#ev-start', '2030-12-01T19:00');
  await p.fill('#ev-end', '2030-12-01T21:00');
  await p.fill('#ev-loc', 'Shibuya, Tokyo');
  await p.fill('#ev-url', 'https://meet.example.com/tea');
  await p.fill('#ev-cap', '2');
  await p.selectOption('#ev-rank', rank('Gold'));
  await p.fill('#ev-desc', 'Bring a cup.\n\n<b>not bold</b>');
  await shot(p, 'ui2-event-new-en-desktop');
  await p.click('[data-testid=event-save]');
  await p.waitForURL(/\/events\/[a-z0-9]{15}$/);
  const id = p.url().split('/').pop();
  await waitText(p.locator('[data-testid=event-title]'), 'Seminar on tea');
  await waitText(p.locator('[data-testid=seats]'), '0 of 2 seats taken');
  let ev = await s.api('GET', '/api/collections/events/records/' + id);
  assert.equal(ev.starts_at, '2030-12-01 10:00:00.000Z');
  assert.equal(ev.ends_at, '2030-12-01 12:00:00.000Z');
  assert.deepEqual([ev.kind, ev.timezone, ev.location, ev.online_url, ev.capacity, ev.min_rank, ev.organizer, ev.published],
    ['seminar', 'Asia/Tokyo', 'Shibuya, Tokyo', 'https://meet.example.com/tea', 2, rank('Gold'), tutor.id, true]);
  assert.equal(ev.description, '<p>Bring a cup.</p><p>&lt;b&gt;not bold&lt;/b&gt;</p>');

  // edit: the times show in the event's zone; a London event keeps its zone
  await p.click('[data-testid=event-edit]');
  assert.equal(await p.inputValue('#ev-start'), '2030-12-01T19:00');
  await p.fill('#ev-title', 'Seminar on green tea');
  await p.selectOption('#ev-tz', 'Europe/London');
  await p.fill('#ev-start', '2030-12-01T18:00');
  await p.fill('#ev-end', '2030-12-01T20:00');
  await p.fill('#ev-cap', '3');
  await p.click('[data-testid=event-save]');
  await waitText(p.locator('[data-testid=event-title]'), 'Seminar on green tea');
  await waitText(p.locator('[data-testid=event-when]'), 'Europe/London');
  ev = await s.api('GET', '/api/collections/events/records/' + id);
  assert.deepEqual([ev.starts_at, ev.timezone, ev.capacity, ev.description], ['2030-12-01 18:00:00.000Z', 'Europe/London', 3, '<p>Bring a cup.</p><p>&lt;b&gt;not bold&lt;/b&gt;</p>']);

  // a member below event_create_min_rank: no button; the page refuses in words
  for (const lang of ['en', 'ja']) {
    await s.api('PATCH', '/api/collections/users/records/' + ben.id, { lang });
    const m = await person('ben@example.com', { lang, phone: lang === 'ja' });
    await m.goto('/events');
    await m.locator('[data-testid=view-list]').waitFor();
    await m.waitForLoadState('networkidle');
    assert.equal(await m.locator('[data-testid=event-new]').count(), 0);
    await m.goto('/events/new');
    await m.fill('#ev-title', 'Not mine to make');
    await m.fill('#ev-start', '2030-12-02T19:00');
    await m.click('[data-testid=event-save]');
    await waitText(m.locator('[data-testid=event-form-error]'), lang === 'en' ? 'Only admins and tutors can create events' : 'イベント');
    await shot(m, `ui2-event-refused-${lang}-${lang === 'ja' ? 'phone' : 'desktop'}`);
    // and another's event has no edit link for them (it is Gold-only: not even visible)
    await m.goto('/events/' + id);
    await m.locator('[role=alert]').waitFor();
    assert.equal(await m.locator('[data-testid=event-edit]').count(), 0);
    await closeAll(m);
  }
  await s.api('PATCH', '/api/collections/users/records/' + ben.id, { lang: 'en' });
  assert.equal((await s.api('GET', '/api/collections/events/records?filter=' + encodeURIComponent(`title = 'Not mine to make'`))).totalItems, 0);
  await closeAll(p);
});

test('live seats: a member watching an event page sees the seats taken change when another member answers in another browser', async () => {
  const start = new Date(Date.now() + 5 * 86400_000);
  const ev = await s.api('POST', '/api/collections/events/records', {
    title: 'Two seats', kind: 'meetup', timezone: 'Asia/Tokyo', published: true, organizer: admin.id, capacity: 2,
    starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 3600_000).toISOString(),
  });
  const a = await person('aiko@example.com');
  const b = await person('ben@example.com', { phone: true });
  await a.goto('/events/' + ev.id);
  await waitText(a.locator('[data-testid=seats]'), '0 of 2 seats taken');
  await b.goto('/events/' + ev.id);
  await b.click('[data-testid=rsvp-go]');
  await waitText(a.locator('[data-testid=seats]'), '1 of 2 seats taken');
  // a third member through the API: both pages follow
  await s.api('POST', `/api/salon/events/${ev.id}/rsvp`, undefined, (await s.login('goro@example.com')).token);
  await waitText(a.locator('[data-testid=seats]'), 'Full');
  await waitText(b.locator('[data-testid=seats]'), '2 of 2 seats taken');
  assert.equal(await a.locator('[data-testid=rsvp-go]').innerText(), 'Join the waitlist');
  await b.click('[data-testid=rsvp-cancel]');
  await waitText(a.locator('[data-testid=seats]'), '1 of 2 seats taken');
  await shot(a, 'ui2-live-seats-en-desktop');
  await closeAll(a, b);
});

test('admins download the orders CSV from the shop; a member is not offered it', async () => {
  const o = await person('admin@example.com');
  await o.goto('/shop');
  await o.locator('[data-testid=orders-export]').waitFor();
  await o.selectOption('#oe-status', 'paid');
  const [dl] = await Promise.all([o.waitForEvent('download'), o.click('[data-testid=orders-csv]')]);
  assert.equal(dl.suggestedFilename(), 'orders-paid.csv');
  const csv = readFileSync(await dl.path(), 'utf8');
  assert.match(csv, /^order,created,paid_at,status,buyer,buyer_email,product/);
  await shot(o, 'ui2-shop-export-en-desktop');
  const m = await person('aiko@example.com');
  await m.goto('/shop');
  await m.locator('h1').waitFor();
  await m.waitForLoadState('networkidle');
  assert.equal(await m.locator('[data-testid=orders-export]').count(), 0);
  await closeAll(o, m);
});

test('changed pages in ja and en at 375 px and 1280 px: no overflow, no untranslated key, no serious axe-core violation', async () => {
  const start = new Date(Date.now() + 9 * 86400_000);
  const ev = await s.api('POST', '/api/collections/events/records', {
    title: 'Checked event', kind: 'offline', timezone: 'Europe/London', published: true, organizer: admin.id, capacity: 5,
    location: 'Shibuya, Tokyo', online_url: 'https://meet.example.com/x', description: '<p>Bring a cup.</p>',
    starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 3600_000).toISOString(),
  });
  const own = await s.api('POST', '/api/collections/forum_topics/records', { category: general.id, author: admin.id, title: 'Checked page', body: 'Body', tags: ['a11y'] });
  const pages = [
    ['ui2-topic-edit', '/forum/topics/' + own.id, (p) => p.click('[data-testid=edit-topic-open]')],
    ['ui2-topic-deep', `/forum/topics/${longTopic.id}#${postId(300)}`],
    ['ui2-events', '/events'], ['ui2-event', '/events/' + ev.id],
    ['ui2-event-new', '/events/new'], ['ui2-event-edit', `/events/${ev.id}/edit`], ['ui2-shop', '/shop'],
  ];
  const problems = await sweep(browser, s, { email: 'admin@example.com', pages, ready: 'main h1, main h2', keys: /\b(nav|events|shop|err|common|forum|ui2)\.[a-zA-Z_.]+\b/g });
  assert.deepEqual(problems, []);
});
