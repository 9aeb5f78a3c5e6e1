import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ALL_PERMISSIONS, MANAGE_CHANNELS_BIT } from '../src/permissions';
import {
  displayName,
  guildPermissions,
  guilds,
  holdsPermission,
  members,
  onReady,
  retryUnreachedSends,
  roles,
  sendMessage,
  timelines,
  users,
} from '../src/store';
import { emptyTimeline, thumbnailSize } from '../src/timeline';
import type { Channel, Message, Ready } from '../src/types';
import { type Call, type Handler, json, recordFetch, settle } from './fixtures';

const ALICE = { id: 'u-alice', username: 'alice', display_name: 'Alice', created_at: '2025-01-01T00:00:00.000Z' };
const CAROL = { id: 'u-carol', username: 'carol', display_name: 'Carol', created_at: '2025-01-01T00:00:00.000Z' };

function dm(id: string, recipients: string[]): Channel {
  return {
    id,
    guild_id: null,
    kind: 'dm',
    name: '',
    topic: '',
    parent_id: null,
    position: 0,
    last_seq: 3,
    recipient_ids: recipients,
    created_at: '2025-01-01T00:00:00.000Z',
  };
}

function ready(dms: Channel[]): Ready {
  return { user: ALICE, guilds: [], dms, read_state: {}, unread: {}, presences: [], session_id: 's' };
}

let handler: Handler;
let calls: Call[];

beforeEach(() => {
  handler = () => new Response(null, { status: 204 });
  calls = recordFetch((method, path, body) => handler(method, path, body));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('DM partners', () => {
  it('fetches unknown DM recipients after ready', async () => {
    users.value = {};
    handler = (_method, path) => (path === '/api/v1/users/u-carol' ? json(CAROL) : new Response(null, { status: 204 }));
    onReady(ready([dm('d1', [ALICE.id, CAROL.id])]));
    expect(displayName(CAROL.id)).toBe('Unknown user');
    await settle();
    await settle();
    expect(displayName(CAROL.id)).toBe('Carol');
    expect(calls.filter((c) => c.path === '/api/v1/users/u-alice')).toEqual([]);
  });
});

describe('sends that could not reach the server', () => {
  it('are retried with the same nonce on reconnect', async () => {
    onReady(ready([dm('d2', [ALICE.id, CAROL.id])]));
    timelines.value = { ...timelines.value, d2: { ...emptyTimeline(), loaded: true } };

    handler = () => {
      throw new TypeError('Failed to fetch');
    };
    sendMessage('d2', 'written offline', null);
    await settle();
    await settle();
    const failed = timelines.value.d2.pending[0];
    expect(failed.status).toBe('failed');
    expect(failed.network).toBe(true);
    expect(failed.error).toMatch(/by itself/);

    handler = (method, path, body) => {
      if (method === 'POST' && path === '/api/v1/channels/d2/messages') {
        const b = body as { content: string; nonce: string };
        const msg: Message = {
          id: 'm1',
          channel_id: 'd2',
          seq: 4,
          author_id: ALICE.id,
          content: b.content,
          nonce: b.nonce,
          reply_to: null,
          attachments: [],
          reactions: [],
          mentions: { users: [], roles: [], everyone: false },
          created_at: '2025-01-01T00:00:00.000Z',
          edited_at: null,
        };
        return json(msg, 201);
      }
      return new Response(null, { status: 204 });
    };
    retryUnreachedSends();
    await settle();
    await settle();
    await settle();
    const posts = calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/channels/d2/messages');
    expect(posts).toHaveLength(2);
    expect((posts[1].body as { nonce: string }).nonce).toBe((posts[0].body as { nonce: string }).nonce);
    expect(timelines.value.d2.pending).toEqual([]);
    expect(timelines.value.d2.messages.map((m) => m.content)).toEqual(['written offline']);
  });

  it('leave a refused send for manual retry', async () => {
    onReady(ready([dm('d3', [ALICE.id, CAROL.id])]));
    timelines.value = { ...timelines.value, d3: { ...emptyTimeline(), loaded: true } };
    handler = (method) =>
      method === 'POST' ? json({ error: 'missing_permission', message: 'You cannot send here.' }, 403) : new Response(null, { status: 204 });
    sendMessage('d3', 'refused', null);
    await settle();
    await settle();
    retryUnreachedSends();
    await settle();
    const posts = calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/channels/d3/messages');
    expect(posts).toHaveLength(1);
    expect(timelines.value.d3.pending[0]).toMatchObject({ status: 'failed', network: false, error: 'You cannot send here.' });
  });
});

describe('thumbnail sizes', () => {
  it('scales down into the box keeping the aspect ratio, as the server does', () => {
    expect(thumbnailSize(320, 200)).toEqual({ width: 256, height: 160 });
    expect(thumbnailSize(200, 1000)).toEqual({ width: 51, height: 256 });
    expect(thumbnailSize(1000, 1000)).toEqual({ width: 256, height: 256 });
    expect(thumbnailSize(5000, 3)).toEqual({ width: 256, height: 1 });
  });

  it('never scales up, and knows no size without dimensions', () => {
    expect(thumbnailSize(100, 40)).toEqual({ width: 100, height: 40 });
    expect(thumbnailSize(undefined, 40)).toBeNull();
    expect(thumbnailSize(0, 0)).toBeNull();
  });
});

describe('guildPermissions', () => {
  function readyWithGuild(ownerId: string): void {
    onReady({ ...ready([]), guilds: [{ id: 'g9', name: 'G', last_seq: 1, channels: [] }] });
    guilds.value = { g9: { id: 'g9', name: 'G', owner_id: ownerId } };
  }
  const member = (roleIds: string[]) => ({ g9: { [ALICE.id]: { user: ALICE, nickname: null, role_ids: roleIds, joined_at: '' } } });
  const role = (id: string, permissions: string) => ({ id, guild_id: 'g9', name: id, permissions, position: 0, managed: false });

  it('is unknown until roles and members are loaded', () => {
    readyWithGuild('u-other');
    members.value = {};
    roles.value = {};
    expect(guildPermissions('g9')).toBeNull();
    expect(holdsPermission('g9', MANAGE_CHANNELS_BIT)).toBe(false);
  });

  it('joins @everyone and the member roles', () => {
    readyWithGuild('u-other');
    members.value = member(['r-mod']);
    roles.value = { g9: [role('g9', '3'), role('r-mod', String(1 << MANAGE_CHANNELS_BIT)), role('r-other', String(1 << 12))] };
    expect(holdsPermission('g9', MANAGE_CHANNELS_BIT)).toBe(true);
    expect(holdsPermission('g9', 1)).toBe(true);
    expect(holdsPermission('g9', 12)).toBe(false);
  });

  it('grants everything to the owner and to ADMINISTRATOR', () => {
    readyWithGuild(ALICE.id);
    members.value = {};
    roles.value = {};
    expect(guildPermissions('g9')).toBe(ALL_PERMISSIONS);
    readyWithGuild('u-other');
    members.value = member(['r-admin']);
    roles.value = { g9: [role('g9', '0'), role('r-admin', (1n << 40n).toString())] };
    expect(guildPermissions('g9')).toBe(ALL_PERMISSIONS);
  });
});
