import { useState } from 'preact/hooks';
import { navigate, paths, route } from '../router';
import {
  createChannel,
  createInvite,
  describeError,
  displayName,
  dmChannels,
  guildChannels,
  guildPermissions,
  guilds,
  leaveGuild,
  me,
  notify,
  presence,
  unread,
} from '../store';
import { ADMINISTRATOR_BIT, CREATE_INVITE_BIT, hasBit, MANAGE_CHANNELS_BIT, managesGuild } from '../permissions';
import type { Channel, Invite } from '../types';
import { Dialog, DialogActions } from './Dialog';
import { toggleTheme, theme } from '../theme';

export function dmTitle(c: Channel): string {
  const names = (c.recipient_ids ?? []).map((id) => displayName(id));
  return names.length ? names.join(', ') : 'Empty conversation';
}

function ChannelLink({ c, active }: { c: Channel; active: boolean }) {
  const u = unread.value[c.id];
  const label = c.guild_id ? `# ${c.name}` : dmTitle(c);
  const status = !c.guild_id && c.kind === 'dm' ? presence.value[c.recipient_ids?.[0] ?? ''] ?? 'offline' : null;
  return (
    <li>
      <a
        href={paths.channel(c.guild_id, c.id)}
        class={`channel-link ${active ? 'active' : ''} ${u?.messages ? 'unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        aria-label={`${c.guild_id ? `channel ${c.name}` : `conversation with ${label}`}${u?.messages ? `, ${u.messages} unread` : ''}${u?.mentions ? `, ${u.mentions} ${u.mentions === 1 ? 'mention' : 'mentions'}` : ''}`}
        onClick={(e) => {
          e.preventDefault();
          navigate(paths.channel(c.guild_id, c.id));
        }}
      >
        {status && <span class={`presence ${status}`} aria-hidden="true" />}
        <span class="name">{label}</span>
        {u?.mentions ? (
          <span class="badge" aria-hidden="true">
            {u.mentions}
          </span>
        ) : u?.messages ? (
          <span class="dot" aria-hidden="true" />
        ) : null}
      </a>
    </li>
  );
}

/** Moves focus between channel links with the arrow keys. */
function onListKey(ev: KeyboardEvent) {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const links = [...(ev.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('.channel-link')];
  const at = links.indexOf(document.activeElement as HTMLElement);
  if (at < 0) return;
  ev.preventDefault();
  links[Math.min(links.length - 1, Math.max(0, at + (ev.key === 'ArrowDown' ? 1 : -1)))].focus();
}

export function Sidebar() {
  const r = route.value;
  return (
    <div class="sidebar">
      {r.name === 'guild' || r.name === 'guild_settings' ? (
        <GuildChannels guildId={r.guildId} activeId={r.name === 'guild' ? r.channelId : undefined} />
      ) : (
        <DmList activeId={r.name === 'home' ? r.channelId : undefined} />
      )}
      <UserPanel />
    </div>
  );
}

function DmList({ activeId }: { activeId?: string }) {
  return (
    <nav class="channels" aria-label="Direct messages" onKeyDown={onListKey}>
      <header class="sidebar-head">
        <h2>Direct messages</h2>
      </header>
      {dmChannels.value.length === 0 && <p class="hint">Open a conversation from a guild's member list.</p>}
      <ul>
        {dmChannels.value.map((c) => (
          <ChannelLink key={c.id} c={c} active={c.id === activeId} />
        ))}
      </ul>
    </nav>
  );
}

function GuildChannels({ guildId, activeId }: { guildId: string; activeId?: string }) {
  const g = guilds.value[guildId];
  const [inviting, setInviting] = useState(false);
  const [adding, setAdding] = useState(false);
  if (!g) return <p class="hint">Loading guild…</p>;
  const all = guildChannels(guildId);
  // Controls show only once the permissions are known, and only to members
  // whose roles grant them; the server checks every request anyway.
  const perms = guildPermissions(guildId);
  const can = (bit: number) => perms !== null && (hasBit(perms, bit) || hasBit(perms, ADMINISTRATOR_BIT));
  const isOwner = g.owner_id === me.value?.id;
  const leave = async () => {
    if (!confirm(`Leave ${g.name}?`)) return;
    try {
      await leaveGuild(guildId);
    } catch (err) {
      notify(describeError(err));
    }
  };
  const categories = all.filter((c) => c.kind === 'category');
  const loose = all.filter((c) => c.kind !== 'category' && !c.parent_id);

  return (
    <nav class="channels" aria-label={`Channels of ${g.name}`} onKeyDown={onListKey}>
      <header class="sidebar-head">
        <h2>{g.name}</h2>
        <div class="row">
          {can(CREATE_INVITE_BIT) && (
            <button class="small" onClick={() => setInviting(true)}>
              Invite
            </button>
          )}
          {can(MANAGE_CHANNELS_BIT) && (
            <button class="small" aria-label="Create a channel" title="Create a channel" onClick={() => setAdding(true)}>
              + Channel
            </button>
          )}
          {perms !== null && managesGuild(perms) && (
            <button class="small" aria-label="Guild settings" title="Guild settings" onClick={() => navigate(paths.guildSettings(guildId))}>
              Settings
            </button>
          )}
          {perms !== null && !managesGuild(perms) && !isOwner && (
            <button class="small" aria-label={`Leave ${g.name}`} onClick={() => void leave()}>
              Leave
            </button>
          )}
        </div>
      </header>
      <ul>
        {loose.map((c) => (
          <ChannelLink key={c.id} c={c} active={c.id === activeId} />
        ))}
      </ul>
      {categories.map((cat) => (
        <section key={cat.id} class="category" aria-label={`Category ${cat.name}`}>
          <h3>{cat.name}</h3>
          <ul>
            {all
              .filter((c) => c.parent_id === cat.id)
              .map((c) => (
                <ChannelLink key={c.id} c={c} active={c.id === activeId} />
              ))}
          </ul>
        </section>
      ))}
      {inviting && <InviteDialog guildId={guildId} onClose={() => setInviting(false)} />}
      {adding && <CreateChannelDialog guildId={guildId} onClose={() => setAdding(false)} />}
    </nav>
  );
}

function InviteDialog({ guildId, onClose }: { guildId: string; onClose: () => void }) {
  const [invite, setInvite] = useState<Invite | null>(null);
  const [error, setError] = useState('');
  const [copied, setCopied] = useState(false);
  const link = invite ? `${location.origin}${paths.invite(invite.code)}` : '';

  const make = async () => {
    try {
      setInvite(await createInvite(guildId));
    } catch (err) {
      setError(describeError(err));
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      setError('The browser did not allow copying. Select the link and copy it by hand.');
    }
  };

  return (
    <Dialog title="Invite people" onClose={onClose}>
      {!invite ? (
        <p>
          <button class="primary" onClick={make}>
            Create invite link
          </button>
        </p>
      ) : (
        <>
          <label>
            Invite link (valid for one day)
            <input class="invite-link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <button onClick={copy}>{copied ? 'Copied' : 'Copy link'}</button>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button onClick={onClose}>Close</button>
      </div>
    </Dialog>
  );
}

function CreateChannelDialog({ guildId, onClose }: { guildId: string; onClose: () => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'text' | 'category'>('text');
  const [parent, setParent] = useState('');
  const [error, setError] = useState('');
  const categories = guildChannels(guildId).filter((c) => c.kind === 'category');
  const submit = async (ev: Event) => {
    ev.preventDefault();
    try {
      const c = await createChannel(guildId, name.trim(), kind, kind === 'text' ? parent : undefined);
      onClose();
      if (c.kind === 'text') navigate(paths.channel(guildId, c.id));
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <Dialog title="Create a channel" onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Name
          <input required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Kind
          <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as 'text' | 'category')}>
            <option value="text">Text channel</option>
            <option value="category">Category</option>
          </select>
        </label>
        {kind === 'text' && categories.length > 0 && (
          <label>
            Category
            <select aria-label="Category" value={parent} onChange={(e) => setParent(e.currentTarget.value)}>
              <option value="">None</option>
              {categories.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <DialogActions error={error} submitLabel="Create" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function UserPanel() {
  const user = me.value;
  return (
    <div class="user-panel">
      <span class="presence online" aria-hidden="true" />
      <span class="who" title={user?.username}>
        {user?.display_name ?? ''}
      </span>
      <button class="small" aria-label={`Switch to the ${theme.value === 'dark' ? 'light' : 'dark'} theme`} onClick={toggleTheme}>
        {theme.value === 'dark' ? 'Light' : 'Dark'}
      </button>
      <button class="small" aria-label="User settings" onClick={() => navigate('/settings')}>
        Settings
      </button>
    </div>
  );
}
