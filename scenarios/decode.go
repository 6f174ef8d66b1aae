package scenarios

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
)

// position is a 1-based line and column in the file.
type position struct{ line, col int }

// maxDepth bounds the nesting the decoder follows, so that hostile input
// (deep nesting, alias chains) cannot exhaust the stack.
const maxDepth = 64

// maxVisits bounds the values decoded from one file, so that aliases
// expanded many times over cannot make a small file take unbounded time.
const maxVisits = 200_000

// decoder walks the YAML syntax tree into Go values, recording every
// problem with its position and every decoded path with its position (for
// the semantic checks that run afterwards).
type decoder struct {
	file    string
	errs    ErrorList
	pos     map[string]position // path -> position of its value
	bad     map[string]bool     // paths whose value could not be decoded
	anchors map[string]ast.Node
	depth   int
	visits  int             // values decoded, bounded by maxVisits
	active  map[string]bool // aliases being expanded, to catch cycles
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:    file,
		pos:     map[string]position{},
		bad:     map[string]bool{},
		anchors: map[string]ast.Node{},
		active:  map[string]bool{},
	}
}

// Parse decodes a scenario file strictly, fills in the defaults (see
// [Defaults]; the name defaults to the file name without its extension) and
// validates the result. On failure it returns an *[ErrorList] with every
// problem in the file, each with its line, column and field path.
func Parse(filename string, data []byte) (s *Scenario, err error) {
	d := newDecoder(filename)
	defer func() {
		// The YAML library is third-party code fed untrusted input: never let
		// a panic in it cross this package's boundary.
		if r := recover(); r != nil {
			s, err = nil, panicError(filename, r)
		}
	}()
	body := d.parseDocument(data)
	if body == nil {
		return nil, d.errs.err()
	}
	sc := Defaults()
	d.decodeScenario(body, &sc)
	if sc.Name == "" && filename != "" {
		base := filepath.Base(filename)
		sc.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	v := &validator{given: d.isGiven}
	v.scenario(&sc)
	d.addSemantic(v.errs)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	sc.Warnings = sc.lint(d.isGiven)
	for i := range sc.Warnings {
		w := &sc.Warnings[i]
		pos := d.positionOf(w.Path)
		w.File, w.Line, w.Column = d.file, pos.line, pos.col
	}
	slices.SortStableFunc(sc.Warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return &sc, nil
}

// ParseThresholds reads a YAML file that holds only a `thresholds:` map, as
// `brownout report --thresholds FILE` takes. Phase names cannot be checked
// here; the report checks them against the recorded run.
func ParseThresholds(filename string, data []byte) (ths []Threshold, err error) {
	d := newDecoder(filename)
	defer func() {
		if r := recover(); r != nil {
			ths, err = nil, panicError(filename, r)
		}
	}()
	body := d.parseDocument(data)
	if body == nil {
		return nil, d.errs.err()
	}
	m, ok := d.mapping(body, "")
	if ok {
		found := false
		for _, mv := range m.Values {
			key, ok := d.key(mv, "")
			if !ok {
				continue
			}
			if key != "thresholds" {
				d.errorf(mv.Key, key, "unknown key %q%s (a thresholds file holds only: thresholds)", key, didYouMean(key, []string{"thresholds"}))
				continue
			}
			found = true
			ths = d.thresholds(mv.Value, "thresholds")
		}
		if !found && len(d.errs.Errors) == 0 {
			d.errorf(body, "", "no thresholds: key; write thresholds: {\"metric{filter:value}\": [\"OP VALUE\"]}")
		}
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return ths, nil
}

// panicError reports a panic r of the YAML library while reading filename.
func panicError(filename string, r any) error {
	return &ErrorList{Errors: []*FieldError{{File: filename, Line: 1, Column: 1, Message: fmt.Sprintf("cannot read the file as YAML: %v", r)}}}
}

// parseDocument parses data into its single document's body; nil when there
// is none, after recording why. Input that could make the YAML library use
// unbounded time or memory is refused before it parses anything.
func (d *decoder) parseDocument(data []byte) ast.Node {
	if fe := checkSize(d.file, data); fe != nil {
		d.errs.add(fe)
		return nil
	}
	data = bytes.TrimPrefix(data, bom)
	tokens := lexer.Tokenize(string(data))
	if fe := checkNesting(d.file, tokens); fe != nil {
		fe.Source = sourceContext(data, fe.Line, fe.Column)
		d.errs.add(fe)
		return nil
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		d.errs.add(syntaxError(d.file, data, err))
		return nil
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			if _, ok := doc.Body.(*ast.CommentGroupNode); ok {
				continue
			}
			docs = append(docs, doc)
		}
	}
	switch {
	case len(docs) == 0:
		d.errs.add(&FieldError{File: d.file, Line: 1, Column: 1, Message: "the file is empty; a scenario needs at least phases"})
		return nil
	case len(docs) > 1:
		p := d.position(docs[1].Body)
		d.errs.add(&FieldError{File: d.file, Line: p.line, Column: p.col, Message: "more than one YAML document; a file holds one scenario"})
		return nil
	}
	ast.Walk(anchorCollector(d.anchors), docs[0].Body)
	return docs[0].Body
}

// anchorCollector records every anchor's node by name, so aliases resolve
// wherever they appear.
type anchorCollector map[string]ast.Node

// Visit records anchors and walks on.
func (c anchorCollector) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil && a.Value != nil {
		c[a.Name.GetToken().Value] = a.Value
	}
	return c
}

// resolve follows anchors, aliases and tags to the node holding the value.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for range maxDepth {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil {
				return n
			}
			target, ok := d.anchors[v.Value.GetToken().Value]
			if !ok {
				return n
			}
			n = target
		default:
			return n
		}
	}
	return n
}

