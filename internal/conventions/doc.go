// Package conventions holds tests that enforce the repository's code
// conventions (package comments, no secret-printing types) across the tree.
package conventions
