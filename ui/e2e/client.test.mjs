// End-to-end tests of the members' web client: the built binary on a temp
// data dir, driven from Debian's Chromium, two people per feature.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSalon, operator, launch, personPage, loginAs, signedIn, closeAll, shot, sweep, desktop, phone, PASSWORD, settled, watchRequests } from './harness.mjs';
import { waitText, waitCount, png } from './util.mjs';

let s, browser, admin, aiko, ben, lounge;

before(async () => {
  let who;
  ({ s, who } = await openSalon({ admin: operator, aiko: ['Aiko', 'aiko@example.com'], ben: ['Ben', 'ben@example.com'] }));
  ({ admin, aiko, ben } = who);
  lounge = await s.api('POST', '/api/collections/rooms/records', { name: 'lounge', description: 'Talk about anything', members_can_delete_own: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await s?.close();
});

const two = async () => [await signedIn(browser, s, 'aiko@example.com'), await signedIn(browser, s, 'ben@example.com')];

test('sign up with an invite link; invite-only refusal in words, in both languages', async () => {
  await s.settings({ invite_only: true });
  const adminTok = (await s.login('admin@example.com')).token;
  const invite = await s.api('POST', '/api/collections/invite_codes/records', { max_uses: 5 }, adminTok);

  // no code: refused with a sentence, in English and in Japanese
  const p = await personPage(browser, s);
  await p.goto('/signup');
  await p.fill('#name', 'Chika');
  await p.fill('#email', 'chika@example.com');
  await p.fill('#password', PASSWORD);
  await p.click('button[type=submit]');
  await waitText(p.locator('.error'), 'This salon is invite-only: you need an invite code to sign up.');
  await shot(p, 'signup-refused-en-desktop');
  await p.click('button.lang');
  await p.click('button[type=submit]');
  await waitText(p.locator('.error'), 'このサロンは招待制です。登録には招待コードが必要です。');
  await p.click('button.lang');

  // a typo in the code: says so
  await p.fill('#invite', 'XXXX-YYYY-ZZZZ');
  await p.click('button[type=submit]');
  await waitText(p.locator('.error'), 'This invite code does not exist.');

  // the link /join/CODE fills the code in, and the member lands in the app
  await p.goto('/join/' + invite.code);
  assert.equal(await p.inputValue('#invite'), invite.code);
  await shot(p, 'join-en-desktop');
  await p.fill('#name', 'Chika');
  await p.fill('#email', 'chika@example.com');
  await p.fill('#password', PASSWORD);
  await p.click('button[type=submit]');
  // the signup answers the same for new and known addresses: check the mail
  await waitText(p.locator('.notice[role=status]'), 'we sent a mail to chika@example.com');
  await shot(p, 'signup-check-mail-en-desktop');
  const chika = await s.api('GET', '/api/collections/users/records?filter=' + encodeURIComponent("email='chika@example.com'"));
  assert.equal(chika.items[0].invited_by, admin.id);
  // she follows the mailed link (here: the operator confirms her), then logs in
  await s.api('PATCH', '/api/collections/users/records/' + chika.items[0].id, { verified: true });
  await loginAs(p, 'chika@example.com');
  await waitText(p.locator('[data-testid=room-list]'), 'lounge');

  // log out, log in again, a wrong password says so, reset request answers
  await p.click('header nav button.link');
  await p.waitForURL((u) => u.pathname === '/login');
  await p.fill('#email', 'chika@example.com');
  await p.fill('#password', 'not-the-password');
  await p.click('button[type=submit]');
  await waitText(p.locator('.error'), 'Wrong e-mail or password.');
  await p.goto('/reset');
  await p.fill('#email', 'chika@example.com');
  await p.click('button[type=submit]');
  await waitText(p.locator('.ok'), 'a reset link is on its way');
  await closeAll(p);
  await s.settings({ invite_only: false });
});

test('rooms: A writes, B sees it live; mentions, replies, edits, deletes, typing and presence', async () => {
  const [a, b] = await two();
  await a.goto('/rooms/' + lounge.id);
  await b.goto('/rooms/' + lounge.id);
  await waitText(a.locator('[data-testid=presence]'), 'Ben');
  await waitText(b.locator('[data-testid=presence]'), 'Aiko');

  // typing shows on the other side
  await a.locator('textarea').pressSequentially('Hello Ben', { delay: 20 });
  await waitText(b.locator('[data-testid=typing]'), 'Aiko is typing');
  await a.keyboard.press('Enter');
  await waitText(b.locator('[data-testid=messages]'), 'Hello Ben');

  // B mentions A through the autocomplete, replying to her message
  await b.locator('[data-testid=message]', { hasText: 'Hello Ben' }).hover();
  await b.locator('[data-testid=message]', { hasText: 'Hello Ben' }).getByRole('button', { name: 'Reply' }).click();
  await b.locator('textarea').pressSequentially('Hi @Aik', { delay: 20 });
  await waitText(b.locator('.suggest'), '@Aiko');
  await b.keyboard.press('Enter'); // picks the suggestion, does not send
  assert.equal(await b.inputValue('textarea'), 'Hi @Aiko ');
  await b.locator('textarea').pressSequentially('welcome!');
  await b.keyboard.press('Enter');
  const reply = a.locator('[data-testid=message]', { hasText: 'welcome!' });
  await waitText(reply, 'Hi @Aiko welcome!');
  await waitText(reply.locator('.quote'), 'Aiko: Hello Ben');
  const stored = await s.api('GET', '/api/collections/room_messages/records?filter=' + encodeURIComponent("body~'welcome'"));
  assert.deepEqual(stored.items[0].mentions, [aiko.id]);

  // A edits her message; B sees the edit live
  const mine = a.locator('[data-testid=message]', { hasText: 'Hello Ben' });
  await mine.getByRole('button', { name: 'Edit' }).click();
  await a.fill('textarea', 'Hello Ben, good morning');
  await a.keyboard.press('Enter');
  await waitText(b.locator('[data-testid=messages]'), 'Hello Ben, good morning');
  const edited = (p) => p.locator('[data-testid=message]', { has: p.locator('.body', { hasText: 'good morning' }) });
  await waitText(edited(b), 'edited');

  // A deletes it (the room lets members delete their own); it goes for B too
  await edited(a).getByRole('button', { name: 'Delete' }).click();
  await waitCount(edited(b), 0);
  await shot(b, 'room-en-desktop');
  await closeAll(a, b);
});

test('a long room: history by cursor, the DOM stays bounded, back to the latest', async () => {
  const long = await s.api('POST', '/api/collections/rooms/records', { name: 'archive talk' });
  const tok = (await s.login('ben@example.com')).token;
  const N = 420;
  for (let i = 0; i < N; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) =>
      s.api('POST', '/api/collections/room_messages/records', { room: long.id, body: `old message ${i + j}` }, tok)));
  }
  const a = await signedIn(browser, s, 'aiko@example.com');
  const pages = [];
  a.on('request', (r) => { if (r.url().includes('/room_messages/records') && r.url().includes('perPage=50')) pages.push(r.url()); });
  await a.goto('/rooms/' + long.id);
  const newest = await s.api('GET', `/api/collections/room_messages/records?perPage=1&sort=-created,-id&filter=${encodeURIComponent(`room='${long.id}'`)}`);
  await waitText(a.locator('[data-testid=messages]'), newest.items[0].body);
  assert.equal(pages.length, 1, 'opening fetches one page');
  const drawn = () => a.locator('[data-testid=message] .body').allInnerTexts();
  const nums = (bodies) => bodies.map((b) => Number(b.match(/old message (\d+)/)?.[1]));
  let most = await a.locator('[data-testid=message]').count();
  assert.ok(most > 0 && most < 50, `only the messages near the viewport are drawn, not ${most}`);
  for (let i = 0; i < 40 && !(await a.locator('.msgs .hint').count()); i++) {
    await a.locator('[data-testid=messages]').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
    await a.waitForTimeout(250);
    most = Math.max(most, await a.locator('[data-testid=message]').count());
  }
  await waitText(a.locator('[data-testid=messages]'), 'This is the beginning.');
  const oldest = await s.api('GET', `/api/collections/room_messages/records?perPage=1&sort=created,id&filter=${encodeURIComponent(`room='${long.id}'`)}`);
  await a.locator('[data-testid=messages]').evaluate((el) => { el.scrollTop = 0; });
  await waitText(a.locator('[data-testid=message]').first(), oldest.items[0].body);
  // down again, a screen at a time: every message is there once, none is
  // drawn twice, and the DOM never holds more than a few screens' worth
  const all = new Set();
  for (let i = 0; i < 200; i++) {
    const n = nums(await drawn());
    assert.equal(new Set(n).size, n.length, 'a message drawn twice');
    n.forEach((x) => all.add(x));
    most = Math.max(most, n.length);
    const atEnd = await a.locator('[data-testid=messages]').evaluate((el) => {
      const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
      el.scrollTop += el.clientHeight * 0.8;
      return end;
    });
    if (atEnd) break;
    await a.waitForTimeout(60);
  }
  assert.equal(all.size, N, `scrolling through showed ${all.size} of ${N} messages`);
  assert.ok(most <= 80, `the DOM held ${most} messages at once`);
  // scrolled up a bit, then a new message: offered, and the jump shows it
  await a.locator('[data-testid=messages]').evaluate((el) => { el.scrollTop = el.scrollHeight / 2; });
  await a.waitForTimeout(300);
  await s.api('POST', '/api/collections/room_messages/records', { room: long.id, body: 'fresh news' }, tok);
  await a.getByRole('button', { name: /New messages below/ }).click();
  await waitText(a.locator('[data-testid=messages]'), 'fresh news');
  await closeAll(a);
});

