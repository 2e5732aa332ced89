package autopilot

import (
	"sort"
	"time"

	ap "github.com/hashicorp/raft-autopilot"
)

// promoter is the library's StablePromoter (every server is meant to be a
// voter, no demotions, no leadership transfers) with two differences: it
// reads the injected clock, and it always waits the full
// server_stabilization_time. The library's version promotes at once while
// autopilot itself has run for less than that time, which would let a
// server that joins just after a leadership change vote before it has
// proven stable.
type promoter struct {
	ap.StablePromoter
	now func() time.Time
}

var _ ap.Promoter = (*promoter)(nil)

// metaNonVoter marks, in a server's metadata, one that joined as a
// permanent non-voter (Options.NonVoter).
const metaNonVoter = "non_voter"

// CalculatePromotionsAndDemotions promotes, in ID order, every non-voter
// that has been healthy for at least server_stabilization_time, except
// those that joined as permanent non-voters.
func (p *promoter) CalculatePromotionsAndDemotions(c *ap.Config, s *ap.State) ap.RaftChanges {
	var changes ap.RaftChanges
	now := p.now()
	for id, srv := range s.Servers {
		if srv.Server.Meta[metaNonVoter] == "true" {
			continue
		}
		if srv.State == ap.RaftNonVoter && srv.Health.IsStable(now, c.ServerStabilizationTime) {
			changes.Promotions = append(changes.Promotions, id)
		}
	}
	sort.Slice(changes.Promotions, func(i, j int) bool { return changes.Promotions[i] < changes.Promotions[j] })
	return changes
}
