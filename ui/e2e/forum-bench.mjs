// Figures for BENCHMARKS.md: a forum category with 100,000 topics and a
// topic with 5,000 replies, opened in Chromium against the built binary on
// loopback. `node e2e/forum-bench.mjs` (TOPICS=, POSTS= to change the sizes).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, launch, personPage, loginAs } from './harness.mjs';

const topics = Number(process.env.TOPICS || 100000);
const posts = Number(process.env.POSTS || 5000);
const runs = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const s = new Server();
await s.start();
const browser = await launch();
try {
  const aiko = await s.member('Aiko', 'aiko@example.com');
  const cat = await s.api('POST', '/api/collections/forum_categories/records', { name: 'Big category' });
  const tok = (await s.login('aiko@example.com')).token;
  const long = await s.api('POST', '/api/collections/forum_topics/records', { category: cat.id, title: 'A long thread', body: 'Replies below' }, tok);
  // written straight into SQLite (the sqlite3 command) while the server is
  // stopped: through the API this many rows would take long; the database's
  // triggers keep topic_count, post_count and last_post_at as the API would
  await s.stop();
  execFileSync('sqlite3', [join(s.dir, 'data.db'), `
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${topics - 1})
    INSERT INTO forum_topics (id, category, author, title, body, tags, question, pinned, locked, last_post_at, post_count, answer, created, updated)
    SELECT printf('bt%013d', i), '${cat.id}', '${aiko.id}', 'Topic number ' || i, 'Body of topic ' || i,
      CASE WHEN i % 10 = 0 THEN '["go"]' ELSE '[]' END, i % 7 = 0, 0, 0,
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'), 0, '',
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds'),
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds') FROM n;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${posts - 1})
    INSERT INTO forum_posts (id, topic, author, body, quote, attachments, reply_to, edited_at, created, updated)
    SELECT printf('bp%013d', i), '${long.id}', '${aiko.id}', 'Reply number ' || i || ' with **Markdown**', '', '[]', '', '',
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-02-01', '+' || i || ' seconds'),
      strftime('%Y-%m-%d %H:%M:%fZ', '2026-02-01', '+' || i || ' seconds') FROM n;`]);
  await s.start();

  // the first page's request alone, as the client sends it (server time on loopback)
  const api = async (path) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await fetch(s.base + path, { headers: { Authorization: tok } });
      await r.json();
      if (!r.ok) throw new Error(path + ': ' + r.status);
      times.push(performance.now() - t0);
    }
    return median(times).toFixed(1);
  };
  const q = (o) => new URLSearchParams(o).toString();
  const topicsAPI = await api('/api/collections/forum_topics/records?' + q({ page: 1, perPage: 20, skipTotal: 1, expand: 'author', sort: '-last_post_at', filter: `category = '${cat.id}' && pinned = false` }));
  const tieAPI = await api('/api/collections/forum_topics/records?' + q({ page: 1, perPage: 20, skipTotal: 1, expand: 'author', sort: '-last_post_at,-id', filter: `category = '${cat.id}' && pinned = false` }));
  const postsAPI = await api('/api/collections/forum_posts/records?' + q({ page: 1, perPage: 50, skipTotal: 1, expand: 'author,reply_to.author', sort: 'created', filter: `topic = '${long.id}'` }));
  console.log(`API, median of ${runs}: first topic page ${topicsAPI} ms (with an id tie-break in the sort: ${tieAPI} ms); first 50 replies ${postsAPI} ms`);

  const page = await personPage(browser, s);
  await loginAs(page, 'aiko@example.com');
  let requests = [];
  page.on('request', (r) => { if (r.url().includes('/api/collections/forum_topics/records')) requests.push(r.url()); });

  const catTimes = [];
  for (let i = 0; i < runs; i++) {
    await page.goto('/forum');
    requests = [];
    const t0 = Date.now();
    await page.goto('/forum/categories/' + cat.id, { waitUntil: 'commit' });
    await page.getByTestId('topic-row').first().waitFor({ timeout: 30000 });
    catTimes.push(Date.now() - t0);
  }
  const firstRequests = requests.length;
  const rows = await page.getByTestId('topic-row').count();
  const first = await page.getByTestId('topic-row').first().innerText();
  // 15 more pages by cursor (300 topics further back), then the page's size:
  // the list keeps at most 200 rows
  const moreTimes = [];
  for (let i = 0; i < 15; i++) {
    const last = await page.getByTestId('topic-row').last().innerText();
    const t0 = Date.now();
    await page.getByTestId('more-topics').click();
    await page.waitForFunction((t) => { const r = document.querySelectorAll('[data-testid=topic-row]'); return r[r.length - 1]?.innerText !== t; }, last);
    moreTimes.push(Date.now() - t0);
  }
  const lastShown = (await page.getByTestId('topic-row').last().innerText()).split('\n')[0];
  const after = await page.evaluate(() => ({ rows: document.querySelectorAll('[data-testid=topic-row]').length, nodes: document.getElementsByTagName('*').length }));

  const topicTimes = [];
  for (let i = 0; i < runs; i++) {
    await page.goto('/forum');
    const t0 = Date.now();
    await page.goto('/forum/topics/' + long.id, { waitUntil: 'commit' });
    await page.getByTestId('post').first().waitFor({ timeout: 30000 });
    topicTimes.push(Date.now() - t0);
  }
  const postRows = await page.getByTestId('post').count();
  // 10 more pages of replies: the page keeps at most 200
  const laterTimes = [];
  for (let i = 0; i < 10; i++) {
    const last = await page.getByTestId('post').last().getAttribute('id');
    const t0 = Date.now();
    await page.getByTestId('later-replies').click();
    await page.waitForFunction((id) => { const r = document.querySelectorAll('[data-testid=post]'); return r[r.length - 1]?.id !== id; }, last);
    laterTimes.push(Date.now() - t0);
  }
  const afterReplies = await page.evaluate(() => ({ rows: document.querySelectorAll('[data-testid=post]').length, nodes: document.getElementsByTagName('*').length }));
  // the link an e-mail carries to a reply in the middle: the page around it
  const mid = 'bp' + String(Math.floor(posts / 2)).padStart(13, '0');
  const deepTimes = [];
  for (let i = 0; i < runs; i++) {
    await page.goto('/forum');
    const t0 = Date.now();
    await page.goto(`/forum/topics/${long.id}#${mid}`, { waitUntil: 'commit' });
    await page.locator('#p-' + mid).waitFor({ timeout: 30000 });
    deepTimes.push(Date.now() - t0);
  }
  const deepRows = await page.getByTestId('post').count();

  console.log(`category of ${topics} topics: first screen median of ${runs} ${median(catTimes)} ms (runs ${catTimes.join(', ')}); ${firstRequests} topic requests; ${rows} rows; first row: ${first.split('\n')[0]}`);
  console.log(`  15 more pages by cursor: median ${median(moreTimes)} ms each (runs ${moreTimes.join(', ')}); then ${after.rows} rows, ${after.nodes} elements; last row: ${lastShown}`);
  console.log(`topic with ${posts} replies: first screen median of ${runs} ${median(topicTimes)} ms (runs ${topicTimes.join(', ')}); ${postRows} posts in the page`);
  console.log(`  10 more pages of replies: median ${median(laterTimes)} ms each (runs ${laterTimes.join(', ')}); then ${afterReplies.rows} replies, ${afterReplies.nodes} elements`);
  console.log(`  #reply link to reply ${Math.floor(posts / 2)}: median of ${runs} ${median(deepTimes)} ms (runs ${deepTimes.join(', ')}); ${deepRows} replies in the page`);
  console.log(`load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  await browser.close();
  await s.close();
}
