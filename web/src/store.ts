// Application state as signals, and the actions that change it through
// the REST API and the gateway. Components read the signals and call the
// actions; nothing else writes the state.

import { batch, computed, signal } from '@preact/signals';
import { Api, ApiError } from './api';
import { Session, deviceId, deviceName } from './auth';
import { prepareUpload } from './exif';
import { Gateway, gatewayUrl, type GatewayState } from './gateway';
import { ADMINISTRATOR_BIT, ALL_PERMISSIONS, hasBit, MANAGE_ROLES_BIT, parsePermissions } from './permissions';
import { navigate, paths, route } from './router';
import { uploadMedia } from './upload';
import {
  addPending,
  applyDelete,
  applyReaction,
  applyUpdate,
  emptyTimeline,
  mergeMessages,
  removePending,
  SeqTracker,
  updatePending,
  type PendingSend,
  type Timeline,
} from './timeline';
import type {
  Channel,
  Dispatch,
  Guild,
  Invite,
  Media,
  Member,
  Message,
  Overwrite,
  PresenceStatus,
  Ready,
  Role,
  Tokens,
  User,
  UserUpdateDispatch,
} from './types';

export const PAGE_SIZE = 50;

// ---- Session and API ----

// The refresh token is kept in an HttpOnly cookie that only the auth
// routes receive (refresh_cookie), so script on the page cannot read it.
// A pair stored before that switch still contains its token, which goes
// in the body once and then moves into the cookie.
const refreshRequest = (refreshToken: string, device: string): Promise<Tokens> =>
  new Api({ accessToken: () => null, refresh: async () => false }).post<Tokens>('/auth/refresh', {
    refresh_token: refreshToken || undefined,
    device_id: device,
    refresh_cookie: true,
  });

export const session = new Session(localStorage, refreshRequest);
export const api = new Api(session);
export const tokens = signal<Tokens | null>(session.tokens);
session.subscribe((t) => {
  tokens.value = t;
  if (!t) onSessionEnded();
});
window.addEventListener('storage', (ev) => {
  if (ev.key === 'openguild.tokens') session.syncFromStore();
});

// ---- State ----

export const me = signal<User | null>(session.tokens?.user ?? null);
export const gatewayState = signal<GatewayState>('closed');
export const ready = signal(false);
export const guilds = signal<Record<string, Guild>>({});
export const guildOrder = signal<string[]>([]);
export const channels = signal<Record<string, Channel>>({});
export const timelines = signal<Record<string, Timeline>>({});
export const unread = signal<Record<string, { messages: number; mentions: number }>>({});
export const members = signal<Record<string, Record<string, Member>>>({});
export const roles = signal<Record<string, Role[]>>({});
export const users = signal<Record<string, User>>({});
export const presence = signal<Record<string, PresenceStatus>>({});
export const typing = signal<Record<string, Record<string, number>>>({});
export const notices = signal<{ id: number; text: string; kind: 'error' | 'info' }[]>([]);
export const uploads = signal<Record<string, Upload[]>>({});
export const pendingInvite = signal<string | null>(sessionStorage.getItem('openguild.invite'));
/** The sentence the login page shows about how the last session ended, until the next login. */
export const sessionEndNotice = signal<string | null>(null);

export interface Upload {
  id: number;
  file: File;
  progress: number;
  media?: Media;
  error?: string;
  abort?: () => void;
}

const tracker = new SeqTracker();
let hadReady = false;
// Set when this tab ends the session itself, by logout or account
// deletion. Any other end, such as a password change or "log out other
// sessions" on another device, gets the generic notice on the login page.
let endingHere = false;

export const dmChannels = computed(() =>
  Object.values(channels.value)
    .filter((c) => c.guild_id === null)
    .sort((a, b) => b.last_seq - a.last_seq || a.id.localeCompare(b.id)),
);

export function guildChannels(guildId: string): Channel[] {
  return Object.values(channels.value)
    .filter((c) => c.guild_id === guildId)
    .sort((a, b) => a.position - b.position || a.id.localeCompare(b.id));
}

// ---- Notices ----

let noticeId = 0;
export function notify(text: string, kind: 'error' | 'info' = 'error'): void {
  const id = ++noticeId;
  notices.value = [...notices.value, { id, text, kind }];
  setTimeout(() => dismissNotice(id), kind === 'error' ? 8000 : 4000);
}
export function dismissNotice(id: number): void {
  notices.value = notices.value.filter((n) => n.id !== id);
}

/** Returns a sentence for an error, with the wait of a rate limit. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) return `Rate limited: try again in ${Math.ceil(err.retryAfterMs / 1000)} s.`;
    if (err.details.length) return `${err.message} ${err.details.map((d) => `${d.field}: ${d.message}`).join('; ')}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

// ---- Accounts ----

export async function login(username: string, password: string): Promise<void> {
  const t = await api.post<Tokens>('/auth/login', {
    username,
    password,
    device: { id: deviceId(localStorage), name: deviceName(navigator.userAgent) },
    refresh_cookie: true,
  });
  session.set(t);
  me.value = t.user;
  sessionEndNotice.value = null;
  startGateway();
}

export async function register(username: string, password: string, displayName: string, registrationToken = ''): Promise<void> {
  await api.post('/auth/register', {
    username,
    password,
    display_name: displayName || undefined,
    registration_token: registrationToken || undefined,
  });
  await login(username, password);
}

export async function logout(): Promise<void> {
  try {
    await api.post('/auth/logout');
  } catch {
    // The session ends locally either way.
  }
  endingHere = true;
  session.clear();
}

/** Changes the own display name and stores the returned user everywhere it shows. */
export async function updateDisplayName(name: string): Promise<User> {
  const u = await api.patch<User>('/users/@me', { display_name: name.trim() });
  putUser(u);
  return u;
}

