import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api';
import { browserClock, deviceName, refreshDelay, Session, REFRESH_RETRY_MS } from '../src/auth';
import type { Tokens } from '../src/types';

class MemoryStore {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

const MINUTE = 60_000;

function tokens(n: number, accessLifetimeMs = 15 * MINUTE): Tokens {
  return {
    access_token: `access-${n}`,
    access_expires_at: new Date(Date.now() + accessLifetimeMs).toISOString(),
    refresh_token: `refresh-${n}`,
    refresh_expires_at: new Date(Date.now() + 30 * 24 * 60 * MINUTE).toISOString(),
    session_id: 's1',
    user: { id: 'u1', username: 'alice', display_name: 'Alice', created_at: '2025-01-01T00:00:00.000Z' },
  };
}

describe('refreshDelay', () => {
  it('refreshes a minute before a 15-minute token expires', () => {
    expect(refreshDelay(15 * MINUTE, 0)).toBe(14 * MINUTE);
  });
  it('refreshes at four fifths of a short lifetime', () => {
    expect(refreshDelay(100_000, 0)).toBe(80_000);
  });
  it('refreshes at once when the token has expired', () => {
    expect(refreshDelay(1000, 5000)).toBe(0);
  });
});

describe('Session', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-06-01T12:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refreshes silently before the access token expires', async () => {
    const store = new MemoryStore();
    let n = 1;
    const refresh = vi.fn(async () => tokens(++n));
    const session = new Session(store, refresh, browserClock);
    session.set(tokens(1));

    await vi.advanceTimersByTimeAsync(14 * MINUTE - 1000);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2000);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith('refresh-1', expect.any(String));
    expect(session.accessToken()).toBe('access-2');
    expect(JSON.parse(store.getItem('openguild.tokens')!).refresh_token).toBe('refresh-2');

    // The new pair schedules the next refresh.
    await vi.advanceTimersByTimeAsync(14 * MINUTE + 1000);
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(session.accessToken()).toBe('access-3');
  });

  it('shares one request between concurrent refreshes', async () => {
    let resolve!: (t: Tokens) => void;
    const refresh = vi.fn(() => new Promise<Tokens>((r) => (resolve = r)));
    const session = new Session(new MemoryStore(), refresh, browserClock);
    session.set(tokens(1));
    const a = session.refresh();
    const b = session.refresh();
    resolve(tokens(2));
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('ends the session when the refresh token is rejected', async () => {
    const refresh = vi.fn(async () => {
      throw new ApiError(401, 'invalid_refresh_token', 'no');
    });
    const session = new Session(new MemoryStore(), refresh, browserClock);
    const seen: (Tokens | null)[] = [];
    session.subscribe((t) => seen.push(t));
    session.set(tokens(1));
    expect(await session.refresh()).toBe(false);
    expect(session.tokens).toBeNull();
    expect(seen.at(-1)).toBeNull();
  });

  it('retries after a network failure and keeps the pair', async () => {
    let fail = true;
    const refresh = vi.fn(async () => {
      if (fail) throw new ApiError(0, 'network', 'down');
      return tokens(2);
    });
    const session = new Session(new MemoryStore(), refresh, browserClock);
    session.set(tokens(1));
    expect(await session.refresh()).toBe(false);
    expect(session.accessToken()).toBe('access-1');
    fail = false;
    await vi.advanceTimersByTimeAsync(REFRESH_RETRY_MS + 10);
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(session.accessToken()).toBe('access-2');
  });

  it('adopts a pair that another tab refreshed instead of reusing the old token', async () => {
    const store = new MemoryStore();
    const refresh = vi.fn(async () => tokens(99));
    const session = new Session(store, refresh, browserClock);
    session.set(tokens(1));
    // Another tab exchanged refresh-1 and stored the new pair.
    store.setItem('openguild.tokens', JSON.stringify(tokens(2)));
    expect(await session.refresh()).toBe(true);
    expect(refresh).not.toHaveBeenCalled();
    expect(session.accessToken()).toBe('access-2');
  });

  it('refreshes through the cookie when the pair holds no refresh token', async () => {
    const store = new MemoryStore();
    const refresh = vi.fn(async () => ({ ...tokens(2), refresh_token: '' }));
    const session = new Session(store, refresh, browserClock);
    session.set({ ...tokens(1), refresh_token: '' });
    expect(await session.refresh()).toBe(true);
    expect(refresh).toHaveBeenCalledWith('', expect.any(String));
    expect(session.accessToken()).toBe('access-2');
    expect(store.getItem('openguild.tokens')).not.toContain('refresh-');
  });

  it('adopts another tab\'s pair in cookie mode by its access token', async () => {
    const store = new MemoryStore();
    const refresh = vi.fn(async () => tokens(99));
    const session = new Session(store, refresh, browserClock);
    session.set({ ...tokens(1), refresh_token: '' });
    vi.advanceTimersByTime(1000);
    store.setItem('openguild.tokens', JSON.stringify({ ...tokens(2), refresh_token: '' }));
    expect(await session.refresh()).toBe(true);
    expect(refresh).not.toHaveBeenCalled();
    expect(session.accessToken()).toBe('access-2');
  });

  it('loads a stored pair and schedules its refresh', async () => {
    const store = new MemoryStore();
    store.setItem('openguild.tokens', JSON.stringify(tokens(1, 2 * MINUTE)));
    const refresh = vi.fn(async () => tokens(2));
    const session = new Session(store, refresh, browserClock);
    expect(session.accessToken()).toBe('access-1');
    // Two minutes left: the refresh runs at four fifths, after 96 s.
    await vi.advanceTimersByTimeAsync(95_000);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2000);
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});

describe('deviceName', () => {
  it('names browser and system', () => {
    expect(deviceName('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36')).toBe('Chrome on Linux');
    expect(deviceName('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0')).toBe('Firefox on Windows');
    expect(deviceName('')).toBe('Browser on an unknown system');
  });
});
