package a

import (
	"context"
	"errors"
	"io"
	"log"
	"runtime/trace"
	"time"
)

func deferred(w io.Writer) error {
	if err := trace.Start(w); err != nil {
		return err
	}
	defer trace.Stop() // the seed's pattern: not reported
	work()
	return nil
}

func somePaths(w io.Writer, fail bool) error {
	if err := trace.Start(w); err != nil { // want `trace.Start is not followed by trace.Stop on every path`
		return err
	}
	if fail {
		return errors.New("early return skips Stop")
	}
	trace.Stop()
	return nil
}

func everyPath(w io.Writer, fail bool) error {
	err := trace.Start(w) // the error path needs no Stop; every other path stops: not reported
	if err != nil {
		return err
	}
	if fail {
		trace.Stop()
		return errors.New("stopped first")
	}
	work()
	trace.Stop()
	return nil
}

func selectStop(ctx context.Context, w io.Writer) error {
	if err := trace.Start(w); err != nil { // every case of the select reaches Stop: not reported
		return err
	}
	t := time.NewTimer(time.Second)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	trace.Stop()
	return nil
}

func fatal(w io.Writer, fail bool) {
	trace.Start(w) // the path that skips Stop ends the process: not reported
	if fail {
		log.Fatal("no way back")
	}
	trace.Stop()
}

func afterFunc(w io.Writer) {
	trace.Start(w) // stopped by a timer: not reported
	time.AfterFunc(10*time.Second, trace.Stop)
}

func goroutine(ctx context.Context, w io.Writer) {
	trace.Start(w) // stopped in a goroutine: not reported
	go func() {
		<-ctx.Done()
		trace.Stop()
	}()
}

func suppressed(w io.Writer) {
	trace.Start(w) //vitals:ignore tracebound stopped by the SIGUSR2 handler in signals.go of the caller
}

func work() {}
