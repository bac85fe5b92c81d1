package tardiff

import "github.com/airlockdev/airlock/internal/semver"

// versionStep says how new follows old: "backwards", "same", "skip" (a
// version in between was never made: 1.2.3 to 1.2.5 or 1.4.0) or ""
// for the next patch, minor or major version, or a prerelease of it.
func versionStep(old, new string) string {
	o, ok1 := semver.Parse(old)
	n, ok2 := semver.Parse(new)
	if !ok1 || !ok2 {
		return ""
	}
	switch c := n.Compare(o); {
	case c < 0:
		return "backwards"
	case c == 0:
		return "same"
	}
	if n.CompareCore(o) == 0 {
		return "" // a release or a later prerelease of the same version
	}
	next := []semver.Version{
		{Major: o.Major, Minor: o.Minor, Patch: o.Patch + 1},
		{Major: o.Major, Minor: o.Minor + 1},
		{Major: o.Major + 1},
	}
	for _, x := range next {
		if n.CompareCore(x) == 0 {
			return ""
		}
	}
	return "skip"
}