test('Enter while a Japanese IME is composing never sends', async () => {
  const a = await signedIn(browser, s, 'aiko@example.com', { lang: 'ja' });
  await a.goto('/rooms/' + lounge.id);
  const box = a.locator('textarea');
  await box.focus();
  // what Chromium does while an IME converts: compositionstart, key events
  // with isComposing, the Enter that confirms the conversion, compositionend
  await box.evaluate((el) => {
    el.dispatchEvent(new CompositionEvent('compositionstart', { bubbles: true, data: '' }));
    el.value = 'かいぎ';
    el.dispatchEvent(new InputEvent('input', { bubbles: true, isComposing: true, data: 'かいぎ' }));
    el.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, key: 'Enter', code: 'Enter', keyCode: 229, isComposing: true }));
    el.value = '会議';
    el.dispatchEvent(new InputEvent('input', { bubbles: true, data: '会議' }));
    // some IMEs send the confirming Enter as a plain keydown before compositionend
    el.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, key: 'Enter', code: 'Enter', keyCode: 13 }));
    el.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '会議' }));
  });
  await a.waitForTimeout(700);
  assert.equal(await a.locator('[data-testid=message]', { hasText: '会議' }).count(), 0, 'sent during composition');
  assert.equal(await box.inputValue(), '会議');
  await a.keyboard.press('Enter'); // after the composition: sends
  await waitText(a.locator('[data-testid=messages]'), '会議');
  await shot(a, 'room-ja-desktop');
  await closeAll(a);
});

