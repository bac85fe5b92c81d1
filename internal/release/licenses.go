package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// NoticesFile is the name, in each archive, of the license and notice
// files of everything linked into that binary, verbatim.
const NoticesFile = "THIRD_PARTY_LICENSES.txt"

// AllowedLicenses are the licenses a linked module may have. All are
// permissive and compatible with distributing airlock under Apache-2.0.
// Their conditions for a binary distribution are met by the archives:
// MIT, BSD and ISC want the copyright notice and license text with the
// binary, Apache-2.0 also the NOTICE files (NoticesFile carries both),
// and MPL-2.0, a file-level copyleft, wants recipients told where the
// source of the (unmodified) MPL files is (NoticesFile names each module
// and version, whose source the Go module proxy serves). GPL, LGPL, AGPL
// and source-available licenses are not listed: they would put conditions
// on airlock itself.
var AllowedLicenses = []string{"Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MIT", "MPL-2.0"}

// ignoredFiles are license files found beside linked code that do not
// cover it, with the reason.
var ignoredFiles = map[string]string{
	"github.com/opencontainers/go-digest/LICENSE.docs": "CC-BY-SA for the module's README.md and CONTRIBUTING.md (its README says so), not for the Go code",
}

// StdModule is the Path of the Module standing for Go's standard library
// and runtime, which every binary links.
const StdModule = "std"

// Module is a module linked into airlock for some targets, with the
// license and notice files found in the folders of its linked packages
// and their parents up to the module root.
type Module struct {
	Path     string
	Version  string
	Dir      string
	Targets  []Target // the targets whose binary links it
	Files    []LicenseFile
	Licenses []string // the licenses the files name, sorted
}

// LicenseFile is one license or notice file of a module.
type LicenseFile struct {
	Name     string   // slash-separated, relative to the module root
	Notice   bool     // a NOTICE or PATENTS file: carried along, not classified
	Licenses []string // for a license file: what Classify found in it
	Data     []byte
}

// ListOptions says which binaries LinkedModules looks into.
type ListOptions struct {
	Source  string
	Env     []string
	Go      string
	Targets []Target // default: all of Targets
}

// LinkedModules lists the modules linked into ./cmd/airlock for the
// targets, sorted by path, the standard library first.
func LinkedModules(ctx context.Context, opts ListOptions) ([]Module, error) {
	if opts.Go == "" {
		opts.Go = "go"
	}
	targets := opts.Targets
	if len(targets) == 0 {
		targets = Targets
	}
	type pkgModule struct {
		Path    string
		Version string
		Dir     string
		Main    bool
		Replace *pkgModule
	}
	type pkg struct {
		ImportPath string
		Dir        string
		Standard   bool
		Module     *pkgModule
	}
	mods := map[string]*Module{}
	dirs := map[string]map[string]bool{} // module path → linked package folders
	add := func(path, version, dir string, t Target) *Module {
		m := mods[path]
		if m == nil {
			m = &Module{Path: path, Version: version, Dir: dir}
			mods[path] = m
			dirs[path] = map[string]bool{}
		}
		if !slices.Contains(m.Targets, t) {
			m.Targets = append(m.Targets, t)
		}
		return m
	}
	for _, t := range targets {
		env := buildEnv(opts.Env, t)
		out, err := runGo(ctx, opts.Go, opts.Source, env, "list", "-mod=readonly", "-deps", "-json=ImportPath,Dir,Standard,Module", "./cmd/airlock")
		if err != nil {
			return nil, err
		}
		std := false
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var p pkg
			if err := dec.Decode(&p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("reading go list's output: %w", err)
			}
			if p.Standard {
				std = true
				continue
			}
			if p.Module == nil {
				return nil, fmt.Errorf("package %s belongs to no module", p.ImportPath)
			}
			if p.Module.Main {
				continue
			}
			mod := p.Module
			if mod.Replace != nil {
				mod = mod.Replace
			}
			if mod.Dir == "" {
				return nil, fmt.Errorf("module %s of package %s is not downloaded", mod.Path, p.ImportPath)
			}
			add(mod.Path, mod.Version, mod.Dir, t)
			dirs[mod.Path][p.Dir] = true
		}
		if std {
			out, err := runGo(ctx, opts.Go, opts.Source, env, "env", "GOROOT", "GOVERSION")
			if err != nil {
				return nil, err
			}
			f := strings.Fields(string(out))
			if len(f) != 2 {
				return nil, fmt.Errorf("go env GOROOT GOVERSION printed %q", out)
			}
			add(StdModule, f[1], f[0], t)
		}
	}
	var list []Module
	for _, path := range sortedKeys(mods) {
		m := mods[path]
		var err error
		if path == StdModule {
			m.Files, err = licenseFiles(m.Path, m.Dir, []string{m.Dir}, false)
		} else {
			m.Files, err = licenseFiles(m.Path, m.Dir, sortedKeys(dirs[path]), true)
		}
		if err != nil {
			return nil, err
		}
		for _, f := range m.Files {
			for _, l := range f.Licenses {
				if !slices.Contains(m.Licenses, l) {
					m.Licenses = append(m.Licenses, l)
				}
			}
		}
		slices.Sort(m.Licenses)
		list = append(list, *m)
	}
	slices.SortStableFunc(list, func(a, b Module) int {
		switch {
		case a.Path == StdModule:
			return -1
		case b.Path == StdModule:
			return 1
		}
		return strings.Compare(a.Path, b.Path)
	})
	return list, nil
}

