package prometheus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not installed (CI=true): %v", err)
		}
		t.Skipf("promtool not installed: %v", err)
	}
	return p
}

func TestRules(t *testing.T) {
	bin := promtool(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"check rules", []string{"check", "rules", "vitals-rules.yml"}, "SUCCESS: 6 rules found"},
		{"test rules", []string{"test", "rules", "vitals-rules_test.yml"}, "SUCCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin, tt.args...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), tt.want) {
				t.Errorf("promtool %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
		})
	}
}

// TestRulesTestsCanFail breaks one threshold in a copy of the rules and
// checks that promtool test rules notices: the unit tests bite.
func TestRulesTestsCanFail(t *testing.T) {
	bin := promtool(t)
	dir := t.TempDir()
	broken := strings.Replace(string(Rules), "> 0.10", "> 0.50", 1)
	if broken == string(Rules) {
		t.Fatal("throttling threshold not found in the rules")
	}
	tests, err := os.ReadFile("vitals-rules_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"vitals-rules.yml": []byte(broken), "vitals-rules_test.yml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "test", "rules", "vitals-rules_test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("promtool test rules passed with a broken threshold:\n%s", out)
	}
}

func TestEmbeddedRulesMatchFile(t *testing.T) {
	b, err := os.ReadFile("vitals-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(Rules) {
		t.Error("embedded Rules differ from vitals-rules.yml")
	}
}