function onSessionEnded(): void {
  if (!endingHere) sessionEndNotice.value = 'Your session ended. Log in again.';
  endingHere = false;
  gateway?.stop();
  gateway = null;
  hadReady = false;
  tracker.clear();
  batch(() => {
    me.value = null;
    ready.value = false;
    guilds.value = {};
    guildOrder.value = [];
    channels.value = {};
    timelines.value = {};
    unread.value = {};
    members.value = {};
    roles.value = {};
    users.value = {};
    presence.value = {};
    typing.value = {};
    uploads.value = {};
    channelPermissions.value = {};
  });
  if (route.value.name !== 'register' && route.value.name !== 'invite') navigate('/login', true);
}

// ---- Gateway ----

let gateway: Gateway | null = null;

export function startGateway(): void {
  if (gateway || !session.tokens) return;
  gateway = new Gateway({
    url: gatewayUrl(location),
    token: () => session.accessToken(),
    resumePositions: () => (hadReady ? tracker.snapshot() : null),
    handlers: {
      ready: onReady,
      dispatch: onDispatch,
      resumed: () => void catchUpAfterResume(),
      resyncRequired: (ids) => ids.forEach((id) => void resync(id)),
      typing: onTyping,
      presence: (d) => {
        presence.value = { ...presence.value, [d.user_id]: d.status as PresenceStatus };
      },
      state: (s) => {
        gatewayState.value = s;
        if (s === 'connected') retryUnreachedSends();
      },
      refreshToken: async () => (await session.refresh()) || session.tokens !== null,
      sessionEnded: () => session.clear(),
    },
  });
  gateway.start();
}

window.addEventListener('online', () => {
  gateway?.reconnectNow();
  if (gatewayState.value === 'connected') retryUnreachedSends();
});

// Messages that arrive in the open channel while the tab is hidden count
// as unread; coming back to the tab marks them read.
document.addEventListener('visibilitychange', () => {
  const active = activeChannelId();
  if (document.visibilityState === 'visible' && active) scheduleMarkRead(active);
});

/**
 * Reconnects with identify for a fresh ready. Used after joining a guild:
 * ready lists the presences of the new guild's members, which the gateway
 * does not send otherwise until one of them changes status.
 */
function restartGateway(): void {
  hadReady = false;
  gateway?.reconnectNow();
}

/** Applies a ready frame. Exported for tests. */
export function onReady(r: Ready): void {
  hadReady = true;
  tracker.clear();
  const nextGuilds: Record<string, Guild> = {};
  const nextChannels: Record<string, Channel> = {};
  for (const g of r.guilds) {
    nextGuilds[g.id] = { ...guilds.value[g.id], id: g.id, name: g.name };
    tracker.set(g.id, g.last_seq ?? 0);
    for (const c of g.channels) {
      nextChannels[c.id] = c;
      tracker.set(c.id, c.last_seq);
    }
  }
  for (const c of r.dms) {
    nextChannels[c.id] = c;
    tracker.set(c.id, c.last_seq);
  }
  const nextPresence: Record<string, PresenceStatus> = { [r.user.id]: 'online' };
  for (const p of r.presences ?? []) nextPresence[p.user_id] = p.status;

  batch(() => {
    me.value = r.user;
    users.value = { ...users.value, [r.user.id]: r.user };
    guilds.value = nextGuilds;
    guildOrder.value = r.guilds.map((g) => g.id);
    channels.value = nextChannels;
    unread.value = r.unread ?? {};
    presence.value = nextPresence;
    // A fresh ready starts every log from its position, so open timelines
    // reload their newest page and pending sends stay.
    const kept: Record<string, Timeline> = {};
    for (const [id, tl] of Object.entries(timelines.value)) {
      if (nextChannels[id]) kept[id] = { ...emptyTimeline(), pending: tl.pending };
    }
    timelines.value = kept;
    ready.value = true;
  });
  // ready names DM partners by id only; fetch the ones not known yet so
  // the DM list shows their names.
  for (const c of r.dms) c.recipient_ids?.forEach((id) => void ensureUser(id));
  void acceptPendingInvite();
  const active = activeChannelId();
  if (active) void openChannel(active);
}

/**
 * Fetches what a resume cannot replay. The first part is the logs the
 * client could not name: guilds joined, DMs opened and channels created
 * while the connection was down, since their events went to logs the
 * client did not know. The second is the profiles that user_update
 * carries, because that frame belongs to no log. Exported for tests.
 */
export async function catchUpAfterResume(): Promise<void> {
  try {
    const [guildList, dms] = await Promise.all([api.get<Guild[]>('/guilds'), api.get<Channel[]>('/dms')]);
    dms.forEach((c) => {
      if (!channels.value[c.id]) putChannel(c);
    });
    for (const g of guildList) {
      if (!guilds.value[g.id]) await loadGuild(g.id);
      else await refreshChannels(g.id);
    }
  } catch {
    // The next dispatch that names an unknown log fetches it instead.
  }
  await refreshProfiles();
}

/**
 * Reads again the users whose names show: the member lists loaded so far
 * and the DM partners. A display name changed while the connection was
 * down came as a user_update that no resume replays.
 */
async function refreshProfiles(): Promise<void> {
  for (const guildId of Object.keys(members.value)) {
    await fetchMembers(guildId).catch(() => undefined);
  }
  const inLists = (id: string) => Object.values(members.value).some((list) => !!list[id]);
  const partners = new Set(dmChannels.value.flatMap((c) => c.recipient_ids ?? []).filter((id) => !inLists(id)));
  for (const id of partners) {
    try {
      putUser(await api.get<User>(`/users/${id}`));
    } catch {
      // The cached profile stays until the next user_update.
    }
  }
}

