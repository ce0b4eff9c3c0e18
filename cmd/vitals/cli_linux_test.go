package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestStdinTerminalNotice gives the binary a real pseudo-terminal as stdin:
// stacks and gctrace say they are reading it instead of waiting in silence,
// and finish at end of input (Ctrl-D).
func TestStdinTerminalNotice(t *testing.T) {
	for _, args := range [][]string{{"stacks"}, {"stacks", "-"}, {"gctrace"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			master, slave := openPTY(t)
			defer master.Close()
			cmd := exec.Command(vitalsBin(t), args...)
			var errb safeBuffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &safeBuffer{}, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			slave.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(errb.String(), "from standard input (a terminal)") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(errb.String(), "end with Ctrl-D") {
				t.Errorf("no notice on stderr: %q", errb.String())
			}
			master.Write([]byte{4}) // Ctrl-D: end of input
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatal("did not finish at end of input")
			}
		})
	}
	// Not a terminal: no notice.
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, e := runBin(t, f, nil, "gctrace"); strings.Contains(e, "a terminal") {
		t.Errorf("notice on a non-terminal stdin: %q", e)
	}
}

// openPTY opens a pseudo-terminal pair with /dev/ptmx.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	return m, s
}

// TestDoctorHostileRoot runs the binary's local audit on a tree with a FIFO
// for a limit file and an escape sequence in a cgroup path: it finishes
// and prints no raw control character.
func TestDoctorHostileRoot(t *testing.T) {
	root := t.TempDir()
	cg := "/pod\x1b]0;pwned\x07"
	files := map[string]string{
		"proc/self/cgroup":                 "0::" + cg + "\n",
		"proc/self/mountinfo":              "1120 1103 0:1120 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		"sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
	}
	for p, s := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "sys/fs/cgroup", cg)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "memory.max"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	var code int
	var out, errOut string
	go func() {
		defer close(done)
		code, out, errOut = runBin(t, nil, nil, "doctor", "--color", "never", "--root", root)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("vitals doctor --root hangs on a FIFO")
	}
	if strings.ContainsAny(out+errOut, "\x1b\x07") {
		t.Errorf("raw control characters in the output:\n%q", out+errOut)
	}
	if code == exitUsage || !strings.Contains(out, "not a regular file") {
		t.Errorf("exit %d; output does not say the FIFO was refused:\n%s%s", code, out, errOut)
	}
}
