package procscan

import (
	"os"
	"testing"

	"github.com/govitals/vitals/cgroup"
)

type cgroupLimits = cgroup.Limits

func seed(f *testing.F, files ...string) {
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	seed(f, "/proc/self/stat", "testdata/stat")
	f.Add([]byte("1 (a) S"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseStat(b) })
}

func FuzzParseTCP(f *testing.F) {
	seed(f, "/proc/self/net/tcp", "/proc/self/net/tcp6", "testdata/tcp", "testdata/tcp6")
	f.Fuzz(func(t *testing.T, b []byte) {
		m := map[uint64]socket{}
		_ = parseTCP(b, m)
		for ino, s := range m {
			if ino == 0 || s.port < 0 || s.port > 65535 || (len(s.addr) != 4 && len(s.addr) != 16) {
				t.Fatalf("bad socket %d %+v", ino, s)
			}
		}
	})
}

func FuzzParseEnviron(f *testing.F) {
	seed(f, "/proc/self/environ", "testdata/environ")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseEnviron(b) })
}

func FuzzParseMemLimit(f *testing.F) {
	for _, s := range []string{"off", "512MiB", "1B", "9223372036854775807", "18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := parseMemLimit(s); ok && n < 0 {
			t.Fatalf("parseMemLimit(%q) = %d", s, n)
		}
	})
}

func FuzzPredict(f *testing.F) {
	f.Add("go1.19.8", "containermaxprocs=0", "GOMAXPROCS=4\x00GOMEMLIMIT=1GiB")
	f.Fuzz(func(t *testing.T, v, def, environ string) {
		env, _ := parseEnviron([]byte(environ))
		_ = predict(v, def, env, cgroupLimitsForFuzz, true)
		_ = predict(v, def, env, cgroupLimitsForFuzz, false)
	})
}

var cgroupLimitsForFuzz = func() (l cgroupLimits) {
	l.CPU.Limited, l.CPU.Quota, l.CPU.Affinity = true, 0.3, 2
	l.Memory.Limited, l.Memory.Max = true, 1<<30
	return l
}()
