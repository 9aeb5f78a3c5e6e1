import { useEffect, useState } from 'preact/hooks';
import { BAN_MEMBERS_BIT, KICK_MEMBERS_BIT } from '../permissions';
import { api, describeError, fetchMembers, guilds, holdsPermission, me, members, notify, openDm, presence } from '../store';
import type { Member } from '../types';

const ORDER = { online: 0, idle: 1, offline: 2 } as const;

export function MemberList({ guildId }: { guildId: string }) {
  const list = Object.values(members.value[guildId] ?? {});
  useEffect(() => {
    if (!members.value[guildId]) fetchMembers(guildId).catch((err) => notify(describeError(err)));
  }, [guildId]);

  const statusOf = (m: Member) => presence.value[m.user.id] ?? 'offline';
  const sorted = list.sort(
    (a, b) => ORDER[statusOf(a)] - ORDER[statusOf(b)] || name(a).localeCompare(name(b)),
  );
  const online = sorted.filter((m) => statusOf(m) !== 'offline');
  const offline = sorted.filter((m) => statusOf(m) === 'offline');

  return (
    <aside class="members" aria-label="Members">
      <h2>Online — {online.length}</h2>
      <ul>
        {online.map((m) => (
          <MemberRow key={m.user.id} m={m} guildId={guildId} status={statusOf(m)} />
        ))}
      </ul>
      <h2>Offline — {offline.length}</h2>
      <ul>
        {offline.map((m) => (
          <MemberRow key={m.user.id} m={m} guildId={guildId} status={statusOf(m)} />
        ))}
      </ul>
    </aside>
  );
}

function name(m: Member): string {
  return m.nickname || m.user.display_name;
}

function MemberRow({ m, guildId, status }: { m: Member; guildId: string; status: string }) {
  const [open, setOpen] = useState(false);
  const self = m.user.id === me.value?.id;
  const owner = guilds.value[guildId]?.owner_id === m.user.id;
  const act = (fn: () => Promise<unknown>) => () => {
    setOpen(false);
    fn().catch((err) => notify(describeError(err)));
  };
  return (
    <li class="member">
      <button class="member-button" aria-expanded={open} aria-label={`${name(m)}, ${status}`} onClick={() => setOpen(!open)}>
        <span class={`presence ${status}`} aria-hidden="true" />
        <span class="name">{name(m)}</span>
        {owner && <span class="hint"> owner</span>}
      </button>
      {open && (
        <div class="member-menu" role="group" aria-label={`Actions for ${name(m)}`}>
          <span class="hint">@{m.user.username}</span>
          {!self && (
            <button class="small" onClick={act(() => openDm(m.user.id))}>
              Message
            </button>
          )}
          {!self && !owner && holdsPermission(guildId, KICK_MEMBERS_BIT) && (
            <button class="small" onClick={act(() => api.del(`/guilds/${guildId}/members/${m.user.id}`))}>
              Kick
            </button>
          )}
          {!self && !owner && holdsPermission(guildId, BAN_MEMBERS_BIT) && (
            <button
              class="small danger"
              onClick={act(async () => {
                if (confirm(`Ban ${name(m)} from this guild?`)) await api.put(`/guilds/${guildId}/bans/${m.user.id}`, {});
              })}
            >
              Ban
            </button>
          )}
        </div>
      )}
    </li>
  );
}
