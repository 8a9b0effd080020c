// Command ecsemu serves the ECS emulator from a process of its own, so that
// the in-process warm-invocation benchmark counts (with -benchmem) only the
// function's allocations, not the emulator's. It lives under testdata so
// that ./... skips it; bench's TestMain builds it with an explicit path.
//
// It seeds the demo region and STS credentials (ecs.SeedDemo), adds the
// Available ENIs named by -available, prints the emulator's URL on a line of
// its own, and serves until its standard input is closed.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eni-detach/eni-detach/internal/emulator/ecs"
)

func main() {
	available := flag.String("available", "", "comma-separated ids of Available, unattached ENIs to add")
	flag.Parse()
	srv, err := ecs.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecsemu:", err)
		os.Exit(1)
	}
	srv.SeedDemo()
	for id := range strings.SplitSeq(*available, ",") {
		if id == "" {
			continue
		}
		if err := srv.AddENI(ecs.ENI{ID: id}); err != nil {
			fmt.Fprintln(os.Stderr, "ecsemu:", err)
			os.Exit(1)
		}
	}
	fmt.Println(srv.URL())
	// The parent closes our stdin (or dies) when it is done.
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}
