package main

import (
	"os"
	"runtime/trace"
	"time"
)

func main() {
	f, _ := os.Create("trace.out")
	defer f.Close()
	trace.Start(f) // want `trace.Start traces until the program exits, with no time bound`
	defer trace.Stop()
	serve()
}

func bounded() {
	f, _ := os.Create("trace.out")
	trace.Start(f) // not main: the function's own duration bounds it
	defer trace.Stop()
	serve()
}

func init() {
	trace.Start(os.Stderr) // bounded by the sleep: not reported
	defer trace.Stop()
	time.Sleep(time.Second)
}

func serve() {}
