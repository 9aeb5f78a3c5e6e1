package server

import (
	"context"
	"time"
)

// Intervals of the background maintenance loop.
const (
	// keyReloadInterval keeps a rotation made by `openguild admin keys
	// rotate` or by another node in effect here within 5 seconds.
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
			failingSince = s.reloadKeys(failingSince)
		case <-sweep.C:
			s.registerLimit.Sweep()
			s.loginLimit.Sweep()
		}
	}
}

func (s *Server) reloadKeys(failingSince time.Time) time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), keyReloadInterval)
	defer cancel()

	err := s.auth.Keyring.Load(ctx)
	switch {
	case err != nil && failingSince.IsZero():
		s.logger.Error("reload signing keys failed; serving with the keys loaded before", "err", err)
		return time.Now()
	case err != nil:
		return failingSince
	case !failingSince.IsZero():
		s.logger.Info("reload signing keys recovered", "failed_for", time.Since(failingSince).String())
	}
	return time.Time{}
}
