// Pure state of one channel's timeline: the messages known so far in seq
// order, and the sends still in flight. The rules here keep both free of
// duplicates, whatever order REST pages, live dispatches, resume replays
// and send responses arrive in.

import type { Media, Message } from './types';

export interface PendingSend {
  nonce: string;
  content: string;
  reply_to: string | null;
  attachment_ids: string[];
  attachments: Media[];
  /** waiting: rate limited, sent again by itself at retryAt. */
  status: 'sending' | 'waiting' | 'failed';
  error?: string;
  /** Epoch milliseconds at which a rate-limited send goes again. */
  retryAt?: number;
  /** The send failed because the server could not be reached. */
  network?: boolean;
}

export interface Timeline {
  /** Known messages, ascending by seq, each id once. */
  messages: Message[];
  /** Optimistic sends not yet confirmed, in the order they were made. */
  pending: PendingSend[];
  /** Ids deleted while this timeline was open, kept out of later pages. */
  deleted: ReadonlySet<string>;
  /** True once a history page came back shorter than its limit. */
  atStart: boolean;
  /** True once the newest page has been fetched. */
  loaded: boolean;
}

export function emptyTimeline(): Timeline {
  return { messages: [], pending: [], deleted: new Set(), atStart: false, loaded: false };
}

/**
 * Merges messages into the timeline. A message already present is
 * replaced by the incoming copy, unless that copy is an older edit. A
 * deleted id stays out. A pending send is dropped when its nonce arrives
 * on a real message of the same author, so the message shows once.
 */
export function mergeMessages(tl: Timeline, incoming: Message[], selfId?: string): Timeline {
  if (incoming.length === 0) return tl;
  const byId = new Map(tl.messages.map((m) => [m.id, m]));
  const confirmed = new Set<string>();
  for (const msg of incoming) {
    if (tl.deleted.has(msg.id)) continue;
    const old = byId.get(msg.id);
    byId.set(msg.id, old ? newerCopy(old, msg) : msg);
    if (msg.nonce && (selfId === undefined || msg.author_id === selfId)) confirmed.add(msg.nonce);
  }
  const messages = [...byId.values()].sort((a, b) => a.seq - b.seq);
  const pending = confirmed.size ? tl.pending.filter((p) => !confirmed.has(p.nonce)) : tl.pending;
  return { ...tl, messages, pending };
}

function newerCopy(old: Message, incoming: Message): Message {
  const oldEdit = old.edited_at ? Date.parse(old.edited_at) : 0;
  const newEdit = incoming.edited_at ? Date.parse(incoming.edited_at) : 0;
  if (newEdit < oldEdit) return old;
  // Dispatched copies have me=false in every reaction, because every
  // reader gets the same bytes. Keep the flags this user already had.
  const reactions = incoming.reactions.map((r) => {
    const known = old.reactions.find((o) => o.emoji === r.emoji);
    return { ...r, me: r.me || (known?.me ?? false) };
  });
  return { ...incoming, reactions };
}

/** Applies a message_update: it replaces only a message already shown. */
export function applyUpdate(tl: Timeline, msg: Message): Timeline {
  if (!tl.messages.some((m) => m.id === msg.id)) return tl;
  return mergeMessages(tl, [msg]);
}

/** Removes a message for good, including from later history pages. */
export function applyDelete(tl: Timeline, id: string): Timeline {
  const deleted = new Set(tl.deleted);
  deleted.add(id);
  return { ...tl, messages: tl.messages.filter((m) => m.id !== id), deleted };
}

/** Applies a reaction_add or reaction_remove dispatch. */
export function applyReaction(
  tl: Timeline,
  change: { message_id: string; emoji: string; user_id: string },
  added: boolean,
  selfId: string,
): Timeline {
  const index = tl.messages.findIndex((m) => m.id === change.message_id);
  if (index < 0) return tl;
  const msg = tl.messages[index];
  const mine = change.user_id === selfId;
  let reactions = msg.reactions.map((r) => ({ ...r }));
  const existing = reactions.find((r) => r.emoji === change.emoji);
  if (added) {
    if (existing) {
      existing.count += 1;
      existing.me ||= mine;
    } else {
      reactions.push({ emoji: change.emoji, count: 1, me: mine });
    }
  } else if (existing) {
    existing.count -= 1;
    if (mine) existing.me = false;
    reactions = reactions.filter((r) => r.count > 0);
  }
  const messages = tl.messages.slice();
  messages[index] = { ...msg, reactions };
  return { ...tl, messages };
}

export function addPending(tl: Timeline, send: PendingSend): Timeline {
  if (tl.pending.some((p) => p.nonce === send.nonce)) return tl;
  return { ...tl, pending: [...tl.pending, send] };
}

export function updatePending(tl: Timeline, nonce: string, change: Partial<PendingSend>): Timeline {
  return { ...tl, pending: tl.pending.map((p) => (p.nonce === nonce ? { ...p, ...change } : p)) };
}

export function removePending(tl: Timeline, nonce: string): Timeline {
  return { ...tl, pending: tl.pending.filter((p) => p.nonce !== nonce) };
}

/**
 * SeqTracker keeps the last applied seq of each event log (channels and
 * guilds) so a dispatch at or below it is skipped, as the gateway's
 * ordering rules advise, and so a resume can name every position.
 */
export class SeqTracker {
  private last = new Map<string, number>();

  /** Records seq for logId and reports whether it is new. */
  accept(logId: string, seq: number): boolean {
    const known = this.last.get(logId);
    if (known !== undefined && seq <= known) return false;
    this.last.set(logId, seq);
    return true;
  }

  /** Sets a position from ready or a refetch, which may move it back. */
  set(logId: string, seq: number): void {
    this.last.set(logId, seq);
  }

  get(logId: string): number | undefined {
    return this.last.get(logId);
  }

  forget(logId: string): void {
    this.last.delete(logId);
  }

  clear(): void {
    this.last.clear();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.last);
  }
}

/** Counts Unicode scalar values, the unit of the server's length limits. */
export function scalarLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export const CONTENT_MAX = 4000;

/** Returns why content cannot be sent as it is, or null when it can. */
export function contentProblem(content: string, hasAttachments = false): string | null {
  const trimmed = content.trim();
  if (!trimmed && !hasAttachments) return 'The message is empty.';
  const length = scalarLength(trimmed);
  if (length > CONTENT_MAX) {
    return `The message is ${length.toLocaleString('en')} characters long; the limit is ${CONTENT_MAX.toLocaleString('en')}.`;
  }
  if (trimmed.includes('\u0000')) return 'The message contains a NUL character.';
  return null;
}

/** The box that thumbnails are requested in, in CSS pixels. */
export const THUMBNAIL_BOX = 256;

/**
 * Returns the size of an image's thumbnail: the server scales it down,
 * never up, to fit the box with its aspect ratio kept, and no edge goes
 * below one pixel. Knowing the size before the thumbnail arrives lets the
 * timeline reserve its space, so a late image does not push the newest
 * messages out of view. Returns null when the size is unknown.
 */
export function thumbnailSize(
  width: number | undefined,
  height: number | undefined,
  box = THUMBNAIL_BOX,
): { width: number; height: number } | null {
  if (!width || !height || width < 1 || height < 1) return null;
  if (width <= box && height <= box) return { width, height };
  if (width >= height) {
    return { width: box, height: Math.max(1, Math.floor((height * box) / width)) };
  }
  return { width: Math.max(1, Math.floor((width * box) / height)), height: box };
}
