import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The build goes to ../pb_public, which the Go binary embeds. `npm run dev`
// serves the UI on :5173 and passes the API and the dashboard to a server
// started with `go run . serve` (SALON_API overrides its address).
const api = process.env.SALON_API || 'http://127.0.0.1:8090';

export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: '../pb_public',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    // livekit-client (≈570 kB) is a chunk of its own, loaded only on salons
    // whose media backend is LiveKit
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: true },
      '/_': { target: api, changeOrigin: true },
    },
  },
});
