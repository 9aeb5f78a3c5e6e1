import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  catchUpAfterResume,
  channels,
  deleteOverwrite,
  displayName,
  dmPartnersDeleted,
  endLocalSession,
  findMembers,
  guilds,
  logout,
  mayAssignRole,
  me,
  memberRank,
  members,
  notices,
  onDispatch,
  onReady,
  openChannel,
  outranks,
  presence,
  roles,
  saveOverwrite,
  sendMessage,
  sessionEndNotice,
  session,
  setMemberRole,
  setNickname,
  timelines,
  tokens,
  users,
} from '../src/store';
import { emptyTimeline } from '../src/timeline';
import type { Channel, Dispatch, Member, Message, Ready, User, UserUpdateDispatch } from '../src/types';
import { type Call, CREATED, type Handler, json, message, recordFetch, settle } from './fixtures';

const ALICE: User = { id: 'u-alice', username: 'alice', display_name: 'Alice', created_at: CREATED };
const BOB: User = { id: 'u-bob', username: 'bob', display_name: 'Bob', created_at: CREATED };
const CAROL: User = { id: 'u-carol', username: 'carol', display_name: 'Carol', created_at: CREATED };

function channel(id: string, guildId: string | null, lastSeq: number, recipients?: string[]): Channel {
  return {
    id,
    guild_id: guildId,
    kind: guildId ? 'text' : 'dm',
    name: guildId ? id : '',
    topic: '',
    parent_id: null,
    position: 0,
    last_seq: lastSeq,
    recipient_ids: recipients,
    created_at: CREATED,
  };
}

function ready(): Ready {
  return {
    user: ALICE,
    guilds: [{ id: 'g1', name: 'Guild', last_seq: 4, channels: [channel('c1', 'g1', 10), channel('c2', 'g1', 3)] }],
    dms: [channel('d1', null, 2, [ALICE.id, BOB.id])],
    read_state: {},
    unread: {},
    presences: [],
    session_id: 's',
  };
}

function member(user: User, over: Partial<Member> = {}): Member {
  return { guild_id: 'g1', user, nickname: null, role_ids: [], joined_at: CREATED, ...over };
}

function role(id: string, position: number) {
  return { id, guild_id: 'g1', name: id, permissions: '0', position, managed: false };
}

const userUpdate = (d: User): UserUpdateDispatch => ({ op: 'dispatch', t: 'user_update', d });
const guildEvent = (t: string, seq: number, d: unknown): Dispatch => ({ op: 'dispatch', t, channel_id: 'g1', guild_id: 'g1', seq, d });
const messageCreate = (seq: number, m: Message): Dispatch => ({ op: 'dispatch', t: 'message_create', channel_id: 'c1', guild_id: 'g1', seq, d: m });

let handler: Handler;
let calls: Call[];

