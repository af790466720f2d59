//go:build unix

package apptoken_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apptoken "github.com/apptoken-go/apptoken/core"
)

// A named pipe at the token path must be refused, not waited on: opening
// one for reading blocks until a writer comes, which would hang New or
// the reloader for good.
func TestFileSourceRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		v, err := apptoken.New(apptoken.WithSource(apptoken.File(fifo)), apptoken.WithEventLog(nil))
		if err == nil {
			_ = v.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), fifo) {
			t.Errorf("New on a FIFO: %v; want an error naming the file and saying it is not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("New blocked on a FIFO")
	}
}

// A FIFO swapped in for the token file at a reload is a failed reload: the
// last good tokens stay, and Close still returns.
func TestReloadRefusesFIFO(t *testing.T) {
	path := writeTokenFile(t, rotOld)
	v, log := newFileVerifier(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	e := log.wait(t, apptoken.EventReloadFailed, 1)
	if !strings.Contains(e.Err.Error(), "not a regular file") || !accepts(v, rotOld) {
		t.Errorf("FIFO at a reload: %v; old token accepted: %v", e.Err, accepts(v, rotOld))
	}
	closed := make(chan struct{})
	go func() { _ = v.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked: the reloader is stuck on the FIFO")
	}
}
