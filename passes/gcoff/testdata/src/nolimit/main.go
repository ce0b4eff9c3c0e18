package main

import "runtime/debug"

func main() {
	debug.SetGCPercent(-1) // want `nothing in this program sets a memory limit`
}