beforeEach(() => {
  handler = () => new Response(null, { status: 204 });
  calls = recordFetch((method, path, body) => handler(method, path, body));
  onReady(ready());
  guilds.value = { g1: { id: 'g1', name: 'Guild', owner_id: CAROL.id } };
  members.value = { g1: { [ALICE.id]: member(ALICE), [BOB.id]: member(BOB), [CAROL.id]: member(CAROL) } };
  users.value = { [ALICE.id]: ALICE, [BOB.id]: BOB, [CAROL.id]: CAROL };
  roles.value = { g1: [role('g1', 0), role('r-low', 1), role('r-high', 2)] };
  timelines.value = { c1: { ...emptyTimeline(), loaded: true } };
  calls.length = 0;
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('user_update', () => {
  it('renames the user in members, authors and DMs', () => {
    onDispatch(userUpdate({ ...BOB, display_name: 'Robert' }));
    expect(displayName(BOB.id, 'g1')).toBe('Robert');
    expect(displayName(BOB.id)).toBe('Robert');
    expect(members.value.g1[BOB.id].user.display_name).toBe('Robert');
    expect(users.value[BOB.id].display_name).toBe('Robert');
  });

  it('keeps a nickname ahead of the new name', () => {
    members.value = { g1: { ...members.value.g1, [BOB.id]: member(BOB, { nickname: 'Bobby' }) } };
    onDispatch(userUpdate({ ...BOB, display_name: 'Robert' }));
    expect(displayName(BOB.id, 'g1')).toBe('Bobby');
    expect(members.value.g1[BOB.id].nickname).toBe('Bobby');
    expect(displayName(BOB.id)).toBe('Robert');
  });

  it('updates the own user', () => {
    onDispatch(userUpdate({ ...ALICE, display_name: 'Alice B.' }));
    expect(me.value?.display_name).toBe('Alice B.');
    expect(me.value?.username).toBe('alice');
  });

  it('sends no request and leaves seq tracking alone', async () => {
    onDispatch(userUpdate({ ...BOB, display_name: 'Robert' }));
    await settle();
    expect(calls).toEqual([]);
    onDispatch(messageCreate(11, message(11, { author_id: BOB.id })));
    onDispatch(messageCreate(11, message(11, { author_id: BOB.id })));
    onDispatch(messageCreate(12, message(12, { author_id: BOB.id })));
    expect(timelines.value.c1.messages.map((m) => m.seq)).toEqual([11, 12]);
  });

  it('shows a deleted account as Deleted user', () => {
    onDispatch(userUpdate({ id: BOB.id, username: 'deleted-user', display_name: 'Deleted user', created_at: CREATED, deleted: true }));
    expect(displayName(BOB.id)).toBe('Deleted user');
    expect(users.value[BOB.id].deleted).toBe(true);
    expect(me.value?.id).toBe(ALICE.id);
  });

  it('shows a deleted account offline', () => {
    presence.value = { ...presence.value, [BOB.id]: 'online' };
    onDispatch(userUpdate({ ...BOB, deleted: true }));
    expect(presence.value[BOB.id]).toBe('offline');
  });

  it('marks a DM whose partners are all deleted', () => {
    const dm = channels.value.d1;
    expect(dmPartnersDeleted(dm)).toBe(false);
    onDispatch(userUpdate({ ...BOB, deleted: true }));
    expect(dmPartnersDeleted(dm)).toBe(true);
    expect(dmPartnersDeleted(channel('d2', null, 1, [BOB.id, CAROL.id]))).toBe(false);
    expect(dmPartnersDeleted(channels.value.c1)).toBe(false);
  });

  it('ends the local session for the own deleted account', () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    session.set({
      access_token: 'token',
      access_expires_at: expires,
      refresh_token: '',
      refresh_expires_at: expires,
      session_id: 's',
      user: ALICE,
    });
    expect(tokens.value).not.toBeNull();
    onDispatch(userUpdate({ id: ALICE.id, username: 'deleted-user', display_name: 'Deleted user', created_at: CREATED, deleted: true }));
    expect(tokens.value).toBeNull();
    expect(me.value).toBeNull();
    expect(members.value).toEqual({});
    expect(localStorage.getItem('openguild.tokens')).toBeNull();
  });
});

describe('session end notice', () => {
  const signIn = () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    session.set({ access_token: 'token', access_expires_at: expires, refresh_token: '', refresh_expires_at: expires, session_id: 's', user: ALICE });
  };

  it('tells why a session ended elsewhere', () => {
    signIn();
    // As the gateway does on close 4011, and a refresh on 401.
    session.clear();
    expect(sessionEndNotice.value).toBe('Your session ended. Log in again.');
  });

  it('stays quiet after a logout here', async () => {
    signIn();
    sessionEndNotice.value = null;
    await logout();
    expect(tokens.value).toBeNull();
    expect(sessionEndNotice.value).toBeNull();
  });

  it('names a deleted account after the gateway ended the session', () => {
    signIn();
    session.clear();
    endLocalSession('Your account has been deleted.');
    expect(sessionEndNotice.value).toBe('Your account has been deleted.');
  });

  it('names a deleted account', () => {
    signIn();
    onDispatch(userUpdate({ ...ALICE, deleted: true }));
    expect(sessionEndNotice.value).toBe('Your account has been deleted.');
  });
});

describe('member_update', () => {
  it('shows a new nickname at once', () => {
    onDispatch(guildEvent('member_update', 5, member(BOB, { nickname: 'Bobby' })));
    expect(displayName(BOB.id, 'g1')).toBe('Bobby');
    expect(displayName(BOB.id)).toBe('Bob');
  });

  it('refetches no channels for an own nickname', async () => {
    onDispatch(guildEvent('member_update', 5, member(ALICE, { nickname: 'Al' })));
    await settle();
    expect(displayName(ALICE.id, 'g1')).toBe('Al');
    expect(calls).toEqual([]);
  });

  it('refetches the channels for an own role change', async () => {
    handler = (_method, path) => (path === '/api/v1/guilds/g1/channels' ? json([channel('c1', 'g1', 10)]) : new Response(null, { status: 204 }));
    onDispatch(guildEvent('member_update', 5, member(ALICE, { role_ids: ['r-low'] })));
    await settle();
    expect(calls.map((c) => c.path)).toContain('/api/v1/guilds/g1/channels');
  });
});

