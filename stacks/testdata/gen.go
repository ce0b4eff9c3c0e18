//go:build ignore

// gen.go regenerates the goroutine dumps in this directory by building and
// running small real Go programs (written to a temporary directory) with
// the Go toolchain on PATH:
//
//	cd stacks/testdata && go run gen.go            # the classic set and the matrix
//	cd stacks/testdata && go run gen.go -matrix    # only the matrix
//
// Every file it writes is named *.txt or *.pb.gz and is listed in
// README.md with how it was made. The hand-written fixtures (hand_*.txt)
// are not touched.
//
// The matrix (matrix/*) runs one labelled program under every supported
// toolchain (the machine's go, and GOTOOLCHAIN=go1.27.3) in a module
// declaring go 1.26 and one declaring go 1.27 (not under Go 1.26, which
// refuses such a module), with pprof labels on and off, under
// GOTRACEBACK levels and GODEBUG=tracebackancestors. Each text file
// starts with a "# gen.go: …" line naming the toolchain, the go.mod
// version and the environment; the file name says it too.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const prog = `package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"context"
	"sync"
	"time"
)

type Job struct{ ID int }

type Server struct{ name string }

//go:noinline
func (s *Server) loop(tick <-chan time.Time, quit chan struct{}) {
	for {
		select {
		case <-tick:
		case <-quit:
			return
		}
	}
}

//go:noinline
func worker(id int, jobs <-chan *Job) {
	for j := range jobs {
		_ = j
	}
}

func recv(ch chan int) int { return <-ch } // inlined into its caller

//go:noinline
func waiter(ch chan int) { fmt.Sprint(recv(ch)) }

//go:noinline
func Wait[T any](v T, ch chan T) { <-ch }

type Box[T any] struct{ v T }

//go:noinline
func (b *Box[T]) Hold(mu *sync.Mutex) { mu.Lock() }

//go:noinline
func recurse(n int, ch chan int) int {
	if n == 0 {
		return <-ch
	}
	return recurse(n-1, ch) + 1
}

var ready sync.WaitGroup

func setup() {
	jobs := make(chan *Job)
	for i := 0; i < 5; i++ {
		ready.Add(1)
		go func() { ready.Done(); worker(i, jobs) }()
	}
	quit := make(chan struct{})
	for i := 0; i < 3; i++ {
		s := &Server{name: fmt.Sprint("s", i)}
		go s.loop(nil, quit)
	}
	var mu sync.Mutex
	mu.Lock()
	for i := 0; i < 2; i++ {
		b := &Box[string]{}
		go b.Hold(&mu)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	for i := 0; i < 2; i++ {
		go func() { wg.Wait() }()
	}
	go Wait(42, make(chan int))
	go Wait("x", make(chan string))
	go waiter(make(chan int))
	go func() {
		runtime.LockOSThread()
		select {}
	}()
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		go ln.Accept()
	}
	go time.Sleep(time.Hour)
	time.Sleep(200 * time.Millisecond)
}

func stack() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func labelled() {
	for i, role := range []string{"api", "api", "batch"} {
		ctx := pprof.WithLabels(context.Background(), pprof.Labels("role", role, "tricky", "a], b, \"c\"]:"))
		pprof.SetGoroutineLabels(ctx)
		go Wait(i, make(chan int))
	}
	pprof.SetGoroutineLabels(context.Background())
	time.Sleep(100 * time.Millisecond)
}

func spawnChain(depth int, done chan struct{}) {
	if depth == 0 {
		<-done
		return
	}
	go spawnChain(depth-1, done)
	<-done
}

func main() {
	mode := os.Args[1]
	switch mode {
	case "stack":
		setup()
		os.Stdout.Write(stack())
	case "debug2", "debug1", "debug0":
		setup()
		pprof.Lookup("goroutine").WriteTo(os.Stdout, int(mode[5]-'0'))
	case "labels2", "labels1", "labels0":
		labelled()
		pprof.Lookup("goroutine").WriteTo(os.Stdout, int(mode[6]-'0'))
	case "panic":
		setup()
		var m map[string]int
		m["boom"]++
	case "sigquit":
		setup()
		fmt.Println("ready")
		select {}
	case "deep":
		ch := make(chan int)
		go recurse(300, ch)
		time.Sleep(100 * time.Millisecond)
		os.Stdout.Write(stack())
	case "logpanic":
		log.SetFlags(log.LstdFlags | log.Lshortfile)
		log.Printf("starting service on %s", "127.0.0.1:8080")
		log.Printf("goroutine 7 is not a header: [ok]")
		setup()
		log.Printf("about to fail")
		panic(fmt.Errorf("wrapped: %w", os.ErrNotExist))
	case "ancestors":
		done := make(chan struct{})
		go spawnChain(3, done)
		time.Sleep(100 * time.Millisecond)
		panic("ancestors")
	case "leak":
		for i := 0; i < 3; i++ {
			go func() { ch := make(chan int); <-ch }()
		}
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		runtime.GC()
		if p := pprof.Lookup("goroutineleak"); p != nil {
			p.WriteTo(os.Stdout, 2)
		} else {
			fmt.Fprintln(os.Stderr, "no goroutineleak profile")
			os.Exit(3)
		}
	}
}
`

const cgoProg = `package main

