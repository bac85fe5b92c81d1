package release

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	bsd := "Redistribution and use in source and binary forms, with or without\nmodification, are permitted provided that the following conditions are met:\n"
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"                                 Apache License\n                           Version 2.0, January 2004\n", []string{"Apache-2.0"}},
		{`Licensed under the Apache License, Version 2.0 (the "License");`, []string{"Apache-2.0"}},
		{"Permission is hereby granted, free of charge, to any person obtaining a copy\nof this software", []string{"MIT"}},
		{bsd, []string{"BSD-2-Clause"}},
		{bsd + "Neither the name of Google Inc. nor the names of its\ncontributors may be used to endorse or promote products derived from", []string{"BSD-3-Clause"}},
		{"Permission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee is hereby granted", []string{"ISC"}},
		{"Mozilla Public License, version 2.0\n\n1.12. \"Secondary License\" means either the GNU General Public License, Version 2.0, the GNU Lesser General Public License", []string{"MPL-2.0"}},
		{"                    GNU GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007", []string{"GPL/LGPL/AGPL"}},
		{"Permission is hereby granted, free of charge, to any person obtaining a copy\n... or, at your option, the GNU General Public License", []string{"GPL/LGPL/AGPL", "MIT"}},
		{"Attribution-ShareAlike 4.0 International\n\nCreative Commons Corporation", []string{"CC"}},
		{"All rights reserved.", nil},
	} {
		if got := Classify([]byte(tc.text)); !slices.Equal(got, tc.want) {
			t.Errorf("Classify(%.40q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestCheckLicenses(t *testing.T) {
	ok := Module{Path: "example.com/ok", Files: []LicenseFile{{Name: "LICENSE", Licenses: []string{"MIT"}}, {Name: "NOTICE", Notice: true}}}
	if err := CheckLicenses([]Module{ok}); err != nil {
		t.Errorf("an MIT module: %v", err)
	}
	for _, bad := range []Module{
		{Path: "example.com/gpl", Files: []LicenseFile{{Name: "COPYING", Licenses: []string{"GPL/LGPL/AGPL"}}}},
		{Path: "example.com/dual", Files: []LicenseFile{{Name: "LICENSE", Licenses: []string{"GPL/LGPL/AGPL", "MIT"}}}},
		{Path: "example.com/unknown", Files: []LicenseFile{{Name: "LICENSE"}}},
		{Path: "example.com/none"},
		{Path: "example.com/notice-only", Files: []LicenseFile{{Name: "NOTICE", Notice: true}}},
		{Path: "example.com/nested", Files: []LicenseFile{{Name: "LICENSE", Licenses: []string{"MIT"}}, {Name: "sub/LICENSE", Licenses: []string{"BUSL"}}}},
	} {
		err := CheckLicenses([]Module{ok, bad})
		if err == nil || !strings.Contains(err.Error(), bad.Path) || strings.Contains(err.Error(), ok.Path+":") {
			t.Errorf("%s: %v, want a refusal naming only it", bad.Path, err)
		}
	}
}

func TestLicenseFilesWalkUpToTheModuleRoot(t *testing.T) {
	root := t.TempDir()
	for name, text := range map[string]string{
		"LICENSE":              "Permission is hereby granted, free of charge, to any person obtaining a copy",
		"NOTICE":               "Copyright Example",
		"license.go":           "package x // not a license",
		"a/b/LICENSE.txt":      "Licensed under the Apache License, Version 2.0",
		"a/b/c.go":             "package b",
		"unlinked/COPYING":     "GNU GENERAL PUBLIC LICENSE",
		"a/b/PATENTS":          "Additional IP Rights Grant (Patents)",
		"a/b/LICENSE.docs/x":   "a folder named like a license",
		"a/LICENSE-THIRDPARTY": "Redistribution and use in source and binary forms, with or without modification, are permitted",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := licenseFiles("example.com/m", root, []string{filepath.Join(root, "a", "b")}, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Name+"="+strings.Join(f.Licenses, "+"))
	}
	want := []string{"LICENSE=MIT", "NOTICE=", "a/LICENSE-THIRDPARTY=BSD-2-Clause", "a/b/LICENSE.txt=Apache-2.0", "a/b/PATENTS="}
	if !slices.Equal(got, want) {
		t.Errorf("license files %v, want %v", got, want)
	}
}

// TestLinkedLicenses lists what every release binary links and requires
// each license file to name only allowed licenses, and release/LICENSES.md
// to be current.
func TestLinkedLicenses(t *testing.T) {
	root := filepath.Join("..", "..")
	mods, err := LinkedModules(t.Context(), ListOptions{Source: root, Env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 2 || mods[0].Path != StdModule {
		t.Fatalf("LinkedModules = %d modules, the standard library first expected", len(mods))
	}
	if err := CheckLicenses(mods); err != nil {
		t.Fatal(err)
	}
	got := Report(mods)
	want, err := os.ReadFile(filepath.Join(root, "release", "LICENSES.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("release/LICENSES.md is out of date; run make release-licenses and review the change. It should be:\n%s", got)
	}
}
