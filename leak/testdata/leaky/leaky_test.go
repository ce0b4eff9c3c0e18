// Package leaky holds tests that leak goroutines on purpose. It is run as a
// subprocess by the leak package's tests (testdata is outside ./...).
package leaky

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/govitals/vitals/leak"
)

func TestMain(m *testing.M) { leak.VerifyTestMain(m) }

func TestBlockedSend(t *testing.T) {
	ch := make(chan int)
	go func() { ch <- 1 }()
}

func TestTicker(t *testing.T) {
	go tickForever()
}

func tickForever() {
	for range time.NewTicker(10 * time.Millisecond).C {
	}
}

func TestServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	_ = srv // never closed
}

func TestParallel(t *testing.T) {
	t.Run("child", func(t *testing.T) {
		t.Parallel()
		block := make(chan struct{})
		go func() { <-block }()
	})
}

func TestIndirect(t *testing.T) {
	startWorker()
}

func startWorker() {
	done := make(chan struct{})
	go func() {
		go worker()
		close(done)
	}()
	<-done
}

func worker() { select {} }

func TestClean(t *testing.T) {
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
}

func TestCleanParallel(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			time.Sleep(time.Millisecond)
		})
	}
}
