// Package bench holds the benchmarks of issue 7 that need the built
// function binary or the emulators: cold start against a hello-world
// fc.Start binary, warm invocation latency and allocations, ECS calls and
// detection lag per detach, peak RSS under 40 concurrent invocations, and
// binary/zip size. Each reports ratios and counts with b.ReportMetric where
// an absolute figure would be lost in machine noise.
//
// Run them all, with the table, with scripts/bench.sh; or
//
//	go test -run '^$' -bench . -benchmem ./bench/
//
// which builds the function with build.sh first. Nothing here runs under a
// plain `go test`.
//
// The fleet-wide storm against one account's ECS quota is a command of its
// own, `go run ./bench/storm` (BENCHMARKS.md, "Storm").
package bench