/*
#include <unistd.h>
static void block(void) { sleep(100); }
static void crash(void) { volatile int *p = 0; *p = 1; }
*/
import "C"

import (
	"os"
	"time"
)

func main() {
	go C.block()
	time.Sleep(200 * time.Millisecond)
	if len(os.Args) > 1 {
		C.crash()
	}
	panic("cgo")
}
`

const synctestProg = `package main

import (
	"os"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

func TestDump(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan int)
		go func() { <-ch }()
		go func() { select { case <-ch: } }()
		go func() { time.Sleep(time.Hour) }()
		synctest.Wait()
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		os.WriteFile(os.Getenv("DUMP_OUT"), buf[:n], 0o644)
		close(ch)
		time.Sleep(2 * time.Hour)
	})
}
`

var dir string

func main() {
	log.SetFlags(0)
	matrixOnly := flag.Bool("matrix", false, "regenerate only matrix/")
	flag.Parse()
	out, err := os.Getwd()
	check(err)
	dir, err = os.MkdirTemp("", "stacksgen")
	check(err)
	defer os.RemoveAll(dir)
	// No core files from GOTRACEBACK=crash.
	check(syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}))
	genMatrix(filepath.Join(out, "matrix"))
	if *matrixOnly {
		return
	}

	write("go.mod", "module gen\n\ngo 1.26\n")
	write("prog/main.go", prog)
	bin := build("prog", "")
	run := func(name string, env []string, args ...string) []byte {
		b, _ := runProg(bin, env, args...)
		save(out, name, b)
		return b
	}
	run("stack_all.txt", nil, "stack")
	run("pprof_debug2.txt", nil, "debug2")
	run("pprof_debug1.txt", nil, "debug1")
	run("pprof_debug0.pb.gz", nil, "debug0")
	run("labels_debug2.txt", []string{"GODEBUG=tracebacklabels=1"}, "labels2")
	run("labels_debug1.txt", nil, "labels1")
	run("labels_debug0.pb.gz", nil, "labels0")
	run("panic_all.txt", []string{"GOTRACEBACK=all"}, "panic")
	run("panic_system.txt", []string{"GOTRACEBACK=system"}, "panic")
	run("panic_crash.txt", []string{"GOTRACEBACK=crash"}, "panic")
	run("panic_single.txt", nil, "panic")
	run("deep_recursion.txt", nil, "deep")
	b := run("log_panic.txt", []string{"GOTRACEBACK=all"}, "logpanic")
	save(out, "log_panic.txt", append(b, "\nexit status 2\nservice restarted by supervisor at 12:00:01\n"...))
	run("ancestors.txt", []string{"GOTRACEBACK=all", "GODEBUG=tracebackancestors=5"}, "ancestors")
	sigquit(bin, out, "sigquit_all.txt", "GOTRACEBACK=all")
	sigquit(bin, out, "sigquit_crash.txt", "GOTRACEBACK=crash")

	// The runtime's goroutine leak profile needs an experiment.
	write("leak/main.go", prog)
	if lb := buildErr("leak", "GOEXPERIMENT=goroutineleakprofile"); lb != "" {
		b, _ := runProg(lb, nil, "leak")
		if bytes.Contains(b, []byte("goroutine ")) {
			save(out, "leaked_debug2.txt", b)
		}
	}

	// A dump cut mid-frame, as the 64 MiB limit of debug=2 cuts it.
	full, err := os.ReadFile(filepath.Join(out, "pprof_debug2.txt"))
	check(err)
	if i := bytes.Index(full, []byte("main.worker(")); i > 0 {
		cut := full[:i+len("main.worker(")+5]
		save(out, "truncated.txt", cut)
	}

	if _, err := exec.LookPath("gcc"); err == nil {
		write("cgo/main.go", cgoProg)
		cb := build("cgo", "CGO_ENABLED=1")
		b, _ := runProg(cb, []string{"GOTRACEBACK=all"})
		save(out, "cgo_panic.txt", b)
		b, _ = runProg(cb, []string{"GOTRACEBACK=crash"}, "crash")
		save(out, "cgo_crash.txt", b)
	} else {
		log.Print("gcc not found: cgo dumps not regenerated")
	}

	write("st/st_test.go", synctestProg)
	dump := filepath.Join(dir, "synctest.txt")
	cmd := exec.Command("go", "test", "-count=1", "-timeout=60s", "-run", "TestDump", "./st")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DUMP_OUT="+dump)
	if b, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("synctest: %v\n%s", err, b)
	}
	b, err = os.ReadFile(dump)
	check(err)
	save(out, "synctest.txt", b)
}

func write(name, text string) {
	p := filepath.Join(dir, name)
	check(os.MkdirAll(filepath.Dir(p), 0o755))
	check(os.WriteFile(p, []byte(text), 0o644))
}

// labelProg runs goroutines under pprof labels of every shape the runtime
// prints: bare and quoted keys and values, spaces, commas, colons,
// braces, quotes, non-ASCII, control characters, invalid UTF-8, empty.
const labelProg = `package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

