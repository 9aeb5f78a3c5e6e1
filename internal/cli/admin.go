package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openguild/openguild/internal/auth"
	"github.com/openguild/openguild/internal/banlist"
	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/keys"
	"github.com/openguild/openguild/internal/server"
	"github.com/openguild/openguild/internal/store"
	"github.com/openguild/openguild/internal/validate"
)

const adminUsage = `usage: openguild admin COMMAND [flags]

Commands:
  create-user --username NAME --password-stdin [--admin]
  registration-token create [--uses N] [--expires DURATION]
  keys list
  keys rotate [--purpose access_token|event_signing]
  ban user USER_ID [--reason TEXT]
  ban ip CIDR [--reason TEXT]
  unban user USER_ID
  unban ip CIDR
  bans list
  media gc

Admin commands work on the configured database while the server runs;
a running server picks up their changes within 5 seconds.`

// runAdmin dispatches the admin subcommands.
func runAdmin(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usagef("%s", adminUsage)
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(env.Stdout, adminUsage)
		return nil
	}
	switch {
	case args[0] == "create-user":
		return adminCreateUser(ctx, env, args[1:])
	case args[0] == "registration-token" && len(args) > 1 && args[1] == "create":
		return adminCreateRegistrationToken(ctx, env, args[2:])
	case args[0] == "keys" && len(args) > 1 && args[1] == "list":
		return adminListKeys(ctx, env, args[2:])
	case args[0] == "keys" && len(args) > 1 && args[1] == "rotate":
		return adminRotateKey(ctx, env, args[2:])
	case (args[0] == "ban" || args[0] == "unban") && len(args) < 3:
		return usagef("usage: openguild admin %s user|ip VALUE", args[0])
	case args[0] == "ban" && len(args) > 2:
		return adminBan(ctx, env, args[1], args[2], args[3:])
	case args[0] == "unban" && len(args) > 2:
		return adminUnban(ctx, env, args[1], args[2], args[3:])
	case args[0] == "bans" && len(args) > 1 && args[1] == "list":
		return adminListBans(ctx, env, args[2:])
	case args[0] == "media" && len(args) > 1 && args[1] == "gc":
		return adminCollectMedia(ctx, env, args[2:])
	default:
		return usagef("unknown admin command %q\n%s", args[0], adminUsage)
	}
}

// openAuth opens and migrates the database and builds the account
// service, for commands that run beside or instead of the server.
func openAuth(ctx context.Context, env Env, cfg config.Config) (*server.Auth, *store.DB, error) {
	if err := requireExistingSQLite(cfg); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	logger := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := server.NewAuth(ctx, cfg, db, logger, prometheus.NewRegistry(), nil, nil, nil)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return a, db, nil
}

func adminCreateUser(ctx context.Context, env Env, args []string) error {
	var username string
	var passwordStdin, admin bool
	cfg, fs, err := parseFlags(env, "admin create-user", args, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "name of the new account (2 to 32 of A-Z a-z 0-9 . _ -)")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
		fs.BoolVar(&admin, "admin", false, "make the account a server administrator")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || username == "" || !passwordStdin {
		return usagef("usage: openguild admin create-user --username NAME --password-stdin [--admin]")
	}
	password, err := readPassword(env.Stdin)
	if err != nil {
		return err
	}

	a, db, err := openAuth(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	user, err := a.Service.CreateUser(ctx, username, password, admin)
	var fieldErr *validate.Error
	switch {
	case errors.As(err, &fieldErr):
		return usageError{err}
	case errors.Is(err, auth.ErrUsernameTaken):
		return fmt.Errorf("create user %q: the name is taken", username)
	case err != nil:
		return fmt.Errorf("create user %q: %w", username, err)
	}
	fmt.Fprintf(env.Stdout, "created user %s (id %s, admin %t)\n", user.Username, user.ID, admin)
	return nil
}

// requireExistingSQLite stops an admin command aimed at a data directory
// with no database, which would otherwise create an empty one that the
// running server never reads.
func requireExistingSQLite(cfg config.Config) error {
	if cfg.DatabaseURL != "" {
		return nil
	}
	path := filepath.Join(cfg.DataDir, store.SQLiteFileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database at %s: pass the server's --data-dir or --database-url, or run `openguild migrate` first to create one", path)
	}
	return nil
}

// readPassword reads one line, without its line ending, so
// `echo pw | openguild admin create-user ...` works.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, validate.PasswordMax+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("no password on standard input")
	}
	return line, nil
}