describe('setNickname', () => {
  it('sets the own nickname through @me', async () => {
    handler = () => json(member(ALICE, { nickname: 'Al' }));
    await setNickname('g1', ALICE.id, 'Al');
    expect(calls).toEqual([{ method: 'PATCH', path: '/api/v1/guilds/g1/members/@me', body: { nickname: 'Al' } }]);
    expect(displayName(ALICE.id, 'g1')).toBe('Al');
  });

  it("sets another member's nickname by id", async () => {
    handler = () => json(member(BOB, { nickname: 'Bobby' }));
    await setNickname('g1', BOB.id, 'Bobby');
    expect(calls[0].path).toBe('/api/v1/guilds/g1/members/u-bob');
    expect(displayName(BOB.id, 'g1')).toBe('Bobby');
  });

  it('clears with null', async () => {
    members.value = { g1: { ...members.value.g1, [BOB.id]: member(BOB, { nickname: 'Bobby' }) } };
    handler = () => json(member(BOB));
    await setNickname('g1', BOB.id, null);
    expect(calls[0].body).toEqual({ nickname: null });
    expect(displayName(BOB.id, 'g1')).toBe('Bob');
  });

  it('rejects with the server error', async () => {
    handler = () => json({ error: 'forbidden', message: 'You lack the permission.' }, 403);
    await expect(setNickname('g1', BOB.id, 'x')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(displayName(BOB.id, 'g1')).toBe('Bob');
  });
});

describe('ranks', () => {
  it('ranks members by their highest role', () => {
    members.value = { g1: { ...members.value.g1, [ALICE.id]: member(ALICE, { role_ids: ['r-high', 'r-low'] }) } };
    expect(memberRank('g1', ALICE.id)).toBe(2);
    expect(memberRank('g1', BOB.id)).toBe(0);
    expect(memberRank('g1', CAROL.id)).toBe(Infinity);
    expect(outranks('g1', BOB.id)).toBe(true);
  });

  it('needs a strictly higher rank', () => {
    expect(outranks('g1', BOB.id)).toBe(false);
    expect(outranks('g1', ALICE.id)).toBe(false);
  });

  it('lets nobody outrank the owner and the owner outrank everyone', () => {
    members.value = { g1: { ...members.value.g1, [ALICE.id]: member(ALICE, { role_ids: ['r-high'] }) } };
    expect(outranks('g1', CAROL.id)).toBe(false);
    guilds.value = { g1: { id: 'g1', name: 'Guild', owner_id: ALICE.id } };
    expect(outranks('g1', CAROL.id)).toBe(true);
  });

  it('is unknown until roles are loaded', () => {
    roles.value = {};
    expect(memberRank('g1', BOB.id)).toBeNull();
    expect(outranks('g1', BOB.id)).toBe(false);
  });
});

describe('member roles', () => {
  const MANAGE_ROLES = String(1 << 9);
  const roleAt = (id: string, position: number, permissions = '0') => ({ ...role(id, position), permissions });

  beforeEach(() => {
    roles.value = { g1: [role('g1', 0), roleAt('r-low', 1), roleAt('r-mid', 2, MANAGE_ROLES), roleAt('r-top', 3)] };
    members.value = { g1: { ...members.value.g1, [ALICE.id]: member(ALICE, { role_ids: ['r-mid'] }) } };
  });

  it('may assign only roles below the own highest', () => {
    const [everyone, low, mid, top] = roles.value.g1;
    expect(mayAssignRole('g1', low)).toBe(true);
    expect(mayAssignRole('g1', mid)).toBe(false);
    expect(mayAssignRole('g1', top)).toBe(false);
    expect(mayAssignRole('g1', everyone)).toBe(false);
  });

  it('needs MANAGE_ROLES', () => {
    members.value = { g1: { ...members.value.g1, [ALICE.id]: member(ALICE, { role_ids: ['r-top'] }) } };
    expect(mayAssignRole('g1', roles.value.g1[1])).toBe(false);
  });

  it('lets the owner assign every role but @everyone', () => {
    guilds.value = { g1: { id: 'g1', name: 'Guild', owner_id: ALICE.id } };
    const [everyone, ...others] = roles.value.g1;
    expect(others.map((r) => mayAssignRole('g1', r))).toEqual([true, true, true]);
    expect(mayAssignRole('g1', everyone)).toBe(false);
  });

  it('gives and takes a role through the member path', async () => {
    await setMemberRole('g1', BOB.id, 'r-low', true);
    expect(members.value.g1[BOB.id].role_ids).toEqual(['r-low']);
    await setMemberRole('g1', BOB.id, 'r-low', false);
    expect(members.value.g1[BOB.id].role_ids).toEqual([]);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'PUT /api/v1/guilds/g1/members/u-bob/roles/r-low',
      'DELETE /api/v1/guilds/g1/members/u-bob/roles/r-low',
    ]);
  });

  it('keeps the roles when the server rejects', async () => {
    handler = () => json({ error: 'forbidden', message: 'You cannot manage this role.' }, 403);
    await expect(setMemberRole('g1', BOB.id, 'r-top', true)).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(members.value.g1[BOB.id].role_ids).toEqual([]);
  });

  it('changes nothing more when the dispatch follows', async () => {
    await setMemberRole('g1', BOB.id, 'r-low', true);
    onDispatch(guildEvent('member_update', 5, member(BOB, { role_ids: ['r-low'] })));
    expect(members.value.g1[BOB.id].role_ids).toEqual(['r-low']);
  });
});

