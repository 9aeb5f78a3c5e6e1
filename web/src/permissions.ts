// Permission bits of the API. Sets travel as decimal strings because a
// 64-bit set does not fit a JSON number exactly, so they are BigInts here.

export const PERMISSIONS: { bit: number; name: string; label: string }[] = [
  { bit: 0, name: 'VIEW_CHANNEL', label: 'View channels' },
  { bit: 1, name: 'SEND_MESSAGES', label: 'Send messages' },
  { bit: 2, name: 'READ_MESSAGE_HISTORY', label: 'Read message history' },
  { bit: 3, name: 'MANAGE_MESSAGES', label: 'Manage messages' },
  { bit: 4, name: 'ADD_REACTIONS', label: 'Add reactions' },
  { bit: 5, name: 'ATTACH_FILES', label: 'Attach files' },
  { bit: 6, name: 'MENTION_EVERYONE', label: 'Mention @everyone' },
  { bit: 7, name: 'CREATE_INVITE', label: 'Create invites' },
  { bit: 8, name: 'MANAGE_CHANNELS', label: 'Manage channels' },
  { bit: 9, name: 'MANAGE_ROLES', label: 'Manage roles' },
  { bit: 10, name: 'MANAGE_GUILD', label: 'Manage guild' },
  { bit: 11, name: 'KICK_MEMBERS', label: 'Kick members' },
  { bit: 12, name: 'BAN_MEMBERS', label: 'Ban members' },
  { bit: 13, name: 'CONNECT', label: 'Connect to voice' },
  { bit: 14, name: 'SPEAK', label: 'Speak in voice' },
  { bit: 15, name: 'MUTE_MEMBERS', label: 'Mute members' },
  { bit: 16, name: 'DEAFEN_MEMBERS', label: 'Deafen members' },
  { bit: 17, name: 'MOVE_MEMBERS', label: 'Move members' },
  { bit: 18, name: 'CHANGE_NICKNAME', label: 'Change own nickname' },
  { bit: 19, name: 'MANAGE_NICKNAMES', label: 'Manage nicknames' },
  { bit: 20, name: 'VIEW_AUDIT_LOG', label: 'View audit log' },
  { bit: 21, name: 'MANAGE_WEBHOOKS', label: 'Manage webhooks' },
  { bit: 40, name: 'ADMINISTRATOR', label: 'Administrator' },
];

export const ADMINISTRATOR_BIT = 40;
/** Every bit of the table above, as the owner and ADMINISTRATOR hold them. */
export const ALL_PERMISSIONS = PERMISSIONS.reduce((set, p) => set | (1n << BigInt(p.bit)), 0n);
export const MANAGE_MESSAGES_BIT = 3;
export const KICK_MEMBERS_BIT = 11;
export const BAN_MEMBERS_BIT = 12;

export function parsePermissions(value: string | undefined): bigint {
  try {
    return BigInt(value ?? '0');
  } catch {
    return 0n;
  }
}

export function hasBit(set: bigint, bit: number): boolean {
  return (set & (1n << BigInt(bit))) !== 0n;
}

export function withBit(set: bigint, bit: number, on: boolean): bigint {
  const mask = 1n << BigInt(bit);
  return on ? set | mask : set & ~mask;
}

export const SEND_MESSAGES_BIT = 1;
export const CREATE_INVITE_BIT = 7;
export const MANAGE_CHANNELS_BIT = 8;
export const MANAGE_ROLES_BIT = 9;
export const MANAGE_GUILD_BIT = 10;
export const CHANGE_NICKNAME_BIT = 18;
export const MANAGE_NICKNAMES_BIT = 19;

/** The sections of the guild settings page. */
export type SettingsTab = 'overview' | 'channels' | 'roles' | 'overwrites' | 'invites' | 'bans';

/**
 * Returns the settings sections that a member with these guild-level
 * permissions can use: each needs the bit that its routes check, and
 * ADMINISTRATOR grants them all. Overview is open to every member,
 * because leaving the guild is there.
 */
export function settingsTabs(perms: bigint): SettingsTab[] {
  const has = (bit: number) => hasBit(perms, bit) || hasBit(perms, ADMINISTRATOR_BIT);
  const tabs: SettingsTab[] = ['overview'];
  if (has(MANAGE_CHANNELS_BIT)) tabs.push('channels');
  if (has(MANAGE_ROLES_BIT)) tabs.push('roles', 'overwrites');
  if (has(MANAGE_GUILD_BIT)) tabs.push('invites');
  if (has(BAN_MEMBERS_BIT)) tabs.push('bans');
  return tabs;
}

/** Reports whether any settings section beyond the overview is open to these permissions. */
export function managesGuild(perms: bigint): boolean {
  return settingsTabs(perms).length > 1 || hasBit(perms, MANAGE_GUILD_BIT);
}
