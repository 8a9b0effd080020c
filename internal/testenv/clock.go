package testenv

import "github.com/eni-detach/eni-detach/internal/testenv/fakeclock"

// Clock is the tests' fake clock (package fakeclock): give an engine and
// the ECS emulator the same one (ecsemu.WithClock(c.Now)) and a detach run's
// waits cost no wall time.
type Clock = fakeclock.Clock

// NewClock starts a Clock at the real time.
func NewClock() *Clock { return fakeclock.New() }
