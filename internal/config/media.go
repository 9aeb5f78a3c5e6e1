package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Media backends.
const (
	MediaBackendFilesystem = "filesystem"
	MediaBackendS3         = "s3"
)

// Media holds the settings of uploads, downloads, thumbnails and the
// object store behind them.
type Media struct {
	Backend string // MediaBackendFilesystem or MediaBackendS3
	Dir     string // the filesystem backend's root; empty means "media" in the data directory

	MaxUploadBytes int64 // largest file accepted
	QuotaBytes     int64 // bytes of uploads one user may keep
	UploadsPerUser Rate  // uploads per user

	// DecodeBudgetBytes is the memory that thumbnail decoding may hold at
	// once, summed over concurrent decodes. An image whose decoded pixels
	// alone would exceed it gets no thumbnail.
	DecodeBudgetBytes int64

	// GCInterval is how often unreferenced media are collected; GCGrace
	// is how long an upload may stay unattached, and an attachment of a
	// deleted message stay stored, before collection.
	GCInterval time.Duration
	GCGrace    time.Duration

	S3 MediaS3
}

// MediaS3 configures the S3-compatible backend.
type MediaS3 struct {
	Endpoint     string // host:port, without a scheme
	Region       string
	Bucket       string
	AccessKey    string
	SecretKey    string
	UseTLS       bool
	PathStyle    bool
	CreateBucket bool
}

func defaultMedia() Media {
	return Media{
		Backend:           MediaBackendFilesystem,
		MaxUploadBytes:    25 << 20,
		QuotaBytes:        1 << 30,
		UploadsPerUser:    Rate{Requests: 30, Window: time.Minute},
		DecodeBudgetBytes: 512 << 20,
		GCInterval:        time.Hour,
		GCGrace:           24 * time.Hour,
		S3:                MediaS3{Bucket: "openguild-media", PathStyle: true},
	}
}

func mediaSettings() []setting {
	return []setting{
		enumSetting("media.backend", "where media are stored: filesystem or s3 (default filesystem)",
			[]string{MediaBackendFilesystem, MediaBackendS3}, func(c *Config) *string { return &c.Media.Backend }),
		stringSetting("media.dir", "root directory of the filesystem backend (default media in the data directory)",
			func(c *Config) *string { return &c.Media.Dir }),
		byteSetting("media.max_upload_size", "largest file one upload may carry (default 25MiB)",
			func(c *Config) *int64 { return &c.Media.MaxUploadBytes }),
		byteSetting("media.quota", "total size of the uploads one user may keep (default 1GiB)",
			func(c *Config) *int64 { return &c.Media.QuotaBytes }),
		rateSetting("media.uploads_per_user", "uploads per user, as requests/window (default 30/1m)",
			func(c *Config) *Rate { return &c.Media.UploadsPerUser }),
		byteSetting("media.decode_budget", "memory that concurrent thumbnail decodes may hold at once; larger images get no thumbnail (default 512MiB)",
			func(c *Config) *int64 { return &c.Media.DecodeBudgetBytes }),
		durationSetting("media.gc_interval", "how often unreferenced media are removed (default 1h)",
			func(c *Config) *time.Duration { return &c.Media.GCInterval }),
		durationSetting("media.gc_grace", "how long an unattached upload or an attachment of a deleted message is kept (default 24h)",
			func(c *Config) *time.Duration { return &c.Media.GCGrace }),
		stringSetting("media.s3.endpoint", "S3 server host:port, without a scheme (default empty)",
			func(c *Config) *string { return &c.Media.S3.Endpoint }),
		stringSetting("media.s3.region", "S3 region; empty asks the server (default empty)",
			func(c *Config) *string { return &c.Media.S3.Region }),
		stringSetting("media.s3.bucket", "S3 bucket that holds the media (default openguild-media)",
			func(c *Config) *string { return &c.Media.S3.Bucket }),
		stringSetting("media.s3.access_key", "S3 access key id (default empty)",
			func(c *Config) *string { return &c.Media.S3.AccessKey }),
		secretSetting("media.s3.secret_key", "S3 secret access key (default empty)",
			func(c *Config) *string { return &c.Media.S3.SecretKey }),
		boolSetting("media.s3.use_tls", "connect to the S3 server over HTTPS (default false)",
			func(c *Config) *bool { return &c.Media.S3.UseTLS }),
		boolSetting("media.s3.path_style", "put the bucket in the URL path, as most self-hosted servers expect (default true)",
			func(c *Config) *bool { return &c.Media.S3.PathStyle }),
		boolSetting("media.s3.create_bucket", "create the bucket at start when it does not exist (default false)",
			func(c *Config) *bool { return &c.Media.S3.CreateBucket }),
	}
}

func (m *Media) validate() error {
	switch {
	case m.MaxUploadBytes < 1 || m.MaxUploadBytes > 5<<30:
		return &Error{Key: "media.max_upload_size", Value: FormatBytes(m.MaxUploadBytes), Want: "1 byte to 5GiB"}
	case m.QuotaBytes < m.MaxUploadBytes:
		return &Error{Key: "media.quota", Value: FormatBytes(m.QuotaBytes), Want: "at least media.max_upload_size"}
	case m.DecodeBudgetBytes < 16<<20:
		return &Error{Key: "media.decode_budget", Value: FormatBytes(m.DecodeBudgetBytes), Want: "at least 16MiB"}
	case m.GCInterval < time.Minute:
		return &Error{Key: "media.gc_interval", Value: m.GCInterval.String(), Want: "a duration of at least 1m"}
	case m.GCGrace < time.Minute:
		return &Error{Key: "media.gc_grace", Value: m.GCGrace.String(), Want: "a duration of at least 1m"}
	}
	if m.Backend == MediaBackendS3 {
		if m.S3.Endpoint == "" || strings.Contains(m.S3.Endpoint, "://") {
			return &Error{Key: "media.s3.endpoint", Value: m.S3.Endpoint, Want: "host:port without a scheme, required with media.backend s3"}
		}
		if m.S3.Bucket == "" {
			return &Error{Key: "media.s3.bucket", Value: "", Want: "a bucket name"}
		}
	}
	return nil
}

func boolSetting(key, help string, field func(*Config) *bool) setting {
	return setting{
		key:  key,
		help: help,
		want: "true or false",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return err
			}
			*field(c) = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

// byteUnits are the suffixes a byte size may carry, longest first so
// that "MiB" is tried before "B".
var byteUnits = []struct {
	suffix string
	size   int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1},
}

func byteSetting(key, help string, field func(*Config) *int64) setting {
	return setting{
		key:  key,
		help: help,
		want: "a size in bytes, optionally with a unit: B, KiB, MiB or GiB, such as 25MiB",
		set: func(c *Config, v string) error {
			n, err := parseBytes(v)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		},
		get: func(c *Config) string { return FormatBytes(*field(c)) },
	}
}

func parseBytes(v string) (int64, error) {
	number, unit := strings.TrimSpace(v), int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(number, u.suffix) {
			number, unit = strings.TrimSpace(strings.TrimSuffix(number, u.suffix)), u.size
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > (1<<62)/unit {
		return 0, errors.New("out of range")
	}
	return n * unit, nil
}

// FormatBytes writes n with the largest unit that divides it exactly, as
// byte settings are written, such as 25MiB.
func FormatBytes(n int64) string {
	for _, u := range byteUnits {
		if n != 0 && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", n)
}
