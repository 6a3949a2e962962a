/**
 * Vite config of the browser client. The vite root is this folder; the build
 * goes to dist/client at the repository root, which the server serves
 * (STATIC_DIR). Phaser (~1.4 MB) is split into its own chunk so the game's own
 * code can change without busting the cached engine.
 *
 * `vite` (dev) proxies the HTTP API and the WebSocket to a server on :8080.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const backend = process.env.TICKWIRE_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../../dist/client', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Phaser alone is ~1.2 MB minified; it is cached for good in its own chunk.
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: 'phaser', test: /[\\/]node_modules[\\/]phaser[\\/]/ }],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
});
