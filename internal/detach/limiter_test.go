package detach

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiterAllowsBurstThenSpaces(t *testing.T) {
	l := NewLimiter(1, 3) // one a second, bursts of three
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := l.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("call %d of the burst waited: %v", i+1, err)
		}
	}
	// The fourth must wait about a second: a 200 ms deadline ends first.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the call after the burst did not wait: %v", err)
	}
}

func TestNilLimiterNeverWaits(t *testing.T) {
	var l *Limiter
	if NewLimiter(0, 5) != nil {
		t.Fatal("a zero rate must mean no limiter")
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("a cancelled context must still be reported")
	}
}
