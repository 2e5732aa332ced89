package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxLineBytes bounds one line of secret input read from stdin.
const maxLineBytes = 64 << 10

// readSecret reads a secret value: without echo after prompting on stderr
// when stdin is a terminal, otherwise as the first line of stdin. Surrounding
// whitespace is removed.
func readSecret(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read from terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if stdin == nil {
		return "", errors.New("no input: stdin is not available")
	}
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxLineBytes), 4096).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		if err == io.EOF {
			return "", errors.New("no input on stdin")
		}
		return "", fmt.Errorf("read stdin: %w", err)
	}
	return strings.TrimSpace(line), nil
}
