// Command hellofc is the smallest useful fc.Start function: the baseline for
// the cold-start and binary-size benchmarks, and the child the fcruntime
// emulator's own tests drive. It lives under testdata so that `./...` skips
// it; build it with an explicit path:
//
//	go build -o /tmp/hellofc ./internal/emulator/fcruntime/testdata/hellofc
//
// Payload switches: {"fail":true} returns an error, {"panic":true} panics,
// {"sleepMs":N} holds the invocation for N ms (to make invocations overlap).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type switches struct {
	Fail    bool `json:"fail"`
	Panic   bool `json:"panic"`
	SleepMs int  `json:"sleepMs"`
}

func handle(ctx context.Context, event json.RawMessage) (map[string]any, error) {
	var sw switches
	// Non-object events (arrays, strings) are echoed too; only objects carry switches.
	_ = json.Unmarshal(event, &sw)
	switch {
	case sw.Panic:
		panic("hellofc: asked to panic")
	case sw.Fail:
		return nil, errors.New("hellofc: asked to fail")
	case sw.SleepMs > 0:
		select {
		case <-time.After(time.Duration(sw.SleepMs) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	out := map[string]any{"event": event, "envRegion": os.Getenv("FC_REGION")}
	// FromContext rebuilds its logger on every call: call it once.
	if fcc, ok := fccontext.FromContext(ctx); ok {
		out["requestId"] = fcc.RequestID
		// The secret and the token are never echoed, only whether they arrived.
		out["accessKeyId"] = fcc.Credentials.AccessKeyId
		out["hasSecret"] = fcc.Credentials.AccessKeySecret != ""
		out["hasToken"] = fcc.Credentials.SecurityToken != ""
		out["functionName"] = fcc.Function.Name
		out["timeoutSec"] = fcc.Function.Timeout
		out["region"] = fcc.Region
		out["accountId"] = fcc.AccountId
		out["retryCount"] = fcc.RetryCount
	}
	if dl, ok := ctx.Deadline(); ok {
		out["deadlineUnixMs"] = dl.UnixMilli()
	}
	return out, nil
}

func main() { fc.Start(handle) }
