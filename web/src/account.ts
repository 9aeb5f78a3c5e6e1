// Password changes and account deletion: the client-side checks, the
// requests, and the messages for the errors those routes return.

import { ApiError } from './api';
import { ACCOUNT_DELETED, api, describeError, endLocalSession, guilds, me } from './store';
import type { Guild } from './types';

/** The server's password limits, in bytes of UTF-8. */
export const PASSWORD_MIN_BYTES = 8;
export const PASSWORD_MAX_BYTES = 1024;

const FIELD_LABELS: Record<string, string> = {
  current_password: 'Current password',
  new_password: 'New password',
  password: 'Password',
};

/** Counts the bytes of text in UTF-8, the unit of the password limits. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Returns why a new password cannot be sent, or null when it can. */
export function newPasswordProblem(password: string, confirmation: string): string | null {
  const bytes = utf8Length(password);
  if (bytes < PASSWORD_MIN_BYTES) {
    return `The new password is too short: it needs at least ${PASSWORD_MIN_BYTES} bytes in UTF-8, such as ${PASSWORD_MIN_BYTES} letters or digits.`;
  }
  if (bytes > PASSWORD_MAX_BYTES) {
    return `The new password is ${bytes.toLocaleString('en')} bytes long in UTF-8; the limit is ${PASSWORD_MAX_BYTES.toLocaleString('en')}.`;
  }
  if (password !== confirmation) return 'The new password and its confirmation differ. Type the same password in both fields.';
  return null;
}

/**
 * Changes the password. The server ends every other session of the
 * account and keeps this one.
 */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await api.post('/users/@me/password', { current_password: currentPassword, new_password: newPassword });
}

/** Returns the message for a failed password change. */
export function passwordChangeError(err: unknown): string {
  if (err instanceof ApiError && err.code === 'invalid_credentials') return 'The current password is wrong.';
  return fieldError(err);
}

/**
 * Deletes the account. The server has then ended every session, so the
 * local session ends as well, which clears the state and shows the login.
 */
export async function deleteAccount(password: string): Promise<void> {
  await api.del('/users/@me', { password });
  endLocalSession(ACCOUNT_DELETED);
}

/** Returns the message for a failed account deletion, naming the guilds the user owns. */
export async function deletionError(err: unknown): Promise<string> {
  if (!(err instanceof ApiError)) return describeError(err);
  if (err.code === 'invalid_credentials') return 'The password is wrong.';
  if (err.code === 'ownership_transfer_required') return ownershipMessage(await ownedGuildNames());
  return fieldError(err);
}

/** Returns the advice for an owner who tries to delete their account. */
export function ownershipMessage(names: string[]): string {
  if (names.length === 0) {
    return 'You own a guild. Transfer its ownership to another member or delete it, then delete your account.';
  }
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const it = names.length === 1 ? 'it' : 'them';
  const its = names.length === 1 ? 'its' : 'their';
  return `You own ${list}. Transfer ${its} ownership to another member or delete ${it}, then delete your account.`;
}

/**
 * Returns the names of the guilds the user owns, from GET /guilds, which
 * carries every owner_id. When that request fails, it falls back to the
 * guilds whose details the client has loaded.
 */
async function ownedGuildNames(): Promise<string[]> {
  const self = me.value?.id;
  let list: Guild[];
  try {
    list = await api.get<Guild[]>('/guilds');
  } catch {
    list = Object.values(guilds.value);
  }
  return list.filter((g) => g.owner_id === self).map((g) => g.name);
}

/** Describes an error, naming the password fields of a validation error by their labels. */
function fieldError(err: unknown): string {
  if (!(err instanceof ApiError) || err.code !== 'validation_error' || !err.details.length) return describeError(err);
  const fields = err.details.map((d) => `${FIELD_LABELS[d.field] ?? d.field}: ${d.message}`);
  return `${err.message} ${fields.join('; ')}.`;
}
