package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode"

	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
	hclscanner "github.com/hashicorp/hcl/hcl/scanner"
	"github.com/hashicorp/hcl/hcl/token"
	jsonparser "github.com/hashicorp/hcl/json/parser"
)

// parse parses src as JSON when its first non-space character is '{' (as
// hcl.Parse decides) and as HCL otherwise. Two parser quirks are handled
// here: the HCL parser's duplicate-key error carries no line, so duplicates
// are left to the decoder, which reports them with theirs; and the JSON
// parser accepts a truncated document as the part before the cut, so JSON
// is first checked with encoding/json.
func parse(filename string, src []byte) (*ast.File, error) {
	trimmed := bytes.TrimLeftFunc(src, unicode.IsSpace)
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		f, err := hclparser.ParseDontErrorOnDuplicateKeys(src)
		if err != nil {
			return nil, syntaxError(filename, err)
		}
		if line := danglingAssign(src); line > 0 {
			return nil, &fieldError{file: filename, line: line, msg: "syntax error: missing value after '=' at end of file"}
		}
		return f, nil
	}
	if err := json.Unmarshal(src, new(any)); err != nil {
		line := 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = 1 + bytes.Count(src[:min(se.Offset, int64(len(src)))], []byte("\n"))
		}
		return nil, &fieldError{file: filename, line: line, msg: "syntax error: " + err.Error()}
	}
	f, err := jsonparser.Parse(src)
	if err != nil {
		return nil, syntaxError(filename, err)
	}
	return f, nil
}

// danglingAssign returns the line of a '=' that ends the document, which
// the HCL parser drops without an error (`ui =` as the last line would
// otherwise vanish), or 0.
func danglingAssign(src []byte) int {
	sc := hclscanner.New(src)
	sc.Error = func(token.Pos, string) {}
	var last token.Token
	for tok := sc.Scan(); tok.Type != token.EOF; tok = sc.Scan() {
		if tok.Type != token.COMMENT {
			last = tok
		}
	}
	if last.Type == token.ASSIGN {
		return last.Pos.Line
	}
	return 0
}

// syntaxError converts a parser error to a fieldError with its line.
func syntaxError(filename string, err error) error {
	var pe *hclparser.PosError
	if errors.As(err, &pe) {
		return &fieldError{file: filename, line: pe.Pos.Line, msg: "syntax error: " + pe.Err.Error()}
	}
	return &fieldError{file: filename, msg: "syntax error: " + err.Error()}
}
