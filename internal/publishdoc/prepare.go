package publishdoc

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// prepare applies @npmcli/package-json's prepare() to data, as pacote
// does when it reads a tarball's package.json for npm publish: first the
// steps that look at the package's files, then the synchronous ones,
// ending with normalizeData.
func prepare(data *object, fsys fs.FS) error {
	if err := prepareFiles(data, fsys); err != nil {
		return err
	}
	return prepareData(data)
}

// prepareFiles runs the steps that read the package's files. Its errors
// stand for the places where npm's JavaScript throws.
func prepareFiles(data *object, fsys fs.FS) error {
	scripts := data.get("scripts")
	if !truthy(scripts) {
		scripts = newObject()
	}
	// A scripts value that is not an object ignores the assignment, as a
	// JavaScript primitive does, but is still written back.
	setScript := func(name, value string) {
		if o, ok := scripts.(*object); ok {
			o.set(name, value)
		}
		data.set("scripts", scripts)
	}

	// gypfile
	if !truthy(get(scripts, "install")) && !truthy(get(scripts, "preinstall")) && data.get("gypfile") != false {
		if len(globRoot(fsys, func(name string) bool {
			return strings.HasSuffix(name, ".gyp") && !strings.HasPrefix(name, ".")
		})) > 0 {
			setScript("install", "node-gyp rebuild")
			data.set("gypfile", true)
		}
	}

	// serverjs
	if !truthy(get(scripts, "start")) && exists(fsys, "server.js") {
		setScript("start", "node server.js")
	}

	// authors
	if !truthy(data.get("contributors")) {
		if b, err := readFile(fsys, "AUTHORS"); err == nil {
			authors := []any{}
			for _, line := range authorsLineSplit.Split(decodeUTF8(b), -1) {
				line = jsvalue.Trim(authorsComment.ReplaceAllString(line, ""))
				if line != "" {
					authors = append(authors, line)
				}
			}
			data.set("contributors", authors)
		}
	}

	// readme
	if !truthy(data.get("readme")) {
		readmeFile := ""
		for _, e := range globRootEntries(fsys, isReadmeName) {
			if e.IsDir() {
				continue
			}
			if markdownExt.MatchString(e.Name()) {
				readmeFile = e.Name()
				break
			}
			if strings.HasSuffix(e.Name(), "README") {
				readmeFile = e.Name()
			}
		}
		if readmeFile != "" {
			b, err := readFile(fsys, readmeFile)
			if err != nil {
				return fmt.Errorf("reading %s: %w", readmeFile, err)
			}
			data.set("readme", decodeUTF8(b))
			data.set("readmeFilename", readmeFile)
		}
		if !truthy(data.get("readme")) {
			data.set("readme", noReadme)
		}
	}

	// mans
	if man := get(data.get("directories"), "man"); truthy(man) && !truthy(data.get("man")) {
		s, ok := man.(string)
		if !ok {
			return fmt.Errorf(`"directories.man" must be a string, found %s`, describe(man))
		}
		manDir := secureAndUnixifyPath(s)
		mans := []any{}
		for _, f := range globWalk(fsys, manDir, isManName) {
			mans = append(mans, nodeJoin(manDir, f))
		}
		data.set("man", mans)
	}
	normalizeMan(data)

	// binDir, or else bin
	if binDir := get(data.get("directories"), "bin"); truthy(binDir) && !truthy(data.get("bin")) {
		s, ok := binDir.(string)
		if !ok {
			return fmt.Errorf(`"directories.bin" must be a string, found %s`, describe(binDir))
		}
		binPath := secureAndUnixifyPath(s)
		bins := newObject()
		for _, f := range globWalk(fsys, binPath, func(string) bool { return true }) {
			bins.set(nodeBasename(f, ""), binPath+"/"+secureAndUnixifyPath(f))
		}
		data.set("bin", bins)
	} else if err := normalizeBin(data); err != nil {
		return err
	}

	// gitHead, from a .git folder shipped in the package
	if !truthy(data.get("gitHead")) {
		if head := gitHead(fsys); head != "" {
			data.set("gitHead", head)
		}
	}

	// fillTypes
	index := data.get("main")
	if !truthy(index) {
		index = "index.js"
	}
	indexStr, ok := index.(string)
	if !ok {
		return fmt.Errorf(`"main" must be a string, found %s`, describe(index))
	}
	extless := nodeJoin(nodeDirname(indexStr), nodeBasename(indexStr, nodeExtname(indexStr)))
	dts := "./" + extless + ".d.ts"
	if !data.has("types") && !data.has("typings") && exists(fsys, dts) {
		data.set("types", dts)
	}
	return nil
}

