package realservers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sysProcAttr puts a server in a process group of its own, so that stopping
// it stops its children too, and kills it if the test binary dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// TestStartStopsTheProcessGroup checks that a server, and a child it
// started, are gone when the test that started it ends.
func TestStartStopsTheProcessGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	var leader int
	t.Run("server", func(t *testing.T) {
		cmd := exec.Command("sh", "-c", `sleep 60 & echo $! > "$1.tmp" && mv "$1.tmp" "$1"; wait`, "sh", pidFile)
		start(t, cmd, func(context.Context) bool { _, err := os.Stat(pidFile); return err == nil })
		leader = cmd.Process.Pid
	})
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	for _, pid := range []int{leader, child} {
		assert.True(t, gone(pid), "process %d still runs", pid)
	}
}

// gone reports whether process pid has ended (a zombie has), waiting for
// at most stopTimeout.
func gone(pid int) bool {
	deadline := time.Now().Add(stopTimeout)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// The state follows the command's closing parenthesis.
		if i := bytes.LastIndexByte(stat, ')'); err != nil || (i >= 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z"))) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
