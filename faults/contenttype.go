package faults

import "cmp"

// contentTypeFault serves the healthy answer with the wrong Content-Type,
// as a misconfigured proxy would; strict clients (the JS client) reject it.
type contentTypeFault struct{ ctype []string }

func newContentTypeFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "content_type"); err != nil {
		return nil, err
	}
	return contentTypeFault{ctype: []string{cmp.Or(f.ContentType, "text/html; charset=utf-8")}}, nil
}

func (f contentTypeFault) apply(ex *exchange) { ex.contentType = f.ctype }
