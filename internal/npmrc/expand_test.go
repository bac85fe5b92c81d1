package npmrc

import (
	"reflect"
	"testing"
)

var expandEnv = map[string]string{"A": "a", "EMPTY": "", "WITH SPACE": "s", `B\`: "b"}

var expandCases = []struct {
	in, want string
	unset    []string
}{
	{"plain", "plain", nil},
	{"${A}", "a", nil},
	{"x${A}y${A}z", "xayaz", nil},
	{"${EMPTY}", "", nil},
	{"${MISSING}", "${MISSING}", []string{"MISSING"}},
	{"${MISSING?}", "", nil},
	{"${A?}", "a", nil},
	{"${EMPTY?}", "", nil},
	{`\${A}`, "${A}", nil},
	{`\\${A}`, `\a`, nil},
	{`\\\${A}`, `\${A}`, nil},
	{`\\\\${A}`, `\\a`, nil},
	{`\${MISSING}`, "${MISSING}", nil},
	{`\\${MISSING}`, `\${MISSING}`, []string{"MISSING"}},
	{`\${A?}`, "${A?}", nil},
	{"${}", "${}", nil},
	{"${A", "${A", nil},
	{"$A", "$A", nil},
	{"${A?B}", "${A?B}", nil},
	{"${A${A}}", "${Aa}", nil},
	{"${WITH SPACE}", "s", nil},
	{`${B\}`, "b", nil},
	{"${{A}}", "${{A}}", nil},
	{"$${A}", "$a", nil},
	{"${A}}", "a}", nil},
	{"${A??}", "${A??}", nil},
}

func TestExpand(t *testing.T) {
	for _, tc := range expandCases {
		got, unset := expand(tc.in, expandEnv)
		if got != tc.want || !reflect.DeepEqual(unset, tc.unset) {
			t.Errorf("expand(%q) = %q, unset %q; want %q, unset %q", tc.in, got, unset, tc.want, tc.unset)
		}
	}
}

func TestExpandMatchesNPM(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	for k, v := range expandEnv {
		env = append(env, k+"="+v)
	}
	var ins []string
	for _, tc := range expandCases {
		ins = append(ins, tc.in)
	}
	resp := askNPM(t, env, oracleRequest{Expand: ins})
	for i, in := range ins {
		if got, _ := expand(in, expandEnv); got != resp.Expand[i] {
			t.Errorf("expand(%q) = %q, npm's env-replace gives %q", in, got, resp.Expand[i])
		}
	}
}
