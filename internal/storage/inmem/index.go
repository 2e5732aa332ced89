package inmem

import (
	"slices"
	"sort"
)

// maxLeaf is the most keys one leaf of an index holds. Inserting into a leaf
// moves at most maxLeaf strings and splitting one moves len(leaves) slice
// headers, so with a million keys both stay small.
const maxLeaf = 512

// index is a sorted set of strings kept as a two-level B+tree: an ordered
// list of non-empty sorted leaves, where every key of leaves[i] sorts before
// every key of leaves[i+1]. Seek is two binary searches.
type index struct {
	leaves [][]string
}

// pos is a position in an index: leaf number and offset within that leaf.
type pos struct {
	leaf, off int
}

// seek returns the position of the first key >= key; the position is past
// the end (see at) when there is none.
func (x *index) seek(key string) pos {
	i := sort.Search(len(x.leaves), func(i int) bool {
		l := x.leaves[i]
		return l[len(l)-1] >= key
	})
	if i == len(x.leaves) {
		return pos{leaf: i}
	}
	off, _ := slices.BinarySearch(x.leaves[i], key)
	return pos{leaf: i, off: off}
}

// at returns the key at p, and false when p is past the end.
func (x *index) at(p pos) (string, bool) {
	if p.leaf >= len(x.leaves) {
		return "", false
	}
	return x.leaves[p.leaf][p.off], true
}

// next returns the position after p. p must not be past the end.
func (x *index) next(p pos) pos {
	p.off++
	if p.off == len(x.leaves[p.leaf]) {
		return pos{leaf: p.leaf + 1}
	}
	return p
}

// insert adds key; adding a key already present does nothing.
func (x *index) insert(key string) {
	p := x.seek(key)
	if p.leaf == len(x.leaves) {
		if p.leaf == 0 {
			x.leaves = append(x.leaves, []string{key})
			return
		}
		// key sorts after everything: append to the last leaf.
		p.leaf--
		p.off = len(x.leaves[p.leaf])
	} else if x.leaves[p.leaf][p.off] == key {
		return
	}
	l := slices.Insert(x.leaves[p.leaf], p.off, key)
	if len(l) <= maxLeaf {
		x.leaves[p.leaf] = l
		return
	}
	half := len(l) / 2
	right := slices.Clone(l[half:])
	clear(l[half:]) // drop the moved strings from the left leaf's spare capacity
	x.leaves[p.leaf] = l[:half]
	x.leaves = slices.Insert(x.leaves, p.leaf+1, right)
}

// remove deletes key; removing an absent key does nothing.
func (x *index) remove(key string) {
	p := x.seek(key)
	if k, ok := x.at(p); !ok || k != key {
		return
	}
	l := slices.Delete(x.leaves[p.leaf], p.off, p.off+1)
	if len(l) == 0 {
		x.leaves = slices.Delete(x.leaves, p.leaf, p.leaf+1)
		return
	}
	x.leaves[p.leaf] = l
	x.mergeSmall(p.leaf)
}

// mergeSmall joins leaf i with its right neighbour when i has shrunk to a
// quarter of maxLeaf and both fit in one leaf, so mass deletes do not leave
// many tiny leaves behind.
func (x *index) mergeSmall(i int) {
	if len(x.leaves[i]) > maxLeaf/4 || i+1 >= len(x.leaves) {
		return
	}
	if len(x.leaves[i])+len(x.leaves[i+1]) > maxLeaf {
		return
	}
	x.leaves[i] = append(x.leaves[i], x.leaves[i+1]...)
	x.leaves = slices.Delete(x.leaves, i+1, i+2)
}
