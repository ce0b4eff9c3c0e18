package leak_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/govitals/vitals/leak"
)

func ExampleFind() {
	stop := make(chan struct{})
	go func() { <-stop }() // forgotten worker

	err := leak.Find(leak.Settle(20 * time.Millisecond))
	var e *leak.Error
	if errors.As(err, &e) {
		fmt.Println("leaked goroutines:", e.Goroutines)
	}

	close(stop)
	fmt.Println("after stopping it:", leak.Find())
	// Output:
	// leaked goroutines: 1
	// after stopping it: <nil>
}

// Conn is a resource a library wants closed.
type Conn struct{ closed func() }

func Dial() *Conn {
	c := &Conn{}
	c.closed = leak.TrackClose(c, "*Conn")
	return c
}

func (c *Conn) Close() error { c.closed(); return nil }

func ExampleTrackClose() {
	c := Dial()
	defer c.Close()
	// In a test, leak.Check(t) or leak.VerifyClosed(t) reports every
	// *Conn that was not closed, with the stack of its Dial.
}

func ExampleNewWatchdog() {
	w, err := leak.NewWatchdog(
		leak.OnReport(func(r leak.Report) { fmt.Println(r) }),
	)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx); err != nil {
		panic(err)
	}
	defer w.Close()
	st := w.State()
	fmt.Println("suspected:", st.Suspected)
	// Output:
	// suspected: false
}
