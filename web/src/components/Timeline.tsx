import { signal } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { downloadMedia, isViewableImage, useBlobUrl } from '../media';
import {
  deleteMessage,
  describeError,
  discardSend,
  displayName,
  editMessage,
  holdsPermission,
  loadOlder,
  me,
  mentionsMe,
  notify,
  retrySend,
  timelines,
  toggleReaction,
} from '../store';
import { MANAGE_MESSAGES_BIT } from '../permissions';
import { contentProblem, thumbnailSize, THUMBNAIL_BOX, type PendingSend } from '../timeline';
import type { Channel, Media, Message } from '../types';
import { ImageView } from './ImageView';
import { MessageText } from './MessageText';

/** The message being edited, shared with the composer's Up key. */
export const editing = signal<string | null>(null);
/** The message the composer replies to, per channel. */
export const replyingTo = signal<Record<string, string | undefined>>({});

export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '👀'];

const GROUP_GAP_MS = 7 * 60 * 1000;

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** Moves focus between messages with the arrow keys. */
function onListKey(ev: KeyboardEvent) {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const target = ev.target as HTMLElement;
  if (!target.classList.contains('message')) return;
  const items = [...(ev.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('.message')];
  const at = items.indexOf(target);
  const next = items[at + (ev.key === 'ArrowDown' ? 1 : -1)];
  if (next) {
    ev.preventDefault();
    next.focus();
  }
}

export function Timeline({ channel }: { channel: Channel }) {
  const tl = timelines.value[channel.id];
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const prevHeight = useRef(0);
  const prevFirst = useRef<string | undefined>(undefined);
  const prevLastSeq = useRef(0);
  const seenNonces = useRef<Set<string>>(new Set());
  const [newBelow, setNewBelow] = useState(false);

  const messages = tl?.messages ?? [];
  const pending = tl?.pending ?? [];

  const toBottom = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = true;
    el.scrollTop = el.scrollHeight;
    prevHeight.current = el.scrollHeight;
    setNewBelow(false);
  };

  // Keep the view pinned to the newest message while the user is at the
  // bottom, and keep the reading position when older pages are prepended.
  // The user's own new message always scrolls into view.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const sentNow = pending.some((p) => !seenNonces.current.has(p.nonce));
    seenNonces.current = new Set(pending.map((p) => p.nonce));
    if (sentNow) stick.current = true;
    const first = messages[0]?.id;
    const lastSeq = messages[messages.length - 1]?.seq ?? 0;
    if (prevFirst.current && first !== prevFirst.current && !stick.current) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    // Only a newer message counts: a delete at the end does not.
    if (!stick.current && prevLastSeq.current && lastSeq > prevLastSeq.current) setNewBelow(true);
    prevFirst.current = first;
    prevLastSeq.current = lastSeq;
    prevHeight.current = el.scrollHeight;
  });

  // The view changes size when the composer grows (suggestions, uploads, a
  // reply bar), and the content grows when an image or a font arrives
  // after rendering. Keep the newest message in view when the user was at
  // the bottom.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight;
      prevHeight.current = el.scrollHeight;
    });
    observer.observe(el);
    if (content.current) observer.observe(content.current);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (stick.current) setNewBelow(false);
    prevHeight.current = el.scrollHeight;
    if (el.scrollTop < 200) void loadOlder(channel.id);
  };

  // A short first page may not fill the view, so no scroll event comes.
  useEffect(() => {
    const el = scroller.current;
    if (el && tl?.loaded && !tl.atStart && el.scrollHeight <= el.clientHeight) void loadOlder(channel.id);
  });

  const items: preact.JSX.Element[] = [];
  let prev: Message | undefined;
  for (const m of messages) {
    if (!prev || dayKey(prev.created_at) !== dayKey(m.created_at)) {
      items.push(
        <li key={`day-${m.id}`} class="day" role="separator" aria-label={dayFormat.format(new Date(m.created_at))}>
          <span>{dayFormat.format(new Date(m.created_at))}</span>
        </li>,
      );
      prev = undefined;
    }
    const grouped =
      !!prev &&
      prev.author_id === m.author_id &&
      !m.reply_to &&
      Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_GAP_MS;
    items.push(<MessageItem key={m.id} m={m} channel={channel} grouped={grouped} all={messages} />);
    prev = m;
  }

  return (
    <div class="timeline-wrap">
    <div class="timeline" ref={scroller} onScroll={onScroll}>
      {tl?.atStart && <p class="start">This is the start of {channel.guild_id ? `#${channel.name}` : 'the conversation'}.</p>}
      {!tl?.loaded && <p class="hint">Loading messages…</p>}
      <ol class="messages" ref={content} aria-label="Messages" onKeyDown={onListKey}>
        {items}
        {pending.map((p) => (
          <PendingItem key={p.nonce} p={p} channelId={channel.id} />
        ))}
      </ol>
    </div>
    {newBelow && (
      <button class="jump-latest small" onClick={toBottom}>
        New messages below: jump to latest
      </button>
    )}
    </div>
  );
}

