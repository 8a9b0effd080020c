//go:build !fconly

package main

import (
	"os"

	"github.com/eni-detach/eni-detach/internal/cli"
)

func runCLI(args []string) int { return cli.Run(args, os.Stdin, os.Stdout, os.Stderr) }
