/// <reference types="vitest" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The UI is served by nginx from static/dist and talks to /api/ on the same
// origin. For local development `npm run dev` forwards /api/ to DGEN_API_URL.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom'],
          primer: ['@primer/react', 'styled-components'],
          flow: ['@xyflow/react'],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.DGEN_API_URL || 'http://127.0.0.1:8080',
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['./vitest.setup.js'],
  },
});
