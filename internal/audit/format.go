package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes one finding a line, as compilers do
// (path:line:col: severity[rule]: message), each followed by an indented
// hint line. Ignored findings are left out.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		where := ""
		switch {
		case f.Job != "" && f.Step != "":
			where = fmt.Sprintf("job %s, step %q: ", f.Job, f.Step)
		case f.Job != "":
			where = fmt.Sprintf("job %s: ", f.Job)
		case f.Step != "":
			where = fmt.Sprintf("step %q: ", f.Step)
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s[%s]: %s%s\n", f.Path, f.Line, f.Column, f.Severity, f.Rule, where, f.Message)
		if f.Hint != "" {
			fmt.Fprintf(&b, "    hint: %s\n", f.Hint)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Path     string `json:"path"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Job      string `json:"job"`
	Step     string `json:"step"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	Reason   string `json:"reason,omitempty"`
}

func toJSON(fs []Finding) []jsonFinding {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		out = append(out, jsonFinding{Rule: f.Rule, Severity: f.Severity.String(), Path: f.Path, Line: f.Line, Column: f.Column,
			Job: f.Job, Step: f.Step, Message: f.Message, Hint: f.Hint, Reason: f.Reason})
	}
	return out
}

// WriteJSON writes the report as one JSON object: findings, ignored
// (with the reason each ignore comment gave) and the files read.
func WriteJSON(w io.Writer, r *Report) error {
	files := r.Files
	if files == nil {
		files = []string{}
	}
	out, err := json.MarshalIndent(struct {
		Findings []jsonFinding `json:"findings"`
		Ignored  []jsonFinding `json:"ignored"`
		Files    []string      `json:"files"`
	}{toJSON(r.Findings), toJSON(r.Ignored), files}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// SARIF 2.1.0, as GitHub code scanning reads it.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// securitySeverity is what GitHub ranks alerts by (CVSS-like, 0 to 10).
var securitySeverity = map[Severity]string{High: "8.0", Medium: "5.0", Low: "2.0"}

func level(s Severity) string {
	switch s {
	case High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the report as a SARIF 2.1.0 log for GitHub code
// scanning. Paths are relative to the audited folder (%SRCROOT%); an
// ignored finding is a result with an in-source suppression.
func WriteSARIF(w io.Writer, r *Report, toolVersion string) error {
	index := map[string]int{}
	worst := map[string]Severity{}
	for _, f := range append(append([]Finding(nil), r.Findings...), r.Ignored...) {
		if f.Severity > worst[f.Rule] {
			worst[f.Rule] = f.Severity
		}
	}
	driver := sarifDriver{Name: "airlock audit", InformationURI: "https://github.com/airlockdev/airlock", Version: toolVersion}
	for i, rule := range ruleList {
		index[rule.ID] = i
		sev := worst[rule.ID]
		if sev == 0 {
			sev = High
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: rule.ID, Name: rule.ID,
			ShortDescription: sarifText{rule.Title}, FullDescription: sarifText{rule.Why},
			Help:       sarifText{rule.Why},
			Properties: map[string]any{"tags": []string{"security", "ci"}, "security-severity": securitySeverity[sev]},
		})
	}
	results := []sarifResult{}
	add := func(f Finding, suppressed bool) {
		line, col := f.Line, f.Column
		if line < 1 {
			line = 1
		}
		if col < 1 {
			col = 1
		}
		text := f.Message
		if f.Hint != "" {
			text += ". Fix: " + f.Hint
		}
		res := sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: level(f.Severity), Message: sarifText{text},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: f.Path, URIBaseID: "%SRCROOT%"},
				Region:           sarifRegion{StartLine: line, StartColumn: col},
			}}}}
		if suppressed {
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Reason}}
		}
		results = append(results, res)
	}
	for _, f := range r.Findings {
		add(f, false)
	}
	for _, f := range r.Ignored {
		add(f, true)
	}
	out, err := json.MarshalIndent(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}
