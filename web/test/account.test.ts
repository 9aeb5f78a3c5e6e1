import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  changePassword,
  deleteAccount,
  deletionError,
  newPasswordProblem,
  ownershipMessage,
  passwordChangeError,
  utf8Length,
} from '../src/account';
import { ApiError } from '../src/api';
import { guilds, me, onReady, session, tokens } from '../src/store';
import type { Guild, User } from '../src/types';
import { type Call, CREATED, json, recordFetch } from './fixtures';

const ALICE: User = { id: 'u-alice', username: 'alice', display_name: 'Alice', created_at: CREATED };

let handler: (method: string, path: string) => Response | Promise<Response>;
let calls: Call[];

beforeEach(() => {
  handler = () => new Response(null, { status: 204 });
  calls = recordFetch((method, path) => handler(method, path));
  onReady({ user: ALICE, guilds: [], dms: [], read_state: {}, unread: {}, presences: [], session_id: 's' });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('newPasswordProblem', () => {
  it('accepts 8 to 1,024 bytes that match', () => {
    expect(newPasswordProblem('abcdefgh', 'abcdefgh')).toBeNull();
    expect(newPasswordProblem('x'.repeat(1024), 'x'.repeat(1024))).toBeNull();
  });

  it('counts bytes in UTF-8, not characters', () => {
    expect(utf8Length('éééé')).toBe(8);
    expect(newPasswordProblem('éééé', 'éééé')).toBeNull();
    expect(utf8Length('ééé')).toBe(6);
    expect(newPasswordProblem('ééé', 'ééé')).toMatch(/too short/);
  });

  it('rejects a short password', () => {
    expect(newPasswordProblem('1234567', '1234567')).toMatch(/at least 8 bytes/);
  });

  it('rejects a long password', () => {
    expect(newPasswordProblem('x'.repeat(1025), 'x'.repeat(1025))).toMatch(/1,025 bytes .* limit is 1,024/);
  });

  it('rejects a confirmation that differs', () => {
    expect(newPasswordProblem('abcdefgh', 'abcdefgH')).toMatch(/confirmation differ/);
  });
});

describe('changePassword', () => {
  it('posts both passwords', async () => {
    await changePassword('old password', 'new password');
    expect(calls).toEqual([
      { method: 'POST', path: '/api/v1/users/@me/password', body: { current_password: 'old password', new_password: 'new password' } },
    ]);
  });

  it('names a wrong current password', async () => {
    handler = () => json({ error: 'invalid_credentials', message: 'The password is wrong.' }, 403);
    const err = await changePassword('wrong', 'new password').catch((e) => e);
    expect(passwordChangeError(err)).toBe('The current password is wrong.');
  });

  it('labels the fields of a validation error', async () => {
    handler = () =>
      json(
        {
          error: 'validation_error',
          message: 'The request has invalid fields.',
          details: [{ field: 'new_password', message: 'must be 8 to 1024 bytes' }],
        },
        400,
      );
    const err = await changePassword('old password', 'short').catch((e) => e);
    expect(passwordChangeError(err)).toBe('The request has invalid fields. New password: must be 8 to 1024 bytes.');
  });

  it('shows the wait of a rate limit', () => {
    expect(passwordChangeError(new ApiError(429, 'rate_limited', 'Slow down.', 4200))).toBe('Rate limited: try again in 5 s.');
  });
});

describe('deleteAccount', () => {
  it('sends the password and ends the local session', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    session.set({ access_token: 't', access_expires_at: expires, refresh_token: '', refresh_expires_at: expires, session_id: 's', user: ALICE });
    await deleteAccount('my password');
    expect(calls).toEqual([{ method: 'DELETE', path: '/api/v1/users/@me', body: { password: 'my password' } }]);
    expect(tokens.value).toBeNull();
    expect(me.value).toBeNull();
    expect(localStorage.getItem('openguild.tokens')).toBeNull();
  });

  it('keeps the session on a wrong password', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    session.set({ access_token: 't', access_expires_at: expires, refresh_token: '', refresh_expires_at: expires, session_id: 's', user: ALICE });
    handler = () => json({ error: 'invalid_credentials', message: 'The password is wrong.' }, 403);
    const err = await deleteAccount('wrong').catch((e) => e);
    expect(await deletionError(err)).toBe('The password is wrong.');
    expect(tokens.value).not.toBeNull();
    session.clear();
  });
});

describe('deletionError', () => {
  const conflict = new ApiError(409, 'ownership_transfer_required', 'You own a guild; transfer its ownership first.');
  const guild = (id: string, name: string, ownerId: string): Guild => ({ id, name, owner_id: ownerId });

  it('names the owned guilds from the guild list', async () => {
    handler = (_method, path) =>
      path === '/api/v1/guilds'
        ? json([guild('g1', 'Book Club', ALICE.id), guild('g2', 'Other', 'u-bob'), guild('g3', 'Chess', ALICE.id)])
        : new Response(null, { status: 204 });
    expect(await deletionError(conflict)).toBe(
      'You own Book Club and Chess. Transfer their ownership to another member or delete them, then delete your account.',
    );
  });

  it('falls back to the loaded guilds without an answer', async () => {
    handler = () => {
      throw new TypeError('Failed to fetch');
    };
    guilds.value = { g1: guild('g1', 'Book Club', ALICE.id), g2: { id: 'g2', name: 'Not loaded' } };
    expect(await deletionError(conflict)).toBe(
      'You own Book Club. Transfer its ownership to another member or delete it, then delete your account.',
    );
  });

  it('describes other errors', async () => {
    expect(await deletionError(new ApiError(0, 'network', 'The server cannot be reached.'))).toBe('The server cannot be reached.');
  });
});

describe('ownershipMessage', () => {
  it('reads well for none, one and several guilds', () => {
    expect(ownershipMessage([])).toMatch(/^You own a guild\./);
    expect(ownershipMessage(['A'])).toMatch(/^You own A\. Transfer its ownership .* delete it,/);
    expect(ownershipMessage(['A', 'B', 'C'])).toMatch(/^You own A, B and C\. Transfer their ownership .* delete them,/);
  });
});