func adminCreateRegistrationToken(ctx context.Context, env Env, args []string) error {
	var uses int
	var expires time.Duration
	cfg, fs, err := parseFlags(env, "admin registration-token create", args, func(fs *flag.FlagSet) {
		fs.IntVar(&uses, "uses", 1, "registrations the token admits; 0 means unlimited")
		fs.DurationVar(&expires, "expires", 7*24*time.Hour, "time until the token expires; 0 means never")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || uses < 0 || expires < 0 {
		return usagef("usage: openguild admin registration-token create [--uses N] [--expires DURATION], with N and DURATION not negative")
	}

	a, db, err := openAuth(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	token, err := a.Service.CreateRegistrationToken(ctx, uses, expires)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, token)
	return nil
}

func adminListKeys(ctx context.Context, env Env, args []string) error {
	cfg, fs, err := parseFlags(env, "admin keys list", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: openguild admin keys list")
	}
	a, db, err := openAuth(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPURPOSE\tSTATE\tCREATED\tVERIFIES UNTIL")
	now := time.Now()
	for _, k := range a.Keyring.Keys() {
		state, until := "active", "-"
		if !k.Active() {
			state, until = "retired", k.VerifyUntil.UTC().Format(time.RFC3339)
			if !k.Verifies(now) {
				state = "expired"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Purpose, state, k.CreatedAt.UTC().Format(time.RFC3339), until)
	}
	return tw.Flush()
}

func adminRotateKey(ctx context.Context, env Env, args []string) error {
	var purpose string
	cfg, fs, err := parseFlags(env, "admin keys rotate", args, func(fs *flag.FlagSet) {
		fs.StringVar(&purpose, "purpose", string(keys.PurposeAccessToken), "key to rotate: access_token or event_signing")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || (purpose != string(keys.PurposeAccessToken) && purpose != string(keys.PurposeEventSigning)) {
		return usagef("usage: openguild admin keys rotate [--purpose access_token|event_signing]")
	}
	a, db, err := openAuth(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	key, err := a.Keyring.Rotate(ctx, keys.Purpose(purpose))
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", purpose, err)
	}
	fmt.Fprintf(env.Stdout, "new %s key %s; the previous key stays published and keeps verifying for its retention period\n", purpose, key.ID)
	return nil
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, cfg config.Config) (*store.DB, error) {
	if err := requireExistingSQLite(cfg); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// banTarget checks the kind and normalises the value of a ban.
func banTarget(kind, value string) (string, error) {
	switch kind {
	case banlist.KindUser:
		return value, nil
	case banlist.KindIP:
		p, err := banlist.ParsePrefix(value)
		if err != nil {
			return "", usagef("ban ip: %v", err)
		}
		return p.String(), nil
	default:
		return "", usagef("unknown ban kind %q; want user or ip", kind)
	}
}

func adminBan(ctx context.Context, env Env, kind, value string, args []string) error {
	var reason string
	cfg, fs, err := parseFlags(env, "admin ban", args, func(fs *flag.FlagSet) {
		fs.StringVar(&reason, "reason", "", "why, shown in `bans list`")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: openguild admin ban user|ip VALUE [--reason TEXT]")
	}
	value, err = banTarget(kind, value)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	if err := db.AddOperatorBan(ctx, banlist.Entry{Kind: kind, Value: value, Reason: reason, CreatedAt: time.Now()}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "banned %s %s; running servers refuse it within 5 seconds\n", kind, value)
	return nil
}

func adminUnban(ctx context.Context, env Env, kind, value string, args []string) error {
	cfg, fs, err := parseFlags(env, "admin unban", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: openguild admin unban user|ip VALUE")
	}
	value, err = banTarget(kind, value)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	removed, err := db.RemoveOperatorBan(ctx, kind, value)
	if err != nil {
		return err
	}
	if !removed {
		return fmt.Errorf("unban %s %s: no such ban (bans from the configuration file are removed there)", kind, value)
	}
	fmt.Fprintf(env.Stdout, "unbanned %s %s\n", kind, value)
	return nil
}

func adminListBans(ctx context.Context, env Env, args []string) error {
	cfg, fs, err := parseFlags(env, "admin bans list", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: openguild admin bans list")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	entries, err := db.OperatorBans(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tVALUE\tCREATED\tREASON")
	for _, u := range cfg.Abuse.BannedUsers {
		fmt.Fprintf(tw, "user\t%s\t(configuration)\t\n", u)
	}
	for _, p := range cfg.Abuse.BannedIPs {
		fmt.Fprintf(tw, "ip\t%s\t(configuration)\t\n", p)
	}
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Kind, e.Value, e.CreatedAt.UTC().Format(time.RFC3339), e.Reason)
	}
	return tw.Flush()
}