test('password room: the wrong password is refused in words, the right one lets in', async () => {
  const secret = await s.api('POST', '/api/collections/rooms/records', { name: 'inner circle', password: 'open-sesame', password_protected: true });
  const a = await signedIn(browser, s, 'aiko@example.com');
  await a.goto('/rooms');
  await waitText(a.locator('[data-testid=room-list]'), 'Password');
  await a.goto('/rooms/' + secret.id);
  await a.fill('#rp', 'wrong');
  await a.click('form.card button[type=submit]');
  await waitText(a.locator('.error'), 'Wrong password.');
  await a.click('button.lang');
  await a.click('form.card button[type=submit]');
  await waitText(a.locator('.error'), 'パスワードが違います。');
  await a.click('button.lang');
  await a.fill('#rp', 'open-sesame');
  await a.click('form.card button[type=submit]');
  await a.locator('textarea').waitFor();
  await a.fill('textarea', 'inside now');
  await a.keyboard.press('Enter');
  await waitText(a.locator('[data-testid=messages]'), 'inside now');
  await closeAll(a);
});

test('a language switched to while the page still checks the sign-in stays', async () => {
  const a = await signedIn(browser, s, 'aiko@example.com');
  // the page's check of the sign-in (it carries the language stored on the
  // member) is answered only after the switch
  let held = 0;
  await a.route('**/api/collections/users/auth-refresh', async (route) => {
    const res = await route.fetch();
    held++;
    await new Promise((r) => setTimeout(r, 2500));
    await route.fulfill({ response: res });
  });
  watchRequests(a);
  await a.goto('/rooms');
  await waitText(a.locator('nav'), 'Rooms');
  const saved = a.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/collections/users/records/'));
  await a.click('button.lang');
  await saved;
  await a.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('auth-refresh') && e.responseEnd > 0), null, { timeout: 10000 });
  assert.ok(held >= 1, 'the sign-in check was not held');
  await settled(a);
  await waitText(a.locator('nav'), 'ルーム');
  assert.equal(await a.evaluate(() => document.documentElement.lang), 'ja');
  // back to English, as the other tests expect of Aiko
  await a.unroute('**/api/collections/users/auth-refresh');
  const back = a.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/collections/users/records/'));
  await a.click('button.lang');
  await back;
  await closeAll(a);
});