const noReadme = "ERROR: No README data found!"

var (
	authorsLineSplit = regexp.MustCompile(`\r?\n`)
	authorsComment   = regexp.MustCompile(`^[` + jsSpace + `]*#[^\n\r\x{2028}\x{2029}]*$`)
	markdownExt      = regexp.MustCompile(`\.[mM]?[aA]?[rR]?[kK]?[dD]?[oO]?[wW]?[nN]?$`)
)

// isReadmeName matches glob's {README,README.*} with nocase, which
// folds ASCII letters only.
func isReadmeName(name string) bool {
	l := asciiLower(name)
	return l == "readme" || strings.HasPrefix(l, "readme.")
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isManName matches glob's *.[0-9]: no leading dot.
func isManName(name string) bool {
	n := len(name)
	return n >= 3 && name[0] != '.' && name[n-2] == '.' && name[n-1] >= '0' && name[n-1] <= '9'
}

func normalizeMan(data *object) {
	man := data.get("man")
	if truthy(man) {
		list, ok := man.([]any)
		if !ok {
			list = []any{man}
		}
		mans := []any{}
		for _, m := range list {
			if s, ok := m.(string); ok {
				mans = append(mans, secureAndUnixifyPath(s))
			}
		}
		if len(mans) > 0 {
			data.set("man", mans)
			return
		}
	}
	data.del("man")
}

// normalizeBin is the old npm-normalize-package-bin.
func normalizeBin(data *object) error {
	bin := data.get("bin")
	if !truthy(bin) {
		data.del("bin")
		return nil
	}
	name := data.get("name")
	switch b := bin.(type) {
	case string:
		if truthy(name) {
			o := newObject()
			o.set(jsString(name), b)
			bin = o
			data.set("bin", o)
		}
	case []any:
		o := newObject()
		for _, k := range b {
			s, ok := k.(string)
			if !ok {
				return fmt.Errorf(`"bin" entries must be strings, found %s`, describe(k))
			}
			o.set(nodeBasename(s, ""), k)
		}
		bin = o
		data.set("bin", o)
	}
	o, ok := bin.(*object)
	if !ok {
		data.del("bin")
		return nil
	}
	// for...in visits the keys present when it starts, skipping deleted ones.
	for _, k := range o.keys() {
		if !o.has(k) {
			continue
		}
		target, ok := o.get(k).(string)
		if !ok {
			o.del(k)
			continue
		}
		base := nodeBasename(secureAndUnixifyPath(k), "")
		if base == "" {
			o.del(k)
			continue
		}
		binTarget := secureAndUnixifyPath(target)
		if binTarget == "" {
			o.del(k)
			continue
		}
		if base != k {
			o.del(k)
		}
		o.set(base, binTarget)
	}
	if len(o.keys()) == 0 {
		data.del("bin")
	}
	return nil
}

var scriptBinPrefix = regexp.MustCompile(`^(\.[/\\])?node_modules[/\\][^\n\r\x{2028}\x{2029}]bin[\\/]`)

func prepareData(data *object) error {
	// _id is built from name and version as they were before cleaning;
	// libnpmpublish sets it again from the cleaned ones.
	pkgID := nullish(data.get("name")) + "@" + nullish(data.get("version"))

	// name and version
	name := data.get("name")
	if !truthy(name) {
		data.set("name", "")
	} else {
		s, ok := name.(string)
		if !ok {
			return errors.New("name field must be a string")
		}
		if t := jsvalue.Trim(s); t != s {
			data.set("name", t)
		}
		if err := checkName(data.get("name").(string)); err != nil {
			return err
		}
	}
	version := data.get("version")
	if !truthy(version) {
		data.set("version", "")
	} else {
		s, ok := version.(string)
		if !ok {
			return fmt.Errorf("invalid version: %s", describe(version))
		}
		if _, ok := semverParse(s, true); !ok {
			return fmt.Errorf("invalid version: %q", s)
		}
		if clean, ok := semverClean(s, true); !ok {
			data.set("version", nil)
		} else if clean != s {
			data.set("version", clean)
		}
	}

	// _attributes, _id
	for _, k := range data.keys() {
		if strings.HasPrefix(k, "_") {
			data.del(k)
		}
	}
	if truthy(data.get("name")) && truthy(data.get("version")) {
		data.set("_id", pkgID)
	}

	// bundledDependencies, bundleDependencies (false deleted)
	if data.get("bundleDependencies") == undefined && data.get("bundledDependencies") != undefined {
		data.set("bundleDependencies", data.get("bundledDependencies"))
	}
	data.del("bundledDependencies")
	switch bd := data.get("bundleDependencies"); {
	case bd == true:
		deps := data.get("dependencies")
		if !truthy(deps) {
			deps = newObject()
		}
		data.set("bundleDependencies", stringsToAny(objectKeys(deps)))
	case isObjectLike(bd):
		if _, isArray := bd.([]any); !isArray {
			data.set("bundleDependencies", stringsToAny(objectKeys(bd)))
		}
	case data.has("bundleDependencies"):
		data.del("bundleDependencies")
	}

	// scriptpath
	if scripts := data.get("scripts"); scripts != undefined {
		switch s := scripts.(type) {
		case nil:
		case *object:
			for _, k := range s.keys() {
				v, ok := s.get(k).(string)
				if !ok {
					s.del(k)
				} else if scriptBinPrefix.MatchString(v) {
					s.set(k, scriptBinPrefix.ReplaceAllString(v, ""))
				}
			}
		case []any:
			for i, v := range s {
				str, ok := v.(string)
				if !ok {
					s[i] = undefined
				} else if scriptBinPrefix.MatchString(str) {
					s[i] = scriptBinPrefix.ReplaceAllString(str, "")
				}
			}
		default:
			data.del("scripts")
		}
	}

	if err := fixRepository(data); err != nil {
		return err
	}
	if err := fixDependencies(data); err != nil {
		return err
	}
	return normalizeData(data)
}

// checkName is the name check of package-json's non-strict
// normalization.
func checkName(name string) error {
	lower := strings.ToLower(name)
	if strings.HasPrefix(name, ".") || !(isValidScopedName(name) || isCorrectlyEncodedName(name)) ||
		lower == "node_modules" || lower == "favicon.ico" {
		var w errWriter
		var b strings.Builder
		w.w = &b
		quote(&w, name)
		return fmt.Errorf("invalid name: %s", b.String())
	}
	return nil
}

var nameSpecial = regexp.MustCompile(`[/@` + jsSpace + `+%:]`)

func isCorrectlyEncodedName(spec string) bool {
	return !nameSpecial.MatchString(spec) && spec == encodeURIComponent(spec)
}

func isValidScopedName(spec string) bool {
	if !strings.HasPrefix(spec, "@") {
		return false
	}
	rest := strings.Split(spec[1:], "/")
	return len(rest) == 2 && rest[0] != "" && rest[1] != "" &&
		rest[0] == encodeURIComponent(rest[0]) && rest[1] == encodeURIComponent(rest[1])
}

// nullish is `${v ?? ”}`.
func nullish(v any) string {
	if v == nil || v == undefined {
		return ""
	}
	return jsString(v)
}

func isObjectLike(v any) bool {
	switch v.(type) {
	case *object, []any:
		return true
	}
	return false
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// describe names a value's JavaScript type for error messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "an array"
	case undefinedType:
		return "undefined"
	}
	return "an object"
}

