package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// printer writes one command's results in the chosen format.
type printer struct {
	out, errOut io.Writer
	format      string // table, json or yaml
	field       string
	// tty says whether out is a terminal; a raw -field value gets a
	// trailing newline only then, as in Vault, so `> file` stays exact.
	tty bool
}

// printer returns the output settings for cmd, or a usage error for an
// unknown -format.
func (a *app) printer(cmd *cobra.Command) (*printer, error) {
	f, err := a.format(cmd)
	if err != nil {
		return nil, err
	}
	return &printer{out: a.stdout, errOut: a.stderr, format: f, field: a.flags.field, tty: isTerminal(a.stdout)}, nil
}

// session returns the output printer and the API client most commands need.
func (a *app) session(cmd *cobra.Command) (*printer, *apiclient.Client, error) {
	p, err := a.printer(cmd)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.client()
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// secret prints a response envelope: one field, a Key/Value table, or the
// whole envelope as JSON or YAML.
func (p *printer) secret(s *apiclient.Secret) error {
	if s == nil {
		return nil
	}
	if p.field != "" {
		return p.raw(secretField(s, p.field), p.field)
	}
	if p.format != "table" {
		return p.structured(s)
	}
	p.warnings(s.Warnings)
	rows := secretRows(s)
	if len(rows) == 0 {
		return nil
	}
	return writeTable(p.out, []string{"Key", "Value"}, rows)
}

// data prints a map: one field, a sorted Key/Value table, or JSON/YAML.
func (p *printer) data(m map[string]any) error {
	if p.field != "" {
		return p.raw(m[p.field], p.field)
	}
	if p.format != "table" {
		return p.structured(m)
	}
	if len(m) == 0 {
		return nil
	}
	return writeTable(p.out, []string{"Key", "Value"}, mapRows(m))
}

// list prints the "keys" of a LIST response, sorted, under a Keys header.
func (p *printer) list(s *apiclient.Secret) error {
	keys, _ := s.Data["keys"].([]any)
	if p.format != "table" {
		return p.structured(keys)
	}
	p.warnings(s.Warnings)
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, []string{formatValue(k)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	return writeTable(p.out, []string{"Keys"}, rows)
}

// raw prints one field's value: as text for the table format, else encoded.
func (p *printer) raw(v any, name string) error {
	if v == nil {
		return fmt.Errorf("field %q not present in secret", name)
	}
	var text string
	if p.format == "table" {
		text = formatValue(v)
	} else {
		b, err := encode(p.format, v)
		if err != nil {
			return err
		}
		text = strings.TrimSuffix(string(b), "\n")
	}
	if p.tty {
		text += "\n"
	}
	_, err := io.WriteString(p.out, text)
	return err
}

// structured prints v as indented JSON or YAML.
func (p *printer) structured(v any) error {
	b, err := encode(p.format, v)
	if err != nil {
		return err
	}
	_, err = p.out.Write(b)
	return err
}

// warnings prints server warnings on stderr, as Vault does in table mode.
func (p *printer) warnings(ws []string) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(p.errOut, "WARNING! The following warnings were returned from the server:")
	for _, w := range ws {
		fmt.Fprintf(p.errOut, "\n  * %s\n", w)
	}
	fmt.Fprintln(p.errOut)
}

// encode renders v as 2-space indented JSON or as YAML, ending in a newline.
func encode(format string, v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	if format == "json" {
		return append(b, '\n'), nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	var y bytes.Buffer
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(yamlValue(generic)); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return append(bytes.TrimSpace(y.Bytes()), '\n'), nil
}

// yamlValue turns json.Numbers into YAML numbers written with the same
// digits, so large integers are not rounded through float64.
func yamlValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(x.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: x.String()}
	case map[string]any:
		for k, e := range x {
			x[k] = yamlValue(e)
		}
	case []any:
		for i, e := range x {
			x[i] = yamlValue(e)
		}
	}
	return v
}

// writeTable writes Vault-style columns: a header, a dashed underline, then
// rows, columns separated by four spaces; an empty cell prints as n/a.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 4, ' ', tabwriter.StripEscape)
	underline := make([]string, len(header))
	for i, h := range header {
		underline[i] = strings.Repeat("-", len(h))
	}
	for _, row := range append([][]string{header, underline}, rows...) {
		for i, cell := range row {
			if cell == "" {
				cell = "n/a"
			}
			if i > 0 {
				io.WriteString(tw, "\t")
			}
			// Escaping keeps tabs and newlines inside a value from
			// starting new cells.
			io.WriteString(tw, "\xff"+strings.ReplaceAll(cell, "\xff", "")+"\xff")
		}
		io.WriteString(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