test('a reconnect after a server restart loses nothing and duplicates nothing', async () => {
  const b = await signedIn(browser, s, 'ben@example.com');
  await b.goto('/rooms/' + lounge.id);
  await b.locator('[data-testid=messages]').waitFor();
  const aTok = () => s.login('aiko@example.com').then((r) => r.token);
  await s.api('POST', '/api/collections/room_messages/records', { room: lounge.id, body: 'before restart' }, await aTok());
  await waitText(b.locator('[data-testid=messages]'), 'before restart');

  // B's phone goes offline while the server restarts and A keeps writing
  await b.context().setOffline(true);
  await s.restart();
  const tok = await aTok();
  for (let i = 1; i <= 3; i++) {
    await s.api('POST', '/api/collections/room_messages/records', { room: lounge.id, body: `while away ${i}` }, tok);
  }
  await b.context().setOffline(false);
  for (let i = 1; i <= 3; i++) await waitText(b.locator('[data-testid=messages]'), `while away ${i}`, 30000);
  // live again after the catch-up
  await s.api('POST', '/api/collections/room_messages/records', { room: lounge.id, body: 'after reconnect' }, tok);
  await waitText(b.locator('[data-testid=messages]'), 'after reconnect', 30000);
  for (const text of ['before restart', 'while away 1', 'while away 2', 'while away 3', 'after reconnect']) {
    assert.equal(await b.locator('[data-testid=message] .body', { hasText: new RegExp('^\\s*' + text + '\\s*$') }).count(), 1, text);
  }
  await closeAll(b);
});