var (
	licenseNameRE = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)([-_.][a-z0-9._-]*)?$`)
	noticeNameRE  = regexp.MustCompile(`(?i)^(notice|patents)([-_.][a-z0-9._-]*)?$`)
)

// licenseFiles finds the license and notice files in each of pkgDirs and,
// when walkUp, their parents up to root.
func licenseFiles(modPath, root string, pkgDirs []string, walkUp bool) ([]LicenseFile, error) {
	seen := map[string]bool{}
	var files []LicenseFile
	for _, dir := range pkgDirs {
		for {
			rel, err := filepath.Rel(root, dir)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return nil, fmt.Errorf("package folder %s is outside module %s at %s", dir, modPath, root)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				name := e.Name()
				lic, notice := licenseNameRE.MatchString(name), noticeNameRE.MatchString(name)
				if !e.Type().IsRegular() || strings.HasSuffix(strings.ToLower(name), ".go") || !(lic || notice) {
					continue
				}
				relName := filepath.ToSlash(filepath.Join(rel, name))
				if seen[relName] {
					continue
				}
				seen[relName] = true
				if _, ok := ignoredFiles[modPath+"/"+relName]; ok {
					continue
				}
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					return nil, err
				}
				f := LicenseFile{Name: relName, Notice: notice && !lic, Data: data}
				if !f.Notice {
					f.Licenses = Classify(data)
				}
				files = append(files, f)
			}
			if !walkUp || rel == "." {
				break
			}
			dir = filepath.Dir(dir)
		}
	}
	slices.SortFunc(files, func(a, b LicenseFile) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// Each license is recognised by a sentence of its text (or of its
// standard header), compared after lower-casing and folding punctuation
// and white space.
var licenseMarkers = []struct{ id, marker string }{
	{"Apache-2.0", "apache license version 2 0"},
	{"MIT", "permission is hereby granted free of charge to any person obtaining a copy"},
	{"ISC", "permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted"},
	{"MPL-2.0", "mozilla public license version 2 0"},
	{"BSD", "redistribution and use in source and binary forms with or without modification are permitted"},
	// Not allowed, but named so that the failure says what was found.
	{"GPL/LGPL/AGPL", "gnu general public license"},
	{"GPL/LGPL/AGPL", "gnu lesser general public license"},
	{"GPL/LGPL/AGPL", "gnu affero general public license"},
	{"BUSL", "business source license"},
	{"SSPL", "server side public license"},
	{"CC", "creative commons"},
}

var foldRE = regexp.MustCompile(`[^a-z0-9]+`)

func fold(s string) string {
	return " " + strings.TrimSpace(foldRE.ReplaceAllString(strings.ToLower(s), " ")) + " "
}

// Classify names the licenses whose text (or standard header) is in a
// license file: SPDX identifiers of the recognised ones, or a short name
// of a recognised license that is not allowed. A BSD text is BSD-3-Clause
// when it has the non-endorsement clause, else BSD-2-Clause. The MPL-2.0
// text names the GPL family (as "Secondary Licenses"); in it they do not
// count.
func Classify(text []byte) []string {
	t := fold(string(text))
	var ids []string
	for _, m := range licenseMarkers {
		if !strings.Contains(t, " "+m.marker+" ") {
			continue
		}
		id := m.id
		if id == "BSD" {
			id = "BSD-2-Clause"
			if strings.Contains(t, " endorse or promote products ") {
				id = "BSD-3-Clause"
			}
		}
		if id == "GPL/LGPL/AGPL" && slices.Contains(ids, "MPL-2.0") {
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// CheckLicenses fails unless every module has a license file and every
// license file names only AllowedLicenses.
func CheckLicenses(mods []Module) error {
	var bad []string
	for _, m := range mods {
		n := 0
		for _, f := range m.Files {
			if f.Notice {
				continue
			}
			n++
			if len(f.Licenses) == 0 {
				bad = append(bad, fmt.Sprintf("%s: %s names no license airlock recognises", m.Path, f.Name))
			}
			for _, l := range f.Licenses {
				if !slices.Contains(AllowedLicenses, l) {
					bad = append(bad, fmt.Sprintf("%s: %s is %s, which is not allowed", m.Path, f.Name, l))
				}
			}
		}
		if n == 0 {
			bad = append(bad, m.Path+": no license file")
		}
	}
	if len(bad) > 0 {
		return hint.With(fmt.Errorf("linked modules without an allowed license (allowed: %s):\n  %s", strings.Join(AllowedLicenses, ", "), strings.Join(bad, "\n  ")),
			"read the license; drop the dependency, or, if it allows distributing airlock under Apache-2.0, add it to AllowedLicenses (or ignoredFiles) in internal/release/licenses.go and say why")
	}
	return nil
}

// Notices is the text of NoticesFile: every module's license and notice
// files, verbatim, under a header naming the module and version.
func Notices(mods []Module) []byte {
	var b bytes.Buffer
	b.WriteString("airlock is licensed under the Apache License 2.0 (LICENSE). Its binary\n" +
		"links the Go standard library and the Go modules below, whose license and\n" +
		"notice files follow, verbatim. The source code of each module is\n" +
		"available at the version given, for example with\n" +
		"`go mod download -json <module>@<version>`.\n")
	rule := strings.Repeat("=", 78)
	for _, m := range mods {
		name := m.Path
		if m.Path == StdModule {
			name = "Go standard library and runtime"
		}
		fmt.Fprintf(&b, "\n%s\n%s %s (%s)\n%s\n", rule, name, m.Version, strings.Join(m.Licenses, " AND "), rule)
		for _, f := range m.Files {
			fmt.Fprintf(&b, "\n--- %s\n\n", f.Name)
			b.Write(bytes.TrimRight(f.Data, "\n"))
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// Report is release/LICENSES.md: each linked module and its licenses,
// without versions, so that it changes when a module comes, goes or
// changes license, not at every upgrade.
func Report(mods []Module) []byte {
	var b bytes.Buffer
	b.WriteString(`# Licenses of what airlock links

