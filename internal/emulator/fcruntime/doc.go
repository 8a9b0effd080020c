// Package fcruntime emulates the Function Compute runtime API (version
// 2020-11-11) that a Go function built on fc-runtime-go-sdk talks to, so that
// tests and benchmarks can run the real function binary as a child process
// and drive it exactly as an FC instance would.
//
// The child is started with FC_RUNTIME_API=127.0.0.1:PORT (see Server.Env and
// Server.StartProcess). It long-polls GET .../invocation/next; Server.Invoke
// queues an invocation, hands it to a waiting `next` with the per-invocation
// x-fc-* headers, and returns what the child posts to .../{id}/response or
// .../{id}/error.
//
// Two properties of the SDK (v0.3.1, fc/invoke_loop.go) shape this emulator:
//
//   - The SDK calls `next` again right after dispatching each invocation and
//     runs handlers in goroutines, so invocations run concurrently in one
//     process unless Config.InstanceConcurrency limits dispatch.
//   - On any failure of `next` (non-200 status or transport error such as a
//     refused or reset connection) the SDK logs and retries immediately, with
//     no backoff. The emulator therefore never answers `next` with anything
//     but 200, and never closes a waiting `next`: on Close it stays parked
//     (and new `next` calls are parked too) until the child goes away. See
//     Server.Close.
//
// A typical end-to-end test:
//
//	srv, err := fcruntime.NewServer(fcruntime.Config{Region: "cn-hangzhou"})
//	if err != nil { t.Fatal(err) }
//	defer srv.Close()
//	proc, err := srv.StartProcess(ctx, binPath, []string{"LOG_LEVEL=debug"})
//	if err != nil { t.Fatal(err) }
//	defer proc.Stop()
//	res, err := srv.Invoke(ctx, fcruntime.Invocation{Payload: event, Credentials: c})
//	// res.Status is "response" or "error"; res.Body is what the child posted.
package fcruntime
