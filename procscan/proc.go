package procscan

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// stat is what vitals ps reads from /proc/PID/stat.
type stat struct {
	comm      string
	threads   int
	startTick uint64 // clock ticks after boot
	rssPages  uint64
}

// parseStat parses /proc/PID/stat: "pid (comm) state ppid ...". The command
// name may hold spaces and parentheses, so the fields start after the last
// ')'. Fields (1-based, proc(5)): 20 num_threads, 22 starttime, 24 rss.
func parseStat(b []byte) (stat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return stat{}, errors.New("procscan: stat: no (comm)")
	}
	s := stat{comm: string(b[open+1 : end])}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 24-2 {
		return stat{}, fmt.Errorf("procscan: stat: %d fields after comm, want at least 22", len(f))
	}
	var err error
	if s.threads, err = strconv.Atoi(f[20-3]); err != nil {
		return stat{}, fmt.Errorf("procscan: stat: num_threads: %w", err)
	}
	if s.startTick, err = strconv.ParseUint(f[22-3], 10, 64); err != nil {
		return stat{}, fmt.Errorf("procscan: stat: starttime: %w", err)
	}
	if s.rssPages, err = strconv.ParseUint(f[24-3], 10, 64); err != nil {
		return stat{}, fmt.Errorf("procscan: stat: rss: %w", err)
	}
	return s, nil
}

// parseUptime parses /proc/uptime's first field, seconds since boot.
func parseUptime(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("procscan: uptime: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("procscan: uptime: %q", f[0])
	}
	return v, nil
}

// envVars are the variables vitals ps reports.
var envVars = []string{"GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "GODEBUG", "GOGC"}

// parseEnviron picks envVars out of /proc/PID/environ (NUL-separated
// KEY=VALUE). When a variable is assigned twice the first wins, as in the
// runtime's own lookup. Entries without '=' are counted as malformed.
func parseEnviron(b []byte) (env map[string]string, malformed int) {
	env = map[string]string{}
	for kv := range bytes.SplitSeq(b, []byte{0}) {
		if len(kv) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			malformed++
			continue
		}
		for _, want := range envVars {
			if string(k) == want {
				if _, seen := env[want]; !seen {
					env[want] = string(v)
				}
			}
		}
	}
	return env, malformed
}

// socket is one LISTEN entry of /proc/net/tcp or tcp6.
type socket struct {
	addr  net.IP
	port  int
	inode uint64
}

// tcpListen is the TCP state LISTEN in /proc/net/tcp.
const tcpListen = "0A"

// parseTCP parses /proc/PID/net/tcp or tcp6 and returns the listening
// sockets by inode. Lines that do not parse are counted, not dropped
// silently.
func parseTCP(b []byte, into map[uint64]socket) (malformed int) {
	first := true
	for line := range bytes.Lines(b) {
		if first { // header: "  sl  local_address rem_address   st ..."
			first = false
			continue
		}
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			malformed++
			continue
		}
		if f[3] != tcpListen {
			continue
		}
		ip, port, err := parseHexAddr(f[1])
		if err != nil {
			malformed++
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			malformed++
			continue
		}
		if inode == 0 {
			continue // a socket being torn down
		}
		into[inode] = socket{addr: ip, port: port, inode: inode}
	}
	return malformed
}

// parseHexAddr decodes "0100007F:1F90" (IPv4) or the 32-hex-digit IPv6
// form: the address is stored as host-order 32-bit words, so each group of
// four bytes is reversed on little-endian machines, which is every Linux
// machine Go supports with /proc in practice except big-endian ones (s390x,
// ppc64): on those the words are already in network order.
func parseHexAddr(s string) (net.IP, int, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf("procscan: address %q: no port", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, fmt.Errorf("procscan: address %q: port: %w", s, err)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, fmt.Errorf("procscan: address %q: bad host", s)
	}
	if littleEndian {
		for i := 0; i < len(raw); i += 4 {
			raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
		}
	}
	return net.IP(raw), int(port), nil
}

// socketInode parses a /proc/PID/fd link target "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
