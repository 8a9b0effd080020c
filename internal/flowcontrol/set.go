package flowcontrol

import "sync"

// Key names one ECS quota: one account's calls of one API in one region.
type Key struct {
	Account string
	Region  string
	API     string
}

// Set holds the process's limiters, one per Key, made on first use. A nil
// Set hands out nil limiters, which let every call through.
type Set struct {
	cfg Config
	mu  sync.Mutex
	m   map[Key]*Limiter
}

// NewSet returns an empty set whose limiters use cfg.
func NewSet(cfg Config) *Set { return &Set{cfg: cfg, m: map[Key]*Limiter{}} }

// For returns the limiter of k.
func (s *Set) For(k Key) *Limiter {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.m[k]
	if !ok {
		l = New(k.API, s.cfg)
		s.m[k] = l
	}
	return l
}
