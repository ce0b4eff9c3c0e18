package cgroup

import "testing"

func TestParseMemoryValue(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		limited bool
		err     bool
	}{
		{in: "max\n"},
		{in: "9223372036854771712\n"}, // v1 sentinel, 4 KiB pages
		{in: "9223372036854710272\n"}, // v1 sentinel, 64 KiB pages
		{in: "9223372036854775807\n"}, // LONG_MAX itself
		{in: "4611686018427387903\n", want: 1<<62 - 1, limited: true},
		{in: "314572800\n", want: 300 << 20, limited: true},
		{in: "314572800", want: 300 << 20, limited: true},
		{in: "0\n", err: true},
		{in: "-1\n", err: true},
		{in: "", err: true},
		{in: "12 34\n", err: true},
	}
	for _, tt := range tests {
		v, lim, err := parseMemoryValue([]byte(tt.in))
		if v != tt.want || lim != tt.limited || (err != nil) != tt.err {
			t.Errorf("parseMemoryValue(%q) = %d, %v, %v; want %d, %v, error %v", tt.in, v, lim, err, tt.want, tt.limited, tt.err)
		}
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in            string
		quota, period int64
		limited, err  bool
	}{
		{in: "max 100000\n", period: 100000},
		{in: "150000 100000\n", quota: 150000, period: 100000, limited: true},
		{in: "50000\n", quota: 50000, period: 100000, limited: true}, // period defaults
		{in: "max\n", period: 100000},
		{in: "0 100000\n", err: true},
		{in: "100 0\n", err: true},
		{in: "1 2 3\n", err: true},
		{in: "\n", err: true},
	}
	for _, tt := range tests {
		q, p, lim, err := parseCPUMax([]byte(tt.in))
		if q != tt.quota || p != tt.period || lim != tt.limited || (err != nil) != tt.err {
			t.Errorf("parseCPUMax(%q) = %d, %d, %v, %v", tt.in, q, p, lim, err)
		}
	}
}

func TestParseMountInfoLine(t *testing.T) {
	tests := []struct {
		in   string
		want mountInfo
		err  bool
	}{
		{
			in:   `41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`,
			want: mountInfo{root: "/", mountPoint: "/sys/fs/cgroup/unified", fsType: "cgroup2", superOpts: "rw"},
		},
		{
			in:   `1 2 0:3 /a\040b /c\134d\011e rw shared:1 master:2 propagate_from:3 unbindable - cgroup cgroup rw,cpu,cpuacct`,
			want: mountInfo{root: "/a b", mountPoint: "/c\\d\te", fsType: "cgroup", superOpts: "rw,cpu,cpuacct"},
		},
		{in: `1 2 0:3 / /x rw cgroup cgroup rw`, err: true},  // no separator
		{in: `1 2 0:3 / /x\04 rw - cgroup c rw`, err: true},  // truncated escape
		{in: `1 2 0:3 / /x\089 rw - cgroup c rw`, err: true}, // not octal
		{in: `1 2 0:3 / /x\777 rw - cgroup c rw`, err: true}, // above 0xff
		{in: `1 2 0:3 x /x rw - cgroup c rw`, err: true},     // relative root
		{in: `1 2 / /x rw - cgroup c rw`, err: true},         // too few fields
	}
	for _, tt := range tests {
		got, err := parseMountInfoLine(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("parseMountInfoLine(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]int{"0-1\n": 2, "0-3,8,10-11": 7, "5": 1, "3-1": -1, "": -1, "a": -1, "0-": -1} {
		got, err := parseCPUList([]byte(in))
		if err != nil {
			got = -1
		}
		if got != want {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestRelativeTo(t *testing.T) {
	tests := []struct {
		p, root, want string
		ok            bool
	}{
		{"/docker/abc", "/", "/docker/abc", true},
		{"/docker/abc", "/docker/abc", "/", true},
		{"/docker/abc/x", "/docker/abc", "/x", true},
		{"/docker/abcd", "/docker/abc", "", false}, // path boundary
		{"/../../init", "/../..", "/init", true},
		{"/../../init", "/", "/../../init", true}, // caller rejects the /.. prefix
	}
	for _, tt := range tests {
		got, ok := relativeTo(tt.p, tt.root)
		if got != tt.want || ok != tt.ok {
			t.Errorf("relativeTo(%q, %q) = %q, %v; want %q, %v", tt.p, tt.root, got, ok, tt.want, tt.ok)
		}
	}
}
