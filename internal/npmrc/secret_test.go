package npmrc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret(testToken)
	cr := Credentials{Token: s, Basic: s, Source: "x"}
	h, _ := cr.Header()
	var outs []string
	for _, v := range []any{s, &s, cr, &cr, h, []Secret{s}, map[string]Secret{"k": s}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %[1]v", "%10.3s"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		outs = append(outs, fmt.Sprint(v), fmt.Sprintln(v))
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	txt, _ := s.MarshalText()
	outs = append(outs, s.String(), s.GoString(), string(txt))
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "secret", s, "creds", cr)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "secret", s)
	outs = append(outs, logBuf.String())
	for _, o := range outs {
		if strings.Contains(o, testToken) || strings.Contains(o, fmt.Sprintf("%x", testToken)) {
			t.Errorf("printed the secret: %s", o)
		}
	}
	if s.Reveal() != testToken || h.Reveal() != "Bearer "+testToken {
		t.Error("Reveal must return the credential")
	}
}

// TestErrorPathsKeepSecrets drives every error Load and the
// Authenticators return with the token placed where a careless message
// would pick it up, and checks that no message or warning contains it.
// TestErrorPathsAreCovered keeps the list complete.
func TestErrorPathsKeepSecrets(t *testing.T) {
	tok := testToken
	ctx := context.Background()
	var msgs []string
	load := func(name string, files map[string]string, env []string, mod func(*Sources, string)) {
		t.Helper()
		src, root := machine(t, files, env...)
		if mod != nil {
			mod(&src, root)
		}
		c, err := Load(src)
		if err == nil {
			t.Errorf("%s: Load succeeded", name)
			msgs = append(msgs, c.Warnings()...)
			return
		}
		msgs = append(msgs, err.Error(), hint.Of(err))
	}
	load("parse", map[string]string{"home/.npmrc": "a=null\n[a." + tok + "]\n//r/:_authToken=" + tok + "\n"}, nil, nil)
	load("read", nil, nil, func(s *Sources, root string) { s.UserConfig = filepath.Join(root, "home") })
	load("relative", nil, []string{"npm_config_userconfig=rc"}, func(s *Sources, _ string) { s.Cwd = "" })
	load("double", map[string]string{"rc": "//r/:_authToken=" + tok + "\n"}, []string{"npm_config_userconfig=$ROOT/rc", "npm_config_globalconfig=$ROOT/rc"}, nil)
	load("exclusive", map[string]string{"home/.npmrc": "provenance=" + tok + "\nprovenance-file=" + tok + "\n"}, nil, nil)
	load("registry", map[string]string{"home/.npmrc": "registry=" + tok + " not a url\n"}, nil, nil)
	load("registry with userinfo", map[string]string{"home/.npmrc": "registry=https://u:" + tok + "@[bad/\n"}, nil, nil)
	load("auth", map[string]string{"home/.npmrc": "_authToken=" + tok + "\n_auth=" + tok + "\nusername=" + tok + "\n_authtoken=" + tok + "\n"}, nil, nil)

	src, _ := machine(t, map[string]string{"home/.npmrc": "//r.example/:_authToken=${UNSET_" + tok + "}\naccess=" + tok + "\nregistry=http:" + tok + "\nfetch-retries=" + tok + "\n"})
	c, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings()) != 3 {
		t.Errorf("warnings: %q", c.Warnings())
	}
	msgs = append(msgs, c.Warnings()...)
	for _, url := range []string{"https://r.example/p", "https://user:" + tok + "@nowhere.example/p", "https://" + tok + "@nowhere.example/p"} {
		_, _, err := ConfigAuth{c}.Authorization(ctx, url, "p")
		if err == nil {
			t.Errorf("Authorization(%s) succeeded", url)
			continue
		}
		msgs = append(msgs, err.Error(), hint.Of(err))
		_, _, err = Chain{ConfigAuth{c}}.Authorization(ctx, url, "p")
		msgs = append(msgs, err.Error())
	}
	_, _, err = Chain{}.Authorization(ctx, "https://u:"+tok+"@x.example/", "p")
	msgs = append(msgs, err.Error())

	for _, m := range msgs {
		t.Log(m)
		if strings.Contains(m, tok) {
			t.Errorf("message contains the token: %s", m)
		}
	}
	errorMessages = msgs
}

// errorMessages are the messages TestErrorPathsKeepSecrets saw.
var errorMessages []string

// TestErrorPathsAreCovered finds every error the package's code can
// construct (fmt.Errorf, errors.New and the AuthConfigError text) and
// checks that TestErrorPathsKeepSecrets produced each, so a new error
// path cannot skip the secret check.
func TestErrorPathsAreCovered(t *testing.T) {
	if errorMessages == nil {
		t.Run("collect", TestErrorPathsKeepSecrets)
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, _ := sel.X.(*ast.Ident)
			if pkg == nil || !(pkg.Name == "fmt" && sel.Sel.Name == "Errorf" || pkg.Name == "errors" && sel.Sel.Name == "New" ||
				pkg.Name == "fmt" && sel.Sel.Name == "Sprintf") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			format, _ := strconv.Unquote(lit.Value)
			if pkg.Name == "fmt" && sel.Sel.Name == "Sprintf" && !strings.Contains(format, "`") && !strings.Contains(format, "invalid config") && !strings.Contains(format, "set //HOST") {
				return true // not a message
			}
			longest := ""
			for _, part := range verb.Split(format, -1) {
				if len(part) > len(longest) {
					longest = part
				}
			}
			if strings.TrimSpace(strings.Trim(longest, ":() ")) == "" {
				return true
			}
			checked++
			for _, m := range errorMessages {
				if strings.Contains(m, longest) {
					return true
				}
			}
			switch longest {
			case "unexpected ", "unexpected token", "npmrc: a Secret cannot be decoded":
				return true // JSON decoding inside Parse, never returned
			}
			t.Errorf("%s: no test produced the message %q", fset.Position(lit.Pos()), format)
			return true
		})
	}
	if checked < 8 {
		t.Errorf("found only %d error messages in the source; is the scan broken?", checked)
	}
	if !errors.Is(&AuthConfigError{}, ErrInvalidAuth) {
		t.Error("AuthConfigError must match ErrInvalidAuth")
	}
}
