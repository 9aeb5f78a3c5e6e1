import { useEffect, useRef, useState } from 'preact/hooks';
import { BAN_MEMBERS_BIT, CHANGE_NICKNAME_BIT, KICK_MEMBERS_BIT, MANAGE_NICKNAMES_BIT, MANAGE_ROLES_BIT } from '../permissions';
import {
  api,
  describeError,
  fetchMembers,
  guilds,
  holdsPermission,
  mayAssignRole,
  me,
  members,
  notify,
  openDm,
  outranks,
  presence,
  roles,
  setMemberRole,
  setNickname,
} from '../store';
import type { Member, Role } from '../types';
import { Dialog, DialogActions } from './Dialog';

const ORDER = { online: 0, idle: 1, offline: 2 } as const;

export function MemberList({ guildId }: { guildId: string }) {
  const list = Object.values(members.value[guildId] ?? {});
  // One member's actions are open at a time. Escape closes them, outside
  // a dialog, and puts focus back on the member.
  const [openId, setOpenId] = useState<string | null>(null);
  const toggle = (userId: string) => setOpenId(openId === userId ? null : userId);
  const closeOnEscape = (ev: KeyboardEvent) => {
    const target = ev.target as Element;
    if (ev.key !== 'Escape' || !openId || target.closest('dialog')) return;
    ev.preventDefault(); // the phone drawer stays open
    setOpenId(null);
    target.closest('li.member')?.querySelector<HTMLButtonElement>('.member-button')?.focus();
  };
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
    <aside class="members" aria-label="Members" onKeyDown={closeOnEscape}>
      <h2>Online — {online.length}</h2>
      <ul>
        {online.map((m) => (
          <MemberRow key={m.user.id} m={m} guildId={guildId} status={statusOf(m)} open={openId === m.user.id} onToggle={toggle} />
        ))}
      </ul>
      <h2>Offline — {offline.length}</h2>
      <ul>
        {offline.map((m) => (
          <MemberRow key={m.user.id} m={m} guildId={guildId} status={statusOf(m)} open={openId === m.user.id} onToggle={toggle} />
        ))}
      </ul>
    </aside>
  );
}

function name(m: Member): string {
  return m.nickname || m.user.display_name;
}

/**
 * Reports whether the user may set this member's nickname: their own with
 * CHANGE_NICKNAME, another member's with MANAGE_NICKNAMES and a higher rank.
 */
function mayRename(guildId: string, m: Member): boolean {
  if (m.user.id === me.value?.id) return holdsPermission(guildId, CHANGE_NICKNAME_BIT);
  return holdsPermission(guildId, MANAGE_NICKNAMES_BIT) && outranks(guildId, m.user.id);
}

interface MemberRowProps {
  m: Member;
  guildId: string;
  status: string;
  open: boolean;
  onToggle: (userId: string) => void;
}

function MemberRow({ m, guildId, status, open, onToggle }: MemberRowProps) {
  const [renaming, setRenaming] = useState(false);
  const [editingRoles, setEditingRoles] = useState(false);
  const memberButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) setEditingRoles(false);
  }, [open]);
  const self = m.user.id === me.value?.id;
  const owner = guilds.value[guildId]?.owner_id === m.user.id;
  const act = (fn: () => Promise<unknown>) => () => {
    onToggle(m.user.id);
    fn().catch((err) => notify(describeError(err)));
  };
  return (
    <li class="member">
      <button ref={memberButton} class="member-button" aria-expanded={open} aria-label={`${name(m)}, ${status}`} onClick={() => onToggle(m.user.id)}>
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
          {mayRename(guildId, m) && (
            <button class="small" onClick={() => setRenaming(true)}>
              Set nickname
            </button>
          )}
          {holdsPermission(guildId, MANAGE_ROLES_BIT) && (
            <button class="small" aria-expanded={editingRoles} onClick={() => setEditingRoles(!editingRoles)}>
              Roles
            </button>
          )}
          {holdsPermission(guildId, KICK_MEMBERS_BIT) && outranks(guildId, m.user.id) && (
            <button class="small" onClick={act(() => api.del(`/guilds/${guildId}/members/${m.user.id}`))}>
              Kick
            </button>
          )}
          {holdsPermission(guildId, BAN_MEMBERS_BIT) && outranks(guildId, m.user.id) && (
            <button
              class="small danger"
              onClick={act(async () => {
                if (confirm(`Ban ${name(m)} from this guild?`)) await api.put(`/guilds/${guildId}/bans/${m.user.id}`, {});
              })}
            >
              Ban
            </button>
          )}
          {editingRoles && <MemberRoles guildId={guildId} m={m} />}
        </div>
      )}
      {renaming && (
        <NicknameDialog
          guildId={guildId}
          m={m}
          onClose={() => {
            // The menu closes with the dialog, so focus goes back to the
            // member rather than to the page.
            setRenaming(false);
            onToggle(m.user.id);
            setTimeout(() => memberButton.current?.focus());
          }}
        />
      )}
    </li>
  );
}

