// Package cluster is how a raft node gets and keeps its cluster identity: the
// cluster CA in the barrier, node certificates on disk, and the
// challenge-answer join.
//
// The join, as Vault runs it:
//
//  1. The joining node asks the leader's API for a challenge
//     (FetchChallenge). The leader (Challenges.New) answers with a random
//     nonce sealed under a key derived from the cluster's root key, plus the
//     seal configuration and the wrapped root key.
//  2. Once the operator has unsealed the joining node (or its auto seal has),
//     it knows the root key: it opens the nonce (OpenChallenge), makes a key
//     and CSR (NewCSR) and sends both back (SendAnswer).
//  3. The leader checks the answer (Challenges.Check: constant time, single
//     use, five minutes), signs the CSR with the cluster CA (LoadOrCreateCA,
//     SignCSR) and adds the node to raft. The node keeps its certificate, key
//     and the CA certificate on disk (SaveNodeFiles) so it can take part in
//     raft before it is unsealed after a restart.
//
// Nothing here imports the core: the core and the server call these pieces.
package cluster
