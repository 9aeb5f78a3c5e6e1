package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Flags connects the configuration keys to a flag set. Bind it before
// the flag set parses, then call Load.
type Flags struct {
	configFile string
	values     map[string]string // flag values by key, last one wins
}

// Bind registers --config and one flag per configuration key on fs.
func Bind(fs *flag.FlagSet) *Flags {
	f := &Flags{values: make(map[string]string)}
	fs.StringVar(&f.configFile, "config", "", "YAML configuration file (env OPENGUILD_CONFIG)")
	for _, s := range settings() {
		key := s.key
		usage := fmt.Sprintf("%s (env %s)", s.help, s.env())
		fs.Func(s.flag(), usage, func(v string) error {
			f.values[key] = v
			return nil
		})
	}
	return f
}

// Load layers the defaults, the YAML file, the environment and the parsed
// flags, then validates the result. lookupEnv has the form of
// os.LookupEnv; a variable that is set but empty sets the empty value,
// which for metrics_listen disables the metrics listener. Every error is
// an *Error or names the file that could not be read or parsed.
func (f *Flags) Load(lookupEnv func(string) (string, bool)) (Config, error) {
	cfg := Default()
	byKey := settingsByKey()

	cfg.File = f.configFile
	if cfg.File == "" {
		cfg.File, _ = lookupEnv("OPENGUILD_CONFIG")
	}
	if cfg.File != "" {
		if err := applyFile(&cfg, cfg.File, byKey); err != nil {
			return Config{}, err
		}
	}

	for _, s := range settings() {
		v, ok := lookupEnv(s.env())
		if !ok {
			continue
		}
		if err := apply(&cfg, s, v, s.env()); err != nil {
			return Config{}, err
		}
	}

	for _, s := range settings() {
		v, ok := f.values[s.key]
		if !ok {
			continue
		}
		if err := apply(&cfg, s, v, "--"+s.flag()); err != nil {
			return Config{}, err
		}
	}

	if err := cfg.Validate(); err != nil {
		return Config{}, f.withSource(err, lookupEnv, cfg.File)
	}
	return cfg, nil
}

// withSource names where a key rejected by Validate was set: the flag,
// else the environment variable, else the file.
func (f *Flags) withSource(err error, lookupEnv func(string) (string, bool), file string) error {
	var cfgErr *Error
	if !errors.As(err, &cfgErr) || cfgErr.Source != "" {
		return err
	}
	for _, s := range settings() {
		if s.key != cfgErr.Key {
			continue
		}
		if _, ok := f.values[s.key]; ok {
			cfgErr.Source = "--" + s.flag()
		} else if _, ok := lookupEnv(s.env()); ok {
			cfgErr.Source = s.env()
		} else if file != "" {
			cfgErr.Source = file
		}
	}
	return err
}

// CheckFile reads and validates one YAML file on top of the defaults,
// without the environment or flags, for `openguild config check`.
func CheckFile(path string) (Config, error) {
	cfg := Default()
	cfg.File = path
	if err := applyFile(&cfg, path, settingsByKey()); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func settingsByKey() map[string]setting {
	byKey := make(map[string]setting)
	for _, s := range settings() {
		byKey[s.key] = s
	}
	return byKey
}

func apply(cfg *Config, s setting, value, source string) error {
	if err := s.set(cfg, value); err != nil {
		shown := value
		if s.secret {
			shown = RedactURL(value)
		}
		return &Error{Key: s.key, Value: shown, Source: source, Want: s.want, Err: err}
	}
	return nil
}

func applyFile(cfg *Config, path string, byKey map[string]setting) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("parse config file %s: %w", path, err)
	}
	if root.Kind == 0 {
		return nil // an empty file sets nothing
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("parse config file %s: line %d: the top level must be a mapping of keys to values", path, doc.Line)
	}
	return applyMapping(cfg, path, "", doc, byKey)
}

func applyMapping(cfg *Config, path, prefix string, node *yaml.Node, byKey map[string]setting) error {
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, valueNode := node.Content[i], node.Content[i+1]
		key := prefix + keyNode.Value
		source := fmt.Sprintf("%s line %d", path, keyNode.Line)

		if valueNode.Kind == yaml.MappingNode {
			if err := applyMapping(cfg, path, key+".", valueNode, byKey); err != nil {
				return err
			}
			continue
		}
		s, ok := byKey[key]
		if !ok {
			return fmt.Errorf("parse config file %s: line %d: unknown key %q (see docs/configuration.md for the keys)", path, keyNode.Line, key)
		}
		value, err := scalarValue(valueNode)
		if err != nil {
			return fmt.Errorf("parse config file %s: line %d: key %s: %w", path, valueNode.Line, key, err)
		}
		if err := apply(cfg, s, value, source); err != nil {
			return err
		}
	}
	return nil
}

// scalarValue returns a scalar as written, and a list of scalars joined
// with commas, the same form the flag and environment layers take.
func scalarValue(node *yaml.Node) (string, error) {
	switch node.Kind {
	case yaml.ScalarNode:
		if node.Tag == "!!null" {
			return "", nil
		}
		return node.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(node.Content))
		for _, item := range node.Content {
			if item.Kind != yaml.ScalarNode {
				return "", errors.New("a list may hold only plain values")
			}
			parts = append(parts, item.Value)
		}
		return strings.Join(parts, ","), nil
	default:
		return "", errors.New("want a plain value or a list of plain values")
	}
}

// Write prints the configuration as YAML that Load accepts, with secrets
// redacted.
func (c *Config) Write(w io.Writer) error {
	if c.File != "" {
		if _, err := fmt.Fprintf(w, "# loaded from %s\n", c.File); err != nil {
			return err
		}
	}
	for _, s := range settings() {
		value := s.get(c)
		if s.secret && value != "" {
			if s.key == "database_url" {
				value = RedactURL(value)
			} else {
				value = "<redacted>"
			}
		}
		out, err := yaml.Marshal(map[string]string{s.key: value})
		if err != nil {
			return fmt.Errorf("encode key %s: %w", s.key, err)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}
