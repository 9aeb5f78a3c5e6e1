import { useState } from 'preact/hooks';
import { navigate, paths, route } from '../router';
import { channels, createGuild, describeError, guildChannels, guildOrder, guilds, unread } from '../store';
import { Dialog, DialogActions } from './Dialog';

function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[1][0] : name.slice(0, 2);
  return [...letters].slice(0, 2).join('').toUpperCase();
}

function guildUnread(guildId: string): { messages: number; mentions: number } {
  let messages = 0;
  let mentions = 0;
  for (const c of Object.values(channels.value)) {
    if (c.guild_id !== guildId) continue;
    messages += unread.value[c.id]?.messages ?? 0;
    mentions += unread.value[c.id]?.mentions ?? 0;
  }
  return { messages, mentions };
}

/** Moves focus between the rail's buttons with the arrow keys. */
function onRailKey(ev: KeyboardEvent) {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const items = [...(ev.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('.rail-item')];
  const at = items.indexOf(document.activeElement as HTMLElement);
  if (at < 0) return;
  ev.preventDefault();
  items[(at + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
}

export function GuildRail() {
  const r = route.value;
  const activeGuild = r.name === 'guild' || r.name === 'guild_settings' ? r.guildId : null;
  const [creating, setCreating] = useState(false);
  const dmUnread = Object.values(channels.value)
    .filter((c) => c.guild_id === null)
    .reduce((n, c) => n + (unread.value[c.id]?.messages ?? 0), 0);

  return (
    <nav class="rail" aria-label="Guilds" onKeyDown={onRailKey}>
      <button
        class={`rail-item home ${r.name === 'home' ? 'active' : ''}`}
        aria-label={`Direct messages${dmUnread ? `, ${dmUnread} unread` : ''}`}
        aria-current={r.name === 'home' ? 'page' : undefined}
        title="Direct messages"
        onClick={() => navigate(paths.home())}
      >
        DM
        {dmUnread > 0 && <span class="badge">{dmUnread}</span>}
      </button>
      <hr />
      {guildOrder.value.map((id) => {
        const g = guilds.value[id];
        if (!g) return null;
        const u = guildUnread(id);
        const first = guildChannels(id).find((c) => c.kind === 'text');
        return (
          <button
            key={id}
            class={`rail-item ${activeGuild === id ? 'active' : ''} ${u.messages ? 'has-unread' : ''}`}
            aria-label={`${g.name}${u.mentions ? `, ${u.mentions} ${u.mentions === 1 ? 'mention' : 'mentions'}` : u.messages ? ', unread messages' : ''}`}
            aria-current={activeGuild === id ? 'page' : undefined}
            title={g.name}
            onClick={() => navigate(first ? paths.channel(id, first.id) : paths.guild(id))}
          >
            {initials(g.name)}
            {u.mentions > 0 && <span class="badge">{u.mentions}</span>}
          </button>
        );
      })}
      <button class="rail-item add" aria-label="Create a guild" title="Create a guild" onClick={() => setCreating(true)}>
        +
      </button>
      {creating && <CreateGuildDialog onClose={() => setCreating(false)} />}
    </nav>
  );
}

function CreateGuildDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const submit = async (ev: Event) => {
    ev.preventDefault();
    try {
      await createGuild(name.trim());
      onClose();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <Dialog title="Create a guild" onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Guild name
          <input name="guild_name" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
        </label>
        <DialogActions error={error} submitLabel="Create" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
