import { useEffect, useState } from 'preact/hooks';
import { ADMINISTRATOR_BIT, hasBit, parsePermissions, PERMISSIONS, withBit } from '../permissions';
import {
  deleteOverwrite,
  describeError,
  displayName,
  findMembers,
  guildChannels,
  loadOverwrites,
  members,
  notify,
  roles,
  saveOverwrite,
} from '../store';
import type { Overwrite } from '../types';
import { ChannelSelect } from './ChannelSelect';

type TargetType = Overwrite['type'];

/** The role or member an overwrite applies to, with the name to show. */
interface Target {
  id: string;
  type: TargetType;
  name: string;
}

/** Renders the channel permissions tab: overwrites per role or per member of a picked channel. */
export function Overwrites({ guildId }: { guildId: string }) {
  const chans = guildChannels(guildId);
  const [channelId, setChannelId] = useState(chans[0]?.id ?? '');
  const [type, setType] = useState<TargetType>('role');
  const [roleId, setRoleId] = useState(guildId);
  const [memberId, setMemberId] = useState('');
  const [query, setQuery] = useState('');
  const [existing, setExisting] = useState<Record<string, Overwrite>>({});
  const [loadedFor, setLoadedFor] = useState<string | null>(null);

  useEffect(() => {
    if (!channelId) return;
    let live = true;
    setLoadedFor(null);
    loadOverwrites(channelId).then(
      (found) => {
        if (!live) return;
        setExisting(found);
        setLoadedFor(channelId);
      },
      (err) => notify(describeError(err)),
    );
    return () => {
      live = false;
    };
  }, [channelId]);

  const memberOptions = memberTargets(guildId, query, existing);
  const role = (roles.value[guildId] ?? []).find((r) => r.id === roleId);
  const target: Target | undefined =
    type === 'role'
      ? role && { id: role.id, type: 'role', name: role.name }
      : memberOptions.find((t) => t.id === memberId) ?? memberOptions[0];

  const onChange = (ow: Overwrite | undefined) => {
    if (!target) return;
    const next = { ...existing };
    if (ow) next[target.id] = ow;
    else delete next[target.id];
    setExisting(next);
  };

  return (
    <div>
      <div class="row">
        <ChannelSelect channels={chans} value={channelId} onChange={setChannelId} />
        <label>
          Applies to
          <select aria-label="Applies to" value={type} onChange={(e) => setType(e.currentTarget.value as TargetType)}>
            <option value="role">A role</option>
            <option value="member">A member</option>
          </select>
        </label>
      </div>
      {type === 'role' ? (
        <RolePicker guildId={guildId} value={roleId} existing={existing} onChange={setRoleId} />
      ) : (
        <MemberPicker options={memberOptions} value={target?.id ?? ''} query={query} onQuery={setQuery} onChange={setMemberId} />
      )}
      {/* The editor mounts only once the channel's overwrites are loaded,
          so a late answer cannot replace what the user has picked. */}
      {loadedFor !== channelId ? (
        <p class="hint">Loading the channel's overwrites…</p>
      ) : (
        target && (
          <OverwriteEditor key={`${channelId}/${target.id}`} channelId={channelId} target={target} current={existing[target.id]} onChange={onChange} />
        )
      )}
    </div>
  );
}

function RolePicker(props: { guildId: string; value: string; existing: Record<string, Overwrite>; onChange: (id: string) => void }) {
  return (
    <label>
      Role
      <select aria-label="Role" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {(roles.value[props.guildId] ?? []).map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
            {props.existing[r.id] ? ' (has overwrite)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Returns the member targets that match a search: the guild's members,
 * then the targets of member overwrites who are no longer members, so
 * that their overwrites can still be removed. A member with an overwrite
 * is marked in the name.
 */
function memberTargets(guildId: string, query: string, existing: Record<string, Overwrite>): Target[] {
  const mark = (id: string) => (existing[id]?.type === 'member' ? ' (has overwrite)' : '');
  const found: Target[] = findMembers(guildId, query).map((m) => ({
    id: m.user.id,
    type: 'member',
    name: `${m.nickname || m.user.display_name} (@${m.user.username})${mark(m.user.id)}`,
  }));
  const current = members.value[guildId] ?? {};
  const needle = query.trim().toLocaleLowerCase();
  for (const o of Object.values(existing)) {
    if (o.type !== 'member' || current[o.target_id]) continue;
    const name = displayName(o.target_id);
    if (!needle || name.toLocaleLowerCase().includes(needle)) found.push({ id: o.target_id, type: 'member', name: `${name}, not a member${mark(o.target_id)}` });
  }
  return found;
}

/** Renders a member search field with a list of the members it matches. */
export function MemberPicker(props: {
  options: { id: string; name: string }[];
  value: string;
  query: string;
  onQuery: (q: string) => void;
  onChange: (id: string) => void;
}) {
  return (
    <div class="row">
      <label>
        Search members
        <input type="search" value={props.query} onInput={(e) => props.onQuery(e.currentTarget.value)} />
      </label>
      {props.options.length ? (
        <label>
          Member
          <select aria-label="Member" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
            {props.options.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <p class="hint" role="status">
          No member matches “{props.query.trim()}”.
        </p>
      )}
    </div>
  );
}

function OverwriteEditor(props: {
  channelId: string;
  target: Target;
  current: Overwrite | undefined;
  onChange: (ow: Overwrite | undefined) => void;
}) {
  const { channelId, target, current, onChange } = props;
  const [allow, setAllow] = useState(() => parsePermissions(current?.allow));
  const [deny, setDeny] = useState(() => parsePermissions(current?.deny));

  const setState = (bit: number, state: string) => {
    setAllow(withBit(allow, bit, state === 'allow'));
    setDeny(withBit(deny, bit, state === 'deny'));
  };
  const save = async () => {
    try {
      const ow: Overwrite = { target_id: target.id, type: target.type, allow: allow.toString(), deny: deny.toString() };
      await saveOverwrite(channelId, ow);
      onChange(ow);
      notify('Channel permissions saved.', 'info');
    } catch (err) {
      notify(describeError(err));
    }
  };
  const clear = async () => {
    try {
      await deleteOverwrite(channelId, target.id);
      // The table shows Inherit everywhere now, so the next save cannot
      // send the removed settings again.
      setAllow(0n);
      setDeny(0n);
      onChange(undefined);
      notify('Overwrite removed.', 'info');
    } catch (err) {
      notify(describeError(err));
    }
  };

  return (
    <>
      <table class="overwrites">
        <caption class="visually-hidden">Overwrite for {target.name}</caption>
        <thead>
          <tr>
            <th scope="col">Permission</th>
            <th scope="col">Setting</th>
          </tr>
        </thead>
        <tbody>
          {PERMISSIONS.filter((p) => p.bit !== ADMINISTRATOR_BIT).map((p) => {
            const state = hasBit(allow, p.bit) ? 'allow' : hasBit(deny, p.bit) ? 'deny' : 'inherit';
            return (
              <tr key={p.bit}>
                <td>{p.label}</td>
                <td>
                  <select aria-label={`${p.label} for this ${target.type}`} value={state} onChange={(e) => setState(p.bit, e.currentTarget.value)}>
                    <option value="inherit">Inherit</option>
                    <option value="allow">Allow</option>
                    <option value="deny">Deny</option>
                  </select>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="row">
        <button class="primary" onClick={() => void save()}>
          Save overwrite
        </button>
        <button onClick={() => void clear()} disabled={!current}>
          Remove overwrite
        </button>
      </div>
    </>
  );
}
