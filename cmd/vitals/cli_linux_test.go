package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
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
