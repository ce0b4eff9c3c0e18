// Command settings prints what its runtime chose, as the Go runtime itself
// reports it, then waits for stdin to close: procscan's tests compare it
// with what vitals ps predicts from outside.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

func main() {
	fmt.Printf("GOMAXPROCS=%d GOMEMLIMIT=%d\n", runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1))
	_, _ = io.Copy(io.Discard, os.Stdin)
}