test('guests: a guest link asks a name and lands in that one room only', async () => {
  await s.settings({ guest_chat: true });
  const guestRoom = await s.api('POST', '/api/collections/rooms/records', { name: 'open day', allow_guests: true });
  const adminTok = (await s.login('admin@example.com')).token;
  const link = await s.api('POST', `/api/salon/rooms/${guestRoom.id}/guest-links`, { label: 'e2e' }, adminTok);
  await s.api('POST', '/api/collections/room_messages/records', { room: guestRoom.id, body: 'Welcome, visitors' }, adminTok);

  const g = await personPage(browser, s, { phone: true });
  await g.goto('/guest/' + link.token);
  await shot(g, 'guest-join-en-phone');
  await g.fill('#gname', 'Visitor Vera');
  await g.click('button[type=submit]');
  await g.waitForURL((u) => u.pathname === '/rooms/' + guestRoom.id);
  await waitText(g.locator('[data-testid=messages]'), 'Welcome, visitors');
  await g.fill('textarea', 'Hello from a guest');
  await g.keyboard.press('Enter');
  const a = await signedIn(browser, s, 'aiko@example.com');
  await a.goto('/rooms/' + guestRoom.id);
  await waitText(a.locator('[data-testid=messages]'), 'Hello from a guest');
  await shot(g, 'guest-room-en-phone');

  // anything else sends the guest back to its room; the API refuses the rest
  for (const path of ['/rooms', '/dm', '/rooms/' + lounge.id, '/search']) {
    await g.goto(path);
    await g.waitForURL((u) => u.pathname === '/rooms/' + guestRoom.id);
  }
  assert.equal(await g.locator('header nav').count(), 0);
  const status = await g.evaluate(async (id) => {
    const auth = JSON.parse(localStorage.getItem('pocketbase_auth'));
    const r = await fetch(`/api/collections/room_messages/records?filter=room='${id}'`, { headers: { Authorization: auth.token } });
    return (await r.json()).items.length;
  }, lounge.id);
  assert.equal(status, 0, 'a guest read another room');
  await closeAll(g, a);
});

test('DMs: live conversation list and unread counts, read marks, attachments, size limit, delete for me', async () => {
  await s.settings({ dm_max_attachment_mb: 1 });
  const [a, b] = await two();
  await b.goto('/dm');
  await a.goto('/dm/' + ben.id);
  // a conversation not yet begun says so, until its first message
  await waitText(a.locator('[data-testid=dm-empty]'), 'No messages with Ben yet.');
  await shot(a, 'dm-empty-en-desktop');
  await a.fill('input[placeholder=Subject]', 'Saturday');
  await a.fill('textarea', 'Are you coming on **Saturday**?');
  // a file over the limit is refused before anything is sent
  await a.setInputFiles('[data-testid=dm-file-input]', { name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1_200_000) });
  await waitText(a.locator('[data-testid=send-error]'), 'big.bin is larger than 1 MB');
  assert.equal(await a.locator('[data-testid=dm-files]').count(), 0);
  await a.setInputFiles('[data-testid=dm-file-input]', { name: 'map.png', mimeType: 'image/png', buffer: png(300, 200) });
  await waitText(a.locator('[data-testid=dm-files]'), 'map.png');
  // a pasted file and a dropped file join it
  await a.locator('form.composer textarea').evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['pasted text file'], 'pasted.txt', { type: 'text/plain' }));
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await a.locator('form.composer').evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(600_000)], 'notes.pdf', { type: 'application/pdf' }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await waitText(a.locator('[data-testid=dm-files]'), 'pasted.txt');
  await waitText(a.locator('[data-testid=dm-files]'), 'notes.pdf');
  // on a slow uplink the progress bar shows while the files go up
  const cdp = await a.context().newCDPSession(a);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 50, downloadThroughput: 1e6, uploadThroughput: 250_000 });
  await a.click('form.composer button[type=submit]');
  await a.locator('[data-testid=progress]').waitFor();
  await waitText(a.locator('[data-testid=messages]'), 'Saturday', 30000);
  await waitCount(a.locator('[data-testid=dm-empty]'), 0);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const sent = await s.api('GET', '/api/collections/dm_messages/records?filter=' + encodeURIComponent("subject='Saturday'"));
  assert.equal(sent.items[0].attachments.length, 3);

  // B's list shows the conversation with an unread count, live; the header badge too
  await waitText(b.locator('[data-testid=conversations]'), 'Aiko');
  await waitText(b.locator('[data-testid=conv-unread]'), '1');
  await waitText(b.locator('[data-testid=dm-badge]'), '1');
  await shot(b, 'dm-list-en-desktop');
  await b.click('[data-testid=conversations] a');
  await waitText(b.locator('[data-testid=messages]'), 'Are you coming on Saturday?');
  const img = b.locator('[data-testid=messages] img');
  await img.waitFor();
  await b.waitForFunction(() => { const i = document.querySelector('[data-testid=messages] img'); return i && i.complete && i.naturalWidth > 0; });
  // A sees the read mark live, and the badge on B's side is gone
  await waitText(a.locator('[data-testid=read-mark]'), 'Read');
  await waitCount(b.locator('[data-testid=dm-badge]'), 0);
  await shot(b, 'dm-conversation-en-desktop');

  // B replies with plain Enter as a new line and Ctrl+Enter to send
  await b.fill('textarea', 'Yes!');
  await b.keyboard.press('Control+Enter');
  await waitText(a.locator('[data-testid=messages]'), 'Yes!');

  // delete for me: gone for B, still there for A
  await b.locator('[data-testid=message]', { hasText: 'Yes!' }).getByRole('button', { name: 'Delete for me' }).click();
  await waitCount(b.locator('[data-testid=message]', { hasText: 'Yes!' }), 0);
  await a.reload();
  await waitText(a.locator('[data-testid=messages]'), 'Yes!');
  await closeAll(a, b);
});

