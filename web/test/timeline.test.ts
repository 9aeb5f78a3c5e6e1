import { describe, expect, it } from 'vitest';
import {
  addPending,
  applyDelete,
  applyReaction,
  applyUpdate,
  contentProblem,
  emptyTimeline,
  mergeMessages,
  SeqTracker,
  type PendingSend,
} from '../src/timeline';
import type { Message } from '../src/types';
import { message } from './fixtures';

const ALICE = 'u-alice';
const BOB = 'u-bob';

function pending(nonce: string, content = 'hello'): PendingSend {
  return { nonce, content, reply_to: null, attachment_ids: [], attachments: [], status: 'sending' };
}

const seqs = (tl: { messages: Message[] }) => tl.messages.map((m) => m.seq);

describe('timeline merge', () => {
  it('orders by seq whatever the arrival order', () => {
    let tl = mergeMessages(emptyTimeline(), [message(5), message(2)]);
    tl = mergeMessages(tl, [message(9)]);
    tl = mergeMessages(tl, [message(1), message(7)]);
    expect(seqs(tl)).toEqual([1, 2, 5, 7, 9]);
  });

  it('keeps one copy when a resume replays messages a page already had', () => {
    const page = [message(10), message(11), message(12)];
    let tl = mergeMessages(emptyTimeline(), page);
    // Live dispatches before the drop, then the resume replay of 12..15.
    tl = mergeMessages(tl, [message(13)]);
    for (const m of [message(12), message(13), message(14), message(15)]) tl = mergeMessages(tl, [m]);
    expect(seqs(tl)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(new Set(tl.messages.map((m) => m.id)).size).toBe(tl.messages.length);
  });

  it('prepends an older history page without duplicates', () => {
    let tl = mergeMessages(emptyTimeline(), [message(50), message(51)]);
    tl = mergeMessages(tl, [message(48), message(49), message(50)]);
    expect(seqs(tl)).toEqual([48, 49, 50, 51]);
  });

  it('keeps a deleted message out of a later page', () => {
    let tl = mergeMessages(emptyTimeline(), [message(1), message(2)]);
    tl = applyDelete(tl, 'm2');
    tl = mergeMessages(tl, [message(1), message(2), message(3)]);
    expect(seqs(tl)).toEqual([1, 3]);
  });

  it('does not let an older copy undo an edit', () => {
    let tl = mergeMessages(emptyTimeline(), [message(1)]);
    tl = applyUpdate(tl, message(1, { content: 'edited', edited_at: '2025-01-01T01:00:00.000Z' }));
    tl = mergeMessages(tl, [message(1)]);
    expect(tl.messages[0].content).toBe('edited');
    expect(tl.messages[0].edited_at).not.toBeNull();
  });

  it('ignores an update for a message outside the loaded range', () => {
    const tl = mergeMessages(emptyTimeline(), [message(5)]);
    expect(applyUpdate(tl, message(1, { content: 'x' }))).toBe(tl);
  });

  it('keeps the caller\'s own reaction flag when a dispatched copy says me=false', () => {
    let tl = mergeMessages(emptyTimeline(), [message(1, { reactions: [{ emoji: '👍', count: 1, me: true }] })]);
    tl = applyUpdate(tl, message(1, { content: 'edit', edited_at: '2025-01-02T00:00:00.000Z', reactions: [{ emoji: '👍', count: 1, me: false }] }));
    expect(tl.messages[0].reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
  });
});

describe('reactions', () => {
  it('counts adds and removes and tracks the caller', () => {
    let tl = mergeMessages(emptyTimeline(), [message(1)]);
    tl = applyReaction(tl, { message_id: 'm1', emoji: '👍', user_id: BOB }, true, ALICE);
    tl = applyReaction(tl, { message_id: 'm1', emoji: '👍', user_id: ALICE }, true, ALICE);
    expect(tl.messages[0].reactions).toEqual([{ emoji: '👍', count: 2, me: true }]);
    tl = applyReaction(tl, { message_id: 'm1', emoji: '👍', user_id: ALICE }, false, ALICE);
    expect(tl.messages[0].reactions).toEqual([{ emoji: '👍', count: 1, me: false }]);
    tl = applyReaction(tl, { message_id: 'm1', emoji: '👍', user_id: BOB }, false, ALICE);
    expect(tl.messages[0].reactions).toEqual([]);
  });
});

describe('optimistic sends', () => {
  it('drops the pending entry when its message arrives by dispatch first', () => {
    let tl = addPending(mergeMessages(emptyTimeline(), [message(1)]), pending('n-1'));
    expect(tl.pending).toHaveLength(1);
    tl = mergeMessages(tl, [message(2, { author_id: ALICE, nonce: 'n-1', content: 'hello' })], ALICE);
    expect(tl.pending).toHaveLength(0);
    expect(seqs(tl)).toEqual([1, 2]);
  });

  it('shows a message once when the response and the dispatch both arrive', () => {
    let tl = addPending(emptyTimeline(), pending('n-1'));
    const sent = message(3, { author_id: ALICE, nonce: 'n-1' });
    tl = mergeMessages(tl, [sent], ALICE); // response of the send
    tl = mergeMessages(tl, [sent], ALICE); // live dispatch
    tl = mergeMessages(tl, [sent], ALICE); // 200 to a retry with the same nonce
    expect(tl.messages).toHaveLength(1);
    expect(tl.pending).toHaveLength(0);
  });

  it('does not add the same nonce twice', () => {
    const tl = addPending(addPending(emptyTimeline(), pending('n-1')), pending('n-1'));
    expect(tl.pending).toHaveLength(1);
  });

  it('ignores another user\'s message that carries the same nonce', () => {
    let tl = addPending(emptyTimeline(), pending('n-1'));
    tl = mergeMessages(tl, [message(4, { author_id: BOB, nonce: 'n-1' })], ALICE);
    expect(tl.pending).toHaveLength(1);
  });
});

describe('SeqTracker', () => {
  it('skips dispatches at or below the last applied seq of each log', () => {
    const t = new SeqTracker();
    t.set('c1', 10);
    expect(t.accept('c1', 10)).toBe(false);
    expect(t.accept('c1', 11)).toBe(true);
    expect(t.accept('c1', 11)).toBe(false);
    expect(t.accept('c2', 1)).toBe(true);
    expect(t.accept('g1', 3)).toBe(true);
    expect(t.snapshot()).toEqual({ c1: 11, c2: 1, g1: 3 });
  });
});

describe('content checks', () => {
  it('blocks content over 4,000 characters before sending', () => {
    expect(contentProblem('a'.repeat(4000))).toBeNull();
    expect(contentProblem('a'.repeat(4001))).toMatch(/4,001 characters long; the limit is 4,000/);
  });

  it('counts Unicode scalar values, not UTF-16 units', () => {
    expect(contentProblem('😀'.repeat(4000))).toBeNull();
    expect(contentProblem('😀'.repeat(4001))).not.toBeNull();
  });

  it('rejects empty text unless files go along', () => {
    expect(contentProblem('   ')).toMatch(/empty/);
    expect(contentProblem('', true)).toBeNull();
  });
});
