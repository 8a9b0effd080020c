// Package ecsfake is an in-memory ecsapi.API for unit tests of what sits
// above the adapter (the detach state machine): ENIs that go from InUse
// through Detaching to Available on a clock the test controls, scripted
// errors, and a call log. It does not sign, check parameters or speak
// HTTP; the ECS emulator (internal/emulator/ecs) does, and the adapter and
// end-to-end tests use that.
package ecsfake

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// ENI is an ENI of the fake and how its detaches go.
type ENI struct {
	ecsapi.ENI
	Region string // "" means DefaultRegion
	// StuckReissues > 0 keeps a detach Detaching until that many further
	// detach calls arrived; the one that frees it restarts the delay.
	StuckReissues int
	// Reverts makes every detach end back InUse (the guest OS refused
	// it) instead of Available.
	Reverts bool
	// Vanishes makes the ENI deleted once its detach completes (released
	// with its instance, say) instead of Available.
	Vanishes bool
}

// DefaultRegion is the region of an ENI put without one.
const DefaultRegion = "cn-hangzhou"

// Call is one call the fake answered.
type Call struct {
	Action     string // DescribeNetworkInterfaces or DetachNetworkInterface
	Time       time.Time
	RequestID  string
	IDs        []string // the ENIs asked about
	InstanceID string
	Err        error
}

type eni struct {
	ENI
	readyAt time.Time // when a Detaching ENI settles
}

// Fake is safe for concurrent use.
type Fake struct {
	now   func() time.Time
	delay time.Duration

	mu    sync.Mutex
	enis  map[string]*eni
	fails map[string][]error
	calls []Call
	seq   int
}

var _ ecsapi.API = (*Fake)(nil)

// New returns a fake whose detaches take detachDelay on the clock now.
func New(now func() time.Time, detachDelay time.Duration) *Fake {
	return &Fake{now: now, delay: detachDelay, enis: map[string]*eni{}, fails: map[string][]error{}}
}

// Put adds or replaces an ENI. Status "" means InUse when it has an
// instance, else Available; Type "" means Secondary.
func (f *Fake) Put(e ENI) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Region == "" {
		e.Region = DefaultRegion
	}
	if e.Type == "" {
		e.Type = "Secondary"
	}
	if e.Status == "" {
		e.Status = "Available"
		if e.InstanceID != "" {
			e.Status = "InUse"
		}
	}
	f.enis[e.ID] = &eni{ENI: e}
}

// Get returns an ENI as it stands now.
func (f *Fake) Get(id string) (ENI, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.enis[id]
	if !ok {
		return ENI{}, false
	}
	f.settle(e)
	_, ok = f.enis[id]
	return e.ENI, ok
}

// Fail makes the next calls of action fail with errs, one each, in order;
// a nil entry lets its call through. An *ecsapi.Error from the server
// without a RequestId gets the call's, as ECS's answers carry one.
func (f *Fake) Fail(action string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[action] = append(f.fails[action], errs...)
}

// Calls returns the calls of action ("" for all), in order.
func (f *Fake) Calls(action string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if action == "" || c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// begin logs a call and returns its scripted error, if any.
func (f *Fake) begin(c *Call) error {
	f.seq++
	c.Time, c.RequestID = f.now(), fmt.Sprintf("FAKE-%06d", f.seq)
	if q := f.fails[c.Action]; len(q) > 0 {
		f.fails[c.Action] = q[1:]
		c.Err = q[0]
		if e, ok := c.Err.(*ecsapi.Error); ok && e.RequestID == "" && e.Kind == ecsapi.KindServer {
			cp := *e
			cp.RequestID = c.RequestID
			c.Err = &cp
		}
	}
	f.calls = append(f.calls, *c)
	return c.Err
}

// settle finishes a detach whose time has come.
func (f *Fake) settle(e *eni) {
	if e.Status != "Detaching" || e.StuckReissues > 0 || f.now().Before(e.readyAt) {
		return
	}
	switch {
	case e.Reverts:
		e.Status = "InUse"
	case e.Vanishes:
		delete(f.enis, e.ID)
	default:
		e.Status, e.InstanceID = "Available", ""
	}
}

// DescribeNetworkInterfaces answers by ids, or lists an instance's ENIs (of
// in.Type, if given) a page of in.MaxResults at a time.
func (f *Fake) DescribeNetworkInterfaces(_ context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := Call{Action: "DescribeNetworkInterfaces", IDs: in.IDs, InstanceID: in.InstanceID}
	if err := f.begin(&c); err != nil {
		return ecsapi.DescribePage{}, err
	}
	var match []ecsapi.ENI
	for _, id := range f.sortedIDs() {
		e := f.enis[id]
		if f.settle(e); f.enis[id] == nil {
			continue
		}
		if e.Region != in.RegionID || (len(in.IDs) > 0 && !slices.Contains(in.IDs, id)) ||
			(in.InstanceID != "" && e.InstanceID != in.InstanceID) || (in.Type != "" && e.Type != in.Type) {
			continue
		}
		match = append(match, e.ENI.ENI)
	}
	page := ecsapi.DescribePage{RequestID: c.RequestID}
	start, _ := strconv.Atoi(in.NextToken)
	end := len(match)
	if in.MaxResults > 0 && start+in.MaxResults < end {
		end = start + in.MaxResults
		page.NextToken = strconv.Itoa(end)
	}
	if start < end {
		page.ENIs = match[start:end]
	}
	return page, nil
}

// DetachNetworkInterface starts (or re-issues) a detach.
func (f *Fake) DetachNetworkInterface(_ context.Context, in ecsapi.DetachInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := Call{Action: "DetachNetworkInterface", IDs: []string{in.ENIID}, InstanceID: in.InstanceID}
	if err := f.begin(&c); err != nil {
		return "", err
	}
	e, ok := f.enis[in.ENIID]
	if ok {
		f.settle(e)
		_, ok = f.enis[in.ENIID]
	}
	if !ok || e.Region != in.RegionID {
		return "", f.refuse(&c, 404, "InvalidEniId.NotFound")
	}
	switch {
	case e.Status == "InUse":
		e.Status, e.readyAt = "Detaching", f.now().Add(f.delay)
	case e.Status == "Detaching" && e.StuckReissues > 0:
		e.StuckReissues--
		e.readyAt = f.now().Add(f.delay)
	case e.Status != "Detaching":
		return "", f.refuse(&c, 400, "InvalidOperation.InvalidEniState")
	}
	return c.RequestID, nil
}

// refuse turns a logged call into an ECS refusal.
func (f *Fake) refuse(c *Call, status int, code string) error {
	err := &ecsapi.Error{Kind: ecsapi.KindServer, Code: code, Message: "refused by the fake", RequestID: c.RequestID, HTTPStatus: status}
	f.calls[len(f.calls)-1].Err = err
	return err
}

func (f *Fake) sortedIDs() []string {
	ids := make([]string, 0, len(f.enis))
	for id := range f.enis {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
