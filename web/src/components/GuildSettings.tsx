import { useEffect, useState } from 'preact/hooks';
import { hasBit, MANAGE_GUILD_BIT, parsePermissions, PERMISSIONS, settingsTabs, withBit, type SettingsTab } from '../permissions';
import { navigate, paths } from '../router';
import {
  api,
  describeError,
  fetchGuildDetails,
  fetchMembers,
  findMembers,
  guildChannels,
  guildPermissions,
  guilds,
  holdsPermission,
  leaveGuild,
  me,
  members,
  notify,
  refreshRoles,
  roles,
} from '../store';
import type { Ban, Channel, Guild, Invite, Role } from '../types';
import { MemberPicker, Overwrites } from './ChannelPermissions';
import { ChannelSelect } from './ChannelSelect';

type Tab = SettingsTab;
const TABS: [Tab, string][] = [
  ['overview', 'Overview'],
  ['channels', 'Channels'],
  ['roles', 'Roles'],
  ['overwrites', 'Channel permissions'],
  ['invites', 'Invites'],
  ['bans', 'Bans'],
];

export function GuildSettings({ guildId }: { guildId: string }) {
  const [tab, setTab] = useState<Tab>('overview');
  const g = guilds.value[guildId];
  useEffect(() => {
    void fetchGuildDetails(guildId);
    void refreshRoles(guildId);
    if (!members.value[guildId]) void fetchMembers(guildId).catch(() => undefined);
  }, [guildId]);
  if (!g) return <p class="hint empty">This guild does not exist or you are not a member.</p>;
  // Only the sections whose routes the member may use are offered.
  const perms = guildPermissions(guildId);
  const allowed = perms === null ? ['overview'] : settingsTabs(perms);
  const shown = allowed.includes(tab) ? tab : 'overview';

  return (
    <main class="settings" aria-labelledby="guild-settings-title">
      <h1 id="guild-settings-title">{g.name}: settings</h1>
      <p>
        <a href={paths.guild(guildId)} onClick={(e) => (e.preventDefault(), navigate(paths.guild(guildId)))}>
          Back to the guild
        </a>
      </p>
      <div role="tablist" aria-label="Settings sections" class="tabs">
        {TABS.filter(([id]) => allowed.includes(id)).map(([id, label]) => (
          <button key={id} role="tab" aria-selected={shown === id} class={shown === id ? 'active' : ''} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {shown === 'overview' && <Overview guild={g} />}
        {shown === 'channels' && <Channels guildId={guildId} />}
        {shown === 'roles' && <Roles guildId={guildId} />}
        {shown === 'overwrites' && <Overwrites guildId={guildId} />}
        {shown === 'invites' && <Invites guildId={guildId} />}
        {shown === 'bans' && <Bans guildId={guildId} />}
      </div>
    </main>
  );
}

function Overview({ guild }: { guild: Guild }) {
  const isOwner = guild.owner_id === me.value?.id;
  const canEdit = holdsPermission(guild.id, MANAGE_GUILD_BIT);
  const [saved, setSaved] = useState(false);
  const [name, setName] = useState(guild.name);
  const [description, setDescription] = useState(guild.description ?? '');
  const save = async (ev: Event) => {
    ev.preventDefault();
    try {
      const g = await api.patch<Guild>(`/guilds/${guild.id}`, { name: name.trim(), description });
      guilds.value = { ...guilds.value, [g.id]: { ...guilds.value[g.id], ...g } };
      setSaved(true);
      setTimeout(() => setSaved(false), 3000);
    } catch (err) {
      notify(describeError(err));
    }
  };
  // The guild_delete or member_remove dispatch that follows drops the
  // guild from the rail and leaves this page.
  const leave = async () => {
    if (!confirm(`Leave ${guild.name}?`)) return;
    try {
      await leaveGuild(guild.id);
    } catch (err) {
      notify(describeError(err));
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${guild.name} with all its channels and messages? This cannot be undone.`)) return;
    try {
      await api.del(`/guilds/${guild.id}`);
    } catch (err) {
      notify(describeError(err));
    }
  };
  return (
    <>
      {canEdit ? (
        <form onSubmit={save}>
          <label>
            Name
            <input required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Description
            <textarea maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <div class="row">
            <button type="submit" class="primary" onClick={() => setSaved(false)}>
              Save
            </button>
            <span class="saved" role="status">
              {saved ? 'Saved' : ''}
            </span>
          </div>
        </form>
      ) : (
        guild.description && <p>{guild.description}</p>
      )}
      {isOwner && <TransferOwnership guild={guild} />}
      <h2>Membership</h2>
      {isOwner ? (
        <button class="danger" onClick={() => void remove()}>
          Delete guild
        </button>
      ) : (
        <button class="danger" onClick={() => void leave()}>
          Leave guild
        </button>
      )}
    </>
  );
}

/** Hands the guild to another member. The owner stays a member. */
function TransferOwnership({ guild }: { guild: Guild }) {
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState('');
  const options = findMembers(guild.id, query)
    .filter((m) => m.user.id !== me.value?.id)
    .map((m) => ({ id: m.user.id, name: `${m.nickname || m.user.display_name} (@${m.user.username})` }));
  const heir = options.find((o) => o.id === chosen) ?? options[0];

  const transfer = async () => {
    if (!heir || !confirm(`Make ${heir.name} the owner of ${guild.name}? You stay a member but lose the owner's rights.`)) return;
    try {
      const g = await api.patch<Guild>(`/guilds/${guild.id}`, { owner_id: heir.id });
      guilds.value = { ...guilds.value, [g.id]: { ...guilds.value[g.id], ...g } };
      notify(`${heir.name} now owns ${guild.name}.`, 'info');
    } catch (err) {
      notify(describeError(err));
    }
  };
  return (
    <section aria-labelledby="transfer-title">
      <h2 id="transfer-title">Ownership</h2>
      <MemberPicker options={options} value={heir?.id ?? ''} query={query} onQuery={setQuery} onChange={setChosen} />
      <button class="danger" disabled={!heir} onClick={() => void transfer()}>
        Transfer ownership
      </button>
    </section>
  );
}

function Channels({ guildId }: { guildId: string }) {
  const chans = guildChannels(guildId);
  const [channelId, setChannelId] = useState(chans.find((c) => c.kind === 'text')?.id ?? chans[0]?.id ?? '');
  const channel = chans.find((c) => c.id === channelId);
  return (
    <div>
      <ChannelSelect channels={chans} value={channelId} onChange={setChannelId} />
      {channel && <ChannelEditor key={channel.id} channel={channel} onDeleted={() => setChannelId('')} />}
    </div>
  );
}

/** Renders the form of one channel's name, topic and slowmode. */
function ChannelEditor({ channel, onDeleted }: { channel: Channel; onDeleted: () => void }) {
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic);
  const [slowmode, setSlowmode] = useState(String(channel.slowmode_seconds ?? 0));
  const isText = channel.kind === 'text';
  const save = async (ev: Event) => {
    ev.preventDefault();
    const body: Record<string, unknown> = { name: name.trim() };
    if (isText) {
      body.topic = topic;
      body.slowmode_seconds = Number(slowmode);
    }
    try {
      await api.patch<Channel>(`/channels/${channel.id}`, body);
      notify('Channel saved.', 'info');
    } catch (err) {
      notify(describeError(err));
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${channel.name} and its messages? This cannot be undone.`)) return;
    try {
      await api.del(`/channels/${channel.id}`);
      onDeleted();
    } catch (err) {
      notify(describeError(err));
    }
  };
  return (
    <form onSubmit={save}>
      <label>
        Channel name
        <input required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      {isText && (
        <>
          <label>
            Topic
            <input maxLength={1024} value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
          </label>
          <label>
            Slowmode in seconds (0 turns it off, at most 21600)
            <input
              type="number"
              min={0}
              max={21600}
              required
              value={slowmode}
              onInput={(e) => setSlowmode(e.currentTarget.value)}
            />
          </label>
        </>
      )}
      <div class="row">
        <button type="submit" class="primary">
          Save channel
        </button>
        <button type="button" class="danger" onClick={() => void remove()}>
          Delete channel
        </button>
      </div>
    </form>
  );
}

function Roles({ guildId }: { guildId: string }) {
  const list = roles.value[guildId] ?? [];
  const [selected, setSelected] = useState<string>(guildId);
  const [newName, setNewName] = useState('');
  const role = list.find((r) => r.id === selected) ?? list[0];

  const create = async (ev: Event) => {
    ev.preventDefault();
    try {
      const r = await api.post<Role>(`/guilds/${guildId}/roles`, { name: newName.trim(), permissions: '0' });
      setNewName('');
      await refreshRoles(guildId);
      setSelected(r.id);
    } catch (err) {
      notify(describeError(err));
    }
  };

  return (
    <div class="roles">
      <form onSubmit={create} class="row">
        <label>
          New role
          <input required maxLength={64} value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />
        </label>
        <button type="submit">Create role</button>
      </form>
      <label>
        Role
        <select aria-label="Role" value={role?.id} onChange={(e) => setSelected(e.currentTarget.value)}>
          {[...list].reverse().map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      {role && <RoleEditor key={role.id} guildId={guildId} role={role} onDeleted={() => setSelected(guildId)} />}
    </div>
  );
}

/** Renders the permission editor of one role. Keyed by role, so each draft starts fresh. */
function RoleEditor({ guildId, role, onDeleted }: { guildId: string; role: Role; onDeleted: () => void }) {
  const [draft, setDraft] = useState<bigint>(() => parsePermissions(role.permissions));
  const save = async () => {
    try {
      await api.patch<Role>(`/guilds/${guildId}/roles/${role.id}`, { permissions: draft.toString() });
      await refreshRoles(guildId);
      notify('Role saved.', 'info');
    } catch (err) {
      notify(describeError(err));
    }
  };
  const remove = async () => {
    if (role.id === guildId || !confirm(`Delete the role ${role.name}?`)) return;
    try {
      await api.del(`/guilds/${guildId}/roles/${role.id}`);
      onDeleted();
      await refreshRoles(guildId);
    } catch (err) {
      notify(describeError(err));
    }
  };
  return (
    <fieldset>
      <legend>Permissions of {role.name}</legend>
      {PERMISSIONS.map((p) => (
        <label key={p.bit} class="check">
          <input type="checkbox" checked={hasBit(draft, p.bit)} onChange={(e) => setDraft(withBit(draft, p.bit, e.currentTarget.checked))} />
          {p.label}
        </label>
      ))}
      <div class="row">
        <button class="primary" onClick={() => void save()}>
          Save permissions
        </button>
        {role.id !== guildId && (
          <button class="danger" onClick={() => void remove()}>
            Delete role
          </button>
        )}
      </div>
    </fieldset>
  );
}

function Invites({ guildId }: { guildId: string }) {
  const [list, setList] = useState<Invite[] | null>(null);
  const [error, setError] = useState('');
  const load = () => api.get<Invite[]>(`/guilds/${guildId}/invites`).then(setList, (err) => setError(describeError(err)));
  useEffect(() => void load(), [guildId]);
  const remove = async (code: string) => {
    try {
      await api.del(`/invites/${encodeURIComponent(code)}`);
      await load();
    } catch (err) {
      notify(describeError(err));
    }
  };
  if (error) return <p class="error">{error}</p>;
  // On a narrow screen the links wrap, and whatever still does not fit
  // scrolls inside the container, not the whole page.
  return (
    <div class="table-scroll">
      <table class="invites">
        <thead>
          <tr>
            <th scope="col">Link</th>
            <th scope="col">Uses</th>
            <th scope="col">Expires</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list ?? []).map((i) => (
            <tr key={i.code}>
              <td>
                <code>{`${location.origin}${paths.invite(i.code)}`}</code>
              </td>
              <td>
                {i.uses}
                {i.max_uses ? ` / ${i.max_uses}` : ''}
              </td>
              <td>{i.expires_at ? new Date(i.expires_at).toLocaleString() : 'never'}</td>
              <td>
                <button class="small danger" onClick={() => void remove(i.code)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Bans({ guildId }: { guildId: string }) {
  const [list, setList] = useState<Ban[] | null>(null);
  const [error, setError] = useState('');
  const load = () => api.get<Ban[]>(`/guilds/${guildId}/bans`).then(setList, (err) => setError(describeError(err)));
  useEffect(() => void load(), [guildId]);
  const unban = async (userId: string) => {
    try {
      await api.del(`/guilds/${guildId}/bans/${userId}`);
      await load();
    } catch (err) {
      notify(describeError(err));
    }
  };
  if (error) return <p class="error">{error}</p>;
  if (list && list.length === 0) return <p class="hint">Nobody is banned. Ban members from the member list.</p>;
  return (
    <ul>
      {(list ?? []).map((b) => (
        <li key={b.user.id} class="row">
          <span>
            {b.user.display_name} (@{b.user.username}){b.reason ? `: ${b.reason}` : ''}
          </span>
          <button class="small" onClick={() => void unban(b.user.id)}>
            Lift ban
          </button>
        </li>
      ))}
    </ul>
  );
}
