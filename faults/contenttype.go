package faults

// contentTypeFault serves the healthy answer with the wrong Content-Type,
// as a misconfigured proxy would; strict clients (the JS client) reject it.
type contentTypeFault struct{ ctype []string }

func newContentTypeFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "content_type"); err != nil {
		return nil, err
	}
	ct := f.ContentType
	if ct == "" {
		ct = "text/html; charset=utf-8"
	}
	return contentTypeFault{ctype: []string{ct}}, nil
}

func (f contentTypeFault) apply(ex *exchange) { ex.contentType = f.ctype }
