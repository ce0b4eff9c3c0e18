package leak

import (
	"runtime"
	"strings"
	"testing"
)

// conn is what a library would track: it must be closed.
type conn struct {
	closed func()
}

func openConn() *conn {
	c := &conn{}
	c.closed = TrackClose(c, "*leak.conn")
	return c
}

func (c *conn) Close() error { c.closed(); return nil }

func TestTrackCloseReportsUnclosed(t *testing.T) {
	var ct *captureT
	var kept *conn
	t.Run("user", func(t *testing.T) {
		ct = &captureT{T: t}
		Check(ct)
		a := openConn()
		a.Close()
		a.Close()                   // twice is fine
		func() { _ = openConn() }() // dropped without Close: collected
		kept = openConn()           // still reachable, never closed
	})
	got := ct.text()
	for _, w := range []string{
		"leak: 2 tracked objects never closed",
		"*leak.conn, garbage collected without Close",
		"*leak.conn, still open",
		"leak.openConn\n", // the creating stack
		"TestTrackCloseReportsUnclosed.func1",
		"(TestTrackCloseReportsUnclosed/user)",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q:\n%s", w, got)
		}
	}
	runtime.KeepAlive(kept)
	// Each object is reported once.
	ct2 := &captureT{T: t}
	VerifyClosed(ct2)
	if got := ct2.text(); got != "" {
		t.Errorf("reported twice:\n%s", got)
	}
}

func TestTrackCloseOff(t *testing.T) {
	undo := SetCloseTracking(false)
	c := openConn()
	undo()
	ct := &captureT{T: t}
	VerifyClosed(ct)
	if got := ct.text(); got != "" {
		t.Errorf("tracked while off:\n%s", got)
	}
	c.Close()
	if TrackClose[conn](nil, "nil") == nil {
		t.Error("nil object: want a no-op func, got nil")
	}
}

func TestCloseScopedToTest(t *testing.T) {
	// An object opened meanwhile on another test's goroutine (a t.Parallel
	// neighbour) is that test's business, not this one's.
	var other *conn
	var ct *captureT
	t.Run("mine", func(t *testing.T) {
		ct = &captureT{T: t}
		Check(ct)
		done := make(chan struct{})
		go func() {
			defer close(done)
			observe(curID(), "TestSomeoneElse")
			other = openConn()
		}()
		<-done
	})
	if got := ct.text(); got != "" {
		t.Errorf("blamed for another test's object:\n%s", got)
	}
	other.Close()
}
