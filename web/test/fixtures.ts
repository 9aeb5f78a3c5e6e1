import { vi } from 'vitest';
import type { Message } from '../src/types';

/** The creation time the fixtures give users, channels and messages. */
export const CREATED = '2025-01-01T00:00:00.000Z';

/** Returns a message of channel c1 at seq, sent seq seconds after CREATED. */
export function message(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    channel_id: 'c1',
    seq,
    author_id: 'u-bob',
    content: `message ${seq}`,
    nonce: null,
    reply_to: null,
    attachments: [],
    reactions: [],
    mentions: { users: [], roles: [], everyone: false },
    created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
    edited_at: null,
    ...over,
  };
}

/** Returns a JSON response with the given status. */
export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** Lets pending promise chains settle. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

export type Call = { method: string; path: string; body: unknown };
export type Handler = (method: string, path: string, body: unknown) => Response | Promise<Response>;

/**
 * Replaces fetch with a stub that records every call, its JSON body
 * parsed, and responds through respond. Returns the list of calls.
 */
export function recordFetch(respond: Handler): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path: url, body });
    return respond(method, url, body);
  });
  return calls;
}