// aliasName returns the anchor name n refers to, when n is an alias
// (possibly under a tag).
func aliasName(n ast.Node) (string, bool) {
	for range maxDepth {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil || v.Value.GetToken() == nil {
				return "", false
			}
			return v.Value.GetToken().Value, true
		default:
			return "", false
		}
	}
	return "", false
}

// position returns where n starts; block mappings start at their first key.
func (d *decoder) position(n ast.Node) position {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0].Key != nil {
		n = m.Values[0].Key
	}
	if n == nil {
		return position{1, 1}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil || tk.Position.Line <= 0 {
		return position{1, 1}
	}
	return position{tk.Position.Line, max(tk.Position.Column, 1)}
}

// errorf records a problem at node n for the field at path.
func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	p := d.position(n)
	d.bad[path] = true
	d.errs.add(&FieldError{File: d.file, Line: p.line, Column: p.col, Path: path, Message: fmt.Sprintf(format, args...)})
}

// addSemantic places the semantic checks' problems at the position of
// their field, or of its nearest ancestor the file has, skipping fields
// that already failed to decode.
func (d *decoder) addSemantic(errs []*FieldError) {
	for _, e := range errs {
		skip := false
		for p := e.Path; ; p = parentPath(p) {
			if d.bad[p] {
				skip = true
				break
			}
			if p == "" {
				break
			}
		}
		if skip {
			continue
		}
		pos := d.positionOf(e.Path)
		e.File, e.Line, e.Column = d.file, pos.line, pos.col
		d.errs.add(e)
	}
}

// positionOf is where the field at path, or its nearest parent that the
// file gave, is written.
func (d *decoder) positionOf(path string) position {
	for p := path; ; p = parentPath(p) {
		if q, ok := d.pos[p]; ok {
			return q
		}
		if p == "" {
			return position{1, 1}
		}
	}
}

// parentPath returns the path of the field that holds path's field:
// phases[1].faults[0] -> phases[1].faults -> phases[1] -> phases -> "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "[\""); i >= 0 && strings.HasSuffix(path, "\"]") {
			return path[:i]
		}
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// describe says what a node holds, for "found ..." messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.StringNode:
		return fmt.Sprintf("string %q", v.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.IntegerNode:
		return "integer " + v.GetToken().Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number " + v.GetToken().Value
	case *ast.BoolNode:
		return fmt.Sprintf("boolean %v", v.Value)
	case *ast.NullNode:
		return "nothing (null)"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.AliasNode:
		return "an alias to an unknown anchor"
	}
	if n == nil {
		return "nothing"
	}
	return n.Type().String()
}

// mapping returns n as a mapping; a null is an empty mapping.
func (d *decoder) mapping(n ast.Node, path string) (*ast.MappingNode, bool) {
	switch v := d.resolve(n).(type) {
	case *ast.MappingNode:
		return v, true
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: v.BaseNode, Start: v.Start, Values: []*ast.MappingValueNode{v}}, true
	case *ast.NullNode, nil:
		return &ast.MappingNode{}, true
	default:
		d.errorf(n, path, "found %s, want a mapping of keys to values", describe(v))
		return nil, false
	}
}

