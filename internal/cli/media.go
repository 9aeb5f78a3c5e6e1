package cli

import (
	"context"
	"fmt"

	"github.com/openguild/openguild/internal/media"
	"github.com/openguild/openguild/internal/server"
)

// adminCollectMedia runs one media collection now, as the server does
// every media.gc_interval, and prints what it removed.
func adminCollectMedia(ctx context.Context, env Env, args []string) error {
	cfg, fs, err := parseFlags(env, "admin media gc", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage: openguild admin media gc")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	objects, err := server.OpenObjectStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open media store: %w", err)
	}
	svc, err := media.New(media.Options{Objects: objects, Store: db.Media(), GCGrace: cfg.Media.GCGrace})
	if err != nil {
		return err
	}
	report, err := svc.Collect(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed %d unreferenced media (%d bytes), %d stored objects and %d thumbnails\n",
		report.Media, report.MediaBytes, report.Objects, report.Thumbnails)
	return nil
}
