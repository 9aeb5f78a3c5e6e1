import { useEffect, useState } from 'preact/hooks';
import { navigate, paths, route } from '../router';
import {
  acceptPendingInvite,
  dismissNotice,
  gatewayState,
  guildChannels,
  guilds,
  notices,
  ready,
  rememberInvite,
  tokens,
} from '../store';
import { AuthScreen } from './Auth';
import { ChannelView } from './ChannelView';
import { GuildSettings } from './GuildSettings';
import { MemberList } from './Members';
import { GuildRail } from './Rail';
import { Sidebar } from './Sidebar';
import { UserSettings } from './UserSettings';

export function App() {
  const r = route.value;

  // An invite link opens the app. The code waits until the user is
  // logged in and the gateway is ready, and is then accepted.
  useEffect(() => {
    if (r.name !== 'invite') return;
    rememberInvite(r.code);
    if (!tokens.value) navigate('/login', true);
    else if (ready.value) void acceptPendingInvite();
  }, [r.name === 'invite' ? r.code : '']);

  useEffect(() => {
    if (tokens.value && (r.name === 'login' || r.name === 'register')) navigate(paths.home(), true);
    if (!tokens.value && r.name !== 'login' && r.name !== 'register' && r.name !== 'invite') navigate('/login', true);
  }, [tokens.value, r.name]);

  return (
    <>
      <a class="skip-link" href="#main-pane">
        Skip to content
      </a>
      {tokens.value ? <Shell /> : <AuthScreen />}
      <Notices />
    </>
  );
}

function Shell() {
  const r = route.value;
  const [navOpen, setNavOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(false);
  useEffect(() => setNavOpen(false), [r]);

  // On a phone the drawers overlap, so one shows at a time, and Escape
  // closes it.
  const openNav = (open: boolean) => {
    setNavOpen(open);
    if (open) setMembersOpen(false);
  };
  const openMembers = (open: boolean) => {
    setMembersOpen(open);
    if (open) setNavOpen(false);
  };
  useEffect(() => {
    if (!navOpen && !membersOpen) return;
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key !== 'Escape' || ev.defaultPrevented) return;
      setNavOpen(false);
      setMembersOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navOpen, membersOpen]);

  // A guild route without a channel opens the guild's first text channel.
  useEffect(() => {
    if (r.name === 'guild' && !r.channelId && guilds.value[r.guildId]) {
      const first = guildChannels(r.guildId).find((c) => c.kind === 'text');
      if (first) navigate(paths.channel(r.guildId, first.id), true);
    }
  });

  let main;
  if (!ready.value) main = <p class="hint empty">Connecting…</p>;
  else if (r.name === 'settings') main = <UserSettings />;
  else if (r.name === 'guild_settings') main = <GuildSettings guildId={r.guildId} />;
  else if ((r.name === 'guild' || r.name === 'home') && r.channelId) main = <ChannelView channelId={r.channelId} />;
  else if (r.name === 'guild') main = <p class="hint empty">This guild has no text channel yet.</p>;
  else main = <p class="hint empty">Pick a conversation, or a guild on the left.</p>;

  const showMembers = r.name === 'guild' && ready.value;

  return (
    <div class={`shell ${navOpen ? 'nav-open' : ''} ${membersOpen ? 'members-open' : ''}`}>
      <ConnectionBanner />
      <div class="mobile-bar">
        <button aria-label="Open navigation" aria-expanded={navOpen} onClick={() => openNav(!navOpen)}>
          Menu
        </button>
        {showMembers && (
          <button aria-label="Show members" aria-expanded={membersOpen} onClick={() => openMembers(!membersOpen)}>
            Members
          </button>
        )}
      </div>
      <GuildRail />
      <Sidebar />
      <div class="main" id="main-pane" tabIndex={-1}>
        {main}
      </div>
      {showMembers && r.name === 'guild' && <MemberList guildId={r.guildId} />}
    </div>
  );
}

function ConnectionBanner() {
  const state = gatewayState.value;
  if (state === 'connected' || state === 'closed') return null;
  return (
    <div class={`connection ${state}`} role="status" aria-live="polite">
      {state === 'connecting' ? 'Connecting…' : 'Reconnecting… Messages you send are kept and retried.'}
    </div>
  );
}

function Notices() {
  return (
    <div class="notices" aria-live="assertive">
      {notices.value.map((n) => (
        <div key={n.id} class={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button class="small" aria-label="Dismiss" onClick={() => dismissNotice(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
