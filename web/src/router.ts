// Client-side routes on the History API. The server returns the app for
// every path outside /api/, so each route below is also a valid URL to
// open or share.

import { signal } from '@preact/signals';

export type Route =
  | { name: 'login' }
  | { name: 'register' }
  | { name: 'invite'; code: string }
  | { name: 'home'; channelId?: string }
  | { name: 'guild'; guildId: string; channelId?: string }
  | { name: 'guild_settings'; guildId: string }
  | { name: 'settings' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'login':
      return { name: 'login' };
    case 'register':
      return { name: 'register' };
    case 'invite':
      return parts[1] ? { name: 'invite', code: parts[1] } : { name: 'home' };
    case 'settings':
      return { name: 'settings' };
    case 'guilds':
      return parts[1] && parts[2] === 'settings' ? { name: 'guild_settings', guildId: parts[1] } : { name: 'home' };
    case 'channels':
      if (parts[1] === '@me' || !parts[1]) return { name: 'home', channelId: parts[2] };
      return { name: 'guild', guildId: parts[1], channelId: parts[2] };
    default:
      return { name: 'home' };
  }
}

export const route = signal<Route>(parseRoute(location.pathname));

export function navigate(path: string, replace = false): void {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route.value = parseRoute(location.pathname);
}

window.addEventListener('popstate', () => {
  route.value = parseRoute(location.pathname);
});

export const paths = {
  channel: (guildId: string | null, channelId: string) => `/channels/${guildId ?? '@me'}/${channelId}`,
  guild: (guildId: string) => `/channels/${guildId}`,
  home: () => '/channels/@me',
  guildSettings: (guildId: string) => `/guilds/${guildId}/settings`,
  invite: (code: string) => `/invite/${encodeURIComponent(code)}`,
};