/** Renders the dialog that sets or clears a member's nickname in a guild. */
function NicknameDialog({ guildId, m, onClose }: { guildId: string; m: Member; onClose: () => void }) {
  const [nickname, setNicknameText] = useState(m.nickname ?? '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const self = m.user.id === me.value?.id;
  const guildName = guilds.value[guildId]?.name ?? 'this guild';

  const save = async (value: string | null) => {
    setBusy(true);
    setError('');
    try {
      await setNickname(guildId, m.user.id, value);
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title={self ? `Your nickname in ${guildName}` : `Nickname of ${m.user.display_name} in ${guildName}`} onClose={onClose}>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          void save(nickname.trim() || null);
        }}
      >
        <label>
          Nickname
          <input maxLength={64} value={nickname} placeholder={m.user.display_name} aria-describedby="nickname-hint" onInput={(e) => setNicknameText(e.currentTarget.value)} />
        </label>
        <p id="nickname-hint" class="hint">
          Shown in this guild in place of the display name, {m.user.display_name}. Leave it empty to show the display name.
        </p>
        {m.nickname && (
          <button type="button" disabled={busy} onClick={() => void save(null)}>
            Remove nickname
          </button>
        )}
        <DialogActions error={error} submitLabel="Save nickname" onCancel={onClose} busy={busy} />
      </form>
    </Dialog>
  );
}

/**
 * Renders a checkbox per role of the guild but @everyone, checked for the
 * roles the member holds. Roles at or above the user's highest role show
 * but cannot be changed, and the server checks each change anyway.
 */
function MemberRoles({ guildId, m }: { guildId: string; m: Member }) {
  const [error, setError] = useState('');
  // The role being changed and its new state, shown while the request runs.
  const [change, setChange] = useState<{ roleId: string; give: boolean } | null>(null);
  const list = (roles.value[guildId] ?? []).filter((r) => r.id !== guildId);
  const outOfReach = list.some((r) => !mayAssignRole(guildId, r));

  const toggle = async (role: Role, give: boolean) => {
    setChange({ roleId: role.id, give });
    setError('');
    try {
      await setMemberRole(guildId, m.user.id, role.id, give);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setChange(null);
    }
  };

  return (
    <fieldset class="member-roles">
      <legend>Roles of {name(m)}</legend>
      {list.length === 0 && <p class="hint">This guild has no roles besides @everyone. Create them in the guild settings.</p>}
      {list.map((r) => {
        const checked = change?.roleId === r.id ? change.give : m.role_ids.includes(r.id);
        return (
          <label key={r.id} class="check">
            <input type="checkbox" checked={checked} disabled={!!change || !mayAssignRole(guildId, r)} onChange={() => void toggle(r, !checked)} />
            {r.name}
          </label>
        );
      })}
      {outOfReach && <p class="hint">Only roles below your highest role can be given or taken.</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
