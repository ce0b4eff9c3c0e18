// Package golangci registers the vitals analyzers as a golangci-lint module
// plugin named "vitals", so they run inside golangci-lint next to its own
// linters, with its caching, //nolint handling and output formats.
//
// golangci-lint builds a custom binary that imports this module. Put a
// .custom-gcl.yml next to your go.mod:
//
//	version: v2.6.0
//	plugins:
//	  - module: github.com/govitals/vitals/plugin/golangci
//	    import: github.com/govitals/vitals/plugin/golangci
//	    version: latest
//
// then run "golangci-lint custom" (it writes ./custom-gcl) and enable the
// linter in .golangci.yml:
//
//	version: "2"
//	linters:
//	  enable:
//	    - vitals
//	  settings:
//	    custom:
//	      vitals:
//	        type: module
//	        description: runtime pitfalls (GC calls, finalizers, exposed pprof, ...)
//	        settings:
//	          disable: [finalizer]
//
// The settings are optional; "disable" lists analyzers (by name, see
// github.com/govitals/vitals/passes) to leave out. The //vitals:ignore
// comments of vitals-vet work the same here.
package golangci

import (
	"fmt"
	"slices"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/govitals/vitals/passes"
)

// Name is the linter name the plugin registers under.
const Name = "vitals"

func init() {
	register.Plugin(Name, New)
}

// Settings is the plugin's configuration under linters.settings.custom.vitals.settings.
type Settings struct {
	// Disable names analyzers not to run.
	Disable []string `json:"disable"`
}

// Plugin is the golangci-lint linter plugin of the vitals analyzers.
type Plugin struct {
	settings Settings
}

// New decodes settings (nil is the zero Settings) and returns the plugin. It
// fails on unknown settings fields and unknown analyzer names, so a typo in
// .golangci.yml is an error rather than a silently running analyzer.
func New(settings any) (register.LinterPlugin, error) {
	var s Settings
	if settings != nil {
		var err error
		if s, err = register.DecodeSettings[Settings](settings); err != nil {
			return nil, fmt.Errorf("vitals plugin: %w", err)
		}
	}
	for _, name := range s.Disable {
		if !slices.ContainsFunc(passes.All(), func(a *analysis.Analyzer) bool { return a.Name == name }) {
			return nil, fmt.Errorf("vitals plugin: disable: no analyzer named %q", name)
		}
	}
	return &Plugin{settings: s}, nil
}

// BuildAnalyzers returns the analyzers that are not disabled.
func (p *Plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	var as []*analysis.Analyzer
	for _, a := range passes.All() {
		if !slices.Contains(p.settings.Disable, a.Name) {
			as = append(as, a)
		}
	}
	return as, nil
}

// GetLoadMode says the analyzers need type information.
func (p *Plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
