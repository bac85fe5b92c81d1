package audit

import (
	"strings"

	"github.com/airlockdev/airlock/internal/workflow/expr"
)

// word is one shell word: its text with quotes removed, and where it
// starts in the script.
type word struct {
	text   string
	offset int
}

// command is one simple command of a script, its words after leading
// variable assignments and wrappers (sudo, env, time…) are dropped.
type command struct {
	args   []word
	offset int
}

func (c command) argv() []string {
	out := make([]string, len(c.args))
	for i, w := range c.args {
		out[i] = w.text
	}
	return out
}

func (c command) String() string { return strings.Join(c.argv(), " ") }

// commands splits a shell script into simple commands. It is a reader for
// the audit, not a shell: it knows quotes, escapes, comments, line
// continuations, here-documents, and the operators that separate commands
// (newline ; & && | || ( ) $( ` { }), which is enough to find the programs
// a CI script starts. A ${{ }} expression is kept whole inside its word.
func commands(script string) []command {
	spans := exprSpans(script)
	var out []command
	var cur []word
	var b strings.Builder
	inWord := false
	wordStart := 0
	var heredocs []heredoc
	flushWord := func() {
		if inWord {
			cur = append(cur, word{text: b.String(), offset: wordStart})
			b.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if c, ok := simple(cur); ok {
			out = append(out, c)
		}
		cur = nil
	}
	startWord := func(i int) {
		if !inWord {
			inWord = true
			wordStart = i
		}
	}
	i := 0
	for i < len(script) {
		if end, ok := spans[i]; ok {
			startWord(i)
			b.WriteString(script[i:end])
			i = end
			continue
		}
		c := script[i]
		switch {
		case c == '\\' && i+1 < len(script):
			if script[i+1] == '\n' {
				i += 2
				continue
			}
			startWord(i)
			b.WriteByte(script[i+1])
			i += 2
		case c == '\'':
			startWord(i)
			j := strings.IndexByte(script[i+1:], '\'')
			if j < 0 {
				b.WriteString(script[i+1:])
				i = len(script)
				continue
			}
			b.WriteString(script[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			startWord(i)
			i++
			for i < len(script) && script[i] != '"' {
				if end, ok := spans[i]; ok {
					b.WriteString(script[i:end])
					i = end
					continue
				}
				if script[i] == '\\' && i+1 < len(script) && strings.IndexByte("\"\\$`\n", script[i+1]) >= 0 {
					if script[i+1] != '\n' {
						b.WriteByte(script[i+1])
					}
					i += 2
					continue
				}
				b.WriteByte(script[i])
				i++
			}
			i++
		case c == '#' && !inWord:
			for i < len(script) && script[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\r':
			flushWord()
			i++
		case c == '\n':
			flushCmd()
			i++
			for _, h := range heredocs {
				i = skipHeredoc(script, i, h)
			}
			heredocs = nil
		case c == '<' && strings.HasPrefix(script[i:], "<<") && !strings.HasPrefix(script[i:], "<<<"):
			flushWord()
			i += 2
			strip := false
			if i < len(script) && script[i] == '-' {
				strip = true
				i++
			}
			for i < len(script) && (script[i] == ' ' || script[i] == '\t') {
				i++
			}
			j := i
			for j < len(script) && !strings.ContainsRune(" \t\n;&|<>()", rune(script[j])) {
				j++
			}
			marker := strings.NewReplacer(`'`, "", `"`, "", `\`, "").Replace(script[i:j])
			if marker != "" {
				heredocs = append(heredocs, heredoc{marker: marker, strip: strip})
			}
			i = j
		case c == '$' && i+1 < len(script) && script[i+1] == '(':
			flushCmd()
			i += 2
		case strings.IndexByte(";&|()`{}", c) >= 0 && !inWord || strings.IndexByte(";&|()`", c) >= 0:
			flushCmd()
			i++
		case c == '>' || c == '<':
			// A redirection: its target is not an argument.
			flushWord()
			i++
			for i < len(script) && (script[i] == '>' || script[i] == '&' || script[i] == '|') {
				i++
			}
			for i < len(script) && (script[i] == ' ' || script[i] == '\t') {
				i++
			}
			for i < len(script) && !strings.ContainsRune(" \t\n;&|()", rune(script[i])) {
				i++
			}
		default:
			startWord(i)
			b.WriteByte(c)
			i++
		}
	}
	flushCmd()
	return out
}

type heredoc struct {
	marker string
	strip  bool
}

func skipHeredoc(s string, i int, h heredoc) int {
	for i < len(s) {
		end := strings.IndexByte(s[i:], '\n')
		line := s[i:]
		next := len(s)
		if end >= 0 {
			line = s[i : i+end]
			next = i + end + 1
		}
		if h.strip {
			line = strings.TrimLeft(line, "\t")
		}
		if strings.TrimRight(line, "\r") == h.marker {
			return next
		}
		i = next
	}
	return i
}

// exprSpans maps the start of each ${{ }} in s to its end.
func exprSpans(s string) map[int]int {
	spans := map[int]int{}
	for _, p := range expr.Split(s) {
		if p.Expr {
			spans[p.Offset] = p.End
		}
	}
	return spans
}

var shellKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"while": true, "until": true, "for": true, "in": true, "case": true, "esac": true, "!": true,
	"time": true, "sudo": true, "command": true, "exec": true, "nohup": true, "builtin": true,
}

// simple drops what comes before the program: assignments, keywords and
// wrappers that run the rest as a command.
func simple(words []word) (command, bool) {
	for len(words) > 0 {
		w := words[0].text
		switch {
		case shellKeywords[w]:
			words = words[1:]
			if w == "sudo" {
				for len(words) > 0 && strings.HasPrefix(words[0].text, "-") {
					words = words[1:]
				}
			}
		case w == "env":
			words = words[1:]
			for len(words) > 0 && (strings.HasPrefix(words[0].text, "-") || isAssignment(words[0].text)) {
				words = words[1:]
			}
		case isAssignment(w):
			words = words[1:]
		default:
			return command{args: words, offset: words[0].offset}, true
		}
	}
	return command{}, false
}

func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := w[i]
		if !(c == '_' || (c >= '0' && c <= '9' && i > 0) || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return false
		}
	}
	return true
}
