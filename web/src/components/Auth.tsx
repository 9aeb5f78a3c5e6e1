import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { navigate, route } from '../router';
import { describeError, login, pendingInvite, register, sessionEndNotice } from '../store';

export function AuthScreen() {
  const mode = route.value.name === 'register' ? 'register' : 'login';
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState('');
  const [registrationToken, setRegistrationToken] = useState('');
  const [needsToken, setNeedsToken] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    setBusy(true);
    try {
      if (mode === 'register') await register(username.trim(), password, displayName.trim(), registrationToken.trim());
      else await login(username.trim(), password);
      navigate('/channels/@me', true);
    } catch (err) {
      // A server in invite mode wants a registration token from its operator.
      if (err instanceof ApiError && err.code === 'invalid_registration_token') setNeedsToken(true);
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <form class="auth-card" onSubmit={submit} aria-labelledby="auth-title">
        <h1 id="auth-title">{mode === 'register' ? 'Create an account' : 'Welcome back'}</h1>
        {sessionEndNotice.value && (
          <p class="hint" role="status">
            {sessionEndNotice.value}
          </p>
        )}
        {pendingInvite.value && <p class="hint">Log in or register to accept your invite.</p>}
        <label>
          User name
          <input
            name="username"
            autocomplete="username"
            required
            minLength={2}
            maxLength={32}
            pattern="[A-Za-z0-9._\-]+"
            title="2 to 32 letters, digits, dots, underscores or hyphens"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        {mode === 'register' && (
          <label>
            Display name (optional)
            <input name="display_name" maxLength={64} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete={mode === 'register' ? 'new-password' : 'current-password'}
            required
            minLength={8}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {mode === 'register' && needsToken && (
          <label>
            Registration token
            <input name="registration_token" required value={registrationToken} onInput={(e) => setRegistrationToken(e.currentTarget.value)} />
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {mode === 'register' ? 'Register' : 'Log in'}
        </button>
        {mode === 'register' ? (
          <p>
            Have an account? <a href="/login" onClick={(e) => (e.preventDefault(), navigate('/login'))}>Log in</a>
          </p>
        ) : (
          <p>
            New here? <a href="/register" onClick={(e) => (e.preventDefault(), navigate('/register'))}>Register</a>
          </p>
        )}
      </form>
    </main>
  );
}
