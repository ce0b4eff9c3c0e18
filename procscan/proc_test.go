package procscan

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/govitals/vitals/cgroup"
)

// statusField reads one "Key:\tvalue" line of /proc/self/status.
func statusField(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/self/status has no %s", key)
	return ""
}

// TestParseStatSelf parses this process's real /proc/self/stat and checks
// the thread count against /proc/self/status.
func TestParseStatSelf(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	st, err := parseStat(b)
	if err != nil {
		t.Fatal(err)
	}
	threads, _ := strconv.Atoi(statusField(t, "Threads"))
	// Threads may start between the two reads; never fewer than 1.
	if st.threads < 1 || st.threads > threads+8 {
		t.Errorf("threads = %d, status says %d", st.threads, threads)
	}
	if st.rssPages == 0 || st.startTick == 0 {
		t.Errorf("stat = %+v: want rss and start time", st)
	}
	if comm := strings.TrimSpace(statusField(t, "Name")); st.comm != comm {
		t.Errorf("comm = %q, status Name %q", st.comm, comm)
	}
}

func TestParseStat(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 7 0 123456 1000 250 0 0"
	tests := []struct {
		name, in string
		want     stat
		err      bool
	}{
		{"plain", "42 (prometheus)" + tail, stat{comm: "prometheus", threads: 7, startTick: 123456, rssPages: 250}, false},
		{"parens and spaces in comm", "42 (a (b) c)" + tail, stat{comm: "a (b) c", threads: 7, startTick: 123456, rssPages: 250}, false},
		{"no comm", "42 prometheus" + tail, stat{}, true},
		{"short", "42 (x) S 1 2", stat{}, true},
		{"bad number", "42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x 0 1 2 3", stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("parseStat = %+v, %v; want %+v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestParseTCPReal listens on IPv4 and IPv6 loopback and finds both
// sockets, with their ports and inodes, in this process's real tables.
func TestParseTCPReal(t *testing.T) {
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l4.Close()
	want := map[int]string{l4.Addr().(*net.TCPAddr).Port: "127.0.0.1"}
	if l6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		defer l6.Close()
		want[l6.Addr().(*net.TCPAddr).Port] = "::1"
	} else {
		t.Logf("no IPv6 loopback: %v", err)
	}
	table := map[uint64]socket{}
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/self/net/" + f)
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		if bad := parseTCP(b, table); bad != 0 {
			t.Errorf("%s: %d malformed lines", f, bad)
		}
	}
	// The fd of l4 links to socket:[inode]; its inode must be in the table.
	fdInodes := map[uint64]bool{}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			if ino, ok := socketInode(link); ok {
				fdInodes[ino] = true
			}
		}
	}
	found := 0
	for ino, so := range table {
		if host, ok := want[so.port]; ok && so.addr.String() == host {
			found++
			if !fdInodes[ino] {
				t.Errorf("socket %v:%d inode %d is not among this process's descriptors", so.addr, so.port, ino)
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d listeners %v in /proc/self/net/tcp*", found, len(want), want)
	}
}

func TestParseTCPMalformed(t *testing.T) {
	in := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n" +
		"   1: zz:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1\n" +
		"   2: short\n" +
		"   3: 0100007F:0050 0100007F:D000 01 00000000:00000000 00:00000000 00000000     0        0 4244 1\n"
	table := map[uint64]socket{}
	if bad := parseTCP([]byte(in), table); bad != 2 {
		t.Errorf("malformed = %d, want 2", bad)
	}
	so, ok := table[4242]
	if len(table) != 1 || !ok || so.port != 8080 || so.addr.String() != "127.0.0.1" {
		t.Errorf("table = %v; want only 127.0.0.1:8080 (the established socket is not listening)", table)
	}
}

func TestParseEnviron(t *testing.T) {
	env, bad := parseEnviron([]byte("PATH=/bin\x00GOMEMLIMIT=1GiB\x00junk\x00GODEBUG=a=1,b=2\x00GOMEMLIMIT=2GiB\x00GOTRACEBACK=\x00"))
	want := map[string]string{"GOMEMLIMIT": "1GiB", "GODEBUG": "a=1,b=2", "GOTRACEBACK": ""}
	if bad != 1 || len(env) != len(want) {
		t.Fatalf("env = %v, malformed %d; want %v, 1", env, bad, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

func TestParseMemLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"off", math.MaxInt64, true},
		{"0", 0, true},
		{"512MiB", 512 << 20, true},
		{"1GiB", 1 << 30, true},
		{"100B", 100, true},
		{"2TiB", 2 << 40, true},
		{"1.5GiB", 0, false},
		{"-1", 0, false},
		{"1GB", 0, false},
		{"", 0, false},
		{"99999999999TiB", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseMemLimit(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseMemLimit(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestPredict holds the runtime rules per Go version: GOMAXPROCS follows the
// CPU quota only from Go 1.25 and only without containermaxprocs=0;
// GOMEMLIMIT is never taken from the container.
func TestPredict(t *testing.T) {
	limited := cgroup.Limits{
		CPU:    cgroup.CPU{Limited: true, Quota: 1.5, Affinity: 8},
		Memory: cgroup.Memory{Limited: true, Max: 512 << 20},
	}
	none := map[string]string{}
	mem := uint64(512 << 20)
	vitalsLimit := int64(0.9 * float64(mem))
	tests := []struct {
		name       string
		goVersion  string
		defGODEBUG string
		env        map[string]string
		vitals     bool
		procs      int
		procsSrc   string
		memlimit   int64
		traceback  string
	}{
		{"go1.19 ignores the quota", "go1.19.8", "", none, false, 8, "runtime", math.MaxInt64, "single"},
		{"go1.24 ignores the quota", "go1.24.5", "", none, false, 8, "runtime", math.MaxInt64, "single"},
		{"go1.25 fits the quota", "go1.25.0", "", none, false, 2, "runtime", math.MaxInt64, "single"},
		{"go1.26 with go.mod at 1.24", "go1.26.8", "containermaxprocs=0,updatemaxprocs=0", none, false, 8, "runtime", math.MaxInt64, "single"},
		{"env GODEBUG overrides the built-in default", "go1.26.8", "containermaxprocs=0", map[string]string{"GODEBUG": "containermaxprocs=1"}, false, 2, "runtime", math.MaxInt64, "single"},
		{"env GODEBUG disables", "go1.27.3", "", map[string]string{"GODEBUG": "x=1,containermaxprocs=0"}, false, 8, "runtime", math.MaxInt64, "single"},
		{"env wins", "go1.26.8", "", map[string]string{"GOMAXPROCS": "16", "GOMEMLIMIT": "400MiB", "GOTRACEBACK": "all"}, false, 16, "env", 400 << 20, "all"},
		{"invalid GOMAXPROCS is ignored", "go1.26.8", "", map[string]string{"GOMAXPROCS": "-3"}, false, 2, "runtime", math.MaxInt64, "single"},
		{"go1.18 has no GOMEMLIMIT", "go1.18.10", "", map[string]string{"GOMEMLIMIT": "400MiB"}, false, 8, "runtime", math.MaxInt64, "single"},
		{"vitals fits both", "go1.26.8", "", none, true, 2, "vitals", vitalsLimit, "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := predict(tt.goVersion, tt.defGODEBUG, tt.env, limited, tt.vitals)
			if s.GOMAXPROCS != tt.procs || s.GOMAXPROCSSource != tt.procsSrc || s.GOMEMLIMIT != tt.memlimit || s.GOTRACEBACK != tt.traceback {
				t.Errorf("predict = %+v; want GOMAXPROCS %d (%s), GOMEMLIMIT %d, GOTRACEBACK %s", s, tt.procs, tt.procsSrc, tt.memlimit, tt.traceback)
			}
		})
	}
	if s := predict("go1.26.8", "", nil, limited, false); s.GOMAXPROCS != 0 || s.GOMEMLIMIT != 0 || s.GOTRACEBACK != "" {
		t.Errorf("unreadable environment: %+v; want everything unknown", s)
	}
}

// TestScanCancelled stops at once with a done context and says so.
func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Scan(ctx, WithPIDs(1, 2, 3), WithoutProbe())
	if len(rep.Processes) != 0 || len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "stopped after 0 of 3") {
		t.Errorf("cancelled scan: %d processes, warnings %v", len(rep.Processes), rep.Warnings)
	}
}