// key returns the text of a mapping key, recording a problem for keys that
// are not plain strings.
func (d *decoder) key(mv *ast.MappingValueNode, path string) (string, bool) {
	if mv.Key == nil {
		d.errorf(mv, path, "mapping entry without a key")
		return "", false
	}
	if mv.Key.IsMergeKey() {
		d.errorf(mv.Key, path, "merge keys (<<) are not supported; repeat the keys or use an alias for a whole value")
		return "", false
	}
	switch k := d.resolve(mv.Key).(type) {
	case *ast.StringNode:
		return k.Value, true
	case *ast.MappingKeyNode:
		d.errorf(mv.Key, path, "complex mapping keys (?) are not supported")
		return "", false
	default:
		return mv.Key.GetToken().Value, true
	}
}

// enter guards recursion depth; callers must call leave when it returns true.
func (d *decoder) enter(n ast.Node, path string) bool {
	if d.depth >= maxDepth {
		d.errorf(n, path, "nested too deeply")
		return false
	}
	d.depth++
	return true
}

func (d *decoder) leave() { d.depth-- }

var (
	durationType   = reflect.TypeFor[Duration]()
	rateType       = reflect.TypeFor[Rate]()
	ratioType      = reflect.TypeFor[Ratio]()
	rateSpecType   = reflect.TypeFor[RateSpec]()
	distType       = reflect.TypeFor[Dist]()
	thresholdsType = reflect.TypeFor[[]Threshold]()
	phasesType     = reflect.TypeFor[[]Phase]()
)

// fieldInfo lists a struct's YAML keys in declaration order with their
// field indexes.
func fieldInfo(t reflect.Type) (names []string, idx map[string]int) {
	idx = map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		idx[name] = i
	}
	return names, idx
}

// decodeScenario decodes the top level. Phases are decoded after load and
// upstream, whatever their order in the file, because each phase starts
// from the scenario's values.
func (d *decoder) decodeScenario(n ast.Node, s *Scenario) {
	m, ok := d.mapping(n, "")
	if !ok {
		return
	}
	d.pos[""] = d.position(n)
	var phases, thresholds *ast.MappingValueNode
	d.decodeStructMap(m, "", reflect.ValueOf(s).Elem(), func(key string, mv *ast.MappingValueNode) bool {
		switch key {
		case "phases":
			phases = mv
			return true
		case "thresholds":
			thresholds = mv
			return true
		}
		return false
	})
	if phases != nil {
		d.pos["phases"] = d.position(phases.Value)
		d.decodePhases(phases.Value, s)
	}
	if thresholds != nil {
		d.pos["thresholds"] = d.position(thresholds.Value)
		s.Thresholds = d.thresholds(thresholds.Value, "thresholds")
	}
}

// decodePhases decodes the phase list; each phase starts from the
// scenario's load and upstream so that its keys override only themselves.
func (d *decoder) decodePhases(n ast.Node, s *Scenario) {
	if name, ok := aliasName(n); ok {
		d.active[name] = true
		defer delete(d.active, name)
	}
	seq, ok := d.sequence(n, "phases")
	if !ok {
		return
	}
	for i, item := range seq {
		p := Phase{Load: s.Load, Upstream: s.Upstream}
		d.decode(item, index("phases", i), reflect.ValueOf(&p).Elem())
		s.Phases = append(s.Phases, p)
	}
}

// sequence returns n's items; a null is an empty list.
func (d *decoder) sequence(n ast.Node, path string) ([]ast.Node, bool) {
	switch v := d.resolve(n).(type) {
	case *ast.SequenceNode:
		return v.Values, true
	case *ast.NullNode, nil:
		return nil, true
	default:
		d.errorf(n, path, "found %s, want a list", describe(v))
		return nil, false
	}
}

// decodeStructMap decodes the keys of m into the struct v; claim lets the
// caller take keys it decodes itself.
func (d *decoder) decodeStructMap(m *ast.MappingNode, path string, v reflect.Value, claim func(string, *ast.MappingValueNode) bool) {
	names, idx := fieldInfo(v.Type())
	for _, mv := range m.Values {
		key, ok := d.key(mv, path)
		if !ok {
			continue
		}
		fpath := join(path, key)
		i, known := idx[key]
		if !known {
			if path == "" && strings.HasPrefix(key, "x-") {
				continue // extension keys hold anchors for reuse
			}
			where := "here"
			if path != "" {
				where = "in " + path
			}
			d.errorf(mv.Key, fpath, "unknown key %q%s (valid %s: %s)", key, didYouMean(key, names), where, quoteList(names))
			continue
		}
		if claim != nil && claim(key, mv) {
			continue
		}
		d.decode(mv.Value, fpath, v.Field(i))
	}
}

