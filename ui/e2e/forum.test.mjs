// End-to-end tests of the forum, groups and member directory screens: the
// built binary on a temp data dir, Debian's Chromium, two members each in
// their own browser context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSalon, operator, launch, signedIn, closeAll, shot, sweep } from './harness.mjs';
import { waitText, waitCount, png } from './util.mjs';

let s, browser, aiko, ben, gold, silver, general, goldLounge, news, experts, secretTopic;

before(async () => {
  let who, rank;
  ({ s, who, rank } = await openSalon({ admin: operator, aiko: ['Aiko Gold', 'aiko@example.com', { rank: 'Gold' }], ben: ['Ben Plain', 'ben@example.com'] }));
  ({ aiko, ben } = who);
  gold = rank('Gold');
  silver = rank('Silver');
  const cat = (body) => s.api('POST', '/api/collections/forum_categories/records', body);
  general = await cat({ name: 'General', description: 'Anything about the salon', sort: 1 });
  goldLounge = await cat({ name: 'Gold lounge', description: 'For Gold members', min_rank: gold, sort: 2 });
  news = await cat({ name: 'News', description: 'From the operators', admin_topics_only: true, sort: 3 });
  experts = await cat({ name: 'Experts', description: 'Everyone reads, Gold writes', post_min_rank: gold, sort: 4 });
  secretTopic = await s.api('POST', '/api/collections/forum_topics/records', { category: goldLounge.id, author: aiko.id, title: 'Gold only plans', body: 'Not for everyone' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await s?.close();
});

const person = (email, opts) => signedIn(browser, s, email, { dialogs: true, ...opts });

test('forum: categories by rank, a topic written with preview appears live, reply with attachment and quote, best answer, notices', async () => {
  const a = await person('aiko@example.com');
  const b = await person('ben@example.com');

  // Ben (no rank) does not see the Gold category; write limits are shown as such
  await b.goto('/forum');
  const cats = b.locator('[data-testid=categories]');
  await waitText(cats, 'Experts');
  assert.ok(!(await cats.innerText()).includes('Gold lounge'));
  await waitText(cats.locator('li', { hasText: 'News' }), 'Announcements: replies only');
  await waitText(cats.locator('li', { hasText: 'Experts' }), 'Read-only for you: writing here needs the Gold rank or above.');
  // a Gold member sees it
  await a.goto('/forum');
  await waitText(a.locator('[data-testid=categories]'), 'Gold lounge');
  // the direct link to a topic Ben may not read says so, and shows nothing of it
  await b.goto('/forum/topics/' + secretTopic.id);
  await waitText(b.locator('.error'), 'This no longer exists, or you cannot see it.');
  assert.ok(!(await b.locator('main').innerText()).includes('Gold only plans'));

  // Ben watches the General category (and follows it); Aiko writes a question there
  await b.goto('/forum/categories/' + general.id);
  await waitText(b.locator('main'), 'No topics yet.');
  await b.getByTestId('follow-category').click();
  await waitText(b.getByTestId('follow-category'), 'Stop following');
  await a.goto('/forum/categories/' + general.id);
  await a.getByRole('button', { name: 'New topic' }).click();
  await a.fill('#nt-title', 'How do I back up SQLite?');
  await a.fill('#nt-body', 'Is **WAL** safe? See [the docs](https://sqlite.org/wal.html)\n\n<script>window.pwned=1</script><img src=x onerror="window.pwned=1">');
  await a.getByTestId('preview-tab').click();
  const preview = a.getByTestId('preview');
  await waitText(preview, 'Is WAL safe?');
  assert.equal(await preview.locator('strong').innerText(), 'WAL');
  assert.match(await preview.locator('a').getAttribute('rel'), /noopener/);
  assert.equal(await preview.locator('script, img').count(), 0);
  await a.getByRole('button', { name: 'Write' }).click();
  await a.fill('#nt-tags', 'SQLite, backup');
  await a.getByLabel('This is a question').check();
  await shot(a, 'forum-new-topic-en-desktop');
  await a.getByRole('button', { name: 'Post the topic' }).click();
  await a.waitForURL(/\/forum\/topics\//);
  const topicId = a.url().split('/').pop();
  await waitText(a.getByTestId('topic-title'), 'How do I back up SQLite?');
  assert.equal(await a.evaluate(() => window.pwned), undefined);

  // Ben sees it appear live in the list, with its tags and the question mark
  const row = b.getByTestId('topic-row').filter({ hasText: 'How do I back up SQLite?' });
  await waitText(row, '#sqlite');
  await waitText(row, 'Question');
  // following the category told him (kind forum_follow)
  await waitText(b.getByTestId('bell-count'), '1');
  await row.getByRole('link').click();
  await b.waitForURL(/\/forum\/topics\//);
  await waitText(b.locator('.topic'), 'Is WAL safe?');

  // Ben replies with an attachment; Aiko sees the reply live and gets a notice
  await b.fill('#reply-body', 'Use the **backup API**, or VACUUM INTO.');
  await b.setInputFiles('#reply-files', { name: 'diagram.png', mimeType: 'image/png', buffer: png(40, 30) });
  await b.getByRole('button', { name: 'Post the reply' }).click();
  const bensPost = a.getByTestId('post').filter({ hasText: 'VACUUM INTO' });
  await waitText(bensPost, 'Ben Plain');
  await waitCount(bensPost.locator('.media img'), 1);
  assert.ok(await bensPost.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0 || new Promise((r) => img.onload = () => r(img.naturalWidth > 0))));
  await waitText(a.getByTestId('bell-count'), '1');

  // Aiko quotes Ben's post; Ben sees the answer, with the quote, live
  await bensPost.getByRole('button', { name: 'Quote' }).click();
  await waitText(a.getByTestId('replying'), 'Replying to Ben Plain');
  await a.fill('#reply-body', 'Thanks, that works!');
  await a.getByRole('button', { name: 'Post the reply' }).click();
  const answer = b.getByTestId('post').filter({ hasText: 'Thanks, that works!' });
  await waitText(answer.locator('.quote'), 'Replying to Ben Plain');
  await waitText(answer.locator('.quote'), 'Use the **backup API**');
  const stored = await s.api('GET', '/api/collections/forum_posts/records?filter=' + encodeURIComponent(`topic='${topicId}'`) + '&sort=created');
  assert.equal(stored.items[1].reply_to, stored.items[0].id);

  // Operator Oda follows the topic: Ben's next reply tells him
  const o = await person('admin@example.com');
  await o.goto('/forum/topics/' + topicId);
  await o.getByTestId('follow-topic').click();
  await waitText(o.getByTestId('follow-topic'), 'Stop following');
  await b.fill('#reply-body', 'Glad it helped.');
  await b.getByRole('button', { name: 'Post the reply' }).click();
  await waitText(o.getByTestId('bell-count'), '1');
  await waitText(o.getByTestId('posts'), 'Glad it helped.');
  await closeAll(o);

  // Aiko, the asker, picks Ben's post as the best answer: Ben sees it live;
  // Ben, who did not ask, has no such button
  assert.equal(await b.getByTestId('choose-answer').count(), 0);
  await bensPost.getByTestId('choose-answer').click();
  await waitText(b.getByTestId('best-answer'), 'VACUUM INTO');
  await waitText(b.locator('.topic'), 'Solved');
  await shot(b, 'forum-topic-en-desktop');

  // the link our e-mails send (/forum/topics/ID#POST) lands on that post
  await a.goto("/forum");
  await a.goto(`/forum/topics/${topicId}#${stored.items[0].id}`);
  await waitText(a.locator('.post.highlight'), 'VACUUM INTO');

  // announcements: Ben may reply but not open topics; read-only category: no composer
  await b.goto('/forum/categories/' + news.id);
  await waitText(b.getByTestId('write-state'), 'only admins open topics here');
  assert.equal(await b.getByRole('button', { name: 'New topic' }).count(), 0);
  const expertTopic = await s.api('POST', '/api/collections/forum_topics/records', { category: experts.id, author: aiko.id, title: 'Tuning tips', body: 'Share yours' });
  await b.goto('/forum/topics/' + expertTopic.id);
  await waitText(b.getByTestId('write-state'), 'writing here needs the Gold rank or above');
  assert.equal(await b.getByTestId('reply-form').count(), 0);

  // Aiko's rank is lowered while her page is open: the server refuses, in words
  await a.goto('/forum/topics/' + expertTopic.id);
  await a.fill('#reply-body', 'My tip');
  await s.api('PATCH', '/api/collections/users/records/' + aiko.id, { rank: silver });
  await a.getByRole('button', { name: 'Post the reply' }).click();
  await waitText(a.locator('.error'), 'Your rank is not high enough for this.');
  await waitText(a.locator('.error'), 'Gold');
  assert.equal(await a.inputValue('#reply-body'), 'My tip'); // nothing she wrote is lost
  await s.api('PATCH', '/api/collections/users/records/' + aiko.id, { rank: gold });
  await closeAll(a, b);
});

test('forum: an admin pins, locks and moves a topic; members see it live and a locked topic refuses in words', async () => {
  const topic = await s.api('POST', '/api/collections/forum_topics/records', { category: general.id, author: ben.id, title: 'Meetup next month?', body: 'Who comes?' });
  const older = await s.api('POST', '/api/collections/forum_topics/records', { category: general.id, author: ben.id, title: 'Newest chatter', body: 'hello' });
  const o = await person('admin@example.com');
  await s.api('PATCH', '/api/collections/users/records/' + ben.id, { lang: 'ja' });
  const b = await person('ben@example.com', { lang: 'ja' });

  await b.goto('/forum/categories/' + general.id);
  await waitText(b.getByTestId('topics'), 'Meetup next month?');
  await o.goto('/forum/topics/' + topic.id);
  await o.getByRole('button', { name: 'Pin', exact: true }).click();
  await waitText(o.locator('.ok'), 'The topic is pinned.');
  // pinned first, live, for Ben
  await waitText(b.getByTestId('topic-row').first(), 'Meetup next month?');
  await waitText(b.getByTestId('topic-row').first(), '固定');
  assert.ok(older.id);

  // Ben opens the topic and starts typing; the admin locks it: Ben's page says so live
  await b.goto('/forum/topics/' + topic.id);
  await b.fill('#reply-body', '行きます');
  await o.getByRole('button', { name: 'Lock', exact: true }).click();
  await waitText(b.getByTestId('write-state'), 'このトピックはロックされています。');
  // the server refuses too, with its code turned into a sentence (the API as Ben)
  const tok = (await s.login('ben@example.com')).token;
  const res = await fetch(s.base + '/api/collections/forum_posts/records', { method: 'POST', headers: { Authorization: tok, 'Content-Type': 'application/json' }, body: JSON.stringify({ topic: topic.id, body: 'x' }) });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).data.reason.code, 'topic_locked');
  await shot(b, 'forum-topic-locked-ja-desktop');
  await s.api('PATCH', '/api/collections/users/records/' + ben.id, { lang: 'en' });

  // move it to Experts
  await o.selectOption('#mv', experts.id);
  await o.getByRole('button', { name: 'Move', exact: true }).click();
  await waitText(o.locator('.ok'), 'The topic was moved.');
  await waitText(o.locator('.topic .hint').first(), 'Experts');
  const moved = await s.api('GET', '/api/collections/forum_topics/records/' + topic.id);
  assert.equal(moved.category, experts.id);
  await closeAll(o, b);
});

test('groups: ask to join an approval group, the owner approves; board and chat; secret group by invitation; ban', async () => {
  const a = await person('aiko@example.com');
  const b = await person('ben@example.com');

  // Aiko creates an approval group
  await a.goto('/groups');
  const unread = Number((await s.api('GET', '/api/salon/notifications/unread-count', undefined, (await s.login('aiko@example.com')).token)).count);
  await a.getByRole('button', { name: 'Create a group' }).click();
  await a.fill('#g-name', 'Tea lovers');
  await a.fill('#g-theme', 'Hobby');
  await a.fill('#g-desc', 'Green, black and oolong.');
  await a.selectOption('#g-vis', 'approval');
  await a.locator('form').getByRole('button', { name: 'Create a group' }).click();
  await a.waitForURL(/\/groups\/[a-z0-9]+$/);
  const groupId = a.url().split('/').pop();
  await waitText(a.getByTestId('my-status'), 'Owner');

  // Ben discovers it by theme and asks to join
  await b.goto('/groups');
  await b.getByTestId('themes').getByRole('button', { name: /hobby/ }).click();
  await b.getByRole('button', { name: 'Ask to join Tea lovers' }).click();
  await waitText(b.locator('.ok'), 'Your request to join Tea lovers was sent.');
  await waitText(b.getByTestId('my-groups'), 'Request pending');
  // asking again is refused in words
  await b.goto('/groups/' + groupId);
  await waitText(b.getByTestId('my-status'), 'Request pending');
  assert.equal(await b.getByRole('tab', { name: 'Board' }).count(), 0);

  // Aiko is told; the link of the notice opens the requests; she approves
  await waitText(a.getByTestId('bell-count'), String(unread + 1));
  await a.goto(`/groups/${groupId}/members?status=pending`);
  await waitText(a.getByTestId('pending'), 'Ben Plain');
  await shot(a, 'group-requests-en-desktop');
  await a.getByTestId('pending').getByRole('button', { name: 'Approve' }).click();
  await waitText(a.locator('.ok'), 'Ben Plain is now a member.');
  await waitText(a.getByTestId('active-members'), 'Ben Plain');

  // Ben is in: the board and the chat room
  await b.reload();
  await waitText(b.getByTestId('my-status'), 'Member');
  await b.getByRole('tab', { name: 'Board' }).click();
  await b.getByRole('button', { name: 'New topic' }).click();
  await b.fill('#nt-title', 'Favourite sencha?');
  await b.fill('#nt-body', 'Mine is from Shizuoka.');
  await b.getByRole('button', { name: 'Post the topic' }).click();
  await b.waitForURL(/\/forum\/topics\//);
  await a.goto('/groups/' + groupId);
  await waitText(a.getByTestId('topics'), 'Favourite sencha?');
  await a.getByRole('tab', { name: 'Chat' }).click();
  await b.goto('/groups/' + groupId);
  await b.getByRole('tab', { name: 'Chat' }).click();
  await b.locator('.chat textarea').fill('Hello tea people');
  await b.keyboard.press('Enter');
  await waitText(a.getByTestId('messages'), 'Hello tea people');
  await shot(b, 'group-chat-en-desktop');

  // a secret group: invisible to Ben until Aiko invites him; he accepts
  const secret = await s.api('POST', '/api/collections/groups/records', { name: 'Inner circle', theme: 'hobby', visibility: 'secret' }, (await s.login('aiko@example.com')).token);
  await b.goto('/groups');
  await waitText(b.getByTestId('groups'), 'Tea lovers');
  assert.ok(!(await b.locator('main').innerText()).includes('Inner circle'));
  await a.goto(`/groups/${secret.id}/members`);
  await a.fill('#inv-q', 'Ben');
  await a.getByRole('button', { name: 'Search' }).click();
  await a.getByRole('button', { name: 'Invite Ben Plain' }).click();
  await waitText(a.locator('.ok'), 'Ben Plain is invited.');
  await b.goto('/groups');
  await waitText(b.getByTestId('invitations'), 'Inner circle');
  await b.getByTestId('invitations').getByRole('button', { name: 'Accept the invitation' }).click();
  await waitText(b.getByTestId('my-groups'), 'Inner circle');

  // Aiko promotes him, then bans him from Tea lovers: he is out of board and chat
  await a.goto(`/groups/${secret.id}/members`);
  await a.getByTestId('active-members').locator('li', { hasText: 'Ben Plain' }).getByRole('button', { name: 'Make moderator' }).click();
  await waitText(a.locator('.ok'), 'Ben Plain is now a moderator.');
  await a.goto(`/groups/${groupId}/members`);
  await a.getByTestId('active-members').locator('li', { hasText: 'Ben Plain' }).getByRole('button', { name: 'Ban' }).click();
  await waitText(a.locator('.ok'), 'Ben Plain is banned from the group.');
  await b.goto('/groups/' + groupId);
  await waitText(b.getByTestId('my-status'), 'Banned');
  assert.equal(await b.getByRole('tab', { name: 'Board' }).count(), 0);
  // the board's topic he wrote is refused to him now, in words
  const t = await s.api('GET', '/api/collections/forum_topics/records?filter=' + encodeURIComponent("title='Favourite sencha?'"));
  await b.goto('/forum/topics/' + t.items[0].id);
  await waitText(b.locator('.error'), 'This no longer exists, or you cannot see it.');
  await closeAll(a, b);
});

test('members: the directory searches by name and filters by rank; a profile shows best answers; follow and unfollow', async () => {
  const b = await person('ben@example.com');
  await b.goto('/members');
  await waitText(b.getByTestId('directory'), 'Aiko Gold');
  await b.fill('#mq', 'oda');
  await b.getByRole('button', { name: 'Search' }).click();
  await waitText(b.getByTestId('directory'), 'Operator Oda');
  assert.ok(!(await b.getByTestId('directory').innerText()).includes('Aiko'));
  await b.fill('#mq', '');
  await b.selectOption('#mr', gold);
  await waitText(b.getByTestId('directory'), 'Aiko Gold');
  await waitCount(b.getByTestId('directory').locator('li'), 1);
  await b.getByRole('button', { name: 'Follow Aiko Gold' }).click();
  await waitText(b.getByRole('button', { name: 'Unfollow Aiko Gold' }), 'Unfollow');
  await b.getByRole('link', { name: 'Aiko Gold' }).click();
  await waitText(b.locator('main'), '1 followers');
  // Ben's own profile shows the best answer he gave in the first test
  await b.goto('/members/' + ben.id);
  await waitText(b.getByTestId('best-answers'), 'How do I back up SQLite?');
  await waitText(b.getByTestId('activity'), '1 best answers');
  await shot(b, 'member-activity-en-desktop');
  await closeAll(b);
});

test('forum, groups and members pages in ja and en at 375 px and 1280 px: no overflow, no untranslated key, no serious axe-core violation (each language and width)', async () => {
  const topics = await s.api('GET', '/api/collections/forum_topics/records?filter=' + encodeURIComponent("title='How do I back up SQLite?'"));
  const groups = await s.api('GET', '/api/collections/groups/records?filter=' + encodeURIComponent("name='Tea lovers'"));
  const pages = [
    ['forum', '/forum'], ['forum-category', '/forum/categories/' + general.id], ['forum-topic', '/forum/topics/' + topics.items[0].id],
    ['groups', '/groups'], ['group', '/groups/' + groups.items[0].id], ['group-members', `/groups/${groups.items[0].id}/members`],
    ['members', '/members'], ['forum-member', '/members/' + ben.id],
  ];
  const problems = await sweep(browser, s, {
    email: 'aiko@example.com', pages, keys: /\b(nav|forum|groups|members|common|err|profile|search)\.[a-zA-Z_.]+\b/g,
    // axe-core is slow on two shared cores: every page in two of the four
    // combinations (each language and each width once)
    axeAt: (tag) => tag === 'en-desktop' || tag === 'ja-phone',
  });
  assert.deepEqual(problems, []);
});
