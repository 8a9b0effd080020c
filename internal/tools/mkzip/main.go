// Command mkzip writes a zip archive of the files named on the command line,
// each stored at the archive root under its base name, with its Unix
// permission bits recorded. build.sh uses it to package the FC deployment
// zip, so that no `zip` package is needed and `main` stays executable: FC
// runs the go1 handler straight from the unpacked archive.
//
// The archive depends only on the inputs' names and bytes (and -mode): every
// entry carries the same fixed modification time, so rebuilding an identical
// binary gives a byte-identical zip, whose sha256 can then be compared
// (README "Deploy").
//
// Usage: mkzip -o dist/function.zip -mode 0755 dist/main
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// entryTime is the modification time recorded for every entry instead of the
// file's own, which differs on every build. 1980-01-01 is the earliest time
// the zip format's MS-DOS date fields can hold; UTC, so the local time zone
// cannot leak in either.
var entryTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write (required)")
	modeFlag := flag.String("mode", "", "octal permission bits to record for every entry (default: each file's own)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: mkzip -o out.zip [-mode 0755] file...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var mode os.FileMode
	if *modeFlag != "" {
		m, err := strconv.ParseUint(*modeFlag, 8, 32)
		if err != nil || m == 0 || m > 0o777 {
			fmt.Fprintf(os.Stderr, "mkzip: -mode %q: want octal permission bits such as 0755\n", *modeFlag)
			os.Exit(2)
		}
		mode = os.FileMode(m)
	}
	if err := writeZip(*out, flag.Args(), mode); err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

// writeZip writes to a temporary file beside out and renames it into place,
// so a failed run never leaves a truncated archive that looks deployable.
// A non-zero mode replaces each file's own permission bits.
func writeZip(out string, files []string, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mkzip-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		name := filepath.Base(f)
		if seen[name] {
			return fmt.Errorf("two inputs would both be stored as %q", name)
		}
		seen[name] = true
		if err := addFile(zw, f, name, mode); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func addFile(zw *zip.Writer, path, name string, mode os.FileMode) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New(path + ": not a regular file")
	}
	hdr, err := zip.FileInfoHeader(st)
	if err != nil {
		return err
	}
	hdr.Name = name
	hdr.Method = zip.Deflate
	hdr.Modified = entryTime
	if mode == 0 {
		mode = st.Mode().Perm()
	}
	// SetMode stores the bits in the Unix external attributes and marks
	// the creator as Unix; unzip tools ignore the bits otherwise.
	hdr.SetMode(mode)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
