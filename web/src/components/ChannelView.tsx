import { useEffect, useState } from 'preact/hooks';
import { addUpload, channels, displayName, openChannel, typing } from '../store';
import type { Channel } from '../types';
import { Composer } from './Composer';
import { dmTitle } from './Sidebar';
import { Timeline } from './Timeline';

export function ChannelView({ channelId }: { channelId: string }) {
  const channel = channels.value[channelId];
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    void openChannel(channelId);
  }, [channelId, !!channel]);

  if (!channel) return <p class="hint empty">This channel does not exist or you cannot see it.</p>;
  if (channel.kind === 'category' || channel.kind === 'voice') {
    return <p class="hint empty">Pick a text channel.</p>;
  }

  const title = channel.guild_id ? `# ${channel.name}` : dmTitle(channel);

  return (
    <section
      class={`channel-view ${dragging ? 'dragging' : ''}`}
      aria-label={title}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        [...(e.dataTransfer?.files ?? [])].forEach((f) => void addUpload(channel.id, f));
      }}
    >
      <header class="channel-head">
        <h1>{title}</h1>
        {channel.topic && <p class="topic">{channel.topic}</p>}
      </header>
      <Timeline key={channel.id} channel={channel} />
      <TypingLine channel={channel} />
      <Composer key={channel.id} channel={channel} />
      {dragging && (
        <div class="drop-hint" aria-hidden="true">
          Drop files to upload
        </div>
      )}
    </section>
  );
}

function TypingLine({ channel }: { channel: Channel }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const who = Object.entries(typing.value[channel.id] ?? {})
    .filter(([, expires]) => expires > now)
    .map(([id]) => displayName(id, channel.guild_id));
  let text = '';
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length > 1) text = `${who.join(', ')} are typing…`;
  return (
    <p class="typing" aria-live="polite">
      {text}
    </p>
  );
}