function MessageItem({ m, channel, grouped, all }: { m: Message; channel: Channel; grouped: boolean; all: Message[] }) {
  const self = me.value?.id;
  const mine = m.author_id === self;
  const author = displayName(m.author_id, channel.guild_id);
  const highlighted = mentionsMe(m);
  const isEditing = editing.value === m.id;
  const [picking, setPicking] = useState(false);
  const parent = m.reply_to ? all.find((x) => x.id === m.reply_to) : undefined;

  const react = (emoji: string, already: boolean) => {
    setPicking(false);
    toggleReaction(channel.id, m.id, emoji, already).catch((err) => notify(describeError(err)));
  };
  const remove = () => {
    if (!confirm('Delete this message?')) return;
    deleteMessage(channel.id, m.id).catch((err) => notify(describeError(err)));
  };

  return (
    <li
      class={`message ${grouped ? 'grouped' : ''} ${highlighted ? 'mentioned' : ''}`}
      tabIndex={0}
      data-id={m.id}
      aria-label={`${author}, ${timeFormat.format(new Date(m.created_at))}${highlighted ? ', mentions you' : ''}`}
    >
      {m.reply_to && (
        <p class="reply-ref">
          ↪ {parent ? (
            <>
              <span class="author">{displayName(parent.author_id, channel.guild_id)}</span> {parent.content.slice(0, 80)}
            </>
          ) : (
            'a message that is not loaded or was deleted'
          )}
        </p>
      )}
      {!grouped && (
        <header>
          <span class="author">{author}</span>
          <time dateTime={m.created_at}>{timeFormat.format(new Date(m.created_at))}</time>
        </header>
      )}
      {isEditing && <EditBox m={m} />}
      {!isEditing && (m.content || m.edited_at) && (
        <div class="content">
          <MessageText content={m.content} guildId={channel.guild_id} />
          {m.edited_at && (
            <span class="edited" title={`Edited ${new Date(m.edited_at).toLocaleString()}`}>
              {' '}
              (edited)
            </span>
          )}
        </div>
      )}
      {m.attachments?.length > 0 && (
        <div class="attachments">
          {m.attachments.map((a) => (
            <Attachment key={a.id} media={a} />
          ))}
        </div>
      )}
      {m.reactions.length > 0 && (
        <div class="reactions" role="group" aria-label="Reactions">
          {m.reactions.map((r) => (
            <button
              key={r.emoji}
              class={`reaction ${r.me ? 'mine' : ''}`}
              aria-pressed={r.me}
              aria-label={`${r.emoji} ${r.count}`}
              onClick={() => react(r.emoji, r.me)}
            >
              {r.emoji} <span class="count">{r.count}</span>
            </button>
          ))}
        </div>
      )}
      <div class="actions" role="group" aria-label="Message actions">
        <button class="small" aria-label="Add reaction" aria-expanded={picking} onClick={() => setPicking(!picking)}>
          React
        </button>
        <button class="small" onClick={() => (replyingTo.value = { ...replyingTo.value, [channel.id]: m.id })}>
          Reply
        </button>
        {mine && (
          <button class="small" onClick={() => (editing.value = m.id)}>
            Edit
          </button>
        )}
        {(mine || holdsPermission(channel.guild_id, MANAGE_MESSAGES_BIT)) && (
          <button class="small danger" onClick={remove}>
            Delete
          </button>
        )}
      </div>
      {picking && (
        <div class="picker" role="group" aria-label="Pick a reaction">
          {QUICK_EMOJI.map((e) => {
            const have = m.reactions.find((r) => r.emoji === e)?.me ?? false;
            return (
              <button key={e} class="small" aria-label={`React with ${e}`} onClick={() => react(e, have)}>
                {e}
              </button>
            );
          })}
        </div>
      )}
    </li>
  );
}

/** Moves focus back to the message box once an edit ends. */
function focusComposer(): void {
  document.querySelector<HTMLTextAreaElement>('.composer textarea')?.focus();
}

