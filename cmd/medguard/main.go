// Command medguard is the security-governance platform for hospitals: web UI, REST API
// and command line in one binary. Run `medguard demo` to try it, `medguard serve` to run it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/medguard/medguard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
