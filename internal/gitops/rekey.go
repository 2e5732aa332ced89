package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// RekeyReport is one file's outcome in RekeyPaths.
type RekeyReport struct {
	Path   string
	Result RekeyResult
	Err    error
}

// RekeySummary totals a RekeyPaths run.
type RekeySummary struct {
	// Files is the number of sealed files looked at; Changed the number
	// whose recipients differ (or differed) from their rule; Failed the
	// number that could not be checked or rekeyed.
	Files, Changed, Failed int
}

// RekeyOptions tune RekeyPaths.
type RekeyOptions struct {
	// Check writes nothing and needs no key: files are only compared
	// with their rules.
	Check bool
	// RotateDataKey gives every file a new data key (all values get new
	// ciphertext), even when its recipients already match.
	RotateDataKey bool
	// Progress, if not nil, is called after each file with its 1-based
	// index and the total.
	Progress func(i, n int, r RekeyReport)
}

// RekeyPaths walks paths (files or directories; .git is skipped), and for
// every sealed file re-wraps its data key for the recipients of its rule.
func RekeyPaths(ctx context.Context, kr *Keyring, c *Config, paths []string, opts RekeyOptions) (RekeySummary, error) {
	files, err := sealedFiles(paths)
	if err != nil {
		return RekeySummary{}, err
	}
	var sum RekeySummary
	for i, p := range files {
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("rekey: %w", err)
		}
		rep := RekeyReport{Path: p}
		rep.Result, rep.Err = rekeyFile(ctx, kr, c, p, opts)
		sum.Files++
		if rep.Result.Changed() || opts.RotateDataKey && rep.Err == nil {
			sum.Changed++
		}
		if rep.Err != nil {
			sum.Failed++
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(files), rep)
		}
	}
	return sum, nil
}

func rekeyFile(ctx context.Context, kr *Keyring, c *Config, path string, opts RekeyOptions) (RekeyResult, error) {
	format, _ := FormatFor(path) // sealedFiles kept only known formats
	src, err := os.ReadFile(path)
	if err != nil {
		return RekeyResult{}, err
	}
	f, err := Parse(format, src)
	if err != nil {
		return RekeyResult{}, err
	}
	_, want, sel, err := c.Match(path)
	if err != nil {
		return RekeyResult{}, err
	}
	if opts.Check {
		return Diff(f, want), nil
	}
	if opts.RotateDataKey {
		out, err := kr.RotateDataKey(ctx, f, want, sel)
		if err != nil {
			return Diff(f, want), err
		}
		return Diff(f, want), WriteFile(path, out)
	}
	out, res, err := kr.Rekey(ctx, f, want)
	if err != nil || !res.Changed() {
		return res, err
	}
	return res, WriteFile(path, out)
}

// sealedFiles lists the files under paths in a known format that carry a
// recipient block, sorted.
func sealedFiles(paths []string) ([]string, error) {
	var out []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			format, err := FormatFor(p)
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if f, err := Parse(format, src); err == nil && f.IsSealed() || errors.Is(err, ErrMalformed) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walking %s: %w", root, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// WriteFile replaces path's content atomically (a temporary file in the
// same directory, renamed over it), keeping its permissions; a new file
// gets 0600.
func WriteFile(path string, data []byte) error {
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
