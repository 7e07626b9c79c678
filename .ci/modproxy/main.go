// Command modproxy writes a Go module proxy, in the layout GOPROXY=file://
// reads, that serves modules from directories of a source tree at one
// version: for each, <path>/@v/list, <version>.info, .mod and .zip (built by
// golang.org/x/mod/zip as the go command would from a tagged repository).
// .ci/release-check.sh uses it to simulate a release.
//
// Usage: modproxy -out DIR -version vX.Y.Z -time RFC3339 path=dir...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	out := flag.String("out", "", "the proxy's directory")
	version := flag.String("version", "", "the version every module is served at")
	when := flag.String("time", "", "the version's time, RFC 3339")
	flag.Parse()
	if *out == "" || *version == "" || *when == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, arg := range flag.Args() {
		path, dir, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "modproxy: want path=dir, got %q\n", arg)
			os.Exit(2)
		}
		if err := serve(*out, module.Version{Path: path, Version: *version}, *when, dir); err != nil {
			fmt.Fprintln(os.Stderr, "modproxy:", err)
			os.Exit(1)
		}
	}
}

// serve writes the files that serve m, whose source is dir.
func serve(out string, m module.Version, when, dir string) error {
	if err := module.Check(m.Path, m.Version); err != nil {
		return err
	}
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	at := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	info, err := json.Marshal(map[string]string{"Version": m.Version, "Time": when})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{".mod": mod, ".info": info} {
		if err := os.WriteFile(filepath.Join(at, m.Version+name), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(at, "list"), []byte(m.Version+"\n"), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(at, m.Version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(f, m, dir); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
