package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// runArgs runs the command with args and returns its exit status, stdout
// and stderr.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"unknown command", []string{"bogus"}},
		{"unknown demo flag", []string{"demo", "-nope"}},
		{"unknown flag without command", []string{"-nope"}},
		{"stray argument", []string{"demo", "extra"}},
		{"zero writers", []string{"demo", "-writers", "0"}},
		{"negative increments", []string{"-increments", "-1"}},
		{"long retry-after", []string{"demo", "-retry-after", "60"}},
		{"not a number", []string{"demo", "-writers", "many"}},
		{"remote address", []string{"serve", "-addr", "0.0.0.0:8080"}},
		{"every interface", []string{"serve", "-addr", ":8080"}},
		{"remote name", []string{"serve", "-addr", "example.com:80"}},
		{"no port", []string{"serve", "-addr", "127.0.0.1"}},
		{"bad version field", []string{"serve", "-version-field", "version"}},
		{"bad unique", []string{"serve", "-unique", "email"}},
		{"seed without =", []string{"serve", "-seed", "/a"}},
		{"seed not an object", []string{"serve", "-seed", "/a=[1]"}},
		{"seed without path", []string{"serve", "-seed", `a={"x":1}`}},
		{"patch without url", []string{"patch", "-set", "/a=1"}},
		{"patch without set", []string{"patch", "-url", "http://127.0.0.1:1/a"}},
		{"patch ftp url", []string{"patch", "-url", "ftp://h/a", "-set", "/a=1"}},
		{"patch value not json", []string{"patch", "-url", "http://h/a", "-set", "/status=shipped"}},
		{"patch pointer", []string{"patch", "-url", "http://h/a", "-set", "status=1"}},
		{"patch bad escape", []string{"patch", "-url", "http://h/a", "-set", "/a~2=1"}},
		{"patch timeout", []string{"patch", "-url", "http://h/a", "-set", "/a=1", "-timeout", "0s"}},
		{"patch header", []string{"patch", "-url", "http://h/a", "-set", "/a=1", "-header", "nocolon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runArgs(t, tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "usage: occ")
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, stdout, _ := runArgs(t, args...)
		assert.Equal(t, exitOK, code, args)
		assert.Contains(t, stdout, "commands:", args)
	}
	for _, cmd := range []string{"demo", "serve", "patch"} {
		code, _, stderr := runArgs(t, cmd, "-h")
		assert.Equal(t, exitOK, code, cmd)
		assert.Contains(t, stderr, "usage: occ", cmd)
		assert.Contains(t, stderr, "flags:", cmd)
	}
}

func TestRemoteAllowed(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:8080", "127.1.2.3:80"} {
		assert.NoError(t, checkListenAddr(addr, false), addr)
	}
	assert.NoError(t, checkListenAddr("0.0.0.0:8080", true))
	assert.NoError(t, checkListenAddr(":8080", true))
}
