package kv

// mergePatch applies an RFC 7386 JSON merge patch to target and returns the
// result: a null member removes the key, an object member merges into the
// target's object (or into an empty one), anything else replaces. target may
// be modified in place; patch is not modified and none of its objects is
// reused in the result.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = make(map[string]any, len(p))
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}