test('DMs: a refusal is a sentence in the member\'s language', async () => {
  const [a, b] = await two();
  await b.goto('/members/' + aiko.id);
  await b.getByRole('button', { name: 'Block' }).click();
  await b.getByRole('button', { name: 'Unblock' }).waitFor();
  await a.goto('/dm/' + ben.id);
  // where the server tells before typing, the composer is replaced by the reason
  const refusal = a.locator('[data-testid=dm-refusal]');
  const canAsk = await a.evaluate(async () => (await fetch('/api/salon/dm/can-write/x')).status !== 404);
  if (canAsk) {
    await waitText(refusal, 'This member does not accept messages from you.');
  } else {
    await a.fill('textarea', 'hello?');
    await a.click('form.composer button[type=submit]');
    await waitText(a.locator('[data-testid=send-error]'), 'This member does not accept messages from you.');
    await a.click('button.lang');
    await a.click('form.composer button[type=submit]');
    await waitText(a.locator('[data-testid=send-error]'), 'この会員はあなたからのメッセージを受け付けていません。');
    await a.click('button.lang');
  }
  await b.getByRole('button', { name: 'Unblock' }).click();
  await b.getByRole('button', { name: 'Block' }).waitFor();

  // admin-only mode: the recipient picker lists the admins only, and writing
  // to a member is refused with the policy's sentence
  await s.settings({ dm_mode: 'admin_only' });
  await a.goto('/dm');
  await a.getByRole('button', { name: 'New message' }).click();
  await waitText(a.locator('[data-testid=recipients]'), 'Operator Oda');
  assert.equal(await a.locator('[data-testid=recipients] a[href="/dm/' + ben.id + '"]').count(), 0, 'a member offered in admin-only mode');
  if (canAsk) {
    // Ben wrote to Aiko before: the policy lets her answer (the composer
    // then sends as that answer), so nothing is refused before typing
    const asked = a.waitForResponse((r) => r.url().includes('/api/salon/dm/can-write/' + ben.id));
    await a.goto('/dm/' + ben.id);
    const answer = await (await asked).json();
    assert.ok(answer.allowed && answer.reply_to, 'admin-only mode: an answer to Ben is allowed');
    await a.locator('textarea').waitFor();
    assert.equal(await refusal.count(), 0, 'an allowed answer was refused before typing');
    // a member who never wrote to her: refused before typing, in words
    const cho = await s.member('Cho', 'cho@example.com');
    await a.goto('/dm/' + cho.id);
    await waitText(refusal, 'Direct messages are limited to the operators.');
  } else {
    await a.goto('/dm/' + ben.id);
    await a.fill('textarea', 'hello again');
    await a.click('form.composer button[type=submit]');
    await waitText(a.locator('[data-testid=send-error]'), 'Direct messages are limited to the operators.');
  }
  await s.settings({ dm_mode: 'open' });
  await closeAll(a, b);
});

