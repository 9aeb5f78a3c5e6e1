// REST client of the homeserver: JSON requests with the bearer token, the
// error envelope turned into ApiError, and one refresh-and-retry on 401.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs = 0,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True when the request never reached the server or got no response. */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

/** The token source of an Api: the current access token and a refresh. */
export interface TokenSource {
  accessToken(): string | null;
  /** Exchanges the refresh token; resolves false when the session is over. */
  refresh(): Promise<boolean>;
}

export async function errorFromResponse(resp: Response): Promise<ApiError> {
  let body: any = null;
  try {
    body = await resp.json();
  } catch {
    // Not the JSON envelope, such as a proxy's error page.
  }
  const code = typeof body?.error === 'string' ? body.error : `http_${resp.status}`;
  const message = typeof body?.message === 'string' ? body.message : `The server returned status ${resp.status}.`;
  let retry = typeof body?.retry_after_ms === 'number' ? body.retry_after_ms : 0;
  if (!retry && resp.status === 429) {
    retry = Number(resp.headers.get('Retry-After') ?? '1') * 1000;
  }
  return new ApiError(resp.status, code, message, retry, Array.isArray(body?.details) ? body.details : []);
}

export const networkError = () =>
  new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');

export class Api {
  constructor(private readonly tokens: TokenSource, private readonly base = '/api/v1') {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let resp = await this.send(method, path, body);
    if (resp.status === 401 && this.tokens.accessToken()) {
      const err = await errorFromResponse(resp.clone());
      if (err.code === 'invalid_token' && (await this.tokens.refresh())) {
        resp = await this.send(method, path, body);
      }
    }
    if (!resp.ok) throw await errorFromResponse(resp);
    if (resp.status === 204) return undefined as T;
    const text = await resp.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Fetches bytes, such as media, with the bearer token. */
  async blob(path: string): Promise<Blob> {
    let resp = await this.send('GET', path);
    if (resp.status === 401 && (await this.tokens.refresh())) resp = await this.send('GET', path);
    if (!resp.ok) throw await errorFromResponse(resp);
    return resp.blob();
  }

  get<T>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body);
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  put<T>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body);
  }
  del<T>(path: string, body?: unknown) {
    return this.request<T>('DELETE', path, body);
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = this.tokens.accessToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch {
      throw networkError();
    }
  }
}
