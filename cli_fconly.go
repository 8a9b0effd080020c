//go:build fconly

package main

import (
	"fmt"
	"os"
)

// runCLI of the deployed build: it only serves FC.
func runCLI([]string) int {
	fmt.Fprintln(os.Stderr, "eni-detach: this build (-tags fconly) only serves Function Compute and FC_RUNTIME_API is unset; "+
		"use `go run . local` or a build without the tag for the local and detach commands")
	return 2
}
