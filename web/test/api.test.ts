import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError } from '../src/api';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

afterEach(() => vi.unstubAllGlobals());

describe('Api', () => {
  it('sends the bearer token and decodes JSON', async () => {
    const fetchMock = vi.fn(async () => json(200, { id: 'g1' }));
    vi.stubGlobal('fetch', fetchMock);
    const api = new Api({ accessToken: () => 'tok', refresh: async () => false });
    expect(await api.get('/guilds/g1')).toEqual({ id: 'g1' });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/guilds/g1');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
  });

  it('refreshes once on invalid_token and retries with the new token', async () => {
    let token = 'old';
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(json(401, { error: 'invalid_token', message: 'expired' }))
      .mockResolvedValueOnce(json(200, { ok: true }));
    vi.stubGlobal('fetch', fetchMock);
    const refresh = vi.fn(async () => {
      token = 'new';
      return true;
    });
    const api = new Api({ accessToken: () => token, refresh });
    expect(await api.post('/guilds', { name: 'x' })).toEqual({ ok: true });
    expect(refresh).toHaveBeenCalledTimes(1);
    const retry = fetchMock.mock.calls[1][1] as RequestInit;
    expect((retry.headers as Record<string, string>).Authorization).toBe('Bearer new');
    expect(retry.body).toBe(JSON.stringify({ name: 'x' }));
  });

  it('does not refresh for other 401 codes', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'invalid_credentials', message: 'Wrong.' })));
    const refresh = vi.fn(async () => true);
    const api = new Api({ accessToken: () => 'tok', refresh });
    await expect(api.post('/auth/login', {})).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
    expect(refresh).not.toHaveBeenCalled();
  });

  it('turns a 429 into an error with the wait', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(429, { error: 'rate_limited', message: 'Slow down.', retry_after_ms: 7250, scope: 'user' })),
    );
    const api = new Api({ accessToken: () => 'tok', refresh: async () => false });
    const err = (await api.post('/channels/c1/messages', {}).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.retryAfterMs).toBe(7250);
  });

  it('falls back to Retry-After when the body has no wait', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('busy', { status: 429, headers: { 'Retry-After': '3' } })));
    const api = new Api({ accessToken: () => null, refresh: async () => false });
    const err = (await api.get('/x').catch((e) => e)) as ApiError;
    expect(err.code).toBe('http_429');
    expect(err.retryAfterMs).toBe(3000);
  });

  it('reports a network failure as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const api = new Api({ accessToken: () => null, refresh: async () => false });
    const err = (await api.get('/x').catch((e) => e)) as ApiError;
    expect(err.isNetwork).toBe(true);
    expect(err.message).toMatch(/cannot be reached/);
  });

  it('returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    const api = new Api({ accessToken: () => 'tok', refresh: async () => false });
    expect(await api.del('/sessions/s1')).toBeUndefined();
  });
});