function EditBox({ m }: { m: Message }) {
  const [text, setText] = useState(m.content);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.setSelectionRange(text.length, text.length);
  }, []);
  const problem = contentProblem(text);
  const save = async () => {
    if (problem) return;
    if (text.trim() === m.content) {
      editing.value = null;
      focusComposer();
      return;
    }
    try {
      await editMessage(m.channel_id, m.id, text);
      editing.value = null;
      focusComposer();
    } catch (err) {
      notify(describeError(err));
    }
  };
  return (
    <div class="edit-box">
      <textarea
        ref={ref}
        aria-label="Edit message"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            editing.value = null;
            focusComposer();
          }
        }}
      />
      {problem && <p class="error">{problem}</p>}
      <p class="hint">Enter saves, Escape cancels.</p>
    </div>
  );
}

const PENDING_LABELS: Record<PendingSend['status'], string> = {
  sending: 'Sending…',
  waiting: 'Waiting…',
  failed: 'Not sent',
};

function PendingItem({ p, channelId }: { p: PendingSend; channelId: string }) {
  const author = me.value?.display_name ?? '';
  return (
    <li class={`message pending ${p.status}`} tabIndex={0} aria-label={`${author}, ${p.status === 'failed' ? 'not sent' : 'sending'}`}>
      <header>
        <span class="author">{author}</span>
        <span class="state">{PENDING_LABELS[p.status]}</span>
      </header>
      <div class="content">
        <MessageText content={p.content} guildId={null} />
      </div>
      {p.attachments.length > 0 && <p class="hint">{p.attachments.map((a) => a.filename).join(', ')}</p>}
      {p.status === 'waiting' && (
        <p class="send-wait" role="status">
          {p.error}
        </p>
      )}
      {p.status === 'failed' && (
        <div class="send-error" role="alert">
          <span>{p.error}</span>
          <button class="small" onClick={() => retrySend(channelId, p.nonce)}>
            Retry
          </button>
          <button class="small" onClick={() => discardSend(channelId, p.nonce)}>
            Discard
          </button>
        </div>
      )}
    </li>
  );
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function Attachment({ media }: { media: Media }) {
  const isImage = media.content_type.startsWith('image/');
  const viewable = isViewableImage(media.content_type);
  const [viewing, setViewing] = useState(false);
  const thumb = useBlobUrl(isImage ? `/media/${media.id}/thumbnail?width=${THUMBNAIL_BOX}&height=${THUMBNAIL_BOX}` : null);
  // The space of the thumbnail is kept from the start, so the timeline
  // does not grow when it arrives.
  const size = isImage ? thumbnailSize(media.width, media.height) : null;
  // An image the browser can show opens in the full-size view; any other
  // file is downloaded.
  const onLink = (ev: Event) => {
    ev.preventDefault();
    if (viewable) setViewing(true);
    else downloadMedia(media.id, media.filename).catch((err) => notify(describeError(err)));
  };
  const preview = isImage && <Thumbnail media={media} url={thumb.url} error={thumb.error} size={size} />;
  return (
    <figure class="attachment">
      {viewable ? (
        <button class="thumbnail-button" aria-label={`View ${media.filename} full size`} onClick={() => setViewing(true)}>
          {preview}
        </button>
      ) : (
        preview
      )}
      <figcaption>
        <a href={`/api/v1/media/${media.id}`} onClick={onLink} download={media.filename}>
          {media.filename}
        </a>{' '}
        <span class="hint">{formatSize(media.size)}</span>
      </figcaption>
      {viewing && <ImageView media={media} onClose={() => setViewing(false)} />}
    </figure>
  );
}

/** Renders a thumbnail, or a placeholder of its size while it loads or when it failed. */
function Thumbnail(props: { media: Media; url?: string; error?: string; size: { width: number; height: number } | null }) {
  const { media, url, error, size } = props;
  if (url) {
    return <img src={url} alt={media.filename} class={`thumbnail ${size ? 'sized' : ''}`} width={size?.width} height={size?.height} />;
  }
  if (!size) return <div class="thumbnail placeholder">{error ?? 'Loading preview…'}</div>;
  return (
    <div class="thumbnail placeholder sized">
      <svg width={size.width} height={size.height} viewBox={`0 0 ${size.width} ${size.height}`} aria-hidden="true" />
      <span>{error ?? 'Loading preview…'}</span>
    </div>
  );
}
