package barrier

import "strings"

// dataPrefix is the physical namespace of every barrier entry: physical keys
// are dataPrefix followed by the encrypted logical key, so they never meet
// the plaintext reserved keys (keyringPath, sealPrefix).
const dataPrefix = "d/"

// physicalKey returns dataPrefix followed by logical with each non-empty
// "/"-separated segment encrypted; empty segments (and so a trailing "/")
// stay as they are. physicalKey("") is dataPrefix, the physical folder of
// the root. When every segment is cached, a key of up to 8 segments costs
// one allocation: the result.
func (pc *pathCipher) physicalKey(logical string) string {
	var stack [8]string
	encs, misses := pc.encryptSegments(logical, stack[:0])
	pc.cache.add(misses)
	n := len(dataPrefix) + len(encs) - 1
	for _, e := range encs {
		n += len(e)
	}
	var sb strings.Builder
	sb.Grow(n)
	sb.WriteString(dataPrefix)
	for i, e := range encs {
		if i > 0 {
			sb.WriteByte('/')
		}
		sb.WriteString(e)
	}
	return sb.String()
}

// encryptSegments appends the encrypted segments of logical to encs ("" for
// an empty segment), under one read lock of the cache, and returns the
// segments that were not cached.
func (pc *pathCipher) encryptSegments(logical string, encs []string) ([]string, []segmentPair) {
	var misses []segmentPair
	pc.cache.mu.RLock()
	defer pc.cache.mu.RUnlock()
	for rest := logical; ; {
		seg, tail, more := rest, "", false
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, tail, more = rest[:i], rest[i+1:], true
		}
		enc, ok := pc.cache.enc[seg]
		if !ok && seg != "" {
			enc = pc.sealSegment(seg)
			misses = append(misses, segmentPair{plain: seg, enc: enc})
		}
		encs = append(encs, enc)
		if !more {
			return encs, misses
		}
		rest = tail
	}
}

// openChildren decrypts the children a physical List returned: "x" is a
// leaf named by the encrypted segment x, "x/" a folder. An empty folder
// name ("/", from a key with an empty segment) stays empty. The result is in
// physical (ciphertext) order.
func (pc *pathCipher) openChildren(children []string) ([]string, error) {
	out := make([]string, 0, len(children))
	misses, err := pc.openChildrenCached(children, &out)
	pc.cache.add(misses)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (pc *pathCipher) openChildrenCached(children []string, out *[]string) ([]segmentPair, error) {
	var misses []segmentPair
	pc.cache.mu.RLock()
	defer pc.cache.mu.RUnlock()
	for _, c := range children {
		enc, folder := strings.CutSuffix(c, "/")
		plain, ok := pc.cache.dec[enc]
		switch {
		case ok:
		case enc == "" && folder:
			plain = ""
		default:
			var err error
			if plain, err = pc.openSegment(enc); err != nil {
				return misses, err
			}
			misses = append(misses, segmentPair{plain: plain, enc: enc})
		}
		if folder {
			plain += "/"
		}
		*out = append(*out, plain)
	}
	return misses, nil
}

// splitPrefix cuts a List prefix after its last "/": folder is the part a
// physical List can be asked for ("" or ending in "/"), partial the start
// of a segment name that the children must begin with ("" for a folder).
func splitPrefix(prefix string) (folder, partial string) {
	i := strings.LastIndexByte(prefix, '/')
	return prefix[:i+1], prefix[i+1:]
}

// trimChildren keeps the children that extend partial, with partial cut
// off: under prefix "a/b", a folder child "bc/" of "a/" is reported as "c/",
// as storage.Child does. A child equal to partial is the prefix itself and
// is not its own child.
func trimChildren(children []string, partial string) []string {
	if partial == "" {
		return children
	}
	out := children[:0]
	for _, c := range children {
		if len(c) > len(partial) && strings.HasPrefix(c, partial) {
			out = append(out, c[len(partial):])
		}
	}
	return out
}

// logicalKey reverses physicalKey for a physical key with dataPrefix cut
// off: each non-empty segment is decrypted (through the cache), empty ones
// stay empty. A segment that does not decrypt is an error (errSegment or
// errAuth), never a partly decoded name.
func (pc *pathCipher) logicalKey(encrypted string) (string, error) {
	var sb strings.Builder
	sb.Grow(len(encrypted))
	misses, err := pc.openSegmentsCached(encrypted, &sb)
	pc.cache.add(misses)
	if err != nil {
		return "", err
	}
	return sb.String(), nil
}

func (pc *pathCipher) openSegmentsCached(encrypted string, sb *strings.Builder) ([]segmentPair, error) {
	var misses []segmentPair
	pc.cache.mu.RLock()
	defer pc.cache.mu.RUnlock()
	for i, enc := range strings.Split(encrypted, "/") {
		if i > 0 {
			sb.WriteByte('/')
		}
		if enc == "" {
			continue
		}
		plain, ok := pc.cache.dec[enc]
		if !ok {
			var err error
			if plain, err = pc.openSegment(enc); err != nil {
				return misses, err
			}
			misses = append(misses, segmentPair{plain: plain, enc: enc})
		}
		sb.WriteString(plain)
	}
	return misses, nil
}
