import { defineConfig } from "vite";

// Served by kehu at /console/ (gateway/console.py); the build is committed so `make demo` needs no Node.
export default defineConfig({
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URLs, the CSP allows files from kehu only
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false }, // the polyfill is an inline script the CSP refuses
  },
});
