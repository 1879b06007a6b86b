package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Block Kit limits Slack enforces (and answers invalid_blocks /
// invalid_arguments for). The fake checks the ones a bot is likely to hit.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
	maxSectionText   = 3000
	maxSectionField  = 2000
	maxSectionFields = 10
	maxHeaderText    = 150
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxIDLen         = 255
	maxActionsElems  = 25
	maxContextElems  = 10
	maxModalTitle    = 24
)

// normalizeBlocks validates a blocks array against max and Slack's field
// limits and fills in missing block_ids, which Slack does when it stores a
// message. It returns the stored JSON or Slack-style error messages.
func normalizeBlocks(raw json.RawMessage, max int) (json.RawMessage, []string) {
	if isEmptyArray(raw) {
		return nil, nil
	}
	var blocks []map[string]any
	if err := decodeJSON(raw, &blocks); err != nil {
		return nil, []string{"[ERROR] expected an array of blocks [json-pointer:/blocks]"}
	}
	var msgs []string
	errf := func(ptr, format string, args ...any) {
		msgs = append(msgs, fmt.Sprintf("[ERROR] "+format+" [json-pointer:/blocks%s]", append(args, ptr)...))
	}
	if len(blocks) > max {
		errf("", "no more than %d items allowed", max)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		p := fmt.Sprintf("/%d", i)
		typ, _ := b["type"].(string)
		if typ == "" {
			errf(p+"/type", "missing required field: type")
			continue
		}
		id, _ := b["block_id"].(string)
		if id == "" {
			// Slack generates short random-looking IDs; stable ones keep
			// tests deterministic.
			id = fmt.Sprintf("fk%03d", i)
			b["block_id"] = id
		}
		if seen[id] {
			errf(p+"/block_id", "duplicate block_id %q", id)
		}
		seen[id] = true
		if n := utf8.RuneCountInString(id); n > maxIDLen {
			errf(p+"/block_id", "must be less than %d characters", maxIDLen+1)
		}
		switch typ {
		case "section":
			if t := textOf(b["text"]); utf8.RuneCountInString(t) > maxSectionText {
				errf(p+"/text/text", "must be less than %d characters", maxSectionText+1)
			}
			fields, _ := b["fields"].([]any)
			if len(fields) > maxSectionFields {
				errf(p+"/fields", "no more than %d items allowed", maxSectionFields)
			}
			for j, f := range fields {
				if utf8.RuneCountInString(textOf(f)) > maxSectionField {
					errf(fmt.Sprintf("%s/fields/%d/text", p, j), "must be less than %d characters", maxSectionField+1)
				}
			}
			if acc, ok := b["accessory"].(map[string]any); ok {
				checkElement(acc, p+"/accessory", errf)
			}
		case "header":
			if t := textOf(b["text"]); utf8.RuneCountInString(t) > maxHeaderText {
				errf(p+"/text/text", "must be less than %d characters", maxHeaderText+1)
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) > maxActionsElems {
				errf(p+"/elements", "no more than %d items allowed", maxActionsElems)
			}
			for j, e := range els {
				if em, ok := e.(map[string]any); ok {
					checkElement(em, fmt.Sprintf("%s/elements/%d", p, j), errf)
				}
			}
		case "context":
			if els, _ := b["elements"].([]any); len(els) > maxContextElems {
				errf(p+"/elements", "no more than %d items allowed", maxContextElems)
			}
		case "input":
			if em, ok := b["element"].(map[string]any); ok {
				checkElement(em, p+"/element", errf)
			}
		}
	}
	if len(msgs) > 0 {
		return nil, msgs
	}
	return marshalJSON(blocks), nil
}

// decodeJSON keeps numbers exact (json.Number) so re-encoding stored
// blocks does not turn large integers into floats.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// marshalJSON encodes without HTML escaping, so stored blocks keep
// Slack's "<@U123>" and "<url|text>" markup byte for byte.
func marshalJSON(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func checkElement(e map[string]any, p string, errf func(ptr, format string, args ...any)) {
	if id, _ := e["action_id"].(string); utf8.RuneCountInString(id) > maxIDLen {
		errf(p+"/action_id", "must be less than %d characters", maxIDLen+1)
	}
	if e["type"] == "button" {
		if utf8.RuneCountInString(textOf(e["text"])) > maxButtonText {
			errf(p+"/text/text", "must be less than %d characters", maxButtonText+1)
		}
		if v, _ := e["value"].(string); utf8.RuneCountInString(v) > maxButtonValue {
			errf(p+"/value", "must be less than %d characters", maxButtonValue+1)
		}
	}
}

// textOf returns the text of a text object ({"type":..,"text":..}).
func textOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["text"].(string)
	return s
}

