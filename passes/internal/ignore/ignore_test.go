package ignore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		text   string
		names  []string
		reason string
		ok     bool
	}{
		{"//vitals:ignore gccall frees the arena", []string{"gccall"}, "frees the arena", true},
		{"//vitals:ignore gccall,maxprocs  two  spaces kept ", []string{"gccall", "maxprocs"}, "two  spaces kept", true},
		{"//vitals:ignore gccall", []string{"gccall"}, "", true},
		{"//vitals:ignore", nil, "", true},
		{"//vitals:ignoreall x", nil, "", false},
		{"// vitals:ignore gccall x", nil, "", false},
		{"//nolint:gccall", nil, "", false},
		{"/* vitals:ignore gccall x */", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			names, reason, ok := parse(tt.text)
			if ok != tt.ok || reason != tt.reason {
				t.Errorf("parse(%q) = _, %q, %v; want %q, %v", tt.text, reason, ok, tt.reason, tt.ok)
			}
			if diff := cmp.Diff(tt.names, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"//vitals:ignore gccall why", "//vitals:ignore a,b", "//vitals:ignore\t x y", "//vitals:ignore"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		names, reason, ok := parse(text)
		if !ok && (names != nil || reason != "") {
			t.Errorf("parse(%q) returned data with ok=false", text)
		}
		if reason != "" && len(names) == 0 {
			t.Errorf("parse(%q): a reason without a name", text)
		}
	})
}
