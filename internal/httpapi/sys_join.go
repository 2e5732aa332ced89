package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/cofferdev/coffer/internal/cluster"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
)

// handleRaftJoin serves sys/storage/raft/join on a node that has not joined
// a cluster yet (it is sealed and uninitialized, so the request cannot go
// through the pipeline): it starts the challenge-answer join with the given
// leader. With Shamir the join finishes when the node is unsealed with the
// cluster's keys; with retry the attempts go on in the background.
func (h *Handler) handleRaftJoin(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	if !h.core.CanJoin() {
		if !h.core.Sealed() {
			h.handleLogical(w, r) // an unsealed member: the path does not exist, say so as usual
			return
		}
		writeErrors(w, http.StatusBadRequest, "this node is already part of a raft cluster")
		return
	}
	d, ok := readBody(w, r)
	if !ok {
		return
	}
	var leader cluster.Leader
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"leader_ca_cert", &leader.CACertPEM}, {"leader_client_cert", &leader.ClientCertPEM}, {"leader_client_key", &leader.ClientKeyPEM}} {
		v, err := field(d, f.name, logical.TypeString)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, err.Error())
			return
		}
		*f.dst = []byte(v.(string))
	}
	addr, err := field(d, "leader_api_addr", logical.TypeString)
	if err != nil || addr.(string) == "" {
		writeErrors(w, http.StatusBadRequest, "leader_api_addr is required")
		return
	}
	leader.APIAddr = addr.(string)
	retry, err := field(d, "retry", logical.TypeBool)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	nonVoter, err := field(d, "non_voter", logical.TypeBool)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	leader.NonVoter = nonVoter.(bool)
	if retry.(bool) {
		go func() {
			targets := func(context.Context) ([]cluster.Leader, error) { return []cluster.Leader{leader}, nil }
			if err := h.core.JoinLoop(context.Background(), targets); err != nil {
				h.logger.Error("raft join: giving up", "error", err)
			}
		}()
		writeJSON(w, http.StatusOK, map[string]any{"joined": true})
		return
	}
	if err := h.core.Join(r.Context(), leader); err != nil && !errors.Is(err, core.ErrJoinPending) {
		var le *cluster.LeaderError
		if errors.As(err, &le) || logical.KindOf(err) == logical.KindInvalidRequest {
			writeErrors(w, http.StatusBadRequest, "join failed: "+err.Error())
			return
		}
		h.logger.Warn("raft join failed", "leader", leader, "error", err)
		writeErrors(w, http.StatusInternalServerError, "join failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"joined": true})
}
