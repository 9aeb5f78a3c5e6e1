// End-to-end test of the web client in headless Chromium against a real
// homeserver on loopback. Two browser contexts register two users who
// chat live, edit, delete, react, upload, and live through a network cut.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, screenshotDir, startProxy, startServer } from './harness.mjs';

const PASSWORD = 'correct horse battery';
const WAIT = { timeout: 15_000 };

// Chromium logs every failed request and WebSocket attempt as a console
// error. Those are expected only while the proxy has cut the network.
const NETWORK_ERROR = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_CONNECTION_CLOSED|WebSocket connection to .* failed|Failed to load resource/;

let server;
let proxy;
let browser;
let alice; // reaches the server through the proxy
let bob; // reaches the server directly
let shots;

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
}

async function register(page, origin, username, displayName) {
  await page.goto(`${origin}/register`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Display name (optional)').fill(displayName);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Register' }).click();
}

function composer(page) {
  return page.locator('.composer textarea');
}

async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** Returns the token pair the page keeps in localStorage. */
async function storedTokens(page) {
  return JSON.parse(await page.evaluate(() => localStorage.getItem('openguild.tokens')));
}

/** Calls the API from the test with a page's access token. */
async function apiAs(page, method, path, body) {
  const { access_token: token } = await storedTokens(page);
  const resp = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  assert.ok(resp.ok, `${method} ${path} answered ${resp.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Returns the id of the guild the page shows, from its URL. */
async function currentGuildId(page) {
  const match = /\/channels\/([^/]+)/.exec(new URL(page.url()).pathname);
  assert.ok(match, `the page shows no channel: ${page.url()}`);
  assert.notEqual(match[1], '@me', `the page shows no guild: ${page.url()}`);
  return match[1];
}

function channelLink(page, name) {
  return page.getByRole('navigation', { name: /^Channels of/ }).getByRole('link', { name: new RegExp(`^channel ${name}\\b`) });
}

/** Waits until the page's timeline shows its newest message at the bottom. */
async function waitAtBottom(page, what) {
  try {
    await page.waitForFunction(
      () => {
        const el = document.querySelector('.timeline');
        return !!el && el.scrollHeight - el.scrollTop - el.clientHeight <= 2;
      },
      null,
      { timeout: 5_000 },
    );
  } catch {
    const gap = await page.evaluate(() => {
      const el = document.querySelector('.timeline');
      return el ? el.scrollHeight - el.scrollTop - el.clientHeight : -1;
    });
    assert.fail(`${what}: the timeline ends ${gap} px above its newest message`);
  }
}

function messageWith(page, text) {
  return page.locator('.messages > li.message:not(.pending)', { hasText: text });
}

before(async () => {
  server = await startServer([
    // The shortest access token lifetime the server allows, so the client
    // must refresh it silently during the test.
    '--auth-access-token-lifetime', '1m',
    // Room for seeding a long history quickly; slowmode covers the 429 path.
    '--limits-message-per-user', '400/10s',
    '--limits-message-per-ip', '800/10s',
    // A short replay limit, so a longer cut gets resync_required.
    '--gateway-resume-limit', '5',
  ]);
  proxy = await startProxy(new URL(server.url).host);
  browser = await launchBrowser();
  shots = screenshotDir();
  alice = await openPage(browser, { name: 'alice' });
  bob = await openPage(browser, { name: 'bob' });
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
  if (shots) console.log(`screenshots: ${shots}`);
});

test('two users chat through the web client', async (t) => {
  let inviteLink;

  await t.test('registration and guild creation', async () => {
    await register(alice.page, proxy.url, 'alice', 'Alice');
    await alice.page.getByRole('heading', { name: 'Direct messages' }).waitFor(WAIT);
    await shot(alice.page, '01-home');

    await alice.page.getByRole('button', { name: 'Create a guild' }).click();
    await alice.page.getByLabel('Guild name').fill('Test Guild');
    await alice.page.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.page.getByRole('heading', { name: '# general' }).waitFor(WAIT);
  });

  await t.test('invite and join by link', async () => {
    await alice.page.getByRole('button', { name: 'Invite', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Create invite link' }).click();
    inviteLink = await alice.page.locator('input.invite-link').inputValue();
    assert.match(inviteLink, /\/invite\/[A-Za-z0-9_-]+$/);
    await shot(alice.page, '02-invite');
    await alice.page.getByRole('button', { name: 'Close' }).click();

    // Bob opens the link before he has an account: the app keeps the code
    // through registration and accepts it once he is logged in.
    await bob.page.goto(`${server.url}${new URL(inviteLink).pathname}`);
    await bob.page.getByRole('heading', { name: 'Welcome back' }).waitFor(WAIT);
    await bob.page.getByText('Log in or register to accept your invite.').waitFor(WAIT);
    await bob.page.getByRole('link', { name: 'Register' }).click();
    await bob.page.getByLabel('User name').fill('bob');
    await bob.page.getByLabel('Display name (optional)').fill('Bob');
    await bob.page.getByLabel('Password').fill(PASSWORD);
    await bob.page.getByRole('button', { name: 'Register' }).click();
    await bob.page.getByRole('heading', { name: '# general' }).waitFor(WAIT);
    await bob.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /Test Guild/ }).waitFor(WAIT);
  });

  await t.test('messages appear live on both sides', async () => {
    await send(alice.page, 'Hello Bob, this is **Alice**');
    await messageWith(bob.page, 'Hello Bob, this is').waitFor(WAIT);
    assert.equal(await messageWith(bob.page, 'Hello Bob').locator('strong').innerText(), 'Alice');

    await send(bob.page, 'Hi Alice!\nSecond line');
    await messageWith(alice.page, 'Hi Alice!').waitFor(WAIT);
    assert.equal(await messageWith(alice.page, 'Hi Alice!').count(), 1);
    await alice.page.getByRole('complementary', { name: 'Members' }).getByRole('button', { name: /Bob/ }).waitFor(WAIT);
    await shot(alice.page, '03-chat');
  });

  await t.test('edit the last own message with the Up key', async () => {
    // Escape cancels an edit and puts the focus back in the composer.
    await composer(alice.page).click();
    await composer(alice.page).press('ArrowUp');
    await alice.page.getByLabel('Edit message').press('Escape');
    await alice.page.getByLabel('Edit message').waitFor({ state: 'detached', ...WAIT });
    assert.equal(await composer(alice.page).evaluate((el) => el === document.activeElement), true, 'the composer lost the focus');

    await composer(alice.page).click();
    await composer(alice.page).press('ArrowUp');
    const edit = alice.page.getByLabel('Edit message');
    await edit.waitFor(WAIT);
    await edit.fill('Hello Bob, edited by Alice');
    await edit.press('Enter');
    const edited = messageWith(bob.page, 'Hello Bob, edited by Alice');
    await edited.waitFor(WAIT);
    await edited.getByText('(edited)').waitFor(WAIT);
  });

  await t.test('both react and the counts agree', async () => {
    const mine = messageWith(alice.page, 'Hi Alice!');
    await mine.hover();
    await mine.getByRole('button', { name: 'Add reaction' }).click();
    await mine.getByRole('button', { name: 'React with 👍' }).click();

    const onBob = messageWith(bob.page, 'Hi Alice!').getByRole('button', { name: '👍 1' });
    await onBob.waitFor(WAIT);
    await onBob.click();
    await messageWith(alice.page, 'Hi Alice!').getByRole('button', { name: '👍 2' }).waitFor(WAIT);
    await messageWith(bob.page, 'Hi Alice!').getByRole('button', { name: '👍 2' }).waitFor(WAIT);
  });

  await t.test('a deleted message disappears for both', async () => {
    // Without MANAGE_MESSAGES, Bob gets no Delete button on Alice's message.
    const alices = messageWith(bob.page, 'Hello Bob, edited by Alice');
    await alices.hover();
    assert.equal(await alices.getByRole('button', { name: 'Delete' }).count(), 0);

    await send(bob.page, 'this one will be deleted');
    const onAlice = messageWith(alice.page, 'this one will be deleted');
    await onAlice.waitFor(WAIT);
    const own = messageWith(bob.page, 'this one will be deleted');
    await own.hover();
    await own.getByRole('button', { name: 'Delete' }).click();
    await onAlice.waitFor({ state: 'detached', ...WAIT });
    await own.waitFor({ state: 'detached', ...WAIT });
  });

  await t.test('markup and script links render inert', async () => {
    const hostile = '<img src=x onerror=alert(1)> [click me](javascript:alert(2)) javascript:alert(3) https://example.com/safe';
    await send(bob.page, hostile);
    const msg = messageWith(alice.page, 'click me');
    await msg.waitFor(WAIT);
    const content = msg.locator('.content');
    assert.equal(await content.locator('img').count(), 0, 'an <img> element was created from message text');
    assert.match(await content.innerText(), /<img src=x onerror=alert\(1\)>/);
    assert.equal(await content.locator('a[href^="javascript"]').count(), 0);
    const links = content.locator('a');
    assert.equal(await links.count(), 1);
    assert.equal(await links.getAttribute('href'), 'https://example.com/safe');
    assert.equal(await links.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await links.getAttribute('target'), '_blank');
    assert.deepEqual(alice.record.dialogs, []);
    assert.deepEqual(bob.record.dialogs.filter((d) => d.startsWith('alert')), []);
  });

  await t.test('an uploaded photo loses its location and shows as a thumbnail', async () => {
    // Draw a JPEG in the page, then put an Exif segment with a GPS tag in
    // front of its data, as a phone camera would.
    const jpeg = Buffer.from(
      await alice.page.evaluate(async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 320;
        canvas.height = 200;
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = '#3a7';
        ctx.fillRect(0, 0, 320, 200);
        ctx.fillStyle = '#fff';
        ctx.fillRect(40, 40, 120, 80);
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
        return [...new Uint8Array(await blob.arrayBuffer())];
      }),
    );
    const exifPayload = Buffer.concat([Buffer.from('Exif\0\0'), Buffer.from('GPSLatitude 52.3702 GPSLongitude 4.8952')]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exifPayload.length + 2) >> 8, (exifPayload.length + 2) & 0xff]), exifPayload]);
    const photo = Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);

    await alice.page.locator('.composer input[type=file]').setInputFiles([
      { name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: photo },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('plain notes\n') },
    ]);
    await alice.page.locator('.uploads progress').first().waitFor(WAIT);
    await shot(alice.page, '04-uploading');
    await alice.page.locator('.composer .send:not([disabled])').waitFor(WAIT);
    await send(alice.page, 'photo from the trip');

    const onBob = messageWith(bob.page, 'photo from the trip');
    const thumb = onBob.locator('img.thumbnail');
    await thumb.waitFor(WAIT);
    assert.match(await thumb.getAttribute('src'), /^blob:/);
    await bob.page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle(), WAIT);
    await onBob.getByRole('link', { name: 'notes.txt' }).waitFor(WAIT);
    assert.equal(await onBob.locator('img').count(), 1, 'only the image gets a preview');
    // The thumbnail's box is reserved before it loads (320x200 fits the
    // 256 box as 256x160), so the view stays on the newest message.
    assert.equal(await thumb.getAttribute('width'), '256');
    assert.equal(await thumb.getAttribute('height'), '160');
    await waitAtBottom(bob.page, 'after a thumbnail arrived');
    await waitAtBottom(alice.page, 'after sending a photo');
    await send(bob.page, 'nice photo');
    await messageWith(alice.page, 'nice photo').waitFor(WAIT);
    await waitAtBottom(bob.page, 'after an own message below a thumbnail');
    await waitAtBottom(alice.page, 'after a message below a thumbnail');

    // The download link fetches the file with the token and saves it
    // under its own name.
    const [download] = await Promise.all([
      bob.page.waitForEvent('download', WAIT),
      onBob.getByRole('link', { name: 'notes.txt' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'notes.txt');
    const saved = await download.path();
    assert.equal(readFileSync(saved, 'utf8'), 'plain notes\n');
    await shot(bob.page, '04-thumbnail');

    // Enter on the thumbnail opens the full image in a dialog, with a
    // Download button. Escape closes it and the focus goes back.
    const viewButton = onBob.getByRole('button', { name: 'View holiday.jpg full size' });
    await viewButton.focus();
    await bob.page.keyboard.press('Enter');
    const viewer = bob.page.getByRole('dialog', { name: 'holiday.jpg' });
    const full = viewer.getByRole('img', { name: 'holiday.jpg' });
    await full.waitFor(WAIT);
    assert.match(await full.getAttribute('src'), /^blob:/);
    await bob.page.waitForFunction((img) => img.complete && img.naturalWidth === 320, await full.elementHandle(), WAIT);
    await shot(bob.page, '04-full-image');
    const [photoDownload] = await Promise.all([bob.page.waitForEvent('download', WAIT), viewer.getByRole('button', { name: 'Download' }).click()]);
    assert.equal(photoDownload.suggestedFilename(), 'holiday.jpg');
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached', ...WAIT });
    assert.equal(await viewButton.evaluate((el) => el === document.activeElement), true, 'the focus did not go back to the thumbnail');

    // The file name of an image opens the same view, and Close ends it.
    await onBob.getByRole('link', { name: 'holiday.jpg' }).click();
    await full.waitFor(WAIT);
    await viewer.getByRole('button', { name: 'Close' }).click();
    await viewer.waitFor({ state: 'detached', ...WAIT });
    assert.equal(await onBob.getByRole('link', { name: 'holiday.jpg' }).evaluate((el) => el === document.activeElement), true);

    // The stored original has no Exif segment left.
    const href = await onBob.getByRole('link', { name: 'holiday.jpg' }).getAttribute('href');
    const stored = JSON.parse(await alice.page.evaluate(() => localStorage.getItem('openguild.tokens')));
    const resp = await fetch(`${server.url}${href}`, { headers: { Authorization: `Bearer ${stored.access_token}` } });
    assert.equal(resp.status, 200);
    const original = Buffer.from(await resp.arrayBuffer());
    assert.equal(original.includes(Buffer.from('GPSLatitude')), false, 'the GPS tag reached the server');
    assert.deepEqual(original, jpeg, 'the upload differs from the photo without its Exif segment');
  });

  await t.test('reconnects after a network cut without losing or repeating messages', async () => {
    alice.record.expect = (text) => NETWORK_ERROR.test(text);
    await proxy.cut();
    await alice.page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor(WAIT);
    await shot(alice.page, '05-reconnecting');

    for (const n of [1, 2, 3]) await send(bob.page, `sent while Alice was away ${n}`);
    // A DM opened during the cut lives in a log Alice's resume cannot name.
    const aliceId = (await storedTokens(alice.page)).user.id;
    const dm = await apiAs(bob.page, 'POST', '/dms', { recipient_ids: [aliceId] });
    await apiAs(bob.page, 'POST', `/channels/${dm.id}/messages`, { content: 'a DM sent during the cut' });
    await messageWith(bob.page, 'sent while Alice was away 3').waitFor(WAIT);

    // Alice writes during the cut. The send fails visibly, keeps its nonce
    // and shows that it goes out again when the connection is back.
    await send(alice.page, 'written during the cut');
    await alice.page.locator('.message.pending.failed', { hasText: 'written during the cut' }).waitFor(WAIT);
    await alice.page.locator('.message.pending.failed', { hasText: 'goes out by itself' }).waitFor(WAIT);

    await proxy.restore();
    await alice.page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'detached', timeout: 40_000 });
    alice.record.expect = null;

    for (const n of [1, 2, 3]) {
      const replayed = messageWith(alice.page, `sent while Alice was away ${n}`);
      await replayed.waitFor(WAIT);
      assert.equal(await replayed.count(), 1, `message ${n} shows once`);
    }
    // The send that failed during the cut goes out by itself, once.
    await messageWith(bob.page, 'written during the cut').waitFor(WAIT);
    await messageWith(alice.page, 'written during the cut').waitFor(WAIT);
    assert.equal(await messageWith(alice.page, 'written during the cut').count(), 1);
    assert.equal(await messageWith(bob.page, 'written during the cut').count(), 1);

    // A live message after the reconnect still arrives once.
    await send(bob.page, 'after the reconnect');
    await messageWith(alice.page, 'after the reconnect').waitFor(WAIT);
    assert.equal(await messageWith(alice.page, 'after the reconnect').count(), 1);
    assert.ok(alice.record.expectedErrors.length > 0, 'the cut produced no failed request; was the network cut at all?');
    await shot(alice.page, '06-reconnected');

    await alice.page.getByRole('button', { name: /^Direct messages/ }).click();
    await alice.page.getByRole('link', { name: /conversation with Bob/ }).click();
    await messageWith(alice.page, 'a DM sent during the cut').waitFor(WAIT);
    await alice.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /Test Guild/ }).click();
    await alice.page.getByRole('heading', { name: '# general' }).waitFor(WAIT);
  });

  await t.test('a cut too long to replay is refetched', async () => {
    alice.record.expect = (text) => NETWORK_ERROR.test(text);
    await proxy.cut();
    await alice.page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor(WAIT);
    // More events than the server replays on resume (5 here).
    const guildId = await currentGuildId(bob.page);
    const general = (await apiAs(bob.page, 'GET', `/guilds/${guildId}/channels`)).find((c) => c.name === 'general');
    for (let n = 1; n <= 8; n++) {
      await apiAs(bob.page, 'POST', `/channels/${general.id}/messages`, { content: `long cut ${n}`, nonce: `long-cut-${n}` });
    }
    await proxy.restore();
    await alice.page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'detached', timeout: 40_000 });
    alice.record.expect = null;
    for (let n = 1; n <= 8; n++) {
      const content = alice.page.locator('.messages > li.message .content', { hasText: new RegExp(`^long cut ${n}$`) });
      await content.waitFor(WAIT);
      assert.equal(await content.count(), 1, `long cut ${n} shows once`);
    }
    // Live messages still arrive once after the refetch.
    await send(bob.page, 'after the long cut');
    await messageWith(alice.page, 'after the long cut').waitFor(WAIT);
    assert.equal(await messageWith(alice.page, 'after the long cut').count(), 1);
  });

  await t.test('replies, Shift+Enter, keyboard navigation and dropped files', async () => {
    // Reply to Bob's message, with a second line typed through Shift+Enter.
    const target = messageWith(alice.page, 'after the reconnect');
    await target.hover();
    await target.getByRole('button', { name: 'Reply' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Replying to Bob' }).waitFor(WAIT);
    await composer(alice.page).pressSequentially('first reply line');
    await composer(alice.page).press('Shift+Enter');
    await composer(alice.page).pressSequentially('second reply line');
    assert.equal(await composer(alice.page).inputValue(), 'first reply line\nsecond reply line');
    await composer(alice.page).press('Enter');
    const reply = messageWith(bob.page, 'second reply line');
    await reply.waitFor(WAIT);
    assert.match(await reply.locator('.reply-ref').innerText(), /Bob after the reconnect/);
    assert.equal(await reply.locator('.content').innerText(), 'first reply line\nsecond reply line');

    // Arrow keys move focus from message to message.
    const items = alice.page.locator('.messages > li.message');
    const count = await items.count();
    await items.nth(count - 2).focus();
    await alice.page.keyboard.press('ArrowDown');
    assert.equal(await items.nth(count - 1).evaluate((el) => el === document.activeElement), true, 'ArrowDown did not move to the next message');
    await alice.page.keyboard.press('ArrowUp');
    assert.equal(await items.nth(count - 2).evaluate((el) => el === document.activeElement), true, 'ArrowUp did not move back');

    // A file dropped on the channel uploads like one picked by hand.
    await alice.page.locator('.channel-view').evaluate((view) => {
      const data = new DataTransfer();
      data.items.add(new File(['dropped text\n'], 'dropped.txt', { type: 'text/plain' }));
      view.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      view.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await alice.page.locator('.uploads .upload', { hasText: 'dropped.txt' }).waitFor(WAIT);
    await alice.page.locator('.composer .send:not([disabled])').waitFor(WAIT);
    await composer(alice.page).press('Enter');
    await messageWith(bob.page, 'dropped.txt').getByRole('link', { name: 'dropped.txt' }).waitFor(WAIT);
  });

  let aliceLoginToken;

  await t.test('typing shows on the other side', async () => {
    aliceLoginToken = (await storedTokens(alice.page)).access_token;
    // The server sends one indicator per user and channel in 5 s, and Bob
    // sent messages moments ago.
    await bob.page.waitForTimeout(5500);
    await composer(bob.page).pressSequentially('typing something', { delay: 10 });
    await alice.page.getByText('Bob is typing…').waitFor(WAIT);
    await composer(bob.page).fill('');
  });

  await t.test('content over 4,000 characters is blocked before sending', async () => {
    await composer(alice.page).fill('x'.repeat(4001));
    await alice.page.locator('.composer .error').filter({ hasText: 'the limit is 4,000' }).waitFor(WAIT);
    assert.equal(await alice.page.locator('.composer .send').isDisabled(), true);
    await composer(alice.page).press('Enter');
    assert.equal(await alice.page.locator('.message.pending').count(), 0, 'an over-long message was queued');
    await composer(alice.page).fill('');
  });

  await t.test('a mention picked from suggestions is highlighted', async () => {
    const aliceId = (await storedTokens(alice.page)).user.id;
    await composer(bob.page).fill('');
    await composer(bob.page).pressSequentially('ping @Al');
    const option = bob.page.getByRole('listbox', { name: 'Mention suggestions' }).getByRole('option', { name: /Alice/ });
    await option.waitFor(WAIT);
    assert.equal(await option.getAttribute('aria-selected'), 'true');
    await shot(bob.page, '05-mention-suggestions');
    await composer(bob.page).press('Enter');
    assert.equal(await composer(bob.page).inputValue(), `ping <@${aliceId}> `);
    await composer(bob.page).pressSequentially('please');
    await composer(bob.page).press('Enter');
    const msg = messageWith(alice.page, 'please');
    await msg.waitFor(WAIT);
    assert.match(await msg.getAttribute('class'), /\bmentioned\b/);
    assert.equal(await msg.locator('.mention').innerText(), '@Alice');
  });

  await t.test('categories, scrolling into history and unread badges', async () => {
    await alice.page.getByRole('button', { name: 'Create a channel' }).click();
    await alice.page.getByLabel('Name', { exact: true }).fill('Archive');
    await alice.page.getByLabel('Kind', { exact: true }).selectOption('category');
    await alice.page.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Create a channel' }).click();
    await alice.page.getByLabel('Name', { exact: true }).fill('history');
    await alice.page.getByLabel('Category', { exact: true }).selectOption({ label: 'Archive' });
    await alice.page.getByRole('button', { name: 'Create', exact: true }).click();
    // A new text channel opens at once.
    await alice.page.getByRole('heading', { name: '# history' }).waitFor(WAIT);

    // The new channel appears live on Bob's page, under its category.
    const bobHistory = bob.page.getByRole('region', { name: 'Category Archive' }).getByRole('link', { name: /^channel history/ });
    await bobHistory.waitFor(WAIT);

    const history = (await apiAs(alice.page, 'GET', `/guilds/${(await currentGuildId(alice.page))}/channels`)).find((c) => c.name === 'history');
    for (let n = 1; n <= 120; n++) {
      await apiAs(bob.page, 'POST', `/channels/${history.id}/messages`, { content: `history ${n}`, nonce: `seed-${n}` });
    }

    // A reload drops the messages that arrived live, so the history then
    // loads in pages.
    await messageWith(alice.page, 'history 120').waitFor(WAIT);
    await alice.page.reload();
    await messageWith(alice.page, 'history 120').waitFor(WAIT);
    assert.equal(await alice.page.locator('.messages > li.message').count(), 50, 'the first page holds 50 messages');
    const timeline = alice.page.locator('.timeline');
    for (let i = 0; i < 10 && !(await alice.page.getByText('This is the start of #history.').isVisible()); i++) {
      await timeline.evaluate((el) => el.scrollTo(0, 0));
      await alice.page.waitForTimeout(300);
    }
    await alice.page.getByText('This is the start of #history.').waitFor(WAIT);
    assert.equal(await alice.page.locator('.messages > li.message').count(), 120);
    for (const n of [1, 50, 51, 100, 120]) {
      const content = alice.page.locator('.messages > li.message .content', { hasText: new RegExp(`^history ${n}$`) });
      assert.equal(await content.count(), 1, `history ${n} shows once`);
    }
    assert.equal(await alice.page.locator('.messages > li.day').count(), 1, 'one day separator');
    await shot(alice.page, '10-history');

    // Images that arrive at the bottom of a long channel keep the view on
    // the newest message, live, after a reload and after an own send.
    await timeline.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await waitAtBottom(alice.page, 'after scrolling down');
    const png = Buffer.from(
      await alice.page.evaluate(async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 300;
        canvas.height = 600;
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = '#c63';
        ctx.fillRect(0, 0, 300, 600);
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
        return [...new Uint8Array(await blob.arrayBuffer())];
      }),
    );
    const { access_token: bobToken } = await storedTokens(bob.page);
    for (let n = 1; n <= 3; n++) {
      const resp = await fetch(`${server.url}/api/v1/media?filename=tall-${n}.png`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${bobToken}`, 'Content-Type': 'image/png' },
        body: png,
      });
      assert.equal(resp.status, 201);
      const media = await resp.json();
      await apiAs(bob.page, 'POST', `/channels/${history.id}/messages`, { content: `tall picture ${n}`, attachment_ids: [media.id] });
    }
    const lastPicture = messageWith(alice.page, 'tall picture 3').locator('img.thumbnail');
    await alice.page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await lastPicture.elementHandle(WAIT), WAIT);
    await waitAtBottom(alice.page, 'after pictures arrived live');
    await alice.page.reload();
    await alice.page.waitForFunction(
      () => {
        const imgs = [...document.querySelectorAll('img.thumbnail')];
        return imgs.length === 3 && imgs.every((img) => img.complete && img.naturalWidth > 0);
      },
      null,
      WAIT,
    );
    await waitAtBottom(alice.page, 'after a reload with pictures');
    await send(alice.page, 'own words below the pictures');
    await messageWith(alice.page, 'own words below the pictures').waitFor(WAIT);
    await waitAtBottom(alice.page, 'after an own message below pictures');

    // Scrolled up, a new message offers a jump to the latest one.
    await timeline.evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
    await alice.page.waitForTimeout(200);
    await apiAs(bob.page, 'POST', `/channels/${history.id}/messages`, { content: 'while Alice reads history' });
    const jump = alice.page.getByRole('button', { name: /jump to latest/ });
    await jump.waitFor(WAIT);
    await shot(alice.page, '10-jump-to-latest');
    await jump.click();
    await waitAtBottom(alice.page, 'after jumping to the latest message');
    await jump.waitFor({ state: 'detached', ...WAIT });

    // A message in another channel marks it unread until Alice opens it.
    // It mentions her once, and the labels count in the singular.
    const aliceUserId = (await storedTokens(alice.page)).user.id;
    await send(bob.page, `<@${aliceUserId}> unread check`);
    const general = channelLink(alice.page, 'general');
    await alice.page.locator('.channel-link.unread', { hasText: 'general' }).waitFor(WAIT);
    assert.match(await general.getAttribute('aria-label'), /, 1 unread, 1 mention$/);
    const railGuild = alice.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /^Test Guild/ });
    assert.match(await railGuild.getAttribute('aria-label'), /, 1 mention$/);
    await general.click();
    await messageWith(alice.page, 'unread check').waitFor(WAIT);
    await alice.page.locator('.channel-link.unread', { hasText: 'general' }).waitFor({ state: 'detached', ...WAIT });
  });

  await t.test('a rate-limited send waits and goes out once', async () => {
    const guildId = await currentGuildId(alice.page);
    const general = (await apiAs(alice.page, 'GET', `/guilds/${guildId}/channels`)).find((c) => c.name === 'general');
    await alice.page.getByRole('button', { name: 'Guild settings' }).click();
    await alice.page.getByRole('tab', { name: 'Channels' }).click();
    await alice.page.getByLabel('Channel', { exact: true }).selectOption({ label: '#general' });
    await alice.page.getByLabel('Topic', { exact: true }).fill('Slow chat');
    await alice.page.getByLabel(/^Slowmode in seconds/).fill('3');
    await alice.page.getByRole('button', { name: 'Save channel' }).click();
    await alice.page.getByText('Channel saved.').waitFor(WAIT);
    assert.equal((await apiAs(alice.page, 'GET', `/channels/${general.id}`)).slowmode_seconds, 3);
    await alice.page.goBack();
    // The topic reaches Bob live through channel_update.
    await bob.page.locator('.channel-head .topic', { hasText: 'Slow chat' }).waitFor(WAIT);
    bob.record.expect = (text) => /status of 429/.test(text);
    await send(bob.page, 'slow one');
    await messageWith(bob.page, 'slow one').waitFor(WAIT);
    await send(bob.page, 'slow two');
    await bob.page.getByRole('status').filter({ hasText: /Rate limited: sending again in \d+ s/ }).waitFor(WAIT);
    await shot(bob.page, '11-rate-limited');
    await messageWith(alice.page, 'slow two').waitFor(WAIT);
    await messageWith(bob.page, 'slow two').waitFor(WAIT);
    assert.equal(await messageWith(alice.page, 'slow two').count(), 1);
    assert.equal(await messageWith(bob.page, 'slow two').count(), 1);
    bob.record.expect = null;
    await apiAs(alice.page, 'PATCH', `/channels/${general.id}`, { slowmode_seconds: 0 });
  });

  await t.test('direct messages', async () => {
    await alice.page.getByRole('complementary', { name: 'Members' }).getByRole('button', { name: /^Bob/ }).click();
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    await alice.page.getByRole('heading', { name: 'Bob', exact: true }).waitFor(WAIT);
    await send(alice.page, 'a private hello');
    await messageWith(alice.page, 'a private hello').waitFor(WAIT);

    const dmButton = bob.page.getByRole('button', { name: /^Direct messages, 1 unread/ });
    await dmButton.waitFor(WAIT);
    await dmButton.click();
    await bob.page.getByRole('link', { name: /conversation with Alice/ }).click();
    await messageWith(bob.page, 'a private hello').waitFor(WAIT);
    await send(bob.page, 'a private answer');
    await messageWith(alice.page, 'a private answer').waitFor(WAIT);
    await shot(bob.page, '12-dm');
    // After a fresh load, the DM list names the partner before any guild
    // has loaded its members.
    await bob.page.goto(`${server.url}/channels/@me`);
    await bob.page.getByRole('link', { name: /conversation with Alice/ }).waitFor(WAIT);
    await bob.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /Test Guild/ }).click();
    await alice.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /Test Guild/ }).click();
  });

  await t.test('guild settings: roles and channel overwrites', async () => {
    // Bob has the default permissions: no channel or settings controls,
    // but a way to leave.
    const bobHead = bob.page.getByRole('navigation', { name: /^Channels of/ });
    await bobHead.getByRole('button', { name: /^Leave / }).waitFor(WAIT);
    assert.equal(await bobHead.getByRole('button', { name: 'Create a channel' }).count(), 0);
    assert.equal(await bobHead.getByRole('button', { name: 'Guild settings' }).count(), 0);
    assert.equal(await bobHead.getByRole('button', { name: 'Invite', exact: true }).count(), 1);

    const guildId = await currentGuildId(alice.page);
    await alice.page.getByRole('button', { name: 'Guild settings' }).click();
    // The settings page keeps the guild's channels in the sidebar.
    await channelLink(alice.page, 'general').waitFor(WAIT);
    await alice.page.getByRole('tab', { name: 'Roles' }).click();
    await alice.page.getByLabel('New role').fill('Moderators');
    await alice.page.getByRole('button', { name: 'Create role' }).click();
    await alice.page.getByRole('group', { name: 'Permissions of Moderators' }).waitFor(WAIT);
    await alice.page.getByLabel('Manage messages').check();
    await alice.page.getByRole('button', { name: 'Save permissions' }).click();
    await alice.page.getByText('Role saved.').waitFor(WAIT);
    const mods = (await apiAs(alice.page, 'GET', `/guilds/${guildId}/roles`)).find((r) => r.name === 'Moderators');
    assert.equal(BigInt(mods.permissions) & 8n, 8n, 'MANAGE_MESSAGES was not saved');
    await shot(alice.page, '13-roles');

    await alice.page.getByRole('tab', { name: 'Channel permissions' }).click();
    await alice.page.getByLabel('Channel', { exact: true }).selectOption({ label: '#history' });
    await alice.page.getByLabel('Role', { exact: true }).selectOption({ label: '@everyone' });
    await alice.page.getByLabel('Send messages for this role').selectOption('deny');
    await alice.page.getByRole('button', { name: 'Save overwrite' }).click();
    await alice.page.getByText('Channel permissions saved.').waitFor(WAIT);
    await shot(alice.page, '14-overwrites');

    // Bob's composer in #history is replaced by a note.
    await channelLink(bob.page, 'history').click();
    await bob.page.getByRole('note').filter({ hasText: 'You do not have permission to send messages in #history.' }).waitFor(WAIT);
    assert.equal(await composer(bob.page).count(), 0);
    await shot(bob.page, '14-no-send');
    await channelLink(bob.page, 'general').click();
    await composer(bob.page).waitFor(WAIT);
    await alice.page.goBack();
  });

  await t.test('the owner gives a member a role from the member list', async () => {
    const bobMembers = bob.page.getByRole('complementary', { name: 'Members' });
    const aliceMembers = alice.page.getByRole('complementary', { name: 'Members' });
    // Without MANAGE_ROLES, Bob gets no roles control.
    await bobMembers.getByRole('button', { name: /^Alice, / }).click();
    const forAlice = bob.page.getByRole('group', { name: 'Actions for Alice' });
    await forAlice.getByRole('button', { name: 'Message' }).waitFor(WAIT);
    assert.equal(await forAlice.getByRole('button', { name: 'Roles' }).count(), 0);
    await bobMembers.getByRole('button', { name: /^Alice, / }).click();

    await send(alice.page, 'moderate this');
    const onBob = messageWith(bob.page, 'moderate this');
    await onBob.waitFor(WAIT);
    assert.equal(await onBob.getByRole('button', { name: 'Delete' }).count(), 0);

    // Moderators grants MANAGE_MESSAGES, so Bob gets Delete on Alice's
    // message live once he has the role, and loses it with the role.
    await aliceMembers.getByRole('button', { name: /^Bob, / }).click();
    await alice.page.getByRole('group', { name: 'Actions for Bob' }).getByRole('button', { name: 'Roles' }).click();
    const bobRoles = alice.page.getByRole('group', { name: 'Roles of Bob' });
    assert.equal(await bobRoles.getByRole('checkbox', { name: '@everyone' }).count(), 0);
    const moderators = bobRoles.getByRole('checkbox', { name: 'Moderators' });
    await moderators.check();
    await onBob.hover();
    await onBob.getByRole('button', { name: 'Delete' }).waitFor(WAIT);
    await shot(alice.page, '14-member-roles');
    await moderators.uncheck();
    await onBob.getByRole('button', { name: 'Delete' }).waitFor({ state: 'detached', ...WAIT });
    assert.equal(await moderators.isChecked(), false);
    await aliceMembers.getByRole('button', { name: /^Bob, / }).click();
  });

  await t.test('nicknames show live on the other side', async () => {
    // Bob sets his own nickname from the member list.
    const bobMembers = bob.page.getByRole('complementary', { name: 'Members' });
    const aliceMembers = alice.page.getByRole('complementary', { name: 'Members' });
    await bobMembers.getByRole('button', { name: /^Bob, / }).click();
    await bob.page.getByRole('group', { name: 'Actions for Bob' }).getByRole('button', { name: 'Set nickname' }).click();
    const own = bob.page.getByRole('dialog', { name: /^Your nickname in / });
    await own.getByLabel('Nickname').fill('Bobby');
    await own.getByRole('button', { name: 'Save nickname' }).click();
    await own.waitFor({ state: 'detached', ...WAIT });
    await aliceMembers.getByRole('button', { name: /^Bobby, / }).waitFor(WAIT);
    await alice.page.locator('.messages .author', { hasText: /^Bobby$/ }).first().waitFor(WAIT);
    await shot(alice.page, '15-nickname');

    // Without MANAGE_NICKNAMES, Bob gets no nickname control for Alice.
    await bobMembers.getByRole('button', { name: /^Alice, / }).click();
    const forAlice = bob.page.getByRole('group', { name: 'Actions for Alice' });
    await forAlice.getByRole('button', { name: 'Message' }).waitFor(WAIT);
    assert.equal(await forAlice.getByRole('button', { name: 'Set nickname' }).count(), 0);
    await bobMembers.getByRole('button', { name: /^Alice, / }).click();

    // Alice, the owner, renames Bob, and then removes the nickname.
    const renameBob = async (currentName) => {
      await aliceMembers.getByRole('button', { name: new RegExp(`^${currentName}, `) }).click();
      await alice.page.getByRole('group', { name: `Actions for ${currentName}` }).getByRole('button', { name: 'Set nickname' }).click();
      return alice.page.getByRole('dialog', { name: /^Nickname of Bob in / });
    };
    let dialog = await renameBob('Bobby');
    await dialog.getByLabel('Nickname').fill('Robert');
    await dialog.getByRole('button', { name: 'Save nickname' }).click();
    await bobMembers.getByRole('button', { name: /^Robert, / }).waitFor(WAIT);
    dialog = await renameBob('Robert');
    await dialog.getByRole('button', { name: 'Remove nickname' }).click();
    await bobMembers.getByRole('button', { name: /^Bob, / }).waitFor(WAIT);
    await aliceMembers.getByRole('button', { name: /^Bob, / }).waitFor(WAIT);
  });

  await t.test('a member overwrite hides a channel from that member', async () => {
    await alice.page.getByRole('button', { name: 'Create a channel' }).click();
    await alice.page.getByLabel('Name', { exact: true }).fill('secret');
    await alice.page.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.page.getByRole('heading', { name: '# secret' }).waitFor(WAIT);
    await channelLink(bob.page, 'secret').waitFor(WAIT);
    const guildId = await currentGuildId(alice.page);
    const secret = (await apiAs(alice.page, 'GET', `/guilds/${guildId}/channels`)).find((c) => c.name === 'secret');

    await alice.page.getByRole('button', { name: 'Guild settings' }).click();
    await alice.page.getByRole('tab', { name: 'Channel permissions' }).click();
    await alice.page.getByLabel('Channel', { exact: true }).selectOption({ label: '#secret' });
    await alice.page.getByLabel('Applies to').selectOption('member');
    await alice.page.getByLabel('Search members').fill('bo');
    const memberSelect = alice.page.getByLabel('Member', { exact: true });
    assert.deepEqual(await memberSelect.locator('option').allInnerTexts(), ['Bob (@bob)']);
    await alice.page.getByLabel('View channels for this member').selectOption('deny');
    await alice.page.getByRole('button', { name: 'Save overwrite' }).click();
    await alice.page.getByText('Channel permissions saved.').waitFor(WAIT);
    await memberSelect.locator('option', { hasText: 'Bob (@bob) (has overwrite)' }).waitFor({ state: 'attached', ...WAIT });
    await shot(alice.page, '16-member-overwrite');
    const overwrites = await apiAs(alice.page, 'GET', `/channels/${secret.id}/permissions`);
    const bobId = (await storedTokens(bob.page)).user.id;
    assert.deepEqual(
      overwrites.map((o) => ({ target_id: o.target_id, type: o.type, allow: o.allow, deny: o.deny })),
      [{ target_id: bobId, type: 'member', allow: '0', deny: '1' }],
    );

    // The server sends Bob no event of a channel he cannot view, so his
    // list keeps it until a request for it returns 404.
    // Opening it requests the messages and the own permissions, and
    // Chromium logs both 404 responses as console errors.
    bob.record.expect = (text) => /status of 404/.test(text);
    const notFound = ['messages?limit=50', 'permissions/@me'].map((tail) =>
      bob.page.waitForResponse((r) => r.url().endsWith(`/channels/${secret.id}/${tail}`) && r.status() === 404, WAIT),
    );
    await channelLink(bob.page, 'secret').click();
    await Promise.all(notFound);
    await channelLink(bob.page, 'secret').waitFor({ state: 'detached', ...WAIT });
    await bob.page.getByText('That channel was deleted or you can no longer see it.').waitFor(WAIT);
    await bob.page.reload();
    await channelLink(bob.page, 'general').waitFor(WAIT);
    bob.record.expect = null;
    assert.equal(await channelLink(bob.page, 'secret').count(), 0, 'the hidden channel is back after a reload');
    const { access_token: bobToken } = await storedTokens(bob.page);
    const resp = await fetch(`${server.url}/api/v1/channels/${secret.id}`, { headers: { Authorization: `Bearer ${bobToken}` } });
    assert.equal(resp.status, 404);

    // Removing the overwrite shows the channel to Bob again, live.
    await alice.page.getByRole('button', { name: 'Remove overwrite' }).click();
    await alice.page.getByText('Overwrite removed.').waitFor(WAIT);
    // The editor shows Inherit again, so a later save cannot hide the
    // channel once more.
    assert.equal(await alice.page.getByLabel('View channels for this member').inputValue(), 'inherit');
    await channelLink(bob.page, 'secret').waitFor(WAIT);
    await alice.page.goBack();
    await channelLink(alice.page, 'general').click();
    await alice.page.getByRole('heading', { name: '# general' }).waitFor(WAIT);
  });

  await t.test('a password change keeps this session and takes effect at login', async () => {
    const NEW_PASSWORD = 'a brand new battery staple';
    await bob.page.getByRole('button', { name: 'User settings' }).click();
    const form = bob.page.getByRole('region', { name: 'Password' });
    const change = async (current, next, confirmation) => {
      await form.getByLabel('Current password').fill(current);
      await form.getByLabel('New password', { exact: true }).fill(next);
      await form.getByLabel('Confirm new password').fill(confirmation);
      await form.getByRole('button', { name: 'Change password' }).click();
    };

    // The client checks the confirmation and the length before sending.
    await change(PASSWORD, NEW_PASSWORD, 'something else');
    await form.getByRole('alert').filter({ hasText: 'confirmation differ' }).waitFor(WAIT);
    await change(PASSWORD, 'short', 'short');
    await form.getByRole('alert').filter({ hasText: 'at least 8 bytes' }).waitFor(WAIT);

    bob.record.expect = (text) => /status of 403/.test(text);
    await change('not the password', NEW_PASSWORD, NEW_PASSWORD);
    await form.getByRole('alert').filter({ hasText: 'The current password is wrong.' }).waitFor(WAIT);
    bob.record.expect = null;

    await change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    await form.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor(WAIT);
    assert.equal(await form.getByRole('alert').count(), 0, 'the error of an earlier try stayed');
    assert.equal(await form.getByLabel('Current password').inputValue(), '');
    await shot(bob.page, '17-password-changed');
    await bob.page.goBack();
    await send(bob.page, 'still here after the password change');
    await messageWith(alice.page, 'still here after the password change').waitFor(WAIT);

    const login = await openPage(browser, { name: 'bob-2' });
    login.record.expect = (text) => /status of 401/.test(text);
    await login.page.goto(`${server.url}/login`);
    await login.page.getByLabel('User name').fill('bob');
    await login.page.getByLabel('Password').fill(PASSWORD);
    await login.page.getByRole('button', { name: 'Log in' }).click();
    await login.page.getByRole('alert').waitFor(WAIT);
    await login.page.getByLabel('Password').fill(NEW_PASSWORD);
    await login.page.getByRole('button', { name: 'Log in' }).click();
    await login.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /Test Guild/ }).waitFor(WAIT);
    assert.deepEqual(login.record.errors, [], 'console errors on the second session of Bob');
    await login.context.close();
  });

  await t.test('a display name change shows live on the other side', async () => {
    const rename = async (name) => {
      await bob.page.getByRole('button', { name: 'User settings' }).click();
      await bob.page.getByLabel('Display name').fill(name);
      await bob.page.getByRole('button', { name: 'Save', exact: true }).click();
      await bob.page.getByRole('status').filter({ hasText: /^Saved$/ }).waitFor(WAIT);
      await bob.page.goBack();
    };
    await rename('Bob Builder');
    // Bob's own panel, Alice's member list, the author names in her
    // timeline and her DM list follow without a reload.
    await bob.page.locator('.user-panel .who', { hasText: /^Bob Builder$/ }).waitFor(WAIT);
    const aliceMembers = alice.page.getByRole('complementary', { name: 'Members' });
    await aliceMembers.getByRole('button', { name: /^Bob Builder, / }).waitFor(WAIT);
    await alice.page.locator('.messages .author', { hasText: /^Bob Builder$/ }).first().waitFor(WAIT);
    assert.equal(await alice.page.locator('.messages .author', { hasText: /^Bob$/ }).count(), 0, 'an author name kept the old display name');
    await shot(alice.page, '18-display-name');
    await alice.page.getByRole('button', { name: /^Direct messages/ }).click();
    await alice.page.getByRole('link', { name: /conversation with Bob Builder/ }).waitFor(WAIT);
    await alice.page.goBack();
    await alice.page.getByRole('heading', { name: '# general' }).waitFor(WAIT);

    await rename('Bob');
    await aliceMembers.getByRole('button', { name: /^Bob, / }).waitFor(WAIT);
  });

  await t.test('account deletion needs the password and no owned guild', async () => {
    // Alice owns Test Guild, so the server rejects the deletion, and the
    // dialog names the guild.
    await alice.page.getByRole('button', { name: 'User settings' }).click();
    await alice.page.getByRole('button', { name: 'Delete account…' }).click();
    const rejected = alice.page.getByRole('dialog', { name: 'Delete your account?' });
    await rejected.getByLabel('Password').fill(PASSWORD);
    alice.record.expect = (text) => /status of 409/.test(text);
    await rejected.getByRole('button', { name: 'Delete my account' }).click();
    await rejected.getByRole('alert').filter({ hasText: 'You own Test Guild. Transfer its ownership' }).waitFor(WAIT);
    alice.record.expect = null;
    await shot(alice.page, '19-delete-rejected');
    await rejected.getByRole('button', { name: 'Cancel' }).click();
    await rejected.waitFor({ state: 'detached', ...WAIT });
    await alice.page.goBack();

    // Carol owns no guild, so her account is deleted.
    const carol = await openPage(browser, { name: 'carol' });
    await register(carol.page, server.url, 'carol', 'Carol');
    await carol.page.getByRole('heading', { name: 'Direct messages' }).waitFor(WAIT);
    await carol.page.getByRole('button', { name: 'User settings' }).click();
    await carol.page.getByRole('button', { name: 'Delete account…' }).click();
    const dialog = carol.page.getByRole('dialog', { name: 'Delete your account?' });
    carol.record.expect = (text) => /status of 40[13]/.test(text);
    await dialog.getByLabel('Password').fill('not the password');
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'The password is wrong.' }).waitFor(WAIT);
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await carol.page.getByRole('heading', { name: 'Welcome back' }).waitFor(WAIT);
    await carol.page.getByText('Your account has been deleted.').waitFor(WAIT);
    assert.equal(await carol.page.evaluate(() => localStorage.getItem('openguild.tokens')), null);

    await carol.page.getByLabel('User name').fill('carol');
    await carol.page.getByLabel('Password').fill(PASSWORD);
    await carol.page.getByRole('button', { name: 'Log in' }).click();
    await carol.page.getByRole('alert').filter({ hasText: /./ }).first().waitFor(WAIT);
    assert.deepEqual(carol.record.errors, [], 'console errors on Carol\'s page');
    await carol.context.close();
  });

  await t.test('the owner hands the guild to a member and gets it back', async () => {
    const transfer = async (page, query) => {
      await page.getByRole('button', { name: 'Guild settings' }).click();
      await page.getByRole('tab', { name: 'Overview' }).click();
      const ownership = page.getByRole('region', { name: 'Ownership' });
      await ownership.getByLabel('Search members').fill(query);
      await ownership.getByRole('button', { name: 'Transfer ownership' }).click();
    };

    await transfer(alice.page, 'bob');
    await alice.page.getByRole('button', { name: 'Leave guild' }).waitFor(WAIT);
    await bob.page.getByRole('button', { name: 'Guild settings' }).waitFor(WAIT);
    await transfer(bob.page, 'alice');
    await bob.page.getByRole('button', { name: 'Leave guild' }).waitFor(WAIT);
    await alice.page.getByRole('button', { name: 'Delete guild' }).waitFor(WAIT);
    assert.ok(alice.record.dialogs.some((d) => d.startsWith('confirm: Make Bob')), 'no confirmation before the transfer');
    await alice.page.goBack();
    await bob.page.goBack();
  });

  await t.test('one member menu opens at a time and Escape closes it', async () => {
    const list = alice.page.getByRole('complementary', { name: 'Members' });
    const actions = (who) => alice.page.getByRole('group', { name: new RegExp(`^Actions for ${who}`) });
    await list.getByRole('button', { name: /^Bob/ }).click();
    await actions('Bob').waitFor(WAIT);
    await list.getByRole('button', { name: /^Alice/ }).click();
    await actions('Alice').waitFor(WAIT);
    await actions('Bob').waitFor({ state: 'detached', ...WAIT });

    await actions('Alice').getByRole('button').first().focus();
    await alice.page.keyboard.press('Escape');
    await actions('Alice').waitFor({ state: 'detached', ...WAIT });
    const focused = await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    assert.match(focused, /^Alice, /, 'focus did not return to the member after Escape');
  });

  await t.test('the access token is refreshed silently', async () => {
    const deadline = Date.now() + 75_000;
    while ((await storedTokens(alice.page)).access_token === aliceLoginToken) {
      assert.ok(Date.now() < deadline, 'the access token was not refreshed within 75 s of a 1-minute lifetime');
      await alice.page.waitForTimeout(1000);
    }
    // The refresh token lives only in the HttpOnly cookie, out of reach
    // of script on the page.
    const stored = await storedTokens(alice.page);
    assert.equal(stored.refresh_token, '', 'a refresh token reached localStorage');
    assert.equal(await alice.page.evaluate(() => document.cookie.includes('openguild_refresh')), false);
    const cookies = await alice.context.cookies();
    const cookie = cookies.find((c) => c.name === 'openguild_refresh');
    assert.ok(cookie, 'no refresh cookie in the browser');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/api/v1/auth');
    await send(alice.page, 'sent with a refreshed token');
    await messageWith(bob.page, 'sent with a refreshed token').waitFor(WAIT);
  });

  await t.test('settings, sessions and phone layout render', async () => {
    await alice.page.getByRole('button', { name: 'User settings' }).click();
    await alice.page.getByRole('heading', { name: 'Sessions' }).waitFor(WAIT);
    await alice.page.getByText('(this browser)').waitFor(WAIT);
    await shot(alice.page, '07-sessions');
    await alice.page.goBack();

    await bob.page.getByRole('button', { name: 'Switch to the light theme' }).click();
    assert.equal(await bob.page.evaluate(() => document.documentElement.dataset.theme), 'light');
    await shot(bob.page, '07-light');
    await bob.page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    assert.equal(await bob.page.evaluate(() => document.documentElement.dataset.theme), 'dark');

    // At phone width the invites table fits: neither the page nor the
    // settings pane scrolls sideways.
    await alice.page.getByRole('button', { name: 'Guild settings' }).click();
    await alice.page.getByRole('tab', { name: 'Invites' }).click();
    await alice.page.locator('table.invites code').first().waitFor(WAIT);
    await alice.page.setViewportSize({ width: 390, height: 844 });
    const overflow = await alice.page.evaluate(() => {
      const pane = document.querySelector('.settings');
      return { page: document.documentElement.scrollWidth - window.innerWidth, pane: pane.scrollWidth - pane.clientWidth };
    });
    assert.deepEqual(overflow, { page: 0, pane: 0 }, 'content wider than the screen at 390 px');
    await shot(alice.page, '09-phone-invites');
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await alice.page.goBack();

    await bob.page.setViewportSize({ width: 390, height: 844 });
    await bob.page.getByRole('button', { name: 'Open navigation' }).waitFor(WAIT);
    await shot(bob.page, '08-phone');
    await bob.page.getByRole('button', { name: 'Open navigation' }).click();
    await bob.page.getByRole('navigation', { name: 'Guilds' }).waitFor(WAIT);
    await shot(bob.page, '09-phone-nav');
    // One drawer at a time, and Escape closes it.
    await bob.page.getByRole('button', { name: 'Show members' }).click();
    await bob.page.getByRole('complementary', { name: 'Members' }).waitFor(WAIT);
    await bob.page.getByRole('navigation', { name: 'Guilds' }).waitFor({ state: 'hidden', ...WAIT });
    await bob.page.keyboard.press('Escape');
    await bob.page.getByRole('complementary', { name: 'Members' }).waitFor({ state: 'hidden', ...WAIT });
    await bob.page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('log out other sessions, a ban, and logout', async () => {
    const second = await openPage(browser, { name: 'alice-2' });
    await second.page.goto(`${server.url}/login`);
    await second.page.getByLabel('User name').fill('alice');
    await second.page.getByLabel('Password').fill(PASSWORD);
    await second.page.getByRole('button', { name: 'Log in' }).click();
    await second.page.getByRole('navigation', { name: 'Guilds' }).waitFor(WAIT);

    await alice.page.getByRole('button', { name: 'User settings' }).click();
    await alice.page.getByRole('cell', { name: /Chrome on Linux$/ }).first().waitFor(WAIT);
    await alice.page.getByRole('button', { name: 'Log out other sessions' }).click();
    await second.page.getByRole('heading', { name: 'Welcome back' }).waitFor(WAIT);
    await second.page.getByRole('status').filter({ hasText: 'Your session ended. Log in again.' }).waitFor(WAIT);
    assert.equal(await second.page.evaluate(() => localStorage.getItem('openguild.tokens')), null);
    assert.deepEqual(second.record.errors, [], 'console errors on the second session');
    await second.context.close();
    await alice.page.goBack();

    await alice.page.getByRole('complementary', { name: 'Members' }).getByRole('button', { name: /^Bob/ }).click();
    await alice.page.getByRole('button', { name: 'Ban', exact: true }).click();
    await bob.page.getByRole('navigation', { name: 'Guilds' }).getByRole('button', { name: /Test Guild/ }).waitFor({ state: 'detached', ...WAIT });
    await alice.page.getByRole('button', { name: 'Guild settings' }).click();
    await alice.page.getByRole('tab', { name: 'Bans' }).click();
    await alice.page.getByText('Bob (@bob)').waitFor(WAIT);
    await alice.page.getByRole('button', { name: 'Lift ban' }).click();
    await alice.page.getByText('Nobody is banned.', { exact: false }).waitFor(WAIT);

    await alice.page.getByRole('tab', { name: 'Overview' }).click();
    await alice.page.getByLabel('Name', { exact: true }).fill('Renamed Guild');
    await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
    await alice.page.getByRole('status').filter({ hasText: /^Saved$/ }).waitFor(WAIT);
    const rail = alice.page.getByRole('navigation', { name: 'Guilds' });
    await rail.getByRole('button', { name: /^Renamed Guild/ }).waitFor(WAIT);
    await alice.page.getByRole('button', { name: 'Delete guild' }).click();
    await rail.getByRole('button', { name: /^Renamed Guild/ }).waitFor({ state: 'detached', ...WAIT });

    await alice.page.getByRole('button', { name: 'User settings' }).click();
    await alice.page.getByRole('button', { name: 'Log out', exact: true }).click();
    await alice.page.getByRole('heading', { name: 'Welcome back' }).waitFor(WAIT);
    assert.equal(await alice.page.getByText('Your session ended.').count(), 0, 'a logout here was reported as a session ended elsewhere');
  });

  await t.test('no console errors', () => {
    assert.deepEqual(alice.record.errors, [], 'console errors on Alice\'s page');
    assert.deepEqual(bob.record.errors, [], 'console errors on Bob\'s page');
  });
});