//go:noinline
func Wait(ch chan int) { <-ch }

//go:noinline
func Locked(ch chan int) { runtime.LockOSThread(); <-ch }

func spawnChain(depth int, done chan int) {
	if depth == 0 {
		<-done
		return
	}
	go spawnChain(depth-1, done)
	<-done
}

var sets = [][]string{
	{"job", "sync", "tenant", "acme"},
	{"path", "/v1/users.list_all"},
	{"key with space", "value with space"},
	{"comma,key", "a, b", "colon:key", "x: y"},
	{"braces", "{}[]", "quote", "say \"hi\"", "back", "a\\b"},
	{"unicode", "café 日本 🚀", "\u202e", "rtl"},
	{"ctl", "\x1b[31mred\x07\x00\t\n", "invalid", "\xff\xfe"},
	{"empty", "", "", "emptykey"},
	{"fffd", "\ufffd", "del", "\x7f"},
}

func main() {
	mode := os.Args[1]
	done := make(chan int)
	for _, kv := range sets {
		pprof.Do(context.Background(), pprof.Labels(kv...), func(context.Context) { go Wait(done) })
	}
	go Wait(done) // no labels
	pprof.Do(context.Background(), pprof.Labels("job", "locked"), func(context.Context) { go Locked(done) })
	time.Sleep(100 * time.Millisecond)
	switch mode {
	case "stack":
		buf := make([]byte, 1<<20)
		os.Stdout.Write(buf[:runtime.Stack(buf, true)])
	case "debug1", "debug0":
		pprof.Lookup("goroutine").WriteTo(os.Stdout, int(mode[5]-'0'))
	case "panic":
		pprof.Do(context.Background(), pprof.Labels("req", "crash 1"), func(context.Context) {
			var m map[string]int
			m["boom"]++
		})
	case "repanic":
		func() {
			defer func() { panic(fmt.Sprint("again: ", recover())) }()
			panic("first")
		}()
	case "repanic_same":
		func() {
			defer func() { panic(recover()) }()
			panic("first")
		}()
	case "ancestors":
		pprof.Do(context.Background(), pprof.Labels("job", "chain"), func(context.Context) { go spawnChain(3, done) })
		time.Sleep(100 * time.Millisecond)
		panic("ancestors")
	case "leak":
		pprof.Do(context.Background(), pprof.Labels("job", "leaky"), func(context.Context) {
			for i := 0; i < 2; i++ {
				go func() { ch := make(chan int); <-ch }()
			}
		})
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		runtime.GC()
		p := pprof.Lookup("goroutineleak")
		if p == nil {
			fmt.Fprintln(os.Stderr, "no goroutineleak profile")
			os.Exit(3)
		}
		p.WriteTo(os.Stdout, 2)
	}
}
`

const labelSynctest = `package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"testing/synctest"
	"time"
)