test('notifications: the bell counts live, the list marks read, preferences stick', async () => {
  const [a, b] = await two();
  await b.goto('/rooms');
  // the server's count, and the bell showing it (counts load after the first screen)
  const bTok = (await s.login('ben@example.com')).token;
  const before = (await s.api('GET', '/api/salon/notifications/unread-count', undefined, bTok)).count;
  await b.waitForFunction((n) => {
    const label = document.querySelector('[data-testid=bell]')?.getAttribute('aria-label') || '';
    return Number((label.match(/\d+/) || ['-1'])[0]) === n;
  }, before);
  await a.goto('/rooms/' + lounge.id);
  await a.fill('textarea', 'ping @Ben');
  await a.keyboard.press('Enter');
  await waitText(b.locator('[data-testid=bell-count]'), String(before + 1));
  await b.click('[data-testid=bell]');
  await waitText(b.locator('[data-testid=notifications]'), 'Aiko');
  await shot(b, 'notifications-en-desktop');
  await b.getByRole('button', { name: 'Mark all read' }).click();
  await waitCount(b.locator('[data-testid=bell-count]'), 0);

  await b.goto('/settings/notifications');
  await b.selectOption('#pref-room_post', 'off');
  await waitText(b.locator('.ok'), 'Saved.');
  await b.reload();
  assert.equal(await b.inputValue('#pref-room_post'), 'off');
  await closeAll(a, b);
});

test('search: the site search finds a room message and opens it in the room', async () => {
  const a = await signedIn(browser, s, 'aiko@example.com');
  const tok = (await s.login('ben@example.com')).token;
  const m = await s.api('POST', '/api/collections/room_messages/records', { room: lounge.id, body: '東京の勉強会は来週です' }, tok);
  await a.goto('/search');
  await a.fill('input[type=search]', '勉強会');
  await a.keyboard.press('Enter');
  await waitText(a.locator('[data-testid=search-results]'), '勉強会');
  await shot(a, 'search-en-desktop');
  await a.click('[data-testid=search-results] a');
  await a.waitForURL((u) => u.searchParams.get('message') === m.id);
  await waitText(a.locator('.msg.highlight'), '東京の勉強会は来週です');
  await closeAll(a);
});

