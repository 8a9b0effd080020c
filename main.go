// Command eni-detach is the Function Compute function (when FC starts it,
// FC_RUNTIME_API is set) and, otherwise, a CLI: `local` runs the function
// against embedded emulators, `detach` runs it from a terminal against the
// real cloud.
//
// build.sh builds the deployed binary with -tags fconly, which leaves the
// CLI and the emulators out: they are never used on FC, and their package
// initialisation would only add to every cold start.
package main

import (
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/eni-detach/eni-detach/internal/app"
)

func main() {
	if os.Getenv("FC_RUNTIME_API") != "" {
		// Configuration problems are logged by app.New and answered on
		// every invocation; the process stays up so that FC shows them.
		h, _ := app.New(os.Getenv, os.Stdout, app.Options{})
		fc.Start(h.Invoke)
		return
	}
	os.Exit(runCLI(os.Args[1:]))
}
