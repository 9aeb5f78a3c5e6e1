package server

import (
	"context"
	"time"
)

// Intervals of the background maintenance loop.
const (
	// keyReloadInterval keeps a key rotation or ban made by `openguild
	// admin` or by another node in effect here within 5 seconds.
	keyReloadInterval = 3 * time.Second

	// limiterSweepInterval frees the memory of idle rate-limit keys.
	limiterSweepInterval = time.Minute
)

// maintain runs periodic upkeep until Shutdown: reloading the keyring
// and sweeping idle rate-limit keys. A reload failure is logged once, and
// its recovery once with how long the failure lasted.
func (s *Server) maintain() {
	defer s.wg.Done()
	reload := time.NewTicker(keyReloadInterval)
	defer reload.Stop()
	sweep := time.NewTicker(limiterSweepInterval)
	defer sweep.Stop()

	var failingSince time.Time
	for {
		select {
		case <-s.stop:
			return
		case <-reload.C:
			failingSince = s.reload(failingSince)
		case <-sweep.C:
			s.registerLimit.Sweep()
			s.loginLimit.Sweep()
			s.messageUserLimit.Sweep()
			s.messageIPLimit.Sweep()
			s.readLimit.Sweep()
			s.writeLimit.Sweep()
			s.uploadLimit.Sweep()
			s.maintainMessages()
		}
	}
}

// reload picks up what admin commands changed in the database: signing
// keys and operator bans.
func (s *Server) reload(failingSince time.Time) time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), keyReloadInterval)
	defer cancel()

	err := s.auth.Keyring.Load(ctx)
	if err == nil {
		err = s.bans.Reload(ctx)
	}
	switch {
	case err != nil && failingSince.IsZero():
		s.logger.Error("reload of signing keys and bans failed; serving with those loaded before", "err", err)
		return time.Now()
	case err != nil:
		return failingSince
	case !failingSince.IsZero():
		s.logger.Info("reload of signing keys and bans recovered", "failed_for", time.Since(failingSince).String())
	}
	return time.Time{}
}

// maintainMessages purges expired nonces. A failure is logged and
// retried at the next sweep.
func (s *Server) maintainMessages() {
	ctx, cancel := context.WithTimeout(context.Background(), limiterSweepInterval/2)
	defer cancel()
	if err := s.messages.Maintain(ctx); err != nil {
		s.logger.Warn("purge of expired message nonces failed; will retry", "err", err)
	}
}
