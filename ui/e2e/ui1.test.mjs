// End-to-end tests of the member web client's rooms, sign-in e-mails and
// moderation: what a reconnect catches up, the room attachment limit, the
// verification and password-reset links, the CSV export, the room notify
// setting and an admin deleting a reported DM for everyone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openSalon, operator, launch, personPage, signedIn, shot, startMailCapture, PASSWORD } from './harness.mjs';
import { waitText, waitCount, png } from './util.mjs';

let s, browser, aiko, ben, lounge;

before(async () => {
  let who;
  ({ s, who } = await openSalon({ admin: operator, aiko: ['Aiko', 'aiko@example.com'], ben: ['Ben', 'ben@example.com'] }));
  ({ aiko, ben } = who);
  lounge = await s.api('POST', '/api/collections/rooms/records', { name: 'lounge', members_can_delete_own: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await s?.close();
});

const token = async (email) => (await s.login(email)).token;
const post = (tok, room, body) => s.api('POST', '/api/collections/room_messages/records', { room, body }, tok);

test('after a reconnect, edits and deletions made while offline are shown', async () => {
  const room = await s.api('POST', '/api/collections/rooms/records', { name: 'offline edits', members_can_delete_own: true });
  let tok = await token('aiko@example.com');
  const edited = await post(tok, room.id, 'said before Ben went offline');
  await post(tok, room.id, 'this one will be deleted');
  const gone = (await s.api('GET', `/api/collections/room_messages/records?filter=${encodeURIComponent(`body='this one will be deleted'`)}`)).items[0];

  const b = await signedIn(browser, s, 'ben@example.com');
  const asked = [];
  b.on('request', (r) => { if (r.url().includes(`/api/salon/rooms/${room.id}/changes`)) asked.push(r.url()); });
  await b.goto('/rooms/' + room.id);
  await waitText(b.locator('[data-testid=messages]'), 'this one will be deleted');

  // Ben's phone goes offline (and the server restarts, so the live
  // connection is surely gone); Aiko edits one message and deletes another
  await b.context().setOffline(true);
  await s.restart();
  tok = await token('aiko@example.com');
  await s.api('PATCH', '/api/collections/room_messages/records/' + edited.id, { body: 'edited while Ben was away' }, tok);
  await s.api('DELETE', '/api/collections/room_messages/records/' + gone.id, undefined, tok);
  await post(tok, room.id, 'new while Ben was away');
  await b.context().setOffline(false);

  await waitText(b.locator('[data-testid=messages]'), 'new while Ben was away', 30000);
  await waitText(b.locator('[data-testid=messages]'), 'edited while Ben was away', 30000);
  await waitText(b.locator('[data-testid=message]', { hasText: 'edited while Ben was away' }), 'edited');
  await waitCount(b.locator('[data-testid=message]', { hasText: 'this one will be deleted' }), 0, 30000);
  assert.equal(await b.locator('[data-testid=message]', { hasText: 'said before Ben went offline' }).count(), 0, 'the old text stays');
  assert.ok(asked.length >= 1, 'the client asked what changed');
  await b.context().close();
});

test('the room attachment limit the operator set is checked before uploading', async () => {
  // the operator lowers the limit to 1 MB in the dashboard (the field's max size)
  const col = await s.api('GET', '/api/collections/room_messages');
  const was = col.fields.find((f) => f.name === 'attachments').maxSize;
  const withMax = (n) => col.fields.map((f) => (f.name === 'attachments' ? { ...f, maxSize: n } : f));
  await s.api('PATCH', '/api/collections/room_messages', { fields: withMax(1024 * 1024) });
  try {
    for (const lang of ['en', 'ja']) {
      const a = await signedIn(browser, s, 'aiko@example.com', { lang, phone: lang === 'ja' });
      const uploads = [];
      a.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/room_messages/records')) uploads.push(r.url()); });
      const limits = a.waitForResponse((r) => r.url().includes('/api/salon/rooms/attachment-limits'));
      await a.goto('/rooms/' + lounge.id);
      await limits;
      await a.locator('textarea').waitFor();
      if ((await a.evaluate(() => document.documentElement.lang)) !== lang) await a.click('button.lang');
      await a.locator('input[type=file]').setInputFiles({ name: 'big.mov', mimeType: 'video/quicktime', buffer: Buffer.alloc(1100 * 1024, 1) }, { timeout: 60000 });
      const want = lang === 'en' ? 'big.mov is larger than 1 MB, the limit for attachments.' : 'big.mov は添付できる上限（1 MB）を超えています。';
      await waitText(a.locator('[data-testid=send-error]'), want);
      await shot(a, `room-attachment-limit-${lang}-${lang === 'ja' ? 'phone' : 'desktop'}`);
      assert.equal(await a.locator('.files .pill').count(), 0, 'the big file is not attached');
      // a small one goes
      await a.locator('input[type=file]').setInputFiles({ name: 'small.png', mimeType: 'image/png', buffer: png(40, 30) });
      await a.fill('textarea', 'with a small picture ' + lang);
      await a.keyboard.press('Enter');
      await waitText(a.locator('[data-testid=messages]'), 'with a small picture ' + lang);
      assert.equal(uploads.length, 1, 'only the small file was uploaded');
      if (lang === 'ja') await a.click('button.lang'); // Aiko's language back to English
      await a.context().close();
    }
  } finally {
    await s.api('PATCH', '/api/collections/room_messages', { fields: withMax(was) });
  }
});

test('the verification and password-reset links from the e-mails work in the client', async () => {
  const mail = await startMailCapture(s);
  try {
    // sign up: the verification e-mail links to the client's page
    const p = await personPage(browser, s);
    await p.goto('/signup');
    await p.fill('#name', 'Chika');
    await p.fill('#email', 'chika@example.com');
    await p.fill('#password', PASSWORD);
    await p.click('button[type=submit]');
    // signup answers alike for new and known addresses: the page says to check the mail
    await waitText(p.locator('[role=status]'), 'we sent a mail to chika@example.com');
    const verify = await mail.next((m) => m.to.includes('chika@example.com') && /confirm-verification/.test(m.html + m.text));
    const vlink = (verify.html + verify.text).match(/https?:\/\/[^"\s<>]+\/auth\/confirm-verification\/[^"\s<>]+/)[0];
    assert.ok(vlink.startsWith(s.base + '/auth/confirm-verification/'), vlink);
    await p.goto(vlink.replace(s.base, ''));
    await waitText(p.locator('[role=status]'), 'Your e-mail address is verified.');
    await shot(p, 'verified-en-desktop');
    const chika = (await s.api('GET', '/api/collections/users/records?filter=' + encodeURIComponent("email='chika@example.com'"))).items[0];
    assert.equal(chika.verified, true);
    await p.context().close();

    // forgot the password: the reset e-mail's link sets a new one
    const r = await personPage(browser, s, { lang: 'ja', phone: true });
    await r.goto('/reset');
    await r.fill('#email', 'ben@example.com');
    await r.click('button[type=submit]');
    await waitText(r.locator('[role=status]'), '再設定リンクをお送りしました');
    const reset = await mail.next((m) => m.to.includes('ben@example.com') && /confirm-password-reset/.test(m.html + m.text));
    const rlink = (reset.html + reset.text).match(/https?:\/\/[^"\s<>]+\/auth\/confirm-password-reset\/[^"\s<>]+/)[0];
    await r.goto(rlink.replace(s.base, ''));
    await r.fill('#np', 'a-brand-new-password');
    await r.click('button[type=submit]');
    await r.locator('.ok[role=status]').waitFor();
    await shot(r, 'password-reset-ja-phone');
    await r.goto('/login');
    await r.fill('#email', 'ben@example.com');
    await r.fill('#password', 'a-brand-new-password');
    await r.click('button[type=submit]');
    await r.waitForURL((u) => !u.pathname.startsWith('/login'));
    await r.context().close();
    // the rest of the suite logs Ben in with the usual password
    await s.api('PATCH', '/api/collections/users/records/' + ben.id, { password: PASSWORD, passwordConfirm: PASSWORD });
  } finally {
    mail.close();
  }
});

test('admins download a room as CSV; members have no such button', async () => {
  const tok = await token('aiko@example.com');
  await post(tok, lounge.id, 'for the record, "quoted", and =1+1');
  const a = await signedIn(browser, s, 'admin@example.com');
  await a.goto('/rooms/' + lounge.id);
  await waitText(a.locator('[data-testid=messages]'), 'for the record');
  const [dl] = await Promise.all([a.waitForEvent('download'), a.getByRole('button', { name: 'Export CSV' }).click()]);
  assert.equal(dl.suggestedFilename(), 'lounge.csv');
  const csv = readFileSync(await dl.path(), 'utf8');
  assert.ok(csv.startsWith('\uFEFF'), 'UTF-8 with a BOM, for spreadsheets');
  assert.match(csv, /"for the record, ""quoted"", and =1\+1"/);
  assert.match(csv, /Aiko/);
  await a.context().close();

  const m = await signedIn(browser, s, 'aiko@example.com');
  await m.goto('/rooms/' + lounge.id);
  await waitText(m.locator('[data-testid=messages]'), 'for the record');
  assert.equal(await m.getByRole('button', { name: 'Export CSV' }).count(), 0);
  await m.context().close();
});

test('the room notify setting sticks and decides whether a mention notifies', async () => {
  const room = await s.api('POST', '/api/collections/rooms/records', { name: 'quiet corner' });
  const a = await signedIn(browser, s, 'aiko@example.com');
  await a.goto('/rooms/' + room.id);
  await a.getByRole('button', { name: 'Join' }).click();
  const select = a.locator('#notify');
  await select.waitFor();
  const saved = a.waitForResponse((r) => r.url().includes('/room_members/records/') && r.request().method() === 'PATCH');
  await select.selectOption('none');
  await saved;
  await a.reload();
  await a.locator('#notify').waitFor();
  assert.equal(await a.locator('#notify').inputValue(), 'none');
  const mine = await s.api('GET', '/api/collections/room_members/records?filter=' + encodeURIComponent(`room='${room.id}' && user='${aiko.id}'`));
  assert.equal(mine.items[0].notify, 'none');

  const bt = await token('ben@example.com');
  const quiet = await s.api('POST', '/api/collections/room_messages/records', { room: room.id, body: '@Aiko are you there (quiet)?', mentions: [aiko.id] }, bt);
  const saved2 = a.waitForResponse((r) => r.url().includes('/room_members/records/') && r.request().method() === 'PATCH');
  await a.locator('#notify').selectOption('mentions');
  await saved2;
  const loud = await s.api('POST', '/api/collections/room_messages/records', { room: room.id, body: '@Aiko are you there (heard)?', mentions: [aiko.id] }, bt);
  const notes = async () => (await s.api('GET', '/api/collections/notifications/records?perPage=200&filter=' + encodeURIComponent(`user='${aiko.id}'`))).items;
  let list = [];
  for (let i = 0; i < 100; i++) {
    list = await notes();
    if (list.some((n) => JSON.stringify(n).includes(loud.id))) break; // its link names the message
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(list.some((n) => JSON.stringify(n).includes(loud.id)), 'with "mentions", a mention notifies');
  assert.ok(!list.some((n) => JSON.stringify(n).includes(quiet.id)), 'with "none", a mention does not');
  await shot(a, 'room-notify-en-desktop');
  await a.context().close();
});

test('an admin deletes a reported DM for everyone from the reports queue', async () => {
  const bt = await token('ben@example.com');
  const at = await token('aiko@example.com');
  const dm = await s.api('POST', '/api/collections/dm_messages/records', { recipient: aiko.id, subject: 'hi', body: 'buy my pills, cheap' }, bt);
  await s.api('POST', '/api/collections/reports/records', { target_collection: 'dm_messages', target_id: dm.id, category: 'spam', reason: 'spam in my DMs' }, at);

  for (const [lang, phone] of [['ja', true], ['en', false]]) {
    const p = await signedIn(browser, s, 'admin@example.com', { lang, phone });
    await p.goto('/admin/reports');
    await waitText(p.locator('[data-testid=reported-dm]'), 'buy my pills, cheap');
    await shot(p, `reports-dm-${lang}-${phone ? 'phone' : 'desktop'}`);
    await p.context().close();
  }
  const p = await signedIn(browser, s, 'admin@example.com');
  await p.goto('/admin/reports');
  const box = p.locator('[data-testid=reported-dm]', { hasText: 'buy my pills' });
  await waitText(box, 'From Ben to Aiko');
  p.once('dialog', (d) => d.accept());
  await box.getByRole('button', { name: 'Delete for everyone' }).click();
  await waitText(p.locator('[data-testid=reported-dm]'), 'Deleted for everyone.');
  await p.context().close();

  // gone for both sides
  for (const tok of [at, bt]) {
    const res = await fetch(s.base + '/api/collections/dm_messages/records/' + dm.id, { headers: { Authorization: tok } });
    assert.equal(res.status, 404);
  }
  const a = await signedIn(browser, s, 'aiko@example.com');
  await a.goto('/dm/' + ben.id);
  await a.locator('[data-testid=messages]').waitFor();
  await a.waitForTimeout(500);
  assert.equal(await a.getByText('buy my pills, cheap').count(), 0);
  await a.context().close();
});
