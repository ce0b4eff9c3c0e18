package tracecap_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/govitals/vitals/tracecap"
)

// A bounded trace into a directory that never holds more than 3 files or
// 64 MiB.
func ExampleCaptureToDir() {
	tmp, err := os.MkdirTemp("", "traces")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir, err := tracecap.OpenDir(tmp, 3, 64<<20)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tracecap.CaptureToDir(context.Background(), dir, "investigation", 50*time.Millisecond); err != nil {
		log.Fatal(err)
	}
	files, _ := dir.Usage()
	fmt.Println(files, "file")
	// Output: 1 file
}

// The flight recorder runs all the time; a slow request takes a snapshot.
// Snapshots are rate-limited, so a burst of slow requests writes one file.
func ExampleRecorder_Snapshot() {
	tmp, err := os.MkdirTemp("", "flight")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir, err := tracecap.OpenDir(tmp, 5, 100<<20)
	if err != nil {
		log.Fatal(err)
	}
	rec, err := tracecap.NewRecorder(tracecap.WithDir(dir), tracecap.WithMinInterval(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	if err := rec.Start(); err != nil {
		log.Fatal(err)
	}
	defer rec.Close()

	for range 3 { // three slow requests in a row
		if _, err := rec.Snapshot("slow-request"); err != nil {
			fmt.Println(err == nil, "rate limited")
		}
	}
	fmt.Println(len(dir.Files()), "snapshot")
	// Output:
	// false rate limited
	// false rate limited
	// 1 snapshot
}
