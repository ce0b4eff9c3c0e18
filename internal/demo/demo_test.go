package demo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/demo"
	"github.com/govitals/vitals/leak"
)

// TestNotCaught: a demo that ends before its leak starts says so, and stops
// everything it started (leak.Check).
func TestNotCaught(t *testing.T) {
	leak.Check(t)
	var out strings.Builder
	err := demo.Run(context.Background(), &out, demo.Config{Duration: 1500 * time.Millisecond, LeakAfter: time.Minute})
	if !errors.Is(err, demo.ErrNotCaught) {
		t.Fatalf("err %v, want ErrNotCaught\n%s", err, out.String())
	}
	for _, want := range []string{"  admin      http://127.0.0.1:", "stopping"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "injecting the leak") {
		t.Errorf("leaked before LeakAfter:\n%s", out.String())
	}
}

func TestAdminAddrInvalid(t *testing.T) {
	err := demo.Run(context.Background(), io.Discard, demo.Config{Duration: time.Second, AdminAddr: "256.0.0.1:1"})
	if err == nil || errors.Is(err, demo.ErrNotCaught) {
		t.Fatalf("err %v, want the admin server's failure", err)
	}
}

// Run the demo for 15 seconds: a leak is injected after 3 and reported by
// the watchdog a few seconds later, followed by a doctor audit.
func ExampleRun() {
	err := demo.Run(context.Background(), os.Stdout, demo.Config{Duration: 15 * time.Second, LeakAfter: 3 * time.Second, Once: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
