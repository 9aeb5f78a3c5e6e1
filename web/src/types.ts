// Shapes of the homeserver's client API (docs/api.md in the repository).

export interface User {
  id: string;
  username: string;
  display_name: string;
  created_at: string;
  deleted?: boolean;
}

export interface Tokens {
  access_token: string;
  access_expires_at: string;
  refresh_token: string;
  refresh_expires_at: string;
  session_id: string;
  user: User;
}

export interface Guild {
  id: string;
  name: string;
  description?: string;
  owner_id?: string;
  created_at?: string;
}

export type ChannelKind = 'text' | 'voice' | 'category' | 'dm' | 'group_dm';

export interface Channel {
  id: string;
  guild_id: string | null;
  kind: ChannelKind;
  name: string;
  topic: string;
  parent_id: string | null;
  position: number;
  last_seq: number;
  slowmode_seconds?: number;
  recipient_ids?: string[];
  created_at: string;
}

export interface Media {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  width?: number;
  height?: number;
  created_at: string;
}

export interface Reaction {
  emoji: string;
  count: number;
  me: boolean;
}

export interface Message {
  id: string;
  channel_id: string;
  seq: number;
  author_id: string;
  content: string;
  nonce: string | null;
  reply_to: string | null;
  attachments: Media[];
  reactions: Reaction[];
  mentions: { users: string[]; roles: string[]; everyone: boolean };
  created_at: string;
  edited_at: string | null;
}

export interface Member {
  guild_id?: string;
  user: User;
  nickname: string | null;
  role_ids: string[];
  joined_at: string;
}

export interface Role {
  id: string;
  guild_id: string;
  name: string;
  permissions: string;
  position: number;
  managed: boolean;
}

export interface Invite {
  code: string;
  guild_id: string;
  inviter_id: string;
  created_at?: string;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
}

export interface Ban {
  user: User;
  reason: string | null;
  created_at: string;
}

export interface Session {
  id: string;
  device_id: string;
  device_name: string;
  created_at: string;
  last_seen_at: string;
  last_ip: string;
  current: boolean;
}

export interface ReadyGuild {
  id: string;
  name: string;
  last_seq?: number;
  channels: Channel[];
}

export interface Ready {
  user: User;
  guilds: ReadyGuild[];
  dms: Channel[];
  read_state: Record<string, number>;
  unread: Record<string, { messages: number; mentions: number }>;
  presences?: { user_id: string; status: PresenceStatus }[];
  session_id: string;
}

export type PresenceStatus = 'online' | 'idle' | 'offline';

/** A channel permission overwrite for a role or a single member. */
export interface Overwrite {
  channel_id?: string;
  target_id: string;
  type: 'role' | 'member';
  /** Permission bitsets as decimal strings. */
  allow: string;
  deny: string;
}

/** A dispatch of one event of an event log. */
export interface Dispatch {
  op: 'dispatch';
  t: string;
  channel_id: string;
  guild_id?: string;
  seq: number;
  d: any;
}

/**
 * The dispatch of a changed User: a new display name or a deleted
 * account. It belongs to no event log, so it has no channel_id, guild_id
 * or seq, and is never replayed.
 */
export interface UserUpdateDispatch {
  op: 'dispatch';
  t: 'user_update';
  d: User;
}
