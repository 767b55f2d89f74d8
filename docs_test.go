package tlsflow_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docsWithExamples are the Markdown files whose Go code blocks must be
// code that compiles and runs: lines of an example (example*_test.go),
// or blocks whose introduction says they are pseudo-code.
var docsWithExamples = []string{"README.md", "docs/SWITCHING.md"}

// TestDocCodeBlocksAreExamples: every ```go block of those files appears,
// line for line (indentation and blank lines aside), in one of the example
// files, unless the paragraph before it says "pseudo-code".
func TestDocCodeBlocksAreExamples(t *testing.T) {
	examples, err := filepath.Glob("example*_test.go")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	var sources [][]string
	for _, name := range examples {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, codeLines(string(b)))
	}
	for _, doc := range docsWithExamples {
		blocks, err := goBlocks(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if b.pseudo {
				continue
			}
			lines := codeLines(b.code)
			found := false
			for _, src := range sources {
				if containsRun(src, lines) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s:%d: a Go block that is in no example (example*_test.go) and not said to be pseudo-code:\n%s",
					doc, b.line, b.code)
			}
		}
	}
}

type codeBlock struct {
	line   int
	code   string
	pseudo bool
}

// goBlocks returns the ```go blocks of a Markdown file, each marked pseudo
// when the text since the previous block mentions pseudo-code.
func goBlocks(path string) ([]codeBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []codeBlock
	var prose, code strings.Builder
	in, start := false, 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "```go"):
			in, start = true, n
			code.Reset()
		case in && strings.HasPrefix(line, "```"):
			in = false
			blocks = append(blocks, codeBlock{line: start, code: code.String(),
				pseudo: strings.Contains(strings.ToLower(prose.String()), "pseudo-code")})
			prose.Reset()
		case in:
			code.WriteString(line + "\n")
		case strings.HasPrefix(line, "```"):
			prose.Reset() // another language's block ends the introduction
		default:
			prose.WriteString(line + "\n")
		}
	}
	return blocks, sc.Err()
}

// codeLines are the non-blank lines of code, without indentation.
func codeLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// containsRun reports whether run appears in lines as consecutive lines.
func containsRun(lines, run []string) bool {
	if len(run) == 0 {
		return true
	}
	for i := 0; i+len(run) <= len(lines); i++ {
		match := true
		for j := range run {
			if lines[i+j] != run[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
