// Package i18n holds medguard's message catalogues (English and Simplified Chinese) and
// picks the language of a request from the user's setting or Accept-Language.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed messages
var files embed.FS

// Supported languages, the default first.
const (
	EN   = "en"
	ZhCN = "zh-CN"
)

// Languages lists the supported language tags, default first.
var Languages = []string{EN, ZhCN}

// Catalog maps language → key → message.
type Catalog struct {
	msgs    map[string]map[string]string
	matcher language.Matcher
}

// Load reads the embedded catalogues.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	tags := make([]language.Tag, 0, len(Languages))
	for _, lang := range Languages {
		// Each language is a folder of JSON files, one per area of the product, merged.
		names, err := fs.Glob(files, "messages/"+lang+"/*.json")
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("i18n: no catalogue files for %s", lang)
		}
		m := map[string]string{}
		for _, n := range names {
			b, err := files.ReadFile(n)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", n, err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", n, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q is defined twice", n, k)
				}
				m[k] = v
			}
		}
		c.msgs[lang] = m
		tags = append(tags, language.MustParse(lang))
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// MustLoad is Load for program start-up, where a broken embedded catalogue is a bug.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Normalize returns the supported language closest to tag, or "" when tag is empty.
func Normalize(tag string) string {
	switch strings.ToLower(strings.TrimSpace(tag)) {
	case "":
		return ""
	case "zh", "zh-cn", "zh_cn", "zh-hans", "zh-hans-cn":
		return ZhCN
	case "en", "en-us", "en-gb":
		return EN
	}
	return ""
}

// Pick chooses the language: the user's explicit setting if supported, otherwise the
// best match for the Accept-Language header, otherwise English.
func (c *Catalog) Pick(setting, acceptLanguage string) string {
	if l := Normalize(setting); l != "" {
		return l
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := c.matcher.Match(tags...)
			if conf != language.No {
				return Languages[idx]
			}
		}
	}
	return EN
}

// T translates key into lang, formatting args with fmt.Sprintf when given. A missing key
// falls back to English, then to the key itself, so a gap is visible but never fatal.
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		msg, ok = c.msgs[EN][key]
		if !ok {
			msg = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Has reports whether key exists in lang's catalogue.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Keys returns the sorted keys of lang's catalogue.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Message is a catalogue key with its arguments: what a module stores where a text is
// shown later, so that each reader sees it in their own language. An argument may itself
// be a Message (a translated word inside a sentence, such as a severity).
type Message struct {
	Key  string `json:"key"`
	Args []any  `json:"args,omitempty"`
}

// M builds a Message.
func M(key string, args ...any) Message { return Message{Key: key, Args: args} }

// Render translates m into lang. Arguments read back from JSON are brought back to the
// types the catalogue's verbs expect: whole numbers to integers, {"key": …} objects to
// their translation.
func (c *Catalog) Render(lang string, m Message) string {
	if len(m.Args) == 0 {
		return c.T(lang, m.Key)
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		args[i] = c.arg(lang, a)
	}
	return c.T(lang, m.Key, args...)
}

func (c *Catalog) arg(lang string, a any) any {
	switch v := a.(type) {
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	case Message:
		return c.Render(lang, v)
	case *Message:
		if v != nil {
			return c.Render(lang, *v)
		}
	case map[string]any:
		if t, ok := v[lang].(string); ok { // a text given in each language (Text)
			return t
		}
		if t, ok := v[EN].(string); ok {
			return t
		}
		if k, ok := v["key"].(string); ok {
			args, _ := v["args"].([]any)
			return c.Render(lang, Message{Key: k, Args: args})
		}
	}
	return a
}

// Text is an argument of a Message given in each language (say a catalogue item's
// title): it renders as the text of the reader's language, or the English one.
func Text(zhCN, en string) map[string]any { return map[string]any{ZhCN: zhCN, EN: en} }