Written by ` + "`make release-licenses`" + ` (internal/release); ` + "`go test ./internal/release`" + ` fails when it
is out of date, or when a module linked into any release binary has a license file that names
no license or one outside the allow-list: ` + strings.Join(AllowedLicenses, ", ") + `.
Why these, and what each asks of a binary distribution, is said at ` + "`AllowedLicenses`" + ` in
internal/release/licenses.go. Every release archive carries ` + "`" + NoticesFile + "`" + `: the files
listed here, verbatim, with each module's version.

airlock itself is licensed under the Apache License 2.0 (LICENSE).

| module | license | files | linked for |
| --- | --- | --- | --- |
`)
	for _, m := range mods {
		name := m.Path
		if m.Path == StdModule {
			name = "Go standard library and runtime"
		}
		var files []string
		for _, f := range m.Files {
			files = append(files, f.Name)
		}
		targets := "all targets"
		if len(m.Targets) != len(Targets) {
			var ts []string
			for _, t := range m.Targets {
				ts = append(ts, t.String())
			}
			targets = strings.Join(ts, ", ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, strings.Join(m.Licenses, " AND "), strings.Join(files, ", "), targets)
	}
	if len(ignoredFiles) > 0 {
		b.WriteString("\nLicense files found beside linked code that do not cover it:\n\n")
		for _, k := range sortedKeys(ignoredFiles) {
			fmt.Fprintf(&b, "- %s: %s\n", k, ignoredFiles[k])
		}
	}
	return b.Bytes()
}
