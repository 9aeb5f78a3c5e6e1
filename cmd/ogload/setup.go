package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Setup limits. Registration and login hash a password with Argon2id, so
// a few at a time keep the setup phase from measuring itself.
const (
	setupWorkers = 8
	setupTimeout = 5 * time.Minute
	setupRetries = 5
	maxRetryWait = time.Minute
)

// fixture is the set of users, guild and text channels that setupGuild
// creates. Every user is a member of the guild.
type fixture struct {
	guildID    string
	channelIDs []string
	sessions   []*session // sessions[0] owns the guild
}

// session is one logged-in load user.
type session struct {
	userID   string
	deviceID string

	mu            sync.Mutex // guards the fields below
	access        string
	accessIssued  time.Time // when ogload received access, by the local clock
	accessExpires time.Time // zero when unknown, as for a token given on the command line
	refresh       string    // empty when the session cannot be refreshed
}

// newSession returns the session that a login or refresh response t
// starts on device deviceID.
func newSession(deviceID string, t tokens) *session {
	s := &session{userID: t.User.ID, deviceID: deviceID}
	s.setTokensLocked(t)
	return s
}

// setTokensLocked stores the tokens of a login or refresh response.
func (s *session) setTokensLocked(t tokens) {
	s.access, s.accessIssued, s.accessExpires, s.refresh = t.AccessToken, time.Now(), t.AccessExpiresAt, t.RefreshToken
}

// tokens is the contract's Tokens object, reduced to what ogload uses.
type tokens struct {
	AccessToken     string    `json:"access_token"`
	AccessExpiresAt time.Time `json:"access_expires_at"`
	RefreshToken    string    `json:"refresh_token"`
	User            struct {
		ID string `json:"id"`
	} `json:"user"`
}

// token returns an access token for s. Once the last quarter of the
// token's lifetime has begun it refreshes the token first, so fills
// longer than an access token's lifetime keep going.
func (s *session) token(ctx context.Context, c *client) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	quarter := s.accessExpires.Sub(s.accessIssued) / 4
	if s.refresh == "" || s.accessExpires.IsZero() || time.Until(s.accessExpires) > quarter {
		return s.access, nil
	}

	var t tokens
	body := map[string]string{"refresh_token": s.refresh, "device_id": s.deviceID}
	if err := doRetry(ctx, c, io.Discard, "POST", "/api/v1/auth/refresh", "", body, &t); err != nil {
		return "", fmt.Errorf("refresh token of user %s: %w", s.userID, err)
	}
	s.setTokensLocked(t)
	return s.access, nil
}

// setupGuild registers and logs in users accounts, has the first create a
// guild and channels text channels, and has the others join through an
// invite with no expiry and no use limit. Progress goes to progress.
func setupGuild(ctx context.Context, c *client, users, channels int, runID string, progress io.Writer) (*fixture, error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	start := time.Now()

	sessions, err := createSessions(ctx, c, users, runID, progress)
	if err != nil {
		return nil, err
	}
	owner := sessions[0]
	f := &fixture{sessions: sessions}

	var guild struct {
		ID string `json:"id"`
	}
	if err := doRetry(ctx, c, progress, "POST", "/api/v1/guilds", owner.access, map[string]string{"name": "ogload " + runID}, &guild); err != nil {
		return nil, fmt.Errorf("create guild: %w", err)
	}
	f.guildID = guild.ID

	if err := joinGuild(ctx, c, f, progress); err != nil {
		return nil, err
	}

	for i := range channels {
		var channel struct {
			ID string `json:"id"`
		}
		body := map[string]string{"name": "load-" + strconv.Itoa(i+1), "kind": "text"}
		if err := doRetry(ctx, c, progress, "POST", "/api/v1/guilds/"+f.guildID+"/channels", owner.access, body, &channel); err != nil {
			return nil, fmt.Errorf("create channel %d of %d: %w", i+1, channels, err)
		}
		f.channelIDs = append(f.channelIDs, channel.ID)
	}

	fmt.Fprintf(progress, "setup: %d users, guild %s, %d channels, in %s\n",
		users, f.guildID, channels, time.Since(start).Round(time.Millisecond))
	return f, nil
}

// createSessions registers n users named load-RUNID-I and logs each in.
func createSessions(ctx context.Context, c *client, n int, runID string, progress io.Writer) ([]*session, error) {
	sessions := make([]*session, n)
	err := forEach(ctx, n, setupWorkers, func(ctx context.Context, i int) error {
		username := fmt.Sprintf("load-%s-%d", runID, i)
		password := "ogload password " + runID
		register := map[string]string{"username": username, "password": password}
		if err := doRetry(ctx, c, progress, "POST", "/api/v1/auth/register", "", register, nil); err != nil {
			return fmt.Errorf("register user %s: %w", username, err)
		}

		deviceID := "ogload-" + strconv.Itoa(i)
		login := map[string]any{"username": username, "password": password,
			"device": map[string]string{"id": deviceID, "name": "ogload"}}
		var t tokens
		if err := doRetry(ctx, c, progress, "POST", "/api/v1/auth/login", "", login, &t); err != nil {
			return fmt.Errorf("log in user %s: %w", username, err)
		}
		sessions[i] = newSession(deviceID, t)
		return nil
	})
	return sessions, err
}

// joinGuild has every session but the owner accept one invite to f's
// guild.
func joinGuild(ctx context.Context, c *client, f *fixture, progress io.Writer) error {
	if len(f.sessions) < 2 {
		return nil
	}
	var invite struct {
		Code string `json:"code"`
	}
	body := map[string]int{"max_age_seconds": 0, "max_uses": 0} // never expires, unlimited uses
	if err := doRetry(ctx, c, progress, "POST", "/api/v1/guilds/"+f.guildID+"/invites", f.sessions[0].access, body, &invite); err != nil {
		return fmt.Errorf("create invite to guild %s: %w", f.guildID, err)
	}

	members := f.sessions[1:]
	return forEach(ctx, len(members), setupWorkers, func(ctx context.Context, i int) error {
		if err := doRetry(ctx, c, progress, "POST", "/api/v1/invites/"+invite.Code+"/accept", members[i].access, nil, nil); err != nil {
			return fmt.Errorf("accept invite as user %s: %w", members[i].userID, err)
		}
		return nil
	})
}

// doRetry sends a setup request. After a 429 it waits as long as the
// response requests (at most maxRetryWait) and tries again, up to
// setupRetries times, printing each wait to progress. Other failures
// return at once.
func doRetry(ctx context.Context, c *client, progress io.Writer, method, path, token string, body, out any) error {
	for attempt := 0; ; attempt++ {
		_, err := c.do(ctx, method, path, token, body, out)
		wait := retryAfter(err)
		if wait == 0 || attempt == setupRetries {
			return err
		}

		wait = min(wait, maxRetryWait)
		fmt.Fprintf(progress, "setup: %s %s rate limited, retrying in %s (start the server with %s to avoid this)\n",
			method, path, wait.Round(time.Millisecond), serverFlags)
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait to retry %s %s: %w", method, path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// forEach calls fn for 0 to n-1 on up to workers goroutines. After the
// first error it starts no more calls, waits for the running ones and
// returns that error.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex // guards firstErr
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}

	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()

	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
