package raft

import (
	"time"

	hraft "github.com/hashicorp/raft"
)

// leaderRecheck is how often the leader watcher compares the leader it
// last reported with raft's, in case an observation was dropped.
const leaderRecheck = time.Second

// leaderWatch reports leader changes to Config.OnLeaderChange from one
// goroutine, in order, outside raft's locks.
type leaderWatch struct {
	b        *Backend
	ch       chan hraft.Observation
	observer *hraft.Observer
	stop     chan struct{}
	done     chan struct{}

	reported       bool
	lastID         string
	lastSelf       bool
	onLeaderChange func(leaderID string, self bool)
}

// startLeaderWatch registers a raft observer for leader changes and makes
// the initial call; nil when the configuration has no hook.
func (b *Backend) startLeaderWatch() *leaderWatch {
	if b.cfg.OnLeaderChange == nil {
		return nil
	}
	w := &leaderWatch{b: b, ch: make(chan hraft.Observation, 64), stop: make(chan struct{}),
		done: make(chan struct{}), onLeaderChange: b.cfg.OnLeaderChange}
	// Non-blocking: raft never waits for the hook; a dropped observation
	// (the hook fell 64 changes behind) is caught up by the periodic check.
	w.observer = hraft.NewObserver(w.ch, false, func(o *hraft.Observation) bool {
		_, ok := o.Data.(hraft.LeaderObservation)
		return ok
	})
	b.raft.RegisterObserver(w.observer)
	go w.run()
	return w
}

func (w *leaderWatch) run() {
	defer close(w.done)
	w.reportCurrent()
	t := time.NewTicker(leaderRecheck)
	defer t.Stop()
	for {
		select {
		case o := <-w.ch:
			w.reportObservation(o)
		case <-t.C:
			// Only with nothing queued: a queued observation is older
			// than raft's current state and would be reported after it.
			if len(w.ch) == 0 {
				w.reportCurrent()
			}
		case <-w.stop:
			for {
				select {
				case o := <-w.ch:
					w.reportObservation(o)
				default:
					// Shut down: this node knows no leader any more,
					// whether or not raft said so before stopping.
					w.report("")
					return
				}
			}
		}
	}
}

func (w *leaderWatch) reportObservation(o hraft.Observation) {
	if lo, ok := o.Data.(hraft.LeaderObservation); ok {
		w.report(string(lo.LeaderID))
	}
}

func (w *leaderWatch) reportCurrent() {
	id, _ := w.b.Leader()
	w.report(id)
}

// report calls the hook if the leader differs from the last one reported.
func (w *leaderWatch) report(id string) {
	self := id != "" && id == w.b.cfg.NodeID
	if w.reported && id == w.lastID && self == w.lastSelf {
		return
	}
	w.reported, w.lastID, w.lastSelf = true, id, self
	w.onLeaderChange(id, self)
}

// close stops the watcher after raft has shut down, reporting what raft
// observed up to then.
func (w *leaderWatch) close() {
	if w == nil {
		return
	}
	w.b.raft.DeregisterObserver(w.observer)
	close(w.stop)
	<-w.done
}
