// Package hatest holds the fault tests of a Coffer cluster run as real
// processes: kill -9, a frozen leader, rolling restarts, wiped nodes,
// snapshot restore and quorum recovery, each checked for lost acknowledged
// writes (and, for the register workload, for linearizability with
// porcupine). It has no code outside its tests.
//
// TestMain builds the coffer binary once. Each node logs to node.log in its
// directory; a failing test prints the tail of every log, sends SIGQUIT to
// the running nodes (goroutine dumps) and, when HATEST_LOG_DIR is set,
// copies the whole logs (and a porcupine visualization of a failed
// history) there.
package hatest
