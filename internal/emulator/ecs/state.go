package ecs

import (
	"fmt"
	"sort"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/identity"
)

// AddRegion makes a region known (DefaultRegion always is).
func (s *Server) AddRegion(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions[id] = true
}

// AddInstance adds an instance; its region is added too. Adding an ID twice
// is an error: use SetInstanceStatus / UpdateInstance to change one.
func (s *Server) AddInstance(in Instance) error {
	if err := in.normalise(); err != nil {
		return err
	}
	if err := s.ownAccount(&in.Account); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.instances[in.ID]; dup {
		return fmt.Errorf("ecs emulator: instance %s already exists", in.ID)
	}
	s.regions[in.Region] = true
	s.instances[in.ID] = &instanceState{Instance: in}
	return nil
}

// AddENI adds an ENI; its region is added too. An ENI added in Detaching
// counts as detached once, at the moment it is added.
func (s *Server) AddENI(e ENI) error {
	if err := e.normalise(); err != nil {
		return err
	}
	if err := s.ownAccount(&e.Account); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.enis[e.ID]; dup {
		return fmt.Errorf("ecs emulator: ENI %s already exists", e.ID)
	}
	s.putENILocked(e)
	return nil
}

// ownAccount defaults an owner account and checks its form.
func (s *Server) ownAccount(account *string) error {
	if *account == "" {
		*account = s.ids.DefaultAccount()
	}
	if !identity.ValidAccount(*account) {
		return fmt.Errorf("ecs emulator: account %q is not 16 digits", *account)
	}
	return nil
}

func (s *Server) putENILocked(e ENI) {
	s.regions[e.Region] = true
	st := &eniState{ENI: e}
	if e.Status == ENIDetaching {
		st.detachStart = s.now()
		st.cycleCalls = 1
	}
	s.enis[e.ID] = st
}

// RemoveENI deletes an ENI (as if released), so later calls get
// InvalidEniId.NotFound. It reports whether the ENI existed.
func (s *Server) RemoveENI(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.enis[id]
	delete(s.enis, id)
	return ok
}

// UpdateENI edits an ENI in place (after settling it to now). The ID cannot
// change; a change of Status is applied as a status change now.
func (s *Server) UpdateENI(id string, edit func(*ENI)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.enis[id]
	if !ok {
		return fmt.Errorf("ecs emulator: no ENI %s", id)
	}
	now := s.now()
	st.settle(now, s.detachDelay)
	e := st.ENI.clone()
	edit(&e)
	e.ID = id
	e.Account = st.Account
	newStatus := e.Status
	if err := oneOf("ENI status", newStatus, eniStatuses); err != nil {
		return err
	}
	e.Status = st.Status
	if err := e.normalise(); err != nil {
		return err
	}
	e.DetachCalls = st.DetachCalls
	st.ENI = e
	st.setStatus(newStatus, now)
	s.regions[e.Region] = true
	return nil
}

// SetENIStatus changes an ENI's status now. Setting Detaching starts a
// detach episode (delay and StuckReissues apply); Available clears the
// attachment.
func (s *Server) SetENIStatus(id, status string) error {
	return s.ScheduleENIStatus(id, status, 0)
}

// ScheduleENIStatus changes an ENI's status after the given time on the
// server clock (e.g. Attaching → InUse).
func (s *Server) ScheduleENIStatus(id, status string, after time.Duration) error {
	if err := oneOf("ENI status", status, eniStatuses); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.enis[id]
	if !ok {
		return fmt.Errorf("ecs emulator: no ENI %s", id)
	}
	now := s.now()
	s.seq++
	st.schedule = insertSchedule(st.schedule, scheduledStatus{at: now.Add(after), status: status, seq: s.seq})
	st.settle(now, s.detachDelay)
	return nil
}

// SetInstanceStatus changes an instance's status now.
func (s *Server) SetInstanceStatus(id, status string) error {
	return s.ScheduleInstanceStatus(id, status, 0)
}

// ScheduleInstanceStatus changes an instance's status after the given time
// on the server clock, e.g. Stopping now and Stopped after 2 s.
func (s *Server) ScheduleInstanceStatus(id, status string, after time.Duration) error {
	if err := oneOf("instance status", status, instanceStatuses); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("ecs emulator: no instance %s", id)
	}
	now := s.now()
	s.seq++
	in.schedule = insertSchedule(in.schedule, scheduledStatus{at: now.Add(after), status: status, seq: s.seq})
	in.settle(now)
	return nil
}

// SetInstanceHotPlugUnsupported flips the instance's hot-plug capability.
func (s *Server) SetInstanceHotPlugUnsupported(id string, unsupported bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return fmt.Errorf("ecs emulator: no instance %s", id)
	}
	in.HotPlugUnsupported = unsupported
	return nil
}

// GetENI returns a copy of the ENI as of now.
func (s *Server) GetENI(id string) (ENI, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.enis[id]
	if !ok {
		return ENI{}, false
	}
	st.settle(s.now(), s.detachDelay)
	return st.ENI.clone(), true
}

// GetInstance returns a copy of the instance as of now.
func (s *Server) GetInstance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	in.settle(s.now())
	return in.Instance, true
}

// ENIs returns copies of every ENI as of now, sorted by ID.
func (s *Server) ENIs() []ENI {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]ENI, 0, len(s.enis))
	for _, st := range s.enis {
		st.settle(now, s.detachDelay)
		out = append(out, st.ENI.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Instances returns copies of every instance as of now, sorted by ID.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]Instance, 0, len(s.instances))
	for _, in := range s.instances {
		in.settle(now)
		out = append(out, in.Instance)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// settledENIsLocked settles every ENI and returns them sorted by ID.
func (s *Server) settledENIsLocked(now time.Time) []*eniState {
	out := make([]*eniState, 0, len(s.enis))
	for _, st := range s.enis {
		st.settle(now, s.detachDelay)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
