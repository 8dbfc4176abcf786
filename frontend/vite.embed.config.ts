import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** The embedded chat (embed/embed.ts) as one classic script, dist/embed.js, that any site can
 * load with `<script src=".../embed.js" async>`: no React, only graphql-ws, minified. Built
 * after the SPA, into the same dist/ (which the backend serves). */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: false,
    sourcemap: true,
    target: "es2020",
    lib: {
      entry: fileURLToPath(new URL("embed/embed.ts", import.meta.url)),
      name: "GenAIStackEmbed",
      formats: ["iife"],
      fileName: () => "embed.js",
    },
  },
});