/** Returns the channel the current route shows, if any. */
export function activeChannelId(): string | undefined {
  const r = route.value;
  return r.name === 'guild' || r.name === 'home' ? r.channelId : undefined;
}

/** Applies a dispatch frame once per log seq. Exported for tests. */
export function onDispatch(f: Dispatch | UserUpdateDispatch): void {
  // user_update belongs to no event log, so it has no seq to track and
  // names no channel to fetch.
  if (isUserUpdate(f)) {
    onUserUpdate(f.d);
    return;
  }
  if (typeof f.seq === 'number' && !tracker.accept(f.channel_id, f.seq)) return;
  // A dispatch may name a channel that is new or has just become visible,
  // such as a DM another user opened. Fetch it so that it shows.
  const isGuildLog = f.channel_id === f.guild_id || !!guilds.value[f.channel_id];
  if (!isGuildLog && !channels.value[f.channel_id] && f.t !== 'channel_delete') void fetchChannel(f.channel_id);
  const d = f.d;
  const self = me.value?.id ?? '';
  switch (f.t) {
    case 'message_create':
    case 'message_update': {
      bumpLastSeq(f.channel_id, f.seq);
      if (d.deleted) {
        updateTimeline(f.channel_id, (tl) => applyDelete(tl, d.id));
        break;
      }
      const msg = d as Message;
      if (f.t === 'message_update') {
        updateTimeline(f.channel_id, (tl) => applyUpdate(tl, msg));
        break;
      }
      updateTimeline(f.channel_id, (tl) => (tl.loaded ? mergeMessages(tl, [msg], self) : tl));
      clearTyping(f.channel_id, msg.author_id);
      if (msg.author_id !== self) countUnread(msg);
      break;
    }
    case 'message_delete':
      bumpLastSeq(f.channel_id, f.seq);
      updateTimeline(f.channel_id, (tl) => applyDelete(tl, d.id));
      break;
    case 'reaction_add':
    case 'reaction_remove':
      bumpLastSeq(f.channel_id, f.seq);
      updateTimeline(f.channel_id, (tl) => applyReaction(tl, d, f.t === 'reaction_add', self));
      break;
    case 'channel_create':
    case 'channel_update':
      putChannel(d as Channel);
      break;
    case 'channel_delete':
      dropChannel(d.id);
      break;
    case 'overwrite_update':
    case 'overwrite_delete':
      bumpLastSeq(f.channel_id, f.seq);
      if (f.guild_id) void refreshChannels(f.guild_id);
      if (f.guild_id) refreshActivePermissions(f.guild_id);
      break;
    case 'guild_update':
      guilds.value = { ...guilds.value, [d.id]: { ...guilds.value[d.id], ...(d as Guild) } };
      break;
    case 'guild_delete':
      dropGuild(d.id);
      break;
    case 'member_add':
    case 'member_update':
      onMember(d as Member, f.channel_id, f.t === 'member_add');
      break;
    case 'member_remove':
      if (d.user_id === self) dropGuild(d.guild_id);
      else if (members.value[d.guild_id]) {
        const next = { ...members.value[d.guild_id] };
        delete next[d.user_id];
        members.value = { ...members.value, [d.guild_id]: next };
      }
      break;
    case 'role_create':
    case 'role_update':
    case 'role_delete':
      void refreshRoles(f.channel_id);
      if (f.t !== 'role_create') void refreshChannels(f.channel_id);
      if (f.t !== 'role_create') refreshActivePermissions(f.channel_id);
      break;
  }
}

function isUserUpdate(f: Dispatch | UserUpdateDispatch): f is UserUpdateDispatch {
  return f.t === 'user_update';
}

export const ACCOUNT_DELETED = 'Your account has been deleted.';

/**
 * Applies a changed User. A deleted own account has no session left on
 * the server, so the local one ends too.
 */
function onUserUpdate(u: User): void {
  if (!u?.id) return;
  putUser(u);
  if (!u.deleted) return;
  if (u.id === me.value?.id) {
    endLocalSession(ACCOUNT_DELETED);
    return;
  }
  // A user who shares only a DM with this one gets no offline presence
  // frame here, so the deletion sets it.
  presence.value = { ...presence.value, [u.id]: 'offline' };
}

/** Reports whether a DM has other participants and all of their accounts are deleted. */
export function dmPartnersDeleted(c: Channel): boolean {
  const others = dmPartners(c);
  return others.length > 0 && others.every((id) => users.value[id]?.deleted);
}

/** Returns the participants of a DM other than the user. ready lists the user among them, putChannel does not. */
export function dmPartners(c: Channel): string[] {
  if (c.guild_id !== null) return [];
  return (c.recipient_ids ?? []).filter((id) => id !== me.value?.id);
}

/**
 * Stores a changed User everywhere the client caches it: the user map
 * (author names, the DM list), each guild's member entry (the member
 * list) and the own user.
 */
export function putUser(u: User): void {
  batch(() => {
    users.value = { ...users.value, [u.id]: u };
    if (me.value?.id === u.id) me.value = { ...me.value, ...u };
    const next = { ...members.value };
    let changed = false;
    for (const [guildId, list] of Object.entries(members.value)) {
      if (!list[u.id]) continue;
      next[guildId] = { ...list, [u.id]: { ...list[u.id], user: u } };
      changed = true;
    }
    if (changed) members.value = next;
  });
}

