package npmrc

// typ is one alternative of an npm config type (nopt's type list).
type typ struct {
	kind typeKind
	lit  string // typeLiteral
}

type typeKind uint8

const (
	typeString typeKind = iota
	typeBool
	typeNumber
	typePath
	typeURL
	typeNull
	typeFalse
	typeArray
	typeLiteral
)

var (
	tString = typ{kind: typeString}
	tBool   = typ{kind: typeBool}
	tNumber = typ{kind: typeNumber}
	tPath   = typ{kind: typePath}
	tURL    = typ{kind: typeURL}
	tNull   = typ{kind: typeNull}
	tFalse  = typ{kind: typeFalse}
	tArray  = typ{kind: typeArray}
)

func lits(s ...string) []typ {
	out := make([]typ, len(s))
	for i, l := range s {
		out[i] = typ{kind: typeLiteral, lit: l}
	}
	return out
}

func types(t ...any) []typ {
	var out []typ
	for _, x := range t {
		switch x := x.(type) {
		case typ:
			out = append(out, x)
		case []typ:
			out = append(out, x...)
		}
	}
	return out
}

type definition struct {
	types     []typ
	dflt      Value
	exclusive []string
}

// definitions are npm 11's config definitions (types and defaults) for
// the keys that decide where and how a package is published. Other keys
// are read as npm reads keys it has no definition for. TestDefinitions
// checks this table against npm's own.
var definitions = map[string]definition{
	"_auth":                  {types: types(tNull, tString), dflt: null},
	"access":                 {types: types(tNull, lits("restricted", "public", "private")), dflt: null},
	"auth-type":              {types: lits("legacy", "web"), dflt: str("web")},
	"ca":                     {types: types(tNull, tString, tArray), dflt: null},
	"cafile":                 {types: types(tPath), dflt: null},
	"cache":                  {types: types(tPath), dflt: str("~/.npm")},
	"cert":                   {types: types(tNull, tString), dflt: null},
	"dry-run":                {types: types(tBool), dflt: boolean(false)},
	"fetch-retries":          {types: types(tNumber), dflt: number(2)},
	"fetch-retry-factor":     {types: types(tNumber), dflt: number(10)},
	"fetch-retry-maxtimeout": {types: types(tNumber), dflt: number(60000)},
	"fetch-retry-mintimeout": {types: types(tNumber), dflt: number(10000)},
	"fetch-timeout":          {types: types(tNumber), dflt: number(300000)},
	"force":                  {types: types(tBool), dflt: boolean(false)},
	"global":                 {types: types(tBool), dflt: boolean(false)},
	"globalconfig":           {types: types(tPath), dflt: str("")},
	"https-proxy":            {types: types(tNull, tURL), dflt: null},
	"ignore-scripts":         {types: types(tBool), dflt: boolean(false)},
	"json":                   {types: types(tBool), dflt: boolean(false)},
	"key":                    {types: types(tNull, tString), dflt: null},
	"location":               {types: lits("global", "user", "project"), dflt: str("user")},
	"loglevel":               {types: lits("silent", "error", "warn", "notice", "http", "info", "verbose", "silly"), dflt: str("notice")},
	"maxsockets":             {types: types(tNumber), dflt: number(15)},
	"noproxy":                {types: types(tString, tArray), dflt: str("")},
	"otp":                    {types: types(tNull, tString), dflt: null},
	"prefix":                 {types: types(tPath), dflt: str("")},
	"provenance":             {types: types(tBool), dflt: boolean(false), exclusive: []string{"provenance-file"}},
	"provenance-file":        {types: types(tPath), dflt: null, exclusive: []string{"provenance"}},
	"proxy":                  {types: types(tNull, tFalse, tURL), dflt: null},
	"registry":               {types: types(tURL), dflt: str(DefaultRegistry)},
	"replace-registry-host":  {types: types(lits("npmjs", "never", "always"), tString), dflt: str("npmjs")},
	"scope":                  {types: types(tString), dflt: str("")},
	"strict-ssl":             {types: types(tBool), dflt: boolean(true)},
	"tag":                    {types: types(tString), dflt: str("latest")},
	"user-agent":             {types: types(tString), dflt: str("npm/{npm-version} node/{node-version} {platform} {arch} workspaces/{workspaces} {ci}")},
	"userconfig":             {types: types(tPath), dflt: str("~/.npmrc")},
}

// DefaultRegistry is npm's default registry.
const DefaultRegistry = "https://registry.npmjs.org/"

func (d definition) has(k typeKind) bool {
	for _, t := range d.types {
		if t.kind == k {
			return true
		}
	}
	return false
}
