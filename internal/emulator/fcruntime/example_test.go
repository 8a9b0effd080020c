package fcruntime_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// An end-to-end test builds the function binary (go build -o), runs it under
// the emulator and invokes it like FC would. This example is compiled but not
// run: it needs the binary on disk.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	srv, err := fcruntime.NewServer(fcruntime.Config{Region: "cn-hangzhou", Timeout: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close() // also stops the processes it started

	// Point the function's SDK clients at other emulators through extra env.
	proc, err := srv.StartProcess(ctx, "/tmp/bin/function", []string{"ECS_ENDPOINT=127.0.0.1:12345"})
	if err != nil {
		log.Fatal(err)
	}
	defer proc.Stop()

	ready, err := srv.WaitFirstNext(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cold start:", ready.Sub(proc.StartedAt))

	res, err := srv.Invoke(ctx, fcruntime.Invocation{
		Payload:     []byte(`{"specversion":"1.0","type":"ecs:Instance:StateChange"}`),
		Credentials: creds.Credentials{AccessKeyID: "STS.ak", AccessKeySecret: "sk", SecurityToken: "tok"},
	})
	if err != nil {
		log.Fatal(err)
	}
	switch res.Status {
	case fcruntime.StatusResponse:
		fmt.Printf("result %s in %v\n", res.Body, res.Duration)
	case fcruntime.StatusError:
		fmt.Printf("function error %s: %s\n", res.ErrorType, res.ErrorMessage)
	}
	if rss, err := proc.PeakRSS(); err == nil {
		fmt.Println("peak RSS bytes:", rss)
	}
	fmt.Printf("%+v\n", srv.Stats())
	fmt.Println(proc.Output())
}