// element is an interactive element found in stored blocks.
type element struct {
	blockID   string
	blockType string
	el        map[string]any
}

// findElements lists the interactive elements in a blocks array in order:
// actions elements, section accessories and input elements.
func findElements(raw json.RawMessage) []element {
	var blocks []map[string]any
	if decodeJSON(raw, &blocks) != nil {
		return nil
	}
	var out []element
	for _, b := range blocks {
		id, _ := b["block_id"].(string)
		typ, _ := b["type"].(string)
		add := func(v any) {
			if em, ok := v.(map[string]any); ok {
				if _, has := em["action_id"]; has || typ == "input" {
					out = append(out, element{blockID: id, blockType: typ, el: em})
				}
			}
		}
		switch typ {
		case "actions":
			els, _ := b["elements"].([]any)
			for _, e := range els {
				add(e)
			}
		case "section":
			add(b["accessory"])
		case "input":
			add(b["element"])
		}
	}
	return out
}

func findElement(raw json.RawMessage, actionID string) (element, bool) {
	for _, e := range findElements(raw) {
		if id, _ := e.el["action_id"].(string); id == actionID {
			return e, true
		}
	}
	return element{}, false
}

// elementState renders what Slack reports for an element with a value, in
// block_actions "actions" entries and in view state values. A string value
// is put where the element type keeps it; a map is taken verbatim; nil
// yields the element's initial value (or empty).
func elementState(e map[string]any, value any) map[string]any {
	typ, _ := e["type"].(string)
	st := map[string]any{"type": typ}
	if m, ok := value.(map[string]any); ok {
		for k, v := range m {
			st[k] = v
		}
		return st
	}
	var strs []string
	str, isStr := value.(string)
	switch v := value.(type) {
	case []string:
		strs = v
	case string:
		if v != "" {
			strs = strings.Split(v, ",")
		}
	}
	initial := func(k string) any { return e[k] }
	switch typ {
	case "button":
		st["text"] = e["text"]
		if isStr && str != "" {
			st["value"] = str
		} else {
			st["value"] = e["value"]
		}
	case "static_select", "external_select", "radio_buttons", "overflow":
		if isStr {
			st["selected_option"] = findOption(e, str)
		} else {
			st["selected_option"] = initial("initial_option")
		}
	case "multi_static_select", "multi_external_select", "checkboxes":
		var opts []any
		for _, v := range strs {
			if o := findOption(e, v); o != nil {
				opts = append(opts, o)
			}
		}
		if value == nil {
			if io, ok := e["initial_options"].([]any); ok {
				opts = io
			}
		}
		if opts == nil {
			opts = []any{}
		}
		st["selected_options"] = opts
	case "users_select":
		st["selected_user"] = pick(isStr, str, initial("initial_user"))
	case "multi_users_select":
		st["selected_users"] = pickList(strs, value, initial("initial_users"))
	case "conversations_select":
		st["selected_conversation"] = pick(isStr, str, initial("initial_conversation"))
	case "multi_conversations_select":
		st["selected_conversations"] = pickList(strs, value, initial("initial_conversations"))
	case "channels_select":
		st["selected_channel"] = pick(isStr, str, initial("initial_channel"))
	case "multi_channels_select":
		st["selected_channels"] = pickList(strs, value, initial("initial_channels"))
	case "datepicker":
		st["selected_date"] = pick(isStr, str, initial("initial_date"))
	case "timepicker":
		st["selected_time"] = pick(isStr, str, initial("initial_time"))
	default: // plain_text_input, number_input, email_text_input, url_text_input, …
		st["value"] = pick(isStr, str, initial("initial_value"))
	}
	return st
}

func pick(isStr bool, s string, initial any) any {
	if isStr {
		return s
	}
	return initial
}

func pickList(strs []string, value, initial any) any {
	if value == nil {
		if initial != nil {
			return initial
		}
		return []string{}
	}
	if strs == nil {
		return []string{}
	}
	return strs
}

// findOption returns the option object with the given value, searching
// options and option_groups, as Slack echoes the whole option back.
func findOption(e map[string]any, value string) any {
	var opts []any
	if o, ok := e["options"].([]any); ok {
		opts = append(opts, o...)
	}
	if groups, ok := e["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				if o, ok := gm["options"].([]any); ok {
					opts = append(opts, o...)
				}
			}
		}
	}
	for _, o := range opts {
		if om, ok := o.(map[string]any); ok && om["value"] == value {
			return om
		}
	}
	// External selects have no options in the view; synthesise one.
	return map[string]any{"text": map[string]any{"type": "plain_text", "text": value, "emoji": true}, "value": value}
}
