package httpapi

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml in step with the
// route table: every route is documented and every documented operation
// exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	data, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatalf("read OpenAPI file: %v", err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse OpenAPI file: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", doc.OpenAPI)
	}

	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}

	rt := newRouter(&API{})
	(&API{}).routes(rt)

	for _, p := range rt.patterns {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is not in docs/openapi.yaml", p)
		}
	}
	for _, d := range documented {
		if !slices.Contains(rt.patterns, d) {
			t.Errorf("docs/openapi.yaml documents %q, which is not a route", d)
		}
	}
}
