package fakeclock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMoves(t *testing.T) {
	c := New()
	start := c.Now()
	if d := time.Since(start); d < 0 || d > time.Minute {
		t.Fatalf("starts %v from the real time", d)
	}
	c.Advance(time.Hour)
	if got := c.Now().Sub(start); got != time.Hour {
		t.Fatalf("Advance: moved %v", got)
	}
	c.Set(start.Add(-time.Minute))
	if got := c.Now(); !got.Equal(start.Add(-time.Minute)) {
		t.Fatalf("Set: %v", got)
	}
}

func TestSleep(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // from the fake now; 0: none
		cancel   bool
		d        time.Duration
		wantErr  error
		wantMove time.Duration
	}{
		{name: "no deadline", d: time.Hour, wantMove: time.Hour},
		{name: "before the deadline", deadline: 2 * time.Hour, d: time.Hour, wantMove: time.Hour},
		{name: "up to the deadline", deadline: 30 * time.Minute, d: time.Hour, wantErr: context.DeadlineExceeded, wantMove: 30 * time.Minute},
		{name: "cancelled", cancel: true, d: time.Hour, wantErr: context.Canceled},
		{name: "not positive", d: -time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New()
			start := c.Now()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.deadline > 0 {
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.deadline))
				defer cancel()
			}
			if tc.cancel {
				cancel()
			}
			if err := c.Sleep(ctx, tc.d); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if got := c.Now().Sub(start); got != tc.wantMove {
				t.Fatalf("moved %v, want %v", got, tc.wantMove)
			}
		})
	}
}
