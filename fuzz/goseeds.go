// Command goseeds converts Go's own fuzz corpus for its trace reader into raw
// input files for the cargo-fuzz corpus (see seed.sh). Each corpus file is in
// Go's "go test fuzz v1" encoding: a version line, then one []byte("...")
// literal per argument of the fuzz function (FuzzReader takes one).
//
// Usage: go run goseeds.go SRC_DIR DEST_DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run goseeds.go SRC_DIR DEST_DIR")
		os.Exit(2)
	}
	src, dst := os.Args[1], os.Args[2]
	entries, err := os.ReadDir(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, e := range entries {
		text, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			fmt.Fprintf(os.Stderr, "goseeds: %s: not a one-argument corpus file\n", e.Name())
			os.Exit(1)
		}
		lit, ok := strings.CutPrefix(strings.TrimSpace(lines[1]), "[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		raw, err := strconv.Unquote(strings.TrimSpace(lit))
		if !ok || !ok2 || err != nil {
			fmt.Fprintf(os.Stderr, "goseeds: %s: not a []byte literal (%v)\n", e.Name(), err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(dst, "go-"+e.Name()), []byte(raw), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
