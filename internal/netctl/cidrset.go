package netctl

import (
	"net/netip"
	"slices"
)

// addrRange is an inclusive range of addresses of one family.
type addrRange struct{ lo, hi netip.Addr }

// CIDRSet is an immutable set of address ranges with O(log n) lookup: the
// ranges of each family are sorted and merged, so a lookup is one binary
// search. IPv4-mapped IPv6 addresses match their IPv4 form.
type CIDRSet struct {
	v4, v6 []addrRange
}

// NewCIDRSet builds a set from prefixes; invalid prefixes are ignored.
func NewCIDRSet(prefixes []netip.Prefix) *CIDRSet {
	b := &setBuilder{}
	for _, p := range prefixes {
		b.addPrefix(p)
	}
	return b.build()
}

// Len reports the number of merged ranges.
func (s *CIDRSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.v4) + len(s.v6)
}

// Contains reports whether ip lies in one of the set's ranges.
func (s *CIDRSet) Contains(ip netip.Addr) bool {
	if s == nil || !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	rs := s.v6
	if ip.Is4() {
		rs = s.v4
	}
	// The first range whose hi is >= ip is the only candidate.
	i, _ := slices.BinarySearchFunc(rs, ip, func(r addrRange, ip netip.Addr) int { return r.hi.Compare(ip) })
	return i < len(rs) && rs[i].lo.Compare(ip) <= 0
}

// setBuilder collects ranges before sorting and merging them.
type setBuilder struct{ v4, v6 []addrRange }

func (b *setBuilder) addPrefix(p netip.Prefix) {
	if !p.IsValid() {
		return
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	b.addRange(p.Addr(), lastAddr(p))
}

func (b *setBuilder) addRange(lo, hi netip.Addr) {
	lo, hi = lo.Unmap().WithZone(""), hi.Unmap().WithZone("")
	if lo.Is4() != hi.Is4() || hi.Less(lo) {
		return
	}
	if lo.Is4() {
		b.v4 = append(b.v4, addrRange{lo, hi})
	} else {
		b.v6 = append(b.v6, addrRange{lo, hi})
	}
}

func (b *setBuilder) build() *CIDRSet {
	return &CIDRSet{v4: merge(b.v4), v6: merge(b.v6)}
}

// merge sorts ranges and joins overlapping and adjacent ones.
func merge(rs []addrRange) []addrRange {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b addrRange) int { return a.lo.Compare(b.lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		next := last.hi.Next()
		if r.lo.Compare(last.hi) <= 0 || (next.IsValid() && r.lo == next) {
			if last.hi.Less(r.hi) {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// lastAddr is the highest address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := range a {
		switch {
		case bits >= 8:
			bits -= 8
		case bits > 0:
			a[i] |= 0xff >> bits
			bits = 0
		default:
			a[i] = 0xff
		}
	}
	out := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		out = out.Unmap()
	}
	return out
}
