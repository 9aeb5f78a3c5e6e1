import { useEffect, useState } from 'preact/hooks';
import { api, describeError, logout, me, notify, users } from '../store';
import type { Session, User } from '../types';

export function UserSettings() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [name, setName] = useState(me.value?.display_name ?? '');
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);

  const load = () =>
    api
      .get<Session[]>('/sessions')
      .then(setSessions)
      .catch((err) => setError(describeError(err)));
  useEffect(() => {
    void load();
  }, []);

  const saveName = async (ev: Event) => {
    ev.preventDefault();
    try {
      const u = await api.patch<User>('/users/@me', { display_name: name.trim() });
      me.value = u;
      users.value = { ...users.value, [u.id]: u };
      setSaved(true);
      setTimeout(() => setSaved(false), 3000);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const end = async (id: string) => {
    try {
      await api.del(`/sessions/${id}`);
    } catch (err) {
      setError(describeError(err));
    }
    await load();
  };

  const endOthers = async () => {
    const others = (sessions ?? []).filter((s) => !s.current);
    for (const s of others) {
      try {
        await api.del(`/sessions/${s.id}`);
      } catch (err) {
        setError(describeError(err));
      }
    }
    await load();
    notify(`Logged out ${others.length} other session${others.length === 1 ? '' : 's'}.`, 'info');
  };

  return (
    <main class="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">User settings</h1>
      <section aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <p>
          Signed in as <strong>{me.value?.username}</strong>
        </p>
        <form onSubmit={saveName} class="row">
          <label>
            Display name
            <input required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" onClick={() => setSaved(false)}>
            Save
          </button>
          <span class="saved" role="status">
            {saved ? 'Saved' : ''}
          </span>
        </form>
      </section>
      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <table class="sessions">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Last seen</th>
              <th scope="col">Address</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(sessions ?? []).map((s) => (
              <tr key={s.id}>
                <td>
                  {s.device_name}
                  {s.current && <strong> (this browser)</strong>}
                </td>
                <td>{new Date(s.last_seen_at).toLocaleString()}</td>
                <td>{s.last_ip}</td>
                <td>
                  {!s.current && (
                    <button class="small" onClick={() => void end(s.id)}>
                      Log out
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="row">
          <button onClick={() => void endOthers()} disabled={!sessions || sessions.every((s) => s.current)}>
            Log out other sessions
          </button>
          <button class="danger" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </section>
    </main>
  );
}