// decode decodes node n into v, the field at path.
func (d *decoder) decode(n ast.Node, path string, v reflect.Value) {
	if !d.enter(n, path) {
		return
	}
	defer d.leave()
	d.visits++
	if d.visits == maxVisits {
		d.errorf(n, path, "the file expands to more than %d values (aliases used too often)", maxVisits)
	}
	if d.visits >= maxVisits {
		return
	}
	if name, ok := aliasName(n); ok {
		if d.active[name] {
			d.errorf(n, path, "alias *%s refers to a value that contains it", name)
			return
		}
		d.active[name] = true
		defer delete(d.active, name)
	}
	d.pos[path] = d.position(n)
	r := d.resolve(n)
	if _, isAlias := r.(*ast.AliasNode); isAlias {
		d.errorf(n, path, "alias to an anchor that is not defined")
		return
	}
	switch v.Type() {
	case durationType:
		if dur, ok := d.duration(n, r, path); ok {
			v.SetInt(int64(dur))
		}
		return
	case rateType:
		if rate, ok := d.rate(n, r, path); ok {
			v.SetFloat(float64(rate))
		}
		return
	case ratioType:
		if ratio, ok := d.ratio(n, r, path); ok {
			v.SetFloat(float64(ratio))
		}
		return
	case rateSpecType:
		d.rateSpec(n, r, path, v.Addr().Interface().(*RateSpec))
		return
	case distType:
		d.dist(n, r, path, v.Addr().Interface().(*Dist))
		return
	case thresholdsType, phasesType:
		// Decoded by decodeScenario in their own order.
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if _, null := r.(*ast.NullNode); null {
			d.errorf(n, path, "found nothing (null); remove the key or give a value")
			return
		}
		ptr := reflect.New(v.Type().Elem())
		d.decode(n, path, ptr.Elem())
		v.Set(ptr)
	case reflect.Struct:
		if m, ok := d.mapping(n, path); ok {
			d.decodeStructMap(m, path, v, d.secondForms(path, v))
		}
	case reflect.Slice:
		items, ok := d.sequence(n, path)
		if !ok || len(items) == 0 {
			v.SetZero() // an empty list is the same as none
			return
		}
		s := reflect.MakeSlice(v.Type(), 0, len(items))
		for i, item := range items {
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(item, index(path, i), e)
			s = reflect.Append(s, e)
		}
		v.Set(s)
	case reflect.Map:
		d.decodeStringMap(n, path, v)
	case reflect.String:
		if str, ok := d.str(n, r, path); ok {
			v.SetString(str)
		}
	case reflect.Bool:
		if b, ok := r.(*ast.BoolNode); ok {
			v.SetBool(b.Value)
			return
		}
		d.errorf(n, path, "found %s, want true or false", describe(r))
	case reflect.Int, reflect.Int64:
		if i, ok := d.integer(n, r, path); ok {
			v.SetInt(i)
		}
	case reflect.Float64:
		if f, ok := d.number(n, r, path); ok {
			v.SetFloat(f)
		}
	default:
		d.errorf(n, path, "cannot decode into %s", v.Type())
	}
}

// str decodes a string scalar; numbers and booleans are refused so that a
// typo such as `mode: 1` does not pass silently.
func (d *decoder) str(n, r ast.Node, path string) (string, bool) {
	switch v := r.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		d.errorf(n, path, "found %s, want a string (quote it: %q)", describe(r), r.GetToken().Value)
	default:
		d.errorf(n, path, "found %s, want a string", describe(r))
	}
	return "", false
}

// integer decodes an integer scalar that fits in an int64.
func (d *decoder) integer(n, r ast.Node, path string) (int64, bool) {
	v, ok := r.(*ast.IntegerNode)
	if !ok {
		d.errorf(n, path, "found %s, want an integer", describe(r))
		return 0, false
	}
	switch x := v.Value.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	d.errorf(n, path, "found integer %s, which is too large", v.GetToken().Value)
	return 0, false
}

