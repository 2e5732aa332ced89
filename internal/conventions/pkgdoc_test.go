package conventions

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot walks up from this package to the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// TestEveryPackageHasAComment checks that each package (tests excluded) has
// a doc comment of the form "Package name ..." (or "Command ..." for main),
// so every package can be explained in a sentence.
func TestEveryPackageHasAComment(t *testing.T) {
	root := moduleRoot(t)
	type pkgInfo struct {
		name       string
		documented bool
	}
	pkgs := map[string]*pkgInfo{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		p := pkgs[dir]
		if p == nil {
			p = &pkgInfo{name: f.Name.Name}
			pkgs[dir] = p
		}
		prefix := "Package " + p.name + " "
		if p.name == "main" {
			prefix = "Command "
		}
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), prefix) {
			p.documented = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages; the walk is broken", len(pkgs))
	}
	for dir, p := range pkgs {
		if !p.documented {
			rel, _ := filepath.Rel(root, dir)
			t.Errorf("package %s in %s has no package comment starting %q", p.name, rel, "Package "+p.name+" ")
		}
	}
}
