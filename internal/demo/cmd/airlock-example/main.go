// Command airlock-example runs the split release of the bundled example
// package on local servers, narrating each job: `make example`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/airlockdev/airlock/internal/demo"
)

func main() {
	// Ctrl-C stops the step under way; Run then stops every server and
	// process it started and removes its folders.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := demo.Run(ctx, demo.Options{Out: os.Stdout}); err != nil {
		fmt.Fprintf(os.Stderr, "airlock-example: %v\n", err)
		stop()
		os.Exit(1)
	}
}
