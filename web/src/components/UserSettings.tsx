import { useEffect, useState } from 'preact/hooks';
import { changePassword, deleteAccount, deletionError, newPasswordProblem, passwordChangeError } from '../account';
import { api, describeError, logout, me, notify, updateDisplayName } from '../store';
import type { Session } from '../types';
import { Dialog, DialogActions } from './Dialog';

export function UserSettings() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState('');

  const load = () =>
    api
      .get<Session[]>('/sessions')
      .then(setSessions)
      .catch((err) => setError(describeError(err)));
  useEffect(() => {
    void load();
  }, []);

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
      <Profile />
      <PasswordChange onChanged={() => void load()} />
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
      <AccountDeletion />
    </main>
  );
}

function Profile() {
  const [name, setName] = useState(me.value?.display_name ?? '');
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);

  const saveName = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    try {
      await updateDisplayName(name);
      setSaved(true);
      setTimeout(() => setSaved(false), 3000);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
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
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** Renders the password form. onChanged runs after a change, which has ended every other session. */
function PasswordChange({ onChanged }: { onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setDone(false);
    const problem = newPasswordProblem(next, confirmation);
    setError(problem ?? '');
    if (problem) return;
    setBusy(true);
    try {
      await changePassword(current, next);
      setCurrent('');
      setNext('');
      setConfirmation('');
      setDone(true);
      onChanged();
    } catch (err) {
      setError(passwordChangeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form onSubmit={submit}>
        {/* Lets password managers tell which account the new password belongs to. */}
        <input type="text" name="username" autocomplete="username" value={me.value?.username ?? ''} readOnly hidden />
        <PasswordField label="Current password" autocomplete="current-password" value={current} onInput={setCurrent} />
        <PasswordField label="New password" autocomplete="new-password" value={next} onInput={setNext} describedBy="password-rules" />
        <PasswordField label="Confirm new password" autocomplete="new-password" value={confirmation} onInput={setConfirmation} />
        <p id="password-rules" class="hint">
          At least 8 bytes in UTF-8, such as 8 letters or digits, and at most 1,024. Changing the password logs out
          every other session.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" class="primary" disabled={busy}>
            Change password
          </button>
          <span class="saved" role="status">
            {done ? 'Password changed. Every other session is logged out.' : ''}
          </span>
        </div>
      </form>
    </section>
  );
}

function PasswordField(props: { label: string; autocomplete: string; value: string; onInput: (value: string) => void; describedBy?: string }) {
  return (
    <label>
      {props.label}
      <input
        type="password"
        required
        autocomplete={props.autocomplete}
        aria-describedby={props.describedBy}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </label>
  );
}

function AccountDeletion() {
  const [confirming, setConfirming] = useState(false);
  return (
    <section aria-labelledby="delete-account-title" class="danger-zone">
      <h2 id="delete-account-title">Delete account</h2>
      <p>
        Your profile is cleared and shows as "Deleted user", you leave every guild, and every session ends. This cannot
        be undone. A guild you own needs another owner, or must be deleted, first.
      </p>
      <button class="danger" onClick={() => setConfirming(true)}>
        Delete account…
      </button>
      {confirming && <AccountDeletionDialog onClose={() => setConfirming(false)} />}
    </section>
  );
}

function AccountDeletionDialog({ onClose }: { onClose: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  // On success the session ends and the login replaces this page, so no
  // state is set afterwards.
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      await deleteAccount(password);
    } catch (err) {
      setError(await deletionError(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Delete your account?" onClose={onClose}>
      <form onSubmit={submit}>
        <p>This cannot be undone. Enter your password to confirm.</p>
        <PasswordField label="Password" autocomplete="current-password" value={password} onInput={setPassword} />
        <DialogActions error={error} submitLabel="Delete my account" onCancel={onClose} danger busy={busy} />
      </form>
    </Dialog>
  );
}