/**
 * Clears the local session after the server has ended it, as on account
 * deletion, and shows notice on the login page. The gateway may have
 * ended the session a moment earlier with the generic notice, which
 * notice then replaces.
 */
export function endLocalSession(notice: string): void {
  sessionEndNotice.value = notice;
  if (!session.tokens) return;
  endingHere = true;
  session.clear();
}

function bumpLastSeq(channelId: string, seq: number): void {
  const c = channels.value[channelId];
  if (c && seq > c.last_seq) channels.value = { ...channels.value, [channelId]: { ...c, last_seq: seq } };
}

function putChannel(c: Channel): void {
  const self = me.value?.id;
  const fixed = c.recipient_ids && self ? { ...c, recipient_ids: c.recipient_ids.filter((id) => id !== self) } : c;
  const known = channels.value[c.id];
  channels.value = { ...channels.value, [c.id]: { ...fixed, last_seq: Math.max(known?.last_seq ?? 0, c.last_seq) } };
  if (tracker.get(c.id) === undefined) tracker.set(c.id, c.last_seq);
  fixed.recipient_ids?.forEach((id) => void ensureUser(id));
}

function dropChannel(id: string): void {
  const c = channels.value[id];
  const next = { ...channels.value };
  delete next[id];
  channels.value = next;
  tracker.forget(id);
  if (activeChannelId() === id) navigate(c?.guild_id ? paths.guild(c.guild_id) : paths.home(), true);
}

function dropGuild(id: string): void {
  batch(() => {
    const nextGuilds = { ...guilds.value };
    delete nextGuilds[id];
    guilds.value = nextGuilds;
    guildOrder.value = guildOrder.value.filter((g) => g !== id);
    const nextChannels: Record<string, Channel> = {};
    for (const c of Object.values(channels.value)) if (c.guild_id !== id) nextChannels[c.id] = c;
    channels.value = nextChannels;
  });
  tracker.forget(id);
  const r = route.value;
  if ((r.name === 'guild' || r.name === 'guild_settings') && r.guildId === id) navigate(paths.home(), true);
}

function onMember(m: Member, guildId: string, joined: boolean): void {
  const self = me.value?.id;
  const known = members.value[guildId]?.[m.user.id];
  putMember(guildId, m);
  // The gateway sends presence only on a change of status, so a member who
  // just joined through an invite is shown online until one arrives.
  if (joined && !presence.value[m.user.id]) presence.value = { ...presence.value, [m.user.id]: 'online' };
  if (m.user.id !== self) return;
  if (!guilds.value[guildId]) void loadGuild(guildId);
  else if (joined || !sameRoles(known, m)) {
    // Roles decide which channels the user can view. A nickname change
    // keeps them, so it needs no refetch.
    void refreshChannels(guildId);
    refreshActivePermissions(guildId);
  }
}

/** Stores a member and its user. A guild whose member map is not loaded yet keeps it unloaded. */
function putMember(guildId: string, m: Member): void {
  batch(() => {
    users.value = { ...users.value, [m.user.id]: m.user };
    if (members.value[guildId]) {
      members.value = { ...members.value, [guildId]: { ...members.value[guildId], [m.user.id]: m } };
    }
  });
}

function sameRoles(known: Member | undefined, m: Member): boolean {
  return !!known && known.role_ids.length === m.role_ids.length && known.role_ids.every((id, i) => id === m.role_ids[i]);
}

function countUnread(msg: Message): void {
  const visible = document.visibilityState === 'visible';
  if (msg.channel_id === activeChannelId() && visible) {
    scheduleMarkRead(msg.channel_id);
    return;
  }
  const old = unread.value[msg.channel_id] ?? { messages: 0, mentions: 0 };
  unread.value = {
    ...unread.value,
    [msg.channel_id]: { messages: old.messages + 1, mentions: old.mentions + (mentionsMe(msg) ? 1 : 0) },
  };
}

/** Reports whether a message mentions the signed-in user. */
export function mentionsMe(msg: Message): boolean {
  const self = me.value?.id;
  if (!self) return false;
  if (msg.mentions?.everyone || msg.mentions?.users.includes(self)) return true;
  const guildId = channels.value[msg.channel_id]?.guild_id;
  const mine = guildId ? members.value[guildId]?.[self]?.role_ids ?? [] : [];
  return msg.mentions?.roles.some((r) => mine.includes(r)) ?? false;
}

function onTyping(d: { channel_id: string; user_id: string; expires_at: string }): void {
  const forChannel = { ...(typing.value[d.channel_id] ?? {}), [d.user_id]: Date.parse(d.expires_at) };
  typing.value = { ...typing.value, [d.channel_id]: forChannel };
  void ensureUser(d.user_id);
}

function clearTyping(channelId: string, userId: string): void {
  const forChannel = typing.value[channelId];
  if (!forChannel?.[userId]) return;
  const next = { ...forChannel };
  delete next[userId];
  typing.value = { ...typing.value, [channelId]: next };
}

/** Refetches a log that was too far behind to replay on resume. */
async function resync(logId: string): Promise<void> {
  if (guilds.value[logId]) {
    await loadGuild(logId);
    return;
  }
  try {
    const c = await api.get<Channel>(`/channels/${logId}`);
    putChannel(c);
    tracker.set(c.id, c.last_seq);
    const page = await api.get<Message[]>(`/channels/${c.id}/messages?limit=${PAGE_SIZE}`);
    updateTimeline(c.id, (tl) => ({
      ...mergeMessages({ ...emptyTimeline(), pending: tl.pending }, page, me.value?.id),
      atStart: page.length < PAGE_SIZE,
      loaded: true,
    }));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) dropChannel(logId);
  }
}

// ---- Guilds and channels ----

