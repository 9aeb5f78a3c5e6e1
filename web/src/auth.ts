// Login session of the browser: the token pair in storage, a refresh
// shortly before the access token expires, and one refresh at a time.

import { ApiError } from './api';
import type { Tokens } from './types';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const TOKENS_KEY = 'openguild.tokens';
const DEVICE_KEY = 'openguild.device_id';

/** How long before the access token's expiry the refresh runs, at most. */
export const REFRESH_MARGIN_MS = 60_000;
/** Wait before retrying a refresh that failed for lack of network. */
export const REFRESH_RETRY_MS = 5_000;

/**
 * Returns the delay before refreshing a token that expires at expiresAt:
 * one minute before expiry, or at four fifths of a shorter remaining
 * lifetime, and never negative.
 */
export function refreshDelay(expiresAt: number, now: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return Math.max(0, remaining - Math.min(REFRESH_MARGIN_MS, remaining / 5));
}

/** Returns this browser's device id, creating and storing one on first use. */
export function deviceId(store: KeyValueStore): string {
  let id = store.getItem(DEVICE_KEY);
  if (!id) {
    id = crypto.randomUUID();
    store.setItem(DEVICE_KEY, id);
  }
  return id;
}

/** Returns a session list label such as "Chrome on Linux". */
export function deviceName(userAgent: string): string {
  const browser =
    /Edg\//.test(userAgent) ? 'Edge'
    : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome'
    : /Safari\//.test(userAgent) ? 'Safari'
    : 'Browser';
  const os =
    /Android/.test(userAgent) ? 'Android'
    : /iPhone|iPad/.test(userAgent) ? 'iOS'
    : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X/.test(userAgent) ? 'macOS'
    : /Linux/.test(userAgent) ? 'Linux'
    : 'an unknown system';
  return `${browser} on ${os}`;
}

export type RefreshFn = (refreshToken: string, deviceId: string) => Promise<Tokens>;

/**
 * Session keeps the token pair, persists it, and refreshes it silently.
 * Several tabs share the stored pair. Before refreshing, a tab adopts a
 * newer pair that another tab stored, so tabs do not refresh one after
 * another. No tab then presents a refresh token that was already
 * exchanged, which would end the session on the server. With the refresh
 * cookie the stored refresh_token is "", and pairs differ by access token.
 */
export class Session {
  private current: Tokens | null;
  private timer: unknown = null;
  private inFlight: Promise<boolean> | null = null;
  private listeners = new Set<(tokens: Tokens | null) => void>();

  constructor(
    private readonly store: KeyValueStore,
    private readonly refreshFn: RefreshFn,
    private readonly clock: Clock = browserClock,
  ) {
    this.current = this.load();
    if (this.current) this.schedule();
  }

  get tokens(): Tokens | null {
    return this.current;
  }

  accessToken(): string | null {
    return this.current?.access_token ?? null;
  }

  subscribe(fn: (tokens: Tokens | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Stores a new pair from login or refresh and schedules its refresh. */
  set(tokens: Tokens): void {
    this.current = tokens;
    this.store.setItem(TOKENS_KEY, JSON.stringify(tokens));
    this.schedule();
    this.emit();
  }

  /** Forgets the pair, as after logout or an ended session. */
  clear(): void {
    this.cancel();
    this.current = null;
    this.store.removeItem(TOKENS_KEY);
    this.emit();
  }

  /** Picks up a pair that another tab stored. */
  syncFromStore(): void {
    const stored = this.load();
    if (stored?.access_token === this.current?.access_token) return;
    if (!stored) {
      this.cancel();
      this.current = null;
    } else {
      this.current = stored;
      this.schedule();
    }
    this.emit();
  }

  /**
   * Exchanges the refresh token for a new pair. Concurrent calls share one
   * request. Resolves true with a usable access token, false when the
   * session is over (the pair is then cleared) or the network is down
   * (a retry is then scheduled).
   */
  refresh(): Promise<boolean> {
    if (!this.inFlight) {
      this.inFlight = this.doRefresh().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async doRefresh(): Promise<boolean> {
    const stored = this.load();
    if (stored && this.current && isNewer(stored, this.current)) {
      this.current = stored;
      this.emit();
      if (Date.parse(stored.access_expires_at) - this.clock.now() > REFRESH_MARGIN_MS) {
        this.schedule();
        return true;
      }
    }
    const tokens = this.current;
    if (!tokens) return false;

    try {
      this.set(await this.refreshFn(tokens.refresh_token, deviceId(this.store)));
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.clear();
        return false;
      }
      this.cancel();
      this.timer = this.clock.setTimeout(() => void this.refresh(), REFRESH_RETRY_MS);
      return false;
    }
  }

  private schedule(): void {
    this.cancel();
    if (!this.current) return;
    const delay = refreshDelay(Date.parse(this.current.access_expires_at), this.clock.now());
    this.timer = this.clock.setTimeout(() => void this.refresh(), delay);
  }

  private cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private load(): Tokens | null {
    try {
      const raw = this.store.getItem(TOKENS_KEY);
      return raw ? (JSON.parse(raw) as Tokens) : null;
    } catch {
      return null;
    }
  }

  private emit(): void {
    for (const fn of this.listeners) fn(this.current);
  }
}

function isNewer(candidate: Tokens, current: Tokens): boolean {
  return (
    candidate.access_token !== current.access_token &&
    Date.parse(candidate.access_expires_at) >= Date.parse(current.access_expires_at)
  );
}
