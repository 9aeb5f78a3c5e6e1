import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ADMINISTRATOR_BIT, hasBit, SEND_MESSAGES_BIT } from '../permissions';
import {
  addUpload,
  channelPermissions,
  clearUploads,
  displayName,
  dmPartners,
  dmPartnersDeleted,
  me,
  members,
  notifyTyping,
  roles,
  removeUpload,
  sendMessage,
  timelines,
  uploads,
} from '../store';
import { CONTENT_MAX, contentProblem, scalarLength } from '../timeline';
import type { Channel } from '../types';
import { editing, replyingTo } from './Timeline';

/** A mention the composer offers while the user types "@name". */
interface Suggestion {
  key: string;
  label: string;
  detail: string;
  insert: string;
}

const MAX_SUGGESTIONS = 8;

/** Matches "@query" right before the caret, at the start or after a space. */
const MENTION_QUERY = /(^|\s)@([\p{L}\p{N}._-]{0,32})$/u;

/** Returns the members and roles of the channel whose names start with query. */
function mentionSuggestions(channel: Channel, query: string): Suggestion[] {
  const q = query.toLowerCase();
  const out: Suggestion[] = [];
  const guildMembers = channel.guild_id ? Object.values(members.value[channel.guild_id] ?? {}) : [];
  const userIds = channel.guild_id ? guildMembers.map((m) => m.user.id) : (channel.recipient_ids ?? []);
  for (const id of userIds) {
    const member = guildMembers.find((m) => m.user.id === id);
    const name = displayName(id, channel.guild_id);
    const username = member?.user.username ?? '';
    if ([name, username, member?.nickname ?? ''].some((n) => n.toLowerCase().startsWith(q))) {
      out.push({ key: `u-${id}`, label: name, detail: username ? `@${username}` : '', insert: `<@${id}> ` });
    }
  }
  for (const role of channel.guild_id ? roles.value[channel.guild_id] ?? [] : []) {
    if (role.id === channel.guild_id || !role.name.toLowerCase().startsWith(q)) continue;
    out.push({ key: `r-${role.id}`, label: role.name, detail: 'role', insert: `<@&${role.id}> ` });
  }
  return out.slice(0, MAX_SUGGESTIONS);
}

/** Unsent text per channel, kept while the user looks elsewhere. */
const drafts = new Map<string, string>();