test('profile: edit with a resized avatar; follow, block and report another member; admins work the queue', async () => {
  const a = await signedIn(browser, s, 'aiko@example.com');
  await a.goto('/profile');
  await a.fill('#pbio', 'I write **Go**.');
  await a.setInputFiles('[data-testid=avatar-input]', { name: 'me.png', mimeType: 'image/png', buffer: png(1600, 1200) });
  await a.locator('[data-testid=avatar-preview]').waitFor();
  await a.selectOption('#plang', 'ja');
  await a.click('button[type=submit]');
  await waitText(a.locator('.ok'), '保存しました。');
  const rec = await s.api('GET', '/api/collections/users/records/' + aiko.id);
  assert.equal(rec.lang, 'ja');
  assert.match(rec.avatar, /\.jpg$/);
  const dims = await a.evaluate(async (url) => {
    const bmp = await createImageBitmap(await (await fetch(url)).blob());
    return [bmp.width, bmp.height];
  }, `/api/files/users/${aiko.id}/${rec.avatar}`);
  assert.deepEqual(dims, [512, 512]);
  await shot(a, 'profile-ja-desktop');

  // Aiko (now in Japanese) follows and reports Ben
  await a.goto('/members/' + ben.id);
  await a.getByRole('button', { name: 'フォローする' }).click();
  await waitText(a.locator('main'), 'フォロワー 1');
  await a.getByRole('button', { name: '通報' }).click();
  await a.fill('#rr', 'Spam links in the lounge');
  await a.locator('form button[type=submit]').click();
  await waitText(a.locator('.ok'), '運営者が確認します');
  await shot(a, 'member-ja-desktop');
  await a.evaluate(() => localStorage.setItem('salon.lang', 'en'));
  await s.api('PATCH', '/api/collections/users/records/' + aiko.id, { lang: 'en' });

  // the admin sees the report and resolves it
  const o = await signedIn(browser, s, 'admin@example.com');
  await o.goto('/admin/reports');
  const row = o.locator('[data-testid=report]', { hasText: 'Spam links in the lounge' });
  await row.waitFor();
  await row.locator('select').selectOption('resolved');
  await row.locator('input').fill('Warned the member');
  await row.getByRole('button', { name: 'Save' }).click();
  await waitText(o.locator('.ok'), 'Saved.');
  const reports = await s.api('GET', '/api/collections/reports/records?filter=' + encodeURIComponent("reason~'Spam links'"));
  assert.equal(reports.items[0].status, 'resolved');
  assert.equal(reports.items[0].admin_note, 'Warned the member');
  await shot(o, 'reports-en-desktop');

  // moderation: the admin deletes a member's message in a room where members cannot
  const strict = await s.api('POST', '/api/collections/rooms/records', { name: 'announcements' });
  const tok = (await s.login('ben@example.com')).token;
  await s.api('POST', '/api/collections/room_messages/records', { room: strict.id, body: 'buy my course' }, tok);
  const b = await signedIn(browser, s, 'ben@example.com');
  await b.goto('/rooms/' + strict.id);
  const benMsg = b.locator('[data-testid=message]', { hasText: 'buy my course' });
  await benMsg.waitFor();
  assert.equal(await benMsg.getByRole('button', { name: 'Delete' }).count(), 0, 'members cannot delete here');
  await o.goto('/rooms/' + strict.id);
  await o.locator('[data-testid=message]', { hasText: 'buy my course' }).getByRole('button', { name: 'Delete' }).click();
  await waitCount(benMsg, 0);
  await closeAll(a, o, b);
});

test('a suspended member sees why they were logged out', async () => {
  const dan = await s.member('Dan', 'dan@example.com');
  const d = await signedIn(browser, s, 'dan@example.com');
  await d.goto('/rooms');
  await s.api('PATCH', '/api/collections/users/records/' + dan.id, { suspended: true });
  // the next thing Dan does (here: opening the app again) finds him logged out
  await d.goto('/dm');
  await d.waitForURL((u) => u.pathname === '/login');
  // the server says why the token stopped working: suspended, in words
  await waitText(d.locator('[data-testid=logout-notice]'), 'Your account is suspended, so you were logged out.');
  await d.fill('#email', 'dan@example.com');
  await d.fill('#password', PASSWORD);
  await d.click('button[type=submit]');
  await waitText(d.locator('.error'), 'Your account is suspended. Contact the salon operator.');
  await shot(d, 'suspended-en-desktop');
  await closeAll(d);
});

test('every page in ja and en, at 375 px and 1280 px: no overflow, no missing words, no serious axe-core violation', async () => {
  const pages = [
    ['rooms', '/rooms'], ['room', '/rooms/' + lounge.id], ['dm-list', '/dm'], ['dm', '/dm/' + ben.id],
    ['notifications', '/notifications'], ['prefs', '/settings/notifications'], ['search', '/search?q=' + encodeURIComponent('勉強会')],
    ['profile', '/profile'], ['member', '/members/' + ben.id], ['reports', '/admin/reports'],
  ];
  const problems = await sweep(browser, s, {
    email: 'admin@example.com', pages, keys: /\b(nav|auth|rooms|dm|common|notif|profile|admin|search|guest|err|report)\.[a-zA-Z_.]+\b/g,
    // the pages before signing in: screenshots
    start: async (p, lang) => {
      for (const size of [desktop, phone]) {
        await p.setViewportSize(size);
        const tag = `${lang}-${size === phone ? 'phone' : 'desktop'}`;
        await p.goto('/login');
        await shot(p, `login-${tag}`);
        await p.goto('/signup');
        await shot(p, `signup-${tag}`);
      }
    },
  });
  assert.deepEqual(problems, []);
});
