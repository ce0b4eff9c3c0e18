package doctor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// FuzzParseVitals feeds arbitrary bodies to the /debug/vitals reader: it
// must return an audit or an error, never panic, and what it returns must
// be judgeable.
func FuzzParseVitals(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "vitals", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"state":{}}`))
	f.Add([]byte(`{"state":{"facts":{"gomaxprocs":-3}},"report":{"schema":1,"cgroup":{"cpu":{"limited":true,"quota":-1}}}}`))
	f.Add([]byte(`{"state":{"leak":{"baseline":"x"}},"routes":[{"pattern":"/metrics"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := doctor.ParseVitals(body)
		if err != nil {
			return
		}
		rs := checklist.Evaluate(a.Facts)
		if len(rs) != len(checklist.IDs()) {
			t.Fatalf("%d results", len(rs))
		}
	})
}

// FuzzParseTargets: any file gives targets with valid URLs or an error.
func FuzzParseTargets(f *testing.F) {
	f.Add("# fleet\nhttp://10.0.0.7:6060\npublic https://shop.example/\n")
	f.Add("public\n")
	f.Add("http://[::1]:6060\n\n  # x\n")
	f.Add(strings.Repeat("a", 70000))
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := doctor.ParseTargets(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, tg := range ts {
			if tg.URL == "" || (tg.Kind != doctor.KindVitals && tg.Kind != doctor.KindPublic) {
				t.Fatalf("bad target %+v", tg)
			}
		}
	})
}
