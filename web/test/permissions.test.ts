import { describe, expect, it } from 'vitest';
import {
  ADMINISTRATOR_BIT,
  ALL_PERMISSIONS,
  BAN_MEMBERS_BIT,
  hasBit,
  managesGuild,
  MANAGE_CHANNELS_BIT,
  MANAGE_GUILD_BIT,
  MANAGE_ROLES_BIT,
  settingsTabs,
} from '../src/permissions';

const bits = (...list: number[]) => list.reduce((set, b) => set | (1n << BigInt(b)), 0n);
// VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY, ADD_REACTIONS,
// ATTACH_FILES, CREATE_INVITE, CONNECT, SPEAK, CHANGE_NICKNAME: the
// server's @everyone default.
const EVERYONE_DEFAULT = bits(0, 1, 2, 4, 5, 7, 13, 14, 18);

describe('settingsTabs', () => {
  it('offers a plain member the overview only', () => {
    expect(settingsTabs(EVERYONE_DEFAULT)).toEqual(['overview']);
    expect(managesGuild(EVERYONE_DEFAULT)).toBe(false);
  });

  it('offers each section for its own permission', () => {
    expect(settingsTabs(bits(MANAGE_CHANNELS_BIT))).toEqual(['overview', 'channels']);
    expect(settingsTabs(bits(MANAGE_ROLES_BIT))).toEqual(['overview', 'roles', 'overwrites']);
    expect(settingsTabs(bits(MANAGE_GUILD_BIT))).toEqual(['overview', 'invites']);
    expect(settingsTabs(bits(BAN_MEMBERS_BIT))).toEqual(['overview', 'bans']);
    expect(managesGuild(bits(BAN_MEMBERS_BIT))).toBe(true);
  });

  it('offers every section to an administrator', () => {
    const all = ['overview', 'channels', 'roles', 'overwrites', 'invites', 'bans'];
    expect(settingsTabs(bits(ADMINISTRATOR_BIT))).toEqual(all);
    expect(settingsTabs(ALL_PERMISSIONS)).toEqual(all);
  });

  it('includes every bit in ALL_PERMISSIONS', () => {
    for (const b of [0, 1, 8, 9, 10, 12, 21, 40]) expect(hasBit(ALL_PERMISSIONS, b)).toBe(true);
  });
});