async function loadGuild(guildId: string): Promise<void> {
  try {
    const [g, list] = await Promise.all([
      api.get<Guild>(`/guilds/${guildId}`),
      api.get<Channel[]>(`/guilds/${guildId}/channels`),
    ]);
    batch(() => {
      guilds.value = { ...guilds.value, [g.id]: g };
      if (!guildOrder.value.includes(g.id)) guildOrder.value = [...guildOrder.value, g.id];
      list.forEach(putChannel);
    });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) dropGuild(guildId);
  }
}

const channelRequests = new Set<string>();
async function fetchChannel(channelId: string): Promise<void> {
  if (channelRequests.has(channelId)) return;
  channelRequests.add(channelId);
  try {
    putChannel(await api.get<Channel>(`/channels/${channelId}`));
  } catch {
    // Not visible after all: nothing to show.
  } finally {
    channelRequests.delete(channelId);
  }
}

async function refreshChannels(guildId: string): Promise<void> {
  try {
    const list = await api.get<Channel[]>(`/guilds/${guildId}/channels`);
    const keep: Record<string, Channel> = {};
    for (const c of Object.values(channels.value)) if (c.guild_id !== guildId) keep[c.id] = c;
    channels.value = keep;
    list.forEach(putChannel);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) dropGuild(guildId);
  }
}

export async function fetchGuildDetails(guildId: string): Promise<void> {
  try {
    const g = await api.get<Guild>(`/guilds/${guildId}`);
    guilds.value = { ...guilds.value, [g.id]: { ...guilds.value[g.id], ...g } };
  } catch {
    // The rail keeps the name from ready.
  }
}

export async function fetchMembers(guildId: string): Promise<void> {
  const all: Record<string, Member> = {};
  let after = '';
  for (let page = 0; page < 20; page++) {
    const list = await api.get<Member[]>(`/guilds/${guildId}/members?limit=1000${after ? `&after=${after}` : ''}`);
    for (const m of list) all[m.user.id] = m;
    if (list.length < 1000) break;
    after = list[list.length - 1].user.id;
  }
  batch(() => {
    members.value = { ...members.value, [guildId]: all };
    const u = { ...users.value };
    for (const m of Object.values(all)) u[m.user.id] = m.user;
    users.value = u;
  });
}

export async function refreshRoles(guildId: string): Promise<void> {
  try {
    roles.value = { ...roles.value, [guildId]: await api.get<Role[]>(`/guilds/${guildId}/roles`) };
  } catch {
    // Shown again on the next change.
  }
}

const userRequests = new Map<string, Promise<void>>();
export function ensureUser(id: string): Promise<void> {
  if (users.value[id]) return Promise.resolve();
  let p = userRequests.get(id);
  if (!p) {
    p = api
      .get<User>(`/users/${id}`)
      .then((u) => {
        users.value = { ...users.value, [u.id]: u };
      })
      .catch(() => undefined);
    userRequests.set(id, p);
  }
  return p;
}

/**
 * Returns the user's guild-level permissions: every bit for the owner,
 * otherwise the union of @everyone and the member's roles, or null while
 * the guild's owner, roles or members are not loaded. Channel overwrites
 * are not applied, so the result only decides which controls to offer,
 * and the server still checks each request.
 */
export function guildPermissions(guildId: string | null): bigint | null {
  const self = me.value?.id;
  if (!guildId || !self) return null;
  const g = guilds.value[guildId];
  if (!g?.owner_id) return null;
  if (g.owner_id === self) return ALL_PERMISSIONS;
  const member = members.value[guildId]?.[self];
  const roleList = roles.value[guildId];
  if (!member || !roleList) return null;
  const held = new Set([guildId, ...member.role_ids]);
  let perms = 0n;
  for (const r of roleList) if (held.has(r.id)) perms |= parsePermissions(r.permissions);
  return hasBit(perms, ADMINISTRATOR_BIT) ? ALL_PERMISSIONS : perms;
}

/** Reports whether the user has a guild-level permission bit; see guildPermissions. */
export function holdsPermission(guildId: string | null, bit: number): boolean {
  const perms = guildPermissions(guildId);
  return perms !== null && hasBit(perms, bit);
}

/**
 * The user's effective permissions per channel, overwrites applied, from
 * GET /channels/{id}/permissions/@me. A channel is missing until fetched.
 */
export const channelPermissions = signal<Record<string, bigint>>({});

export async function refreshChannelPermissions(channelId: string): Promise<void> {
  const c = channels.value[channelId];
  if (!c?.guild_id) return;
  try {
    const { permissions } = await api.get<{ permissions: string }>(`/channels/${channelId}/permissions/@me`);
    channelPermissions.value = { ...channelPermissions.value, [channelId]: parsePermissions(permissions) };
  } catch (err) {
    // On any other error the permissions stay unknown: the composer stays
    // enabled and the server decides.
    if (isNotFound(err)) dropHiddenChannel(channelId);
  }
}

/** Refetches the effective permissions of the open channel of a guild. */
function refreshActivePermissions(guildId: string): void {
  const active = activeChannelId();
  if (active && channels.value[active]?.guild_id === guildId) void refreshChannelPermissions(active);
}

/** Leaves a guild; the member_remove dispatch then drops it from the rail. */
export async function leaveGuild(guildId: string): Promise<void> {
  await api.del(`/guilds/${guildId}/members/@me`);
}

/**
 * Sets a member's nickname in a guild, or clears it with null. The own
 * nickname goes through @me, which needs CHANGE_NICKNAME; another
 * member's needs MANAGE_NICKNAMES and a higher rank.
 */
