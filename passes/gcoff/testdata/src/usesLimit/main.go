package main // want package:"sets a memory limit in limit"

import (
	"runtime/debug"

	"limit"
)

func main() {
	limit.Set(1 << 30)
	debug.SetGCPercent(-1) // the imported package sets a limit: not reported
}
