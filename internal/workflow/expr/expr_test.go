package expr

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"github.event.pull_request.title", "github.event.pull_request.title"},
		{" a.b['c'].d ", "a.b['c'].d"},
		{"github.event.commits[0].message", "github.event.commits[0].message"},
		{"x.*.y", "x.*.y"},
		{"x[*].y", "x.*.y"},
		{"steps.my-step.outputs.dir", "steps.my-step.outputs.dir"},
		{"format('{0}/{1}', a.b, 'it''s')", "format('{0}/{1}', a.b, 'it''s')"},
		{"!a && b || c == 'd'", "((!a && b) || (c == 'd'))"},
		{"a || b && c", "(a || (b && c))"},
		{"a == b != c", "((a == b) != c)"},
		{"1 < 2.5 && -3 >= 0x1F", "((1 < 2.5) && (-3 >= 0x1F))"},
		{"fromJSON(needs.a.outputs.b).c", "fromJSON(needs.a.outputs.b).c"},
		{"(a)", "a"},
		{"null == false", "(null == false)"},
		{"success()", "success()"},
		{"1e3", "1e3"},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "a.", "'unterminated", "a ==", "(a", "a b", "a[1", "f(a,", "a.1", "#", "1abc", "a[*", "0xZZ"} {
		if n, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, n)
		}
	}
	if _, err := Parse(strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10000)); err == nil {
		t.Error("deep nesting parsed")
	}
}

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"github.head_ref", []string{"github.head_ref"}},
		{"contains(github.event.pull_request.title, 'x')", nil},
		{"github.event.pull_request.title == 'x'", nil},
		{"!github.head_ref", nil},
		{"github.head_ref && 'x' || 'y'", []string{"'x'", "'y'"}},
		{"a || b", []string{"a", "b"}},
		{"format('{0}', github.event.issue.title)", []string{"'{0}'", "github.event.issue.title"}},
		{"toJSON(github.event)", []string{"github.event"}},
		{"fromJSON(steps.x.outputs.y).z", []string{"steps.x.outputs.y"}},
		{"hashFiles('**/lock')", nil},
		{"github.event.commits[0].message", []string{"github.event.commits[0].message"}},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range Values(n) {
			got = append(got, v.String())
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("Values(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPath(t *testing.T) {
	n, _ := Parse("GitHub.Event.commits[0]['Message']")
	p, ok := PathOf(n)
	if !ok || p.String() != "github.event.commits.*.message" {
		t.Fatalf("PathOf = %v %v", p, ok)
	}
	pattern := Path{"github", "event", "commits", "*", "message"}
	if !p.Match(pattern) || !(Path{"github", "event"}).Match(pattern) || (Path{"github", "sha"}).Match(pattern) {
		t.Fatal("Match is wrong")
	}
	if _, ok := PathOf(&Call{Name: "f"}); ok {
		t.Fatal("a call has no path")
	}
}

func TestSplit(t *testing.T) {
	s := "a ${{ b }} c ${{ 'x}}y' }}${{ unterminated"
	parts := Split(s)
	var got []string
	for _, p := range parts {
		if p.Expr {
			got = append(got, "E["+p.Text+"]")
		} else {
			got = append(got, "T["+p.Text+"]")
		}
	}
	want := "T[a ]|E[ b ]|T[ c ]|E[ 'x}}y' ]|T[${{ unterminated]"
	if strings.Join(got, "|") != want {
		t.Fatalf("Split = %s, want %s", strings.Join(got, "|"), want)
	}
}

// FuzzParse checks that whatever parses prints back as an expression that
// parses to the same tree, and that offsets stay inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"github.event.pull_request.title", "a && b || !c", "format('{0}', a['b'].*)",
		"fromJSON(x).y[0]", "1 <= -2.5e3", "'it''s'", "(a == null) != true"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		var check func(Node)
		check = func(n Node) {
			if n.Offset() < 0 || n.Offset() > len(s) {
				t.Fatalf("offset %d outside %q", n.Offset(), s)
			}
			switch n := n.(type) {
			case *Property:
				check(n.X)
			case *Index:
				check(n.X)
				check(n.Index)
			case *Star:
				check(n.X)
			case *Call:
				for _, a := range n.Args {
					check(a)
				}
			case *Unary:
				check(n.X)
			case *Binary:
				check(n.L)
				check(n.R)
			}
		}
		check(n)
		printed := n.String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q printed as %q, then as %q", s, printed, again.String())
		}
		Values(n)
		Accesses(n)
	})
}

// FuzzSplit checks that the pieces cover the string, in order.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"echo ${{ github.head_ref }}", "${{ 'a}}b' }}${{x}}", "${{", "}}${{ a }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end := 0
		for _, p := range Split(s) {
			if p.Offset != end || p.End < p.Offset || p.End > len(s) {
				t.Fatalf("%q: piece %+v after %d", s, p, end)
			}
			if p.Expr && (s[p.Offset:p.Offset+3] != "${{" || s[p.End-2:p.End] != "}}" || s[p.Offset+3:p.End-2] != p.Text) {
				t.Fatalf("%q: expression piece %+v", s, p)
			}
			if !p.Expr && s[p.Offset:p.End] != p.Text {
				t.Fatalf("%q: text piece %+v", s, p)
			}
			end = p.End
		}
		if end != len(s) {
			t.Fatalf("%q: pieces end at %d", s, end)
		}
	})
}