export async function setNickname(guildId: string, userId: string, nickname: string | null): Promise<Member> {
  const target = userId === me.value?.id ? '@me' : userId;
  const m = await api.patch<Member>(`/guilds/${guildId}/members/${target}`, { nickname });
  putMember(guildId, m);
  return m;
}

/**
 * Returns a member's rank: the position of their highest role, 0 with
 * @everyone alone, Infinity for the owner, or null while the guild's
 * owner, roles or the member are not loaded.
 */
export function memberRank(guildId: string, userId: string): number | null {
  const g = guilds.value[guildId];
  if (!g?.owner_id) return null;
  if (g.owner_id === userId) return Infinity;
  const member = members.value[guildId]?.[userId];
  const roleList = roles.value[guildId];
  if (!member || !roleList) return null;
  const held = new Set(member.role_ids);
  return roleList.reduce((rank, r) => (held.has(r.id) ? Math.max(rank, r.position) : rank), 0);
}

/**
 * Reports whether the user ranks strictly above another member, as
 * kicks, bans and nickname changes of others need. No member outranks
 * the owner, and an unknown rank counts as no.
 */
export function outranks(guildId: string, targetId: string): boolean {
  const self = me.value?.id;
  if (!self || self === targetId) return false;
  const mine = memberRank(guildId, self);
  const theirs = memberRank(guildId, targetId);
  return mine !== null && theirs !== null && theirs !== Infinity && mine > theirs;
}

/**
 * Reports whether the user may give or take a role: with MANAGE_ROLES,
 * and a highest role above it unless the user owns the guild. Every
 * member has @everyone, so it is never given or taken.
 */
export function mayAssignRole(guildId: string, role: Role): boolean {
  const self = me.value?.id;
  if (!self || role.id === guildId || !holdsPermission(guildId, MANAGE_ROLES_BIT)) return false;
  const mine = memberRank(guildId, self);
  return mine !== null && mine > role.position;
}

/**
 * Gives a member a role, or takes it away, and stores the member's new
 * roles at once. The member_update dispatch that follows carries the same
 * roles, so it changes nothing more.
 */
export async function setMemberRole(guildId: string, userId: string, roleId: string, give: boolean): Promise<void> {
  const path = `/guilds/${guildId}/members/${userId}/roles/${roleId}`;
  if (give) await api.put(path);
  else await api.del(path);
  const m = members.value[guildId]?.[userId];
  if (!m) return;
  const roleIds = give ? [...new Set([...m.role_ids, roleId])] : m.role_ids.filter((id) => id !== roleId);
  onMember({ ...m, role_ids: roleIds }, guildId, false);
}

/**
 * Returns a guild's members whose nickname, display name or user name
 * contains the query, ignoring case, ordered by the name shown.
 */
export function findMembers(guildId: string, query: string): Member[] {
  const needle = query.trim().toLocaleLowerCase();
  const shown = (m: Member) => m.nickname || m.user.display_name;
  return Object.values(members.value[guildId] ?? {})
    .filter((m) => !needle || [m.nickname ?? '', m.user.display_name, m.user.username].some((n) => n.toLocaleLowerCase().includes(needle)))
    .sort((a, b) => shown(a).localeCompare(shown(b)) || a.user.id.localeCompare(b.user.id));
}

/** Returns a channel's own overwrites by target id. */
export async function loadOverwrites(channelId: string): Promise<Record<string, Overwrite>> {
  const out: Record<string, Overwrite> = {};
  for (const o of await api.get<Overwrite[]>(`/channels/${channelId}/permissions`)) out[o.target_id] = o;
  return out;
}

/** Creates or replaces the overwrite of a role or a member in a channel. */
export async function saveOverwrite(channelId: string, ow: Overwrite): Promise<void> {
  await api.put(`/channels/${channelId}/permissions/${ow.target_id}`, { type: ow.type, allow: ow.allow, deny: ow.deny });
}

export async function deleteOverwrite(channelId: string, targetId: string): Promise<void> {
  await api.del(`/channels/${channelId}/permissions/${targetId}`);
}

/** Returns the name to show for a user: nickname, display name or id. */
export function displayName(userId: string, guildId?: string | null): string {
  const m = guildId ? members.value[guildId]?.[userId] : undefined;
  return m?.nickname || users.value[userId]?.display_name || m?.user.display_name || 'Unknown user';
}

export async function createGuild(name: string): Promise<void> {
  const g = await api.post<Guild>('/guilds', { name });
  await loadGuild(g.id);
  const first = guildChannels(g.id).find((c) => c.kind === 'text');
  navigate(first ? paths.channel(g.id, first.id) : paths.guild(g.id));
}

export async function createChannel(guildId: string, name: string, kind: 'text' | 'category', parentId?: string): Promise<Channel> {
  const c = await api.post<Channel>(`/guilds/${guildId}/channels`, { name, kind, parent_id: parentId || undefined });
  putChannel(c);
  return c;
}

export async function createInvite(guildId: string): Promise<Invite> {
  return api.post<Invite>(`/guilds/${guildId}/invites`, { max_age_seconds: 86400 });
}

/** Remembers an invite code until the user has logged in, then accepts it. */
export function rememberInvite(code: string): void {
  pendingInvite.value = code;
  sessionStorage.setItem('openguild.invite', code);
}

export async function acceptPendingInvite(): Promise<void> {
  const code = pendingInvite.value;
  if (!code || !session.tokens) return;
  pendingInvite.value = null;
  sessionStorage.removeItem('openguild.invite');
  try {
    const g = await api.post<Guild>(`/invites/${encodeURIComponent(code)}/accept`);
    await loadGuild(g.id);
    restartGateway();
    const first = guildChannels(g.id).find((c) => c.kind === 'text');
    navigate(first ? paths.channel(g.id, first.id) : paths.guild(g.id), true);
    notify(`You joined ${g.name}.`, 'info');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) notify('This invite is invalid, expired or used up.');
    else if (err instanceof ApiError && err.code === 'banned') notify('You are banned from this guild.');
    else notify(describeError(err));
    navigate(paths.home(), true);
  }
}

