package realservers

import "syscall"

// sysProcAttr puts a server in a process group of its own, so that stopping
// it stops its children too, and kills it if the test binary dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
