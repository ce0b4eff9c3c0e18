//go:build ignore

// gen.go regenerates the corpus of real gctrace output in this directory.
// It writes small Go programs to a temporary directory, builds them with the
// go command on PATH, runs each under GODEBUG=gctrace=1 (plus the settings
// in the table) and saves the program's standard error as <name>.txt.
//
//	cd gctrace/testdata && go run gen.go
//
// Then refresh the goldens: go test ./gctrace -run Golden -update
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

type program struct {
	name string
	env  []string // added to the environment
	src  string
}

var programs = []program{
	{
		// A service-like steady state: a fixed live set and a lot of
		// short-lived garbage.
		name: "alloc",
		env:  []string{"GODEBUG=gctrace=1"},
		src: `package main

import "fmt"

var live [][]byte
var sink []byte

func main() {
	for i := 0; i < 2560; i++ { // 20 MiB live
		live = append(live, make([]byte, 8<<10))
	}
	for i := 0; i < 1000000; i++ {
		sink = make([]byte, 4<<10)
		if i%100 == 0 {
			live[i%len(live)] = make([]byte, 8<<10)
		}
	}
	fmt.Println(len(live), len(sink))
}
`,
	},
	{
		// Someone calls runtime.GC in a loop; debug.FreeOSMemory once.
		// scavtrace=1 adds the scavenger's lines.
		name: "forced",
		env:  []string{"GODEBUG=gctrace=1,scavtrace=1"},
		src: `package main

import (
	"runtime"
	"runtime/debug"
)

var sink [][]byte

func main() {
	for i := 0; i < 40; i++ {
		for j := 0; j < 200; j++ {
			sink = append(sink, make([]byte, 16<<10))
		}
		if len(sink) > 1000 {
			sink = sink[:0]
		}
		runtime.GC()
	}
	sink = nil
	debug.FreeOSMemory()
}
`,
	},
	{
		// A live heap close to GOMEMLIMIT: the limit sets the goal and GC
		// runs back to back.
		name: "memlimit",
		env:  []string{"GODEBUG=gctrace=1", "GOMEMLIMIT=64MiB"},
		src: `package main

import "time"

type node struct {
	next *node
	pad  [6]*int
}

var head *node
var sink []byte

func main() {
	for i := 0; i < 600000; i++ { // ~38 MiB of pointers to mark
		head = &node{next: head}
	}
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		sink = make([]byte, 8<<10)
	}
}
`,
	},
	{
		// GOGC=off with a memory limit: no GC until the heap nears the
		// limit; the live heap grows towards it.
		name: "gogcoff",
		env:  []string{"GODEBUG=gctrace=1", "GOGC=off", "GOMEMLIMIT=48MiB"},
		src: `package main

var live [][]byte
var sink []byte

func main() {
	for i := 0; i < 600000; i++ {
		sink = make([]byte, 4<<10)
		if i%150 == 0 && len(live) < 3000 {
			live = append(live, make([]byte, 8<<10))
		}
	}
}
`,
	},
	{
		// A leak: the live heap only grows.
		name: "leak",
		env:  []string{"GODEBUG=gctrace=1"},
		src: `package main

import "time"

var leaked [][]byte
var sink []byte

func main() {
	for i := 0; i < 12000; i++ { // ~94 MiB leaked
		leaked = append(leaked, make([]byte, 8<<10))
		for j := 0; j < 8; j++ {
			sink = make([]byte, 8<<10)
		}
		if i%1000 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}
`,
	},
	{
		// The program writes its own standard error too, sometimes
		// without a newline, between the runtime's lines.
		name: "mixed",
		env:  []string{"GODEBUG=gctrace=1"},
		src: `package main

import (
	"fmt"
	"log"
	"os"
)

var sink []byte

func main() {
	log.SetFlags(0)
	for i := 0; i < 60000; i++ {
		sink = make([]byte, 8<<10)
		if i%5000 == 0 {
			log.Printf("worker: processed %d items", i)
		}
		if i%20000 == 1 {
			fmt.Fprint(os.Stderr, "progress ")
		}
	}
	fmt.Fprintln(os.Stderr, "gc settings: GOGC default")
	fmt.Fprintln(os.Stderr, "scan: 3 files checked")
}
`,
	},
	{
		// gctrace=2 adds per-size-class scan statistics after each line.
		name: "gctrace2",
		env:  []string{"GODEBUG=gctrace=2"},
		src: `package main

type node struct {
	next *node
	buf  [48]byte
}

var head *node
var sink *node

func main() {
	for i := 0; i < 100000; i++ {
		head = &node{next: head}
	}
	for i := 0; i < 300000; i++ {
		sink = &node{}
	}
}
`,
	},
}

func main() {
	log.SetFlags(0)
	dir, err := os.MkdirTemp("", "gctrace-gen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, p := range programs {
		src := filepath.Join(dir, p.name+".go")
		bin := filepath.Join(dir, p.name)
		if err := os.WriteFile(src, []byte(p.src), 0o644); err != nil {
			log.Fatal(err)
		}
		build := exec.Command("go", "build", "-o", bin, src)
		build.Dir = dir
		build.Env = append(os.Environ(), "GO111MODULE=off")
		if out, err := build.CombinedOutput(); err != nil {
			log.Fatalf("build %s: %v\n%s", p.name, err, out)
		}
		var stderr bytes.Buffer
		run := exec.Command(bin)
		run.Env = append(os.Environ(), p.env...)
		run.Stderr = &stderr
		if err := run.Run(); err != nil {
			log.Fatalf("run %s: %v\n%s", p.name, err, stderr.Bytes())
		}
		out := p.name + ".txt"
		if err := os.WriteFile(out, stderr.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d lines (%s, %s)\n", out, bytes.Count(stderr.Bytes(), []byte("\n")), strings.Join(p.env, " "), runtime.Version())
	}
}
