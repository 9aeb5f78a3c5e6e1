// End-to-end test of the web client in headless Chromium against a real
// homeserver on loopback. Two browser contexts register two users who
// chat live, edit, delete, react, upload, and live through a network cut.

import assert from 'node:assert/strict';
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

function messageWith(page, text) {
  return page.locator('.messages > li.message:not(.pending)', { hasText: text });
}

before(async () => {
  server = await startServer();
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
    await shot(bob.page, '04-thumbnail');

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
    await messageWith(bob.page, 'sent while Alice was away 3').waitFor(WAIT);

    // Alice writes during the cut: the send fails visibly and keeps its nonce.
    await send(alice.page, 'written during the cut');
    await alice.page.locator('.message.pending.failed', { hasText: 'written during the cut' }).waitFor(WAIT);

    await proxy.restore();
    await alice.page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'detached', timeout: 40_000 });
    alice.record.expect = null;

    for (const n of [1, 2, 3]) {
      const replayed = messageWith(alice.page, `sent while Alice was away ${n}`);
      await replayed.waitFor(WAIT);
      assert.equal(await replayed.count(), 1, `message ${n} shows once`);
    }
    await alice.page.locator('.message.pending', { hasText: 'written during the cut' }).getByRole('button', { name: 'Retry' }).click();
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
  });

  await t.test('settings, sessions and phone layout render', async () => {
    await alice.page.getByRole('button', { name: 'User settings' }).click();
    await alice.page.getByRole('heading', { name: 'Sessions' }).waitFor(WAIT);
    await alice.page.getByText('(this browser)').waitFor(WAIT);
    await shot(alice.page, '07-sessions');
    await alice.page.goBack();

    await bob.page.setViewportSize({ width: 390, height: 844 });
    await bob.page.getByRole('button', { name: 'Open navigation' }).waitFor(WAIT);
    await shot(bob.page, '08-phone');
    await bob.page.getByRole('button', { name: 'Open navigation' }).click();
    await bob.page.getByRole('navigation', { name: 'Guilds' }).waitFor(WAIT);
    await shot(bob.page, '09-phone-nav');
  });

  await t.test('no console errors', () => {
    assert.deepEqual(alice.record.errors, [], 'console errors on Alice\'s page');
    assert.deepEqual(bob.record.errors, [], 'console errors on Bob\'s page');
  });
});
