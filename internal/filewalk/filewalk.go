// Package filewalk lists the files under a directory the way medguard's scanners read
// them: symbolic links to files are followed, links to directories are not (they could
// loop), and what cannot be read is reported and passed over instead of ending the walk.
// It is a leaf: it imports no medguard code.
package filewalk

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrLinkToDir is what skip is told about a symbolic link to a directory.
var ErrLinkToDir = errors.New("symbolic link to a directory not followed")

// Files calls file for every file under the directory root, in lexical order, with the
// FileInfo of what it is (a symbolic link followed). skip is called with each entry that
// cannot be read, with the cause (an *fs.PathError is unwrapped: the path is given
// apart), and with each link to a directory (ErrLinkToDir); a subdirectory that cannot
// be read is passed over whole. An error from file stops the walk and is returned as is.
func Files(root string, file func(path string, fi fs.FileInfo) error, skip func(path string, err error)) error {
	return filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			skip(p, unwrapPath(err))
			if de != nil && de.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if de.IsDir() {
			return nil
		}
		fi, err := os.Stat(p) // follows a symbolic link to a file
		if err != nil {
			skip(p, unwrapPath(err))
			return nil
		}
		if fi.IsDir() {
			skip(p, ErrLinkToDir)
			return nil
		}
		return file(p, fi)
	})
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
