// Package termlog renders log records for people reading a terminal:
// warnings as "airlock: warning: …" sentences and, with --verbose, one
// readable line per step, instead of slog's key=value records. Structured
// records stay available through slog's JSON handler (--log-format json).
package termlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Handler writes records as sentences. Attributes follow the message in
// parentheses, as "name value" pairs, with durations rounded for reading.
type Handler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	prefix string
	attrs  []slog.Attr
	group  string
}

// New returns a handler writing records at level or above to w, each
// line starting with prefix (the tool's name).
func New(w io.Writer, prefix string, level slog.Leveler) *Handler {
	return &Handler{mu: new(sync.Mutex), w: w, level: level, prefix: prefix}
}

// Enabled reports whether records at l are written.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes one record as one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.prefix)
	b.WriteString(": ")
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	var parts []string
	for _, a := range h.attrs {
		parts = appendAttr(parts, h.group, a)
	}
	r.Attrs(func(a slog.Attr) bool {
		parts = appendAttr(parts, h.group, a)
		return true
	})
	if len(parts) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(parts, ", "))
		b.WriteString(")")
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func appendAttr(parts []string, group string, a slog.Attr) []string {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return parts
	}
	name := a.Key
	if group != "" {
		name = group + "." + name
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			parts = appendAttr(parts, name, g)
		}
		return parts
	}
	return append(parts, name+" "+value(a.Value))
}

func value(v slog.Value) string {
	switch v.Kind() {
	case slog.KindDuration:
		d := v.Duration()
		switch {
		case d >= time.Second:
			return d.Round(10 * time.Millisecond).String()
		case d >= time.Millisecond:
			return d.Round(100 * time.Microsecond).String()
		}
		return d.String()
	case slog.KindString:
		s := v.String()
		if s == "" || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) || r == ',' || r == ')' }) >= 0 {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	return v.String()
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup returns a handler that qualifies later attributes with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