// File lookups. npm reads the tarball extracted to a temporary folder;
// fsys stands for that folder.

// fsPath turns a path as Node would join it onto the package folder
// into an fs.FS name; ok is false for paths that leave the package.
func fsPath(p string) (string, bool) {
	n := strings.Trim(nodeNormalize(p), "/") // join(root, "/x/") is root/x
	switch {
	case n == "" || n == ".":
		return ".", true
	case n == ".." || strings.HasPrefix(n, "../"):
		return "", false
	}
	return n, fs.ValidPath(n)
}

func exists(fsys fs.FS, p string) bool {
	if fsys == nil {
		return false
	}
	name, ok := fsPath(p)
	if !ok {
		return false
	}
	_, err := fs.Stat(fsys, name)
	return err == nil
}

func readFile(fsys fs.FS, p string) ([]byte, error) {
	if fsys == nil {
		return nil, fs.ErrNotExist
	}
	name, ok := fsPath(p)
	if !ok {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(fsys, name)
}

// Glob order: libuv's scandir sorts a folder's entries in byte order,
// and glob 13 emits them in reverse, walking subfolders breadth first in
// that same order. npm's readme choice, man list and bin keys follow it.

func globRootEntries(fsys fs.FS, match func(string) bool) []fs.DirEntry {
	if fsys == nil {
		return nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil
	}
	var out []fs.DirEntry
	for _, e := range slices.Backward(entries) {
		if match(e.Name()) {
			out = append(out, e)
		}
	}
	return out
}

func globRoot(fsys fs.FS, match func(string) bool) []string {
	var names []string
	for _, e := range globRootEntries(fsys, match) {
		names = append(names, e.Name())
	}
	return names
}

// globWalk lists the files and folders under dir whose names match, as
// glob("**" or "**/pattern", {cwd: dir}) does: dot names are skipped and
// not descended into, paths are relative to dir.
func globWalk(fsys fs.FS, dir string, match func(string) bool) []string {
	if fsys == nil {
		return nil
	}
	root, ok := fsPath(dir)
	if !ok {
		return nil
	}
	var out []string
	queue := []string{root}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		entries, err := fs.ReadDir(fsys, d)
		if err != nil {
			continue
		}
		for _, e := range slices.Backward(entries) {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := path.Join(d, e.Name())
			rel := p
			if root != "." {
				rel = strings.TrimPrefix(p, root+"/")
			}
			if match(e.Name()) {
				out = append(out, rel)
			}
			if e.IsDir() {
				queue = append(queue, p)
			}
		}
	}
	return out
}