// number decodes an integer or a finite float.
func (d *decoder) number(n, r ast.Node, path string) (float64, bool) {
	switch v := r.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		}
	case *ast.FloatNode:
		return v.Value, true
	}
	d.errorf(n, path, "found %s, want a finite number", describe(r))
	return 0, false
}

// duration decodes a Go duration string, or the integer 0.
func (d *decoder) duration(n, r ast.Node, path string) (Duration, bool) {
	switch v := r.(type) {
	case *ast.StringNode:
		dur, err := ParseDuration(v.Value)
		if err != nil {
			d.errorf(n, path, "found %s, want a duration like \"250ms\", \"90s\" or \"5m\": %v", describe(r), err)
			return 0, false
		}
		return dur, true
	case *ast.IntegerNode:
		if x, ok := v.Value.(int64); ok && x == 0 {
			return 0, true
		}
		tok := v.GetToken().Value
		d.errorf(n, path, "found %s, want a duration with a unit, e.g. \"%ss\" or \"%sms\"", describe(r), tok, tok)
		return 0, false
	}
	d.errorf(n, path, "found %s, want a duration like \"250ms\", \"90s\" or \"5m\"", describe(r))
	return 0, false
}

// rate decodes "N/s" or "N/m".
func (d *decoder) rate(n, r ast.Node, path string) (Rate, bool) {
	switch v := r.(type) {
	case *ast.StringNode:
		rate, err := ParseRate(v.Value)
		if err != nil {
			d.errorf(n, path, "found %s, want a rate like \"20/s\" or \"600/m\": %v", describe(r), err)
			return 0, false
		}
		return rate, true
	case *ast.IntegerNode, *ast.FloatNode:
		tok := v.GetToken().Value
		d.errorf(n, path, "found %s, want a rate with a unit, e.g. \"%s/s\" or \"%s/m\"", describe(r), tok, tok)
		return 0, false
	}
	d.errorf(n, path, "found %s, want a rate like \"20/s\" or \"600/m\"", describe(r))
	return 0, false
}

// ratio decodes a number or a percentage string; the range is checked by
// the validator.
func (d *decoder) ratio(n, r ast.Node, path string) (Ratio, bool) {
	switch v := r.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		f, ok := d.number(n, r, path)
		return Ratio(f), ok
	case *ast.StringNode:
		if strings.HasSuffix(strings.TrimSpace(v.Value), "%") {
			ratio, err := ParseRatio(v.Value)
			if err == nil {
				return ratio, true
			}
		}
	}
	d.errorf(n, path, "found %s, want a ratio: a number in [0,1] or a percentage like \"95%%\"", describe(r))
	return 0, false
}

// rateSpec decodes a rate or a pattern mapping, replacing *rs whole.
func (d *decoder) rateSpec(n, r ast.Node, path string, rs *RateSpec) {
	switch r.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode:
		if rate, ok := d.rate(n, r, path); ok {
			*rs = RateSpec{Pattern: PatternConstant, Rate: rate}
			d.pos[join(path, "rate")] = d.position(n)
		}
		return
	case *ast.MappingNode, *ast.MappingValueNode:
		var spec RateSpec
		m, _ := d.mapping(n, path)
		d.decodeStructMap(m, path, reflect.ValueOf(&spec).Elem(), nil)
		if spec.Pattern == "" && d.isGiven(join(path, "rate")) {
			spec.Pattern = PatternConstant
		}
		*rs = spec
		return
	}
	d.errorf(n, path, "found %s, want a rate like \"20/s\" or a mapping such as {pattern: ramp, from: 5/s, to: 50/s}", describe(r))
}

// dist decodes a distribution mapping or a duration (fixed), replacing *ds
// whole.
func (d *decoder) dist(n, r ast.Node, path string, ds *Dist) {
	switch r.(type) {
	case *ast.StringNode, *ast.IntegerNode:
		if dur, ok := d.duration(n, r, path); ok {
			*ds = Dist{Dist: DistFixed, Value: dur}
			d.pos[join(path, "value")] = d.position(n)
			d.pos[join(path, "dist")] = d.position(n)
		}
		return
	case *ast.MappingNode, *ast.MappingValueNode:
		var dist Dist
		m, _ := d.mapping(n, path)
		d.decodeStructMap(m, path, reflect.ValueOf(&dist).Elem(), nil)
		*ds = dist
		return
	}
	d.errorf(n, path, "found %s, want a distribution such as {dist: lognormal, median: 300ms, p99: 1.5s} or a fixed duration like \"5ms\"", describe(r))
}

