package gctrace

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	us   = time.Microsecond
	msec = time.Millisecond
)

// The lines below follow the print statements of each release's runtime
// (mgc.go gcMarkTermination, mgcscavenge.go printScavTrace, mheap.go
// scavenge, mgcmark*.go dumpScanStats); the 1.26 ones are copied from the
// corpus that testdata/gen.go captured.
func TestParseLine(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		want      Record // Kind 0: not a trace line
		malformed bool
	}{
		{
			name: "go1.26",
			line: "gc 4 @0.011s 4%: 0.024+0.35+0.004 ms clock, 0.049+0/0.069/0.22+0.008 ms cpu, 12->12->12 MB, 19 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)",
			want: Record{Kind: KindGC, Cycle: Cycle{
				Num: 4, At: 11 * msec, CPUPercent: 4,
				SweepTerm: 24 * us, Mark: 350 * us, MarkTerm: 4 * us,
				SweepTermCPU: 49 * us, AssistCPU: 0, BackgroundCPU: 69 * us, IdleCPU: 220 * us, MarkTermCPU: 8 * us,
				HeapStart: 12 << 20, HeapEnd: 12 << 20, HeapLive: 12 << 20, HeapGoal: 19 << 20,
				HasScanSizes: true, Procs: 2, Forced: true,
			}},
		},
		{
			name: "go1.18 large values",
			line: "gc 1234 @3601.250s 12%: 15+2100+0.91 ms clock, 120+45/8000/33+7.3 ms cpu, 10240->10400->5100 MB, 10300 MB goal, 12 MB stacks, 3 MB globals, 64 P",
			want: Record{Kind: KindGC, Cycle: Cycle{
				Num: 1234, At: 3601250 * msec, CPUPercent: 12,
				SweepTerm: 15 * msec, Mark: 2100 * msec, MarkTerm: 910 * us,
				SweepTermCPU: 120 * msec, AssistCPU: 45 * msec, BackgroundCPU: 8000 * msec, IdleCPU: 33 * msec, MarkTermCPU: 7300 * us,
				HeapStart: 10240 << 20, HeapEnd: 10400 << 20, HeapLive: 5100 << 20, HeapGoal: 10300 << 20,
				Stacks: 12 << 20, Globals: 3 << 20, HasScanSizes: true, Procs: 64,
			}},
		},
		{
			name: "go1.17 without stacks and globals",
			line: "gc 7 @0.120s 1%: 0.018+1.1+0.020 ms clock, 0.14+0.10/1.9/3.4+0.16 ms cpu, 4->4->1 MB, 5 MB goal, 8 P",
			want: Record{Kind: KindGC, Cycle: Cycle{
				Num: 7, At: 120 * msec, CPUPercent: 1,
				SweepTerm: 18 * us, Mark: 1100 * us, MarkTerm: 20 * us,
				SweepTermCPU: 140 * us, AssistCPU: 100 * us, BackgroundCPU: 1900 * us, IdleCPU: 3400 * us, MarkTermCPU: 160 * us,
				HeapStart: 4 << 20, HeapEnd: 4 << 20, HeapLive: 1 << 20, HeapGoal: 5 << 20, Procs: 8,
			}},
		},
		{
			name: "go1.26 goroutine leak check",
			line: "gc 9 @2.000s 3% (checking for goroutine leaks): 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 1->2->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P",
			want: Record{Kind: KindGC, Cycle: Cycle{
				Num: 9, At: 2 * time.Second, CPUPercent: 3, CheckingLeaks: true,
				SweepTerm: 100 * us, Mark: 200 * us, MarkTerm: 300 * us,
				SweepTermCPU: 100 * us, AssistCPU: 200 * us, BackgroundCPU: 300 * us, IdleCPU: 400 * us, MarkTermCPU: 500 * us,
				HeapStart: 1 << 20, HeapEnd: 2 << 20, HeapLive: 3 << 20, HeapGoal: 4 << 20, HasScanSizes: true, Procs: 1,
			}},
		},
		{name: "GC forced", line: "GC forced", want: Record{Kind: KindForced}},
		{
			name: "scav current (go1.26)",
			line: "scav 0 KiB work (bg), 22504 KiB work (eager), 28144 KiB now, 100% util (forced)",
			want: Record{Kind: KindScav, Scav: Scav{Work: 22504 << 10, WorkEager: 22504 << 10, Released: 28144 << 10, UtilPercent: 100, Forced: true}},
		},
		{
			name: "scav go1.17 to before the bg/eager split",
			line: "scav 512 KiB work, 2048 KiB total, 87% util [controller reset]",
			want: Record{Kind: KindScav, Scav: Scav{Work: 512 << 10, Released: 2048 << 10, UtilPercent: 87, ControllerReset: true}},
		},
		{
			name: "scav go1.14-1.16 with generation",
			line: "scav 3 64 KiB work, 1024 KiB total, 95% util",
			want: Record{Kind: KindScav, Scav: Scav{Gen: 3, Work: 64 << 10, Released: 1024 << 10, UtilPercent: 95}},
		},
		{
			name: "scvg released",
			line: "scvg2: 5 MB released",
			want: Record{Kind: KindScvg, Scav: Scav{Gen: 2, Work: 5 << 20}},
		},
		{
			name: "scvg stats FreeOSMemory",
			line: "scvg-1: inuse: 3, idle: 60, sys: 64, released: 60, consumed: 4 (MB)",
			want: Record{Kind: KindScvg, Scav: Scav{Gen: -1, InUse: 3 << 20, Idle: 60 << 20, Sys: 64 << 20, Released: 60 << 20, Consumed: 4 << 20, HasHeapStats: true}},
		},
		{
			name: "scan total green tea",
			line: "scan: total 57054+5+13=57072 objs, 2+1=3 spans",
			want: Record{Kind: KindScan, Scan: Scan{Class: "total", Objs: 57072, Spans: 3}},
		},
		{
			name: "scan class",
			line: "scan: class 16B 0+3+0=3 objs, 1+0=1 spans",
			want: Record{Kind: KindScan, Scan: Scan{Class: "16B", Objs: 3, Spans: 1}},
		},
		{
			name: "scan large no green tea",
			line: "scan: class L 12 objs",
			want: Record{Kind: KindScan, Scan: Scan{Class: "L", Objs: 12}},
		},
		{name: "program output", line: "worker: processed 10 items"},
		{name: "program scan output", line: "scan: 3 files checked"},
		{name: "empty", line: ""},
		{name: "truncated gc line", line: "gc 5 @0.011s 3%: 0.11+4.2+0.004 ms clock, 0.22+0/0.1", malformed: true},
		{name: "gc line with trailing text", line: "gc 1 @0.000s 19%: 0.39+0.19+0.005 ms clock, 0.78+0.13/0/0+0.010 ms cpu, 3->4->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P oops", malformed: true},
		{name: "gc number overflow", line: "gc 99999999999999999999999 @0.000s 1%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 1->1->1 MB, 4 MB goal, 1 P", malformed: true},
		{name: "heap overflow", line: "gc 1 @0.000s 1%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 9999999999999999->1->1 MB, 4 MB goal, 1 P", malformed: true},
		{name: "gc word in prose", line: "gc is fine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Record
			kind, malformed := parseLine([]byte(tt.line), &got)
			if malformed != tt.malformed {
				t.Errorf("malformed = %v, want %v", malformed, tt.malformed)
			}
			if kind != tt.want.Kind {
				t.Fatalf("kind = %v, want %v", kind, tt.want.Kind)
			}
			if kind == 0 {
				return
			}
			got.Kind = kind
			// parseLine fills only the record part for its kind.
			want := tt.want
			switch kind {
			case KindGC:
				got.Scav, got.Scan = Scav{}, Scan{}
			case KindScav, KindScvg:
				got.Cycle, got.Scan = Cycle{}, Scan{}
			case KindScan:
				got.Cycle, got.Scav = Cycle{}, Scav{}
			default:
				got = Record{Kind: kind}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("parse %q (-want +got):\n%s", tt.line, d)
			}
		})
	}
}

func TestCyclePauseAndCPU(t *testing.T) {
	c := Cycle{SweepTerm: 1, Mark: 100, MarkTerm: 2, SweepTermCPU: 3, AssistCPU: 4, BackgroundCPU: 5, IdleCPU: 6, MarkTermCPU: 7}
	if got := c.Pause(); got != 3 {
		t.Errorf("Pause = %v, want 3ns", got)
	}
	if got := c.CPU(); got != 25 {
		t.Errorf("CPU = %v, want 25ns", got)
	}
}

func TestParseAllocs(t *testing.T) {
	line := []byte("gc 4 @0.011s 4%: 0.024+0.35+0.004 ms clock, 0.049+0/0.069/0.22+0.008 ms cpu, 12->12->12 MB, 19 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)")
	scan := []byte("scan: class 16B 0+3+0=3 objs, 1+0=1 spans")
	var rec Record
	if n := testing.AllocsPerRun(100, func() {
		parseLine(line, &rec)
		parseLine(scan, &rec)
	}); n != 0 {
		t.Errorf("parsing allocates %v times per line pair, want 0", n)
	}
}