/** Renders the message box of one channel. Mount it keyed by channel id. */
export function Composer({ channel }: { channel: Channel }) {
  const [text, setTextState] = useState(() => drafts.get(channel.id) ?? '');
  const setText = (value: string) => {
    drafts.set(channel.id, value);
    setTextState(value);
  };
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [caret, setCaret] = useState(text.length);
  const [picked, setPicked] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const nextCaret = useRef<number | null>(null);
  const query = dismissed ? null : MENTION_QUERY.exec(text.slice(0, caret));
  const suggestions = query ? mentionSuggestions(channel, query[2]) : [];
  const listId = `mentions-${channel.id}`;
  const list = uploads.value[channel.id] ?? [];
  const replyId = replyingTo.value[channel.id];
  const replyMsg = replyId ? timelines.value[channel.id]?.messages.find((m) => m.id === replyId) : undefined;
  const ready = list.filter((u) => u.media);
  const busy = list.some((u) => !u.media && !u.error);
  const problem = text.trim() || ready.length ? contentProblem(text, ready.length > 0) : null;
  const length = scalarLength(text.trim());
  const label = channel.guild_id ? `Message #${channel.name}` : 'Message';
  // Known once GET /channels/{id}/permissions/@me returns. Until then the
  // composer stays enabled and the server decides.
  const perms = channelPermissions.value[channel.id];
  const blocked = perms !== undefined && !hasBit(perms, SEND_MESSAGES_BIT) && !hasBit(perms, ADMINISTRATOR_BIT);

  useEffect(() => {
    ref.current?.focus();
  }, []);

  useEffect(() => {
    if (replyId) ref.current?.focus();
  }, [replyId]);

  // Puts the caret after an inserted mention once the new text is shown.
  // A layout effect runs before the next key event, so typing goes on
  // after the mention and not before it.
  useLayoutEffect(() => {
    if (nextCaret.current === null || !ref.current) return;
    ref.current.setSelectionRange(nextCaret.current, nextCaret.current);
    nextCaret.current = null;
  });

  const insertMention = (s: Suggestion) => {
    if (!query) return;
    const start = caret - query[2].length - 1;
    const next = text.slice(0, start) + s.insert + text.slice(caret);
    setText(next);
    setCaret(start + s.insert.length);
    nextCaret.current = start + s.insert.length;
    setPicked(0);
  };

  const send = () => {
    const content = text.trim();
    if ((!content && !ready.length) || problem || busy || blocked) return;
    sendMessage(channel.id, content, replyId ?? null, ready.map((u) => u.media!));
    setText('');
    clearUploads(channel.id);
    replyingTo.value = { ...replyingTo.value, [channel.id]: undefined };
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (suggestions.length > 0) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : suggestions.length - 1;
        setPicked((picked + step) % suggestions.length);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        insertMention(suggestions[Math.min(picked, suggestions.length - 1)]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setDismissed(true);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === 'ArrowUp' && text === '') {
      const self = me.value?.id;
      const own = timelines.value[channel.id]?.messages.filter((m) => m.author_id === self);
      const last = own?.[own.length - 1];
      if (last) {
        e.preventDefault();
        editing.value = last.id;
      }
    } else if (e.key === 'Escape' && replyId) {
      replyingTo.value = { ...replyingTo.value, [channel.id]: undefined };
    }
  };

  const onPaste = (e: ClipboardEvent) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length) {
      e.preventDefault();
      files.forEach((f) => void addUpload(channel.id, f));
    }
  };

  if (dmPartnersDeleted(channel)) {
    return (
      <div class="composer blocked">
        <p class="hint" role="note">
          {dmPartners(channel).length === 1 ? 'The other account' : 'Every other account'} in this conversation was deleted, so no more
          messages can be sent here.
        </p>
      </div>
    );
  }

  if (blocked) {
    return (
      <div class="composer blocked">
        <p class="hint" role="note">
          You do not have permission to send messages in {channel.guild_id ? `#${channel.name}` : 'this conversation'}.
        </p>
      </div>
    );
  }

  return (
    <div class="composer">
      {replyId && (
        <div class="replying" role="status">
          Replying to {replyMsg ? displayName(replyMsg.author_id, channel.guild_id) : 'a message'}
          <button class="small" aria-label="Cancel reply" onClick={() => (replyingTo.value = { ...replyingTo.value, [channel.id]: undefined })}>
            Cancel
          </button>
        </div>
      )}
      {list.length > 0 && (
        <ul class="uploads" aria-label="Attachments">
          {list.map((u) => (
            <li key={u.id} class="upload">
              <span class="name">{u.file.name}</span>
              {u.error ? (
                <span class="error" role="alert">
                  {u.error}
                </span>
              ) : (
                <progress max={1} value={u.progress} aria-label={`Uploading ${u.file.name}`} />
              )}
              <button class="small" aria-label={`Remove ${u.file.name}`} onClick={() => removeUpload(channel.id, u.id)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {suggestions.length > 0 && (
        <ul class="suggestions" role="listbox" id={listId} aria-label="Mention suggestions">
          {suggestions.map((s, i) => (
            <li
              key={s.key}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === Math.min(picked, suggestions.length - 1)}
              class={i === Math.min(picked, suggestions.length - 1) ? 'picked' : ''}
              onMouseDown={(e) => {
                // Keep the focus in the textarea.
                e.preventDefault();
                insertMention(s);
              }}
            >
              <span class="name">{s.label}</span> <span class="hint">{s.detail}</span>
            </li>
          ))}
        </ul>
      )}
      <div class="compose-row">
        <button class="attach" aria-label="Attach files" title="Attach files" onClick={() => fileInput.current?.click()}>
          +
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-hidden="true"
          onChange={(e) => {
            [...(e.currentTarget.files ?? [])].forEach((f) => void addUpload(channel.id, f));
            e.currentTarget.value = '';
          }}
        />
        <textarea
          ref={ref}
          rows={1}
          aria-label={label}
          placeholder={label}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setCaret(e.currentTarget.selectionStart ?? e.currentTarget.value.length);
            setDismissed(false);
            setPicked(0);
            if (e.currentTarget.value.trim()) notifyTyping(channel.id);
          }}
          onKeyUp={(e) => setCaret(e.currentTarget.selectionStart ?? text.length)}
          onClick={(e) => setCaret(e.currentTarget.selectionStart ?? text.length)}
          aria-autocomplete="list"
          aria-controls={suggestions.length ? listId : undefined}
          aria-expanded={suggestions.length > 0}
          aria-activedescendant={suggestions.length ? `${listId}-${Math.min(picked, suggestions.length - 1)}` : undefined}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
        />
        <button class="primary send" onClick={send} disabled={!!problem || busy || (!text.trim() && !ready.length)}>
          Send
        </button>
      </div>
      {(problem || length > CONTENT_MAX - 500) && (
        <p class={problem ? 'error' : 'hint'} role={problem ? 'alert' : undefined}>
          {problem ?? `${length.toLocaleString('en')} / ${CONTENT_MAX.toLocaleString('en')}`}
        </p>
      )}
    </div>
  );
}
