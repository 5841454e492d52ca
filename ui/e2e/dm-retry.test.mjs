// A direct message whose answer is lost (the server saved it, the browser
// never heard back) is sent again with the same client_id, so the retry
// gets the saved message back and the conversation holds it once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSalon, launch, signedIn } from './harness.mjs';
import { waitText } from './util.mjs';

let s, browser, ben;

before(async () => {
  let who;
  ({ s, who } = await openSalon({ aiko: ['Aiko', 'aiko@example.com'], ben: ['Ben', 'ben@example.com'] }));
  ({ ben } = who);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await s?.close();
});

test('DMs: a retry after a lost answer does not send the message twice', async () => {
  const a = await signedIn(browser, s, 'aiko@example.com');
  await a.goto('/dm/' + ben.id);
  const ids = [];
  let lose = true;
  await a.route('**/api/collections/dm_messages/records', async (route) => {
    const req = route.request();
    if (req.method() !== 'POST') return route.continue();
    ids.push(/name="client_id"\r\n\r\n([^\r]+)/.exec(req.postData() ?? '')?.[1]);
    if (!lose) return route.continue();
    lose = false;
    await route.fetch(); // the server saves it …
    await route.abort('connectionreset'); // … and the answer is lost
  });
  await a.fill('textarea', 'Sent once, answered never');
  await a.click('form.composer button[type=submit]');
  await a.locator('[data-testid=send-error]').waitFor(); // the member sees it failed
  await a.click('form.composer button[type=submit]'); // the member tries again
  await waitText(a.locator('.chat'), 'Sent once, answered never');

  assert.equal(ids.length, 2);
  assert.ok(ids[0], 'the first try sends a client_id');
  assert.equal(ids[1], ids[0], 'the retry sends the same client_id');
  const list = await s.api('GET', '/api/collections/dm_messages/records?filter=' + encodeURIComponent(`body ~ 'answered never'`));
  assert.equal(list.totalItems, 1, 'the message is stored once');
  // the next message is a new draft with a new client_id
  await a.fill('textarea', 'A second message');
  await a.click('form.composer button[type=submit]');
  await waitText(a.locator('.chat'), 'A second message');
  assert.equal(ids.length, 3);
  assert.notEqual(ids[2], ids[0]);
  await a.context().close();
});
