package cluster

import "errors"

var (
	// ErrInvalidNodeID is returned for a node ID that is empty, longer than
	// MaxNodeIDLen or holds characters other than letters, digits, '.', '_'
	// and '-'.
	ErrInvalidNodeID = errors.New("cluster: invalid node id")
	// ErrInvalidCSR is returned by SignCSR for a CSR that does not parse,
	// whose signature is wrong, whose key is not ECDSA P-256 or whose
	// CommonName is not the node ID.
	ErrInvalidCSR = errors.New("cluster: invalid certificate request")
	// ErrNodeFiles is returned by LoadNodeFiles when the files on disk are
	// incomplete or do not belong together.
	ErrNodeFiles = errors.New("cluster: invalid node identity files")
	// ErrBadAnswer is returned by Challenges.Check when there is no live
	// challenge for the server or the answer does not match it. The two
	// cases are not told apart.
	ErrBadAnswer = errors.New("cluster: wrong or expired challenge answer")
	// ErrTooManyChallenges is returned by Challenges.New when MaxChallenges
	// challenges are outstanding and none has expired.
	ErrTooManyChallenges = errors.New("cluster: too many outstanding join challenges")
	// ErrChallenge is returned by OpenChallenge when the sealed challenge
	// does not open with the given root key and server ID.
	ErrChallenge = errors.New("cluster: challenge does not open with this root key")
	// ErrLeaderResponse is returned by FetchChallenge and SendAnswer when
	// the leader's response is malformed or incomplete.
	ErrLeaderResponse = errors.New("cluster: malformed response from the leader")
)