describe('findMembers', () => {
  beforeEach(() => {
    members.value = { g1: { ...members.value.g1, [BOB.id]: member(BOB, { nickname: 'Zed' }) } };
  });

  it('matches nickname, display name and user name ignoring case', () => {
    expect(findMembers('g1', 'zed').map((m) => m.user.id)).toEqual([BOB.id]);
    expect(findMembers('g1', 'BOB').map((m) => m.user.id)).toEqual([BOB.id]);
    expect(findMembers('g1', 'aro').map((m) => m.user.id)).toEqual([CAROL.id]);
    expect(findMembers('g1', 'nobody')).toEqual([]);
  });

  it('lists everyone by shown name for an empty query', () => {
    expect(findMembers('g1', '  ').map((m) => m.user.id)).toEqual([ALICE.id, CAROL.id, BOB.id]);
  });
});

describe('overwrites', () => {
  it('saves a member overwrite with decimal strings', async () => {
    await saveOverwrite('c1', { target_id: BOB.id, type: 'member', allow: '0', deny: '1' });
    expect(calls).toEqual([{ method: 'PUT', path: '/api/v1/channels/c1/permissions/u-bob', body: { type: 'member', allow: '0', deny: '1' } }]);
  });

  it('deletes by target id', async () => {
    await deleteOverwrite('c1', BOB.id);
    expect(calls).toEqual([{ method: 'DELETE', path: '/api/v1/channels/c1/permissions/u-bob', body: undefined }]);
  });
});

describe('a channel the server hides', () => {
  it('is dropped on a 404 when opened', async () => {
    handler = () => json({ error: 'not_found', message: 'Not found.' }, 404);
    await openChannel('c2');
    await settle();
    expect(channels.value.c2).toBeUndefined();
    expect(channels.value.c1).toBeDefined();
  });

  it('is dropped with a notice when a send gets 404', async () => {
    handler = () => json({ error: 'not_found', message: 'The requested resource does not exist.' }, 404);
    sendMessage('c2', 'into the void', null);
    await settle();
    await settle();
    expect(channels.value.c2).toBeUndefined();
    expect(notices.value.map((n) => n.text)).toContain('That channel was deleted or you can no longer see it.');
  });

  it('stays on other errors', async () => {
    handler = () => json({ error: 'forbidden', message: 'No history.' }, 403);
    await openChannel('c2');
    await settle();
    expect(channels.value.c2).toBeDefined();
  });
});

describe('resume catch-up', () => {
  it('reads again the names that user_update would have changed', async () => {
    const DAVE: User = { id: 'u-dave', username: 'dave', display_name: 'Dave', created_at: CREATED };
    channels.value = { ...channels.value, d2: channel('d2', null, 1, [DAVE.id]) };
    users.value = { ...users.value, [DAVE.id]: DAVE };
    handler = (_method, path) => {
      if (path === '/api/v1/guilds') return json([{ id: 'g1', name: 'Guild', owner_id: CAROL.id }]);
      if (path === '/api/v1/dms') return json([]);
      if (path === '/api/v1/guilds/g1/channels') return json([channel('c1', 'g1', 10), channel('c2', 'g1', 3)]);
      if (path.startsWith('/api/v1/guilds/g1/members')) return json([member(ALICE), member({ ...BOB, display_name: 'Robert' }), member(CAROL)]);
      if (path === '/api/v1/users/u-dave') return json({ ...DAVE, display_name: 'David' });
      return new Response(null, { status: 204 });
    };
    await catchUpAfterResume();
    expect(displayName(BOB.id, 'g1')).toBe('Robert');
    expect(displayName(BOB.id)).toBe('Robert');
    expect(displayName(DAVE.id)).toBe('David');
    // Bob is in a loaded member list, so the DM with him needs no request of its own.
    expect(calls.filter((c) => c.path === '/api/v1/users/u-bob')).toEqual([]);
  });
});
