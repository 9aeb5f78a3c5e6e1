import { beforeEach, describe, expect, it } from 'vitest';
import { onDispatch, onReady, timelines, unread } from '../src/store';
import { emptyTimeline } from '../src/timeline';
import type { Channel, Dispatch, Ready } from '../src/types';
import { message } from './fixtures';

const ALICE = { id: 'u-alice', username: 'alice', display_name: 'Alice', created_at: '2025-01-01T00:00:00.000Z' };
const BOB = 'u-bob';

function channel(id: string, lastSeq: number): Channel {
  return {
    id,
    guild_id: 'g1',
    kind: 'text',
    name: id,
    topic: '',
    parent_id: null,
    position: 0,
    last_seq: lastSeq,
    created_at: '2025-01-01T00:00:00.000Z',
  };
}

function ready(): Ready {
  return {
    user: ALICE,
    guilds: [{ id: 'g1', name: 'Guild', last_seq: 2, channels: [channel('c1', 10), channel('c2', 5)] }],
    dms: [],
    read_state: { c1: 9, c2: 5 },
    unread: { c1: { messages: 1, mentions: 0 } },
    presences: [],
    session_id: 's',
  };
}

function dispatch(t: string, seq: number, d: unknown, channelId = 'c1'): Dispatch {
  return { op: 'dispatch', t, channel_id: channelId, guild_id: 'g1', seq, d };
}

describe('store dispatch handling', () => {
  beforeEach(() => {
    onReady(ready());
    timelines.value = { c1: { ...emptyTimeline(), loaded: true } };
  });

  it('applies a message once when a resume replays it', () => {
    onDispatch(dispatch('message_create', 11, message(11)));
    onDispatch(dispatch('message_create', 12, message(12)));
    // The connection drops; the resume replays from the last position the
    // client named, and a page fetched meanwhile overlaps too.
    onDispatch(dispatch('message_create', 11, message(11)));
    onDispatch(dispatch('message_create', 12, message(12)));
    onDispatch(dispatch('message_create', 13, message(13)));
    expect(timelines.value.c1.messages.map((m) => m.seq)).toEqual([11, 12, 13]);
    expect(unread.value.c1).toEqual({ messages: 4, mentions: 0 });
  });

  it('ignores dispatches at or below the position from ready', () => {
    onDispatch(dispatch('message_create', 10, message(10)));
    expect(timelines.value.c1.messages).toEqual([]);
    expect(unread.value.c1).toEqual({ messages: 1, mentions: 0 });
  });

  it('counts mentions of the user and not their own messages', () => {
    onDispatch(dispatch('message_create', 11, message(11, { mentions: { users: [ALICE.id], roles: [], everyone: false } })));
    onDispatch(dispatch('message_create', 12, message(12, { author_id: ALICE.id })));
    expect(unread.value.c1).toEqual({ messages: 2, mentions: 1 });
  });

  it('drops a message whose replayed create is a tombstone', () => {
    onDispatch(dispatch('message_create', 11, message(11)));
    onDispatch(dispatch('message_update', 12, { id: 'm11', channel_id: 'c1', deleted: true }));
    onDispatch(dispatch('message_delete', 13, { id: 'm11', channel_id: 'c1', deleted: true }));
    expect(timelines.value.c1.messages).toEqual([]);
  });

  it('counts reactions once across a replay', () => {
    onDispatch(dispatch('message_create', 11, message(11)));
    const add = { message_id: 'm11', channel_id: 'c1', user_id: BOB, emoji: '👍' };
    onDispatch(dispatch('reaction_add', 12, add));
    onDispatch(dispatch('reaction_add', 12, add));
    expect(timelines.value.c1.messages[0].reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
  });

  it('keeps each log on its own sequence', () => {
    onDispatch(dispatch('message_create', 6, message(6, { channel_id: 'c2' }), 'c2'));
    onDispatch(dispatch('message_create', 11, message(11)));
    expect(unread.value.c2).toEqual({ messages: 1, mentions: 0 });
    expect(timelines.value.c1.messages.map((m) => m.id)).toEqual(['m11']);
  });
});