var gitRefLine = regexp.MustCompile(`^([0-9a-f]{40}) (.+)$`)

// gitHead reads HEAD from a .git folder at the package root, as
// package-json's gitHead step does when it finds one there.
func gitHead(fsys fs.FS) string {
	if !exists(fsys, ".git") {
		return ""
	}
	b, err := readFile(fsys, ".git/HEAD")
	if err != nil {
		return ""
	}
	head := decodeUTF8(b)
	if head == "" {
		return ""
	}
	if !strings.HasPrefix(head, "ref: ") {
		return jsvalue.Trim(head)
	}
	headRef := jsvalue.Trim(strings.TrimPrefix(head, "ref: "))
	// An absolute ref, or one leaving the package, points outside what
	// the tarball holds.
	if refPath := nodeNormalize(".git/" + headRef); !strings.HasPrefix(headRef, "/") && !strings.HasPrefix(refPath, "../") {
		if b, err := readFile(fsys, refPath); err == nil {
			if s := jsvalue.Trim(strings.TrimPrefix(decodeUTF8(b), "ref: ")); s != "" {
				return s
			}
		}
	}
	b, err = readFile(fsys, ".git/packed-refs")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(decodeUTF8(b), "\n") {
		if m := gitRefLine.FindStringSubmatch(line); m != nil && jsvalue.Trim(m[2]) == headRef {
			return m[1]
		}
	}
	return ""
}