// isGiven reports whether the file set the field at path.
func (d *decoder) isGiven(path string) bool {
	_, ok := d.pos[path]
	return ok
}

// thresholds decodes the thresholds mapping, keeping file order.
func (d *decoder) thresholds(n ast.Node, path string) []Threshold {
	m, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	var out []Threshold
	for _, mv := range m.Values {
		key, ok := d.key(mv, path)
		if !ok {
			continue
		}
		kpath := fmt.Sprintf("%s[%q]", path, key)
		d.pos[kpath] = d.position(mv.Key)
		th, err := parseThresholdKey(key)
		if err != nil {
			d.errorf(mv.Key, kpath, "%v", err)
			continue
		}
		r := d.resolve(mv.Value)
		var items []ast.Node
		switch v := r.(type) {
		case *ast.StringNode:
			items = []ast.Node{v}
		case *ast.SequenceNode:
			items = v.Values
		default:
			d.errorf(mv.Value, kpath, "found %s, want a list of conditions such as [\"< 100ms\"]", describe(r))
			continue
		}
		if len(items) == 0 {
			d.errorf(mv.Value, kpath, "no condition; write e.g. [\"< 100ms\"]")
			continue
		}
		valid := true
		for i, item := range items {
			ipath := index(kpath, i)
			raw, ok := d.str(item, d.resolve(item), ipath)
			if !ok {
				valid = false
				continue
			}
			c, err := parseCondition(raw, Metrics[th.Metric])
			if err != nil {
				d.errorf(item, ipath, "%v", err)
				valid = false
				continue
			}
			th.Conditions = append(th.Conditions, c)
		}
		if valid {
			out = append(out, th)
		}
	}
	return out
}

// rateRamp is the mapping form of a fault's rate, {from: 0%, to: 80%}: the
// probability ramps linearly over the phase.
type rateRamp struct {
	// From is the probability at the start of the phase.
	From Ratio `yaml:"from"`
	// To is the probability at the end of the phase.
	To Ratio `yaml:"to"`
}

// secondForms claims the keys whose value may take a mapping form that the
// field's own type cannot hold: a phase's duration given as a distribution
// (into Phase.DurationDist) and a fault's rate given as a ramp (into
// Fault.Rate and Fault.RateTo). Any other form is left to the field's type.
func (d *decoder) secondForms(path string, v reflect.Value) func(string, *ast.MappingValueNode) bool {
	isMap := func(n ast.Node) bool {
		switch d.resolve(n).(type) {
		case *ast.MappingNode, *ast.MappingValueNode:
			return true
		}
		return false
	}
	switch p := v.Addr().Interface().(type) {
	case *Phase:
		return func(key string, mv *ast.MappingValueNode) bool {
			if key != "duration" || !isMap(mv.Value) {
				return false
			}
			var ds Dist
			d.decode(mv.Value, join(path, key), reflect.ValueOf(&ds).Elem())
			p.DurationDist = &ds
			return true
		}
	case *Fault:
		return func(key string, mv *ast.MappingValueNode) bool {
			if key != "rate" || !isMap(mv.Value) {
				return false
			}
			rpath := join(path, key)
			var r rateRamp
			d.decode(mv.Value, rpath, reflect.ValueOf(&r).Elem())
			for _, end := range []string{"from", "to"} {
				if !d.isGiven(join(rpath, end)) {
					d.errorf(mv.Value, rpath, "missing %s: a ramped rate needs both ends, e.g. {from: 0%%, to: 80%%}", end)
				}
			}
			p.Rate, p.RateTo = &r.From, &r.To
			return true
		}
	}
	return nil
}

// decodeStringMap decodes a mapping of names to strings (a target's env).
func (d *decoder) decodeStringMap(n ast.Node, path string, v reflect.Value) {
	if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
		d.errorf(n, path, "cannot decode into %s", v.Type())
		return
	}
	m, ok := d.mapping(n, path)
	if !ok {
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(m.Values))
	for _, mv := range m.Values {
		key, ok := d.key(mv, path)
		if !ok {
			continue
		}
		var s string
		d.decode(mv.Value, join(path, key), reflect.ValueOf(&s).Elem())
		out.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(s))
	}
	v.Set(out)
}
