package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"sync"
	"time"
)

// runThumbnails measures thumbnails of large images. One user uploads
// -images PNGs of -edge × -edge pixels, each a different solid colour
// with alpha so the server decodes 4 bytes a pixel, then requests a
// 256-pixel thumbnail of every one at once. It reports the thumbnail
// latencies and, with -server-pid, the server's peak RSS, which the
// decode budget should bound.
func runThumbnails(ctx context.Context, opts options, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload thumbnails", flag.ContinueOnError)
	fs.SetOutput(stderr)
	images := fs.Int("images", 3, "images whose thumbnails are requested at once")
	edge := fs.Int("edge", 7000, "width and height of each image in pixels, at most 7071 (50 megapixels)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *images < 1 || *images > 20 || *edge < 1 || *edge > 7071 {
		return errors.New("want 1 <= -images <= 20 and 1 <= -edge <= 7071")
	}

	c := newClient(opts.server, *images)
	sessions, err := createSessions(ctx, c, 1, randomHex(4), stderr)
	if err != nil {
		return err
	}
	token, err := sessions[0].token(ctx, c)
	if err != nil {
		return err
	}
	ids := make([]string, *images)
	for i := range ids {
		if ids[i], err = uploadSolidPNG(ctx, c, token, *edge, uint8(i)); err != nil {
			return err
		}
	}

	latencies := make([]float64, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			latencies[i], errs[i] = fetchThumbnail(ctx, c, token, id)
		})
	}
	wg.Wait()

	var done []float64
	for i, err := range errs {
		if err == nil {
			done = append(done, latencies[i])
		}
	}
	fmt.Fprintf(stdout, "scenario\timages\tmegapixels each\tthumbnails\tfailures\tlatency ms median\tlatency ms max\tserver peak RSS MiB\n")
	fmt.Fprintf(stdout, "thumbnails\t%d\t%.1f\t%d\t%d\t%.0f\t%.0f\t%.1f\n", *images, float64(*edge)*float64(*edge)/1e6,
		len(done), len(ids)-len(done), median(done), maximum(done), float64(peakRSS(opts.serverPID))/1024)
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, "failures:", err)
	}
	return nil
}

// uploadSolidPNG uploads an edge × edge PNG of one colour and returns its
// media id. A solid colour compresses to a few kilobytes at any size.
func uploadSolidPNG(ctx context.Context, c *client, token string, edge int, shade uint8) (string, error) {
	img := image.NewNRGBA(image.Rect(0, 0, edge, edge))
	fill := color.NRGBA{R: shade * 40, G: 120, B: 200, A: 250}
	for y := range edge {
		for x := range edge {
			img.SetNRGBA(x, y, fill)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode test image: %w", err)
	}

	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/media?filename=large.png", &buf)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	var media struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&media); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("upload: status %d: %v", resp.StatusCode, err)
	}
	return media.ID, nil
}

// fetchThumbnail requests a 256-pixel thumbnail and returns how long it
// took in milliseconds.
func fetchThumbnail(ctx context.Context, c *client, token, id string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/media/"+id+"/thumbnail?width=256&height=256", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("thumbnail of %s: %w", id, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		return 0, fmt.Errorf("thumbnail of %s: status %d: %v", id, resp.StatusCode, err)
	}
	return float64(time.Since(start).Microseconds()) / 1000, nil
}

func maximum(values []float64) float64 {
	var out float64
	for _, v := range values {
		out = max(out, v)
	}
	return out
}
