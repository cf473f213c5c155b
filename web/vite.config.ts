import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The agent and dashboard pages: built into web/dist and served by the API server (src/api/routes/web.ts). */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  // The server serves only /assets/*, so static files go there too.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Charts are their own chunk: the agent page loads without them.
    chunkSizeWarningLimit: 700,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development, with `npm start` for the API on
    // PORT (3000 unless set), as the server reads it.
    proxy: { '/v1': `http://127.0.0.1:${process.env.PORT ?? 3000}` },
  },
});