export async function openDm(userId: string): Promise<void> {
  const c = await api.post<Channel>('/dms', { recipient_ids: [userId] });
  putChannel(c);
  navigate(paths.channel(null, c.id));
}

// ---- Timelines ----

function updateTimeline(channelId: string, fn: (tl: Timeline) => Timeline): void {
  const old = timelines.value[channelId];
  if (!old) return;
  const next = fn(old);
  if (next !== old) timelines.value = { ...timelines.value, [channelId]: next };
}

function ensureTimeline(channelId: string): Timeline {
  let tl = timelines.value[channelId];
  if (!tl) {
    tl = emptyTimeline();
    timelines.value = { ...timelines.value, [channelId]: tl };
  }
  return tl;
}

const loading = new Set<string>();

/** Loads the newest page of a channel once and marks it read. */
export async function openChannel(channelId: string): Promise<void> {
  const tl = ensureTimeline(channelId);
  scheduleMarkRead(channelId);
  const c = channels.value[channelId];
  if (c?.guild_id && !members.value[c.guild_id]) void fetchMembers(c.guild_id).catch(() => undefined);
  if (c?.guild_id && !roles.value[c.guild_id]) void refreshRoles(c.guild_id);
  if (c?.guild_id && !guilds.value[c.guild_id]?.owner_id) void fetchGuildDetails(c.guild_id);
  if (c?.guild_id) void refreshChannelPermissions(channelId);
  if (tl.loaded || loading.has(channelId) || !c || c.kind === 'category' || c.kind === 'voice') return;
  loading.add(channelId);
  try {
    const page = await api.get<Message[]>(`/channels/${channelId}/messages?limit=${PAGE_SIZE}`);
    page.forEach((m) => void ensureUser(m.author_id));
    updateTimeline(channelId, (t) => ({
      ...mergeMessages(t, page, me.value?.id),
      atStart: page.length < PAGE_SIZE,
      loaded: true,
    }));
  } catch (err) {
    if (isNotFound(err)) dropHiddenChannel(channelId);
    else notify(describeError(err));
  } finally {
    loading.delete(channelId);
  }
}

const isNotFound = (err: unknown) => err instanceof ApiError && err.status === 404;

/**
 * Drops a channel for which the server returned 404. It was deleted, or
 * an overwrite took away the user's VIEW_CHANNEL. The server sends a
 * member who loses the view no event of the channel, so a failed request
 * is the first the client learns of it.
 */
function dropHiddenChannel(channelId: string): void {
  if (!channels.value[channelId]) return;
  dropChannel(channelId);
  notify('That channel was deleted or you can no longer see it.', 'info');
}

/** Loads the page of history before the oldest message shown. */
export async function loadOlder(channelId: string): Promise<void> {
  const tl = timelines.value[channelId];
  if (!tl?.loaded || tl.atStart || loading.has(channelId)) return;
  const oldest = tl.messages[0];
  if (!oldest) return;
  loading.add(channelId);
  try {
    const page = await api.get<Message[]>(`/channels/${channelId}/messages?limit=${PAGE_SIZE}&before=${oldest.id}`);
    page.forEach((m) => void ensureUser(m.author_id));
    updateTimeline(channelId, (t) => ({ ...mergeMessages(t, page, me.value?.id), atStart: page.length < PAGE_SIZE }));
  } catch (err) {
    notify(describeError(err));
  } finally {
    loading.delete(channelId);
  }
}

const readTimers = new Map<string, ReturnType<typeof setTimeout>>();
const readSent = new Map<string, number>();

/** Moves the read marker to the channel's newest seq after a short pause. */
export function scheduleMarkRead(channelId: string): void {
  if (unread.value[channelId]) {
    const next = { ...unread.value };
    delete next[channelId];
    unread.value = next;
  }
  clearTimeout(readTimers.get(channelId));
  readTimers.set(
    channelId,
    setTimeout(() => {
      readTimers.delete(channelId);
      const seq = tracker.get(channelId) ?? channels.value[channelId]?.last_seq ?? 0;
      const c = channels.value[channelId];
      if (!c || c.kind === 'category' || c.kind === 'voice' || seq <= (readSent.get(channelId) ?? 0)) return;
      readSent.set(channelId, seq);
      api.put(`/channels/${channelId}/read`, { seq }).catch(() => readSent.delete(channelId));
    }, 500),
  );
}

// ---- Sending ----

/** Sends a message optimistically; the nonce makes every retry safe. */
export function sendMessage(channelId: string, content: string, replyTo: string | null, attachments: Media[] = []): void {
  ensureTimeline(channelId);
  const send: PendingSend = {
    nonce: crypto.randomUUID(),
    content,
    reply_to: replyTo,
    attachment_ids: attachments.map((a) => a.id),
    attachments,
    status: 'sending',
  };
  updateTimeline(channelId, (tl) => addPending(tl, send));
  enqueue(channelId, send.nonce);
}

export function retrySend(channelId: string, nonce: string): void {
  const send = timelines.value[channelId]?.pending.find((p) => p.nonce === nonce);
  if (!send || send.status !== 'failed') return;
  updateTimeline(channelId, (tl) => updatePending(tl, nonce, { status: 'sending', error: undefined, network: false }));
  enqueue(channelId, nonce);
}

