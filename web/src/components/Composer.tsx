import { useEffect, useRef, useState } from 'preact/hooks';
import {
  addUpload,
  clearUploads,
  displayName,
  me,
  notifyTyping,
  removeUpload,
  sendMessage,
  timelines,
  uploads,
} from '../store';
import { CONTENT_MAX, contentProblem, scalarLength } from '../timeline';
import type { Channel } from '../types';
import { editing, replyingTo } from './Timeline';

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
  const list = uploads.value[channel.id] ?? [];
  const replyId = replyingTo.value[channel.id];
  const replyMsg = replyId ? timelines.value[channel.id]?.messages.find((m) => m.id === replyId) : undefined;
  const ready = list.filter((u) => u.media);
  const busy = list.some((u) => !u.media && !u.error);
  const problem = text.trim() || ready.length ? contentProblem(text, ready.length > 0) : null;
  const length = scalarLength(text.trim());
  const label = channel.guild_id ? `Message #${channel.name}` : 'Message';

  useEffect(() => {
    ref.current?.focus();
  }, []);

  useEffect(() => {
    if (replyId) ref.current?.focus();
  }, [replyId]);

  const send = () => {
    const content = text.trim();
    if ((!content && !ready.length) || problem || busy) return;
    sendMessage(channel.id, content, replyId ?? null, ready.map((u) => u.media!));
    setText('');
    clearUploads(channel.id);
    replyingTo.value = { ...replyingTo.value, [channel.id]: undefined };
  };

  const onKeyDown = (e: KeyboardEvent) => {
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
            if (e.currentTarget.value.trim()) notifyTyping(channel.id);
          }}
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
