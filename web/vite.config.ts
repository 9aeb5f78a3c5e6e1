import { defineConfig } from 'vitest/config';

// The dev server forwards API and gateway traffic to a homeserver started
// with `go run ./cmd/openguild`. OPENGUILD_URL overrides its address.
const target = process.env.OPENGUILD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The bundle is committed and CI compares a rebuild with it, so the
    // output must depend only on the sources: no source maps with absolute
    // paths, and no inline module-preload polyfill (the page CSP forbids
    // inline script).
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target, ws: true },
      '/.well-known': { target },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'happy-dom',
  },
});