func TestDump(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan int)
		pprof.Do(context.Background(), pprof.Labels("job", "bubbled", "k v", "x,y"), func(context.Context) {
			go func() { <-ch }()
			go func() { time.Sleep(time.Hour) }()
		})
		synctest.Wait()
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		os.WriteFile(os.Getenv("DUMP_OUT"), buf[:n], 0o644)
		close(ch)
		time.Sleep(2 * time.Hour)
	})
}
`

// genMatrix writes matrix/<toolchain>_mod<version>_<variant>.{txt,pb.gz}.
func genMatrix(out string) {
	check(os.MkdirAll(out, 0o755))
	old, _ := filepath.Glob(filepath.Join(out, "*"))
	for _, f := range old {
		os.Remove(f)
	}
	type combo struct{ toolchain, mod string }
	local := strings.TrimSpace(goOutput("local", "env", "GOVERSION"))
	combos := []combo{{local, "1.26"}, {"go1.27.3", "1.26"}, {"go1.27.3", "1.27"}}
	type variant struct {
		name, mode string
		env        []string
	}
	variants := []variant{
		{"stack", "stack", nil},
		{"stack_labels1", "stack", []string{"GODEBUG=tracebacklabels=1"}},
		{"stack_labels0", "stack", []string{"GODEBUG=tracebacklabels=0"}},
		{"debug1", "debug1", nil},
		{"debug0", "debug0", nil},
		{"panic_single", "panic", []string{"GODEBUG=tracebacklabels=1"}},
		{"panic_all", "panic", []string{"GODEBUG=tracebacklabels=1", "GOTRACEBACK=all"}},
		{"panic_system", "panic", []string{"GODEBUG=tracebacklabels=1", "GOTRACEBACK=system"}},
		{"panic_crash", "panic", []string{"GODEBUG=tracebacklabels=1", "GOTRACEBACK=crash"}},
		{"repanic", "repanic", []string{"GODEBUG=tracebacklabels=1", "GOTRACEBACK=all"}},
		{"repanic_same", "repanic_same", []string{"GODEBUG=tracebacklabels=1", "GOTRACEBACK=all"}},
		{"ancestors", "ancestors", []string{"GODEBUG=tracebacklabels=1,tracebackancestors=5", "GOTRACEBACK=all"}},
		{"leaked", "leak", []string{"GODEBUG=tracebacklabels=1"}},
	}
	for _, c := range combos {
		mdir := filepath.Join(dir, "m"+c.toolchain+"_"+c.mod)
		writeAt(mdir, "go.mod", "module gen\n\ngo "+c.mod+"\n")
		writeAt(mdir, "prog/main.go", labelProg)
		writeAt(mdir, "st/st_test.go", labelSynctest)
		bin := filepath.Join(mdir, "prog.bin")
		buildEnv := []string{"GOTOOLCHAIN=" + tc(c.toolchain, local)}
		if strings.HasPrefix(c.toolchain, "go1.26") {
			buildEnv = append(buildEnv, "GOEXPERIMENT=goroutineleakprofile")
		}
		goRun(mdir, buildEnv, "build", "-o", bin, "./prog")
		base := c.toolchain + "_mod" + c.mod + "_"
		head := func(v variant) string {
			return fmt.Sprintf("# gen.go: %s, go.mod go %s, %s\n", c.toolchain, c.mod, strings.Join(append([]string{"mode=" + v.mode}, v.env...), " "))
		}
		for _, v := range variants {
			b, _ := runProg(bin, v.env, v.mode)
			if v.mode == "debug0" {
				save(out, base+v.name+".pb.gz", b)
				continue
			}
			save(out, base+v.name+".txt", append([]byte(head(v)), b...))
		}
		dump := filepath.Join(mdir, "synctest.txt")
		env := append(buildEnv, "DUMP_OUT="+dump, "GODEBUG=tracebacklabels=1")
		goRun(mdir, env, "test", "-count=1", "-timeout=60s", "-run", "TestDump", "./st")
		b, err := os.ReadFile(dump)
		check(err)
		save(out, base+"synctest.txt", append([]byte(head(variant{mode: "synctest", env: []string{"GODEBUG=tracebacklabels=1"}})), b...))
	}
}

// tc is the GOTOOLCHAIN value that selects toolchain.
func tc(toolchain, local string) string {
	if toolchain == local {
		return "local"
	}
	return toolchain
}

func goOutput(toolchain string, args ...string) string {
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+toolchain)
	b, err := cmd.Output()
	check(err)
	return string(b)
}

func goRun(wd string, env []string, args ...string) {
	cmd := exec.Command("go", args...)
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

func writeAt(d, name, text string) {
	p := filepath.Join(d, name)
	check(os.MkdirAll(filepath.Dir(p), 0o755))
	check(os.WriteFile(p, []byte(text), 0o644))
}

func build(pkg, env string) string {
	b := buildErr(pkg, env)
	if b == "" {
		log.Fatalf("build %s failed", pkg)
	}
	return b
}

func buildErr(pkg, env string) string {
	bin := filepath.Join(dir, pkg+".bin")
	cmd := exec.Command("go", "build", "-o", bin, "./"+pkg)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		log.Printf("build %s: %v\n%s", pkg, err, b)
		return ""
	}
	return bin
}

// runProg runs bin and returns its stdout followed by its stderr.
func runProg(bin string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return append(o.Bytes(), e.Bytes()...), err
}

func sigquit(bin, out, name, env string) {
	cmd := exec.Command(bin, "sigquit")
	cmd.Env = append(os.Environ(), env)
	var e bytes.Buffer
	stdout, err := cmd.StdoutPipe()
	check(err)
	cmd.Stderr = &e
	check(cmd.Start())
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || !strings.HasPrefix(string(buf), "ready") {
		log.Fatalf("sigquit: program not ready: %v", err)
	}
	check(cmd.Process.Signal(syscall.SIGQUIT))
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	save(out, name, e.Bytes())
}

func save(out, name string, b []byte) {
	check(os.WriteFile(filepath.Join(out, name), b, 0o644))
	fmt.Printf("%-22s %7d bytes\n", name, len(b))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