/**
 * Sends again, in their order, the messages that failed because the
 * server could not be reached. Called when the gateway is connected
 * again; each keeps its nonce, so none is stored twice.
 */
export function retryUnreachedSends(): void {
  for (const [channelId, tl] of Object.entries(timelines.value)) {
    for (const p of tl.pending) if (p.status === 'failed' && p.network) retrySend(channelId, p.nonce);
  }
}

export function discardSend(channelId: string, nonce: string): void {
  updateTimeline(channelId, (tl) => removePending(tl, nonce));
}

// Sends go out one at a time, in order. The per-user rate limit punishes
// a client that keeps sending while rejected, so after a 429 the whole
// queue waits for retry_after_ms, and then the same send (same nonce)
// goes again.
const outbox: { channelId: string; nonce: string }[] = [];
let pumping = false;
let holdUntil = 0;

function enqueue(channelId: string, nonce: string): void {
  outbox.push({ channelId, nonce });
  void pump();
}

async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    while (outbox.length) {
      const wait = holdUntil - Date.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      const { channelId, nonce } = outbox[0];
      const send = timelines.value[channelId]?.pending.find((p) => p.nonce === nonce);
      if (send && (await deliver(channelId, send)) === 'rate_limited') continue;
      outbox.shift();
    }
  } finally {
    pumping = false;
  }
}

async function deliver(channelId: string, send: PendingSend): Promise<'sent' | 'failed' | 'rate_limited'> {
  updateTimeline(channelId, (tl) => updatePending(tl, send.nonce, { status: 'sending', error: undefined }));
  try {
    const msg = await api.post<Message>(`/channels/${channelId}/messages`, {
      content: send.content,
      nonce: send.nonce,
      reply_to: send.reply_to ?? undefined,
      attachment_ids: send.attachment_ids.length ? send.attachment_ids : undefined,
    });
    updateTimeline(channelId, (tl) => removePending(mergeMessages(tl, [msg], me.value?.id), send.nonce));
    scheduleMarkRead(channelId);
    // Others stop showing the indicator when the message arrives, so the
    // next keystroke may announce typing again at once.
    lastTypingSent.delete(channelId);
    return 'sent';
  } catch (err) {
    if (err instanceof ApiError && err.status === 429) {
      const retryAt = Date.now() + Math.max(err.retryAfterMs, 100);
      holdUntil = Math.max(holdUntil, retryAt);
      const error = `Rate limited: sending again in ${Math.ceil((retryAt - Date.now()) / 1000)} s.`;
      updateTimeline(channelId, (tl) => updatePending(tl, send.nonce, { status: 'waiting', error, retryAt }));
      return 'rate_limited';
    }
    // As on opening, a 404 means the channel was deleted or hidden from
    // the user by an overwrite.
    if (isNotFound(err)) dropHiddenChannel(channelId);
    const network = err instanceof ApiError && err.code === 'network';
    const error = network ? 'The server cannot be reached. It goes out by itself when the connection is back.' : describeError(err);
    updateTimeline(channelId, (tl) => updatePending(tl, send.nonce, { status: 'failed', error, network }));
    return 'failed';
  }
}

export async function editMessage(channelId: string, messageId: string, content: string): Promise<void> {
  const msg = await api.patch<Message>(`/channels/${channelId}/messages/${messageId}`, { content });
  updateTimeline(channelId, (tl) => applyUpdate(tl, msg));
}

export async function deleteMessage(channelId: string, messageId: string): Promise<void> {
  await api.del(`/channels/${channelId}/messages/${messageId}`);
  updateTimeline(channelId, (tl) => applyDelete(tl, messageId));
}

export async function toggleReaction(channelId: string, messageId: string, emoji: string, mine: boolean): Promise<void> {
  const path = `/channels/${channelId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}/@me`;
  if (mine) await api.del(path);
  else await api.put(path);
}

const lastTypingSent = new Map<string, number>();
/** Tells others the user is typing, at most every 8 seconds per channel. */
export function notifyTyping(channelId: string): void {
  const now = Date.now();
  if (now - (lastTypingSent.get(channelId) ?? 0) < 8000) return;
  lastTypingSent.set(channelId, now);
  if (!gateway?.send('typing', { channel_id: channelId })) {
    api.post(`/channels/${channelId}/typing`).catch(() => undefined);
  }
}

// ---- Uploads ----

let uploadId = 0;
export async function addUpload(channelId: string, file: File): Promise<void> {
  const id = ++uploadId;
  const put = (change: Partial<Upload>) => {
    uploads.value = {
      ...uploads.value,
      [channelId]: (uploads.value[channelId] ?? []).map((u) => (u.id === id ? { ...u, ...change } : u)),
    };
  };
  uploads.value = { ...uploads.value, [channelId]: [...(uploads.value[channelId] ?? []), { id, file, progress: 0 }] };
  try {
    const clean = await prepareUpload(file);
    const current = session.tokens;
    if (current && Date.parse(current.access_expires_at) - Date.now() < 30_000) await session.refresh();
    const job = uploadMedia(clean, session.accessToken() ?? '', (progress) => put({ progress }));
    put({ abort: job.abort });
    put({ media: await job.promise, progress: 1 });
  } catch (err) {
    put({ error: describeError(err) });
  }
}

export function removeUpload(channelId: string, id: number): void {
  const list = uploads.value[channelId] ?? [];
  list.find((u) => u.id === id)?.abort?.();
  uploads.value = { ...uploads.value, [channelId]: list.filter((u) => u.id !== id) };
}

export function clearUploads(channelId: string): void {
  uploads.value = { ...uploads.value, [channelId]: [] };
}

// ---- Start ----

if (session.tokens) startGateway();
