// Test harness for the end-to-end tests: a real homeserver on loopback,
// a loopback TCP proxy that can cut the network, and headless Chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts the homeserver on a free loopback port with a fresh data
 * directory. OPENGUILD_BIN names a built binary. Without it, the server is
 * built from this checkout first.
 */
export async function startServer(extraArgs = []) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openguild-e2e-data-'));
  let bin = process.env.OPENGUILD_BIN;
  if (!bin) {
    bin = path.join(dataDir, 'openguild');
    execFileSync('go', ['build', '-o', bin, './cmd/openguild'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const child = spawn(bin, ['--listen', '127.0.0.1:0', '--metrics-listen', '', '--data-dir', dataDir, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not log its address within 30 s; log:\n${logs.join('')}`)), 30_000);
    const onData = (chunk) => {
      logs.push(chunk.toString());
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"listening"')) continue;
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening' && entry.listener === 'client') {
            clearTimeout(timer);
            resolve(`http://${entry.addr}`);
          }
        } catch {
          // A partial line: the address comes in a later chunk.
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; log:\n${logs.join('')}`));
    });
  });
  return {
    url,
    logs,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a TCP proxy on a free loopback port that forwards to target
 * (host:port). cut() closes the listener and every open connection, as a
 * network drop would; restore() listens again on the same port.
 */
export async function startProxy(target) {
  const [host, port] = target.split(':');
  const sockets = new Set();
  const handle = (client) => {
    const upstream = net.connect(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  let server = net.createServer(handle);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listenPort = server.address().port;
  return {
    url: `http://127.0.0.1:${listenPort}`,
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      sockets.clear();
      await closed;
    },
    async restore() {
      server = net.createServer(handle);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenPort, '127.0.0.1', resolve);
      });
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Opens a page in a new browser context and records console errors,
 * uncaught exceptions and dialogs. Errors that match expected (a
 * function of the text) are kept apart, for the network cut.
 */
export async function openPage(browser, { viewport = { width: 1280, height: 800 }, name }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const record = { name, errors: [], expectedErrors: [], dialogs: [], expect: null };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (record.expect?.(text)) record.expectedErrors.push(text);
    else record.errors.push(text);
  });
  page.on('pageerror', (err) => record.errors.push(`uncaught: ${err.message}`));
  page.on('dialog', async (dialog) => {
    record.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    if (dialog.type() === 'confirm') await dialog.accept();
    else await dialog.dismiss();
  });
  return { context, page, record };
}

export function screenshotDir() {
  const dir = process.env.OPENGUILD_SCREENSHOTS ?? path.join(os.tmpdir(), `openguild-e2e-screens-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
