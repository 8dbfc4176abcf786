/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const backend = process.env.GENAI_BACKEND_URL ?? "http://127.0.0.1:8000";

/** Vite's size warning covers every chunk, and Monaco (GraphiQL's editor) is one 2.8 MB chunk
 * that only /graphql loads: this keeps the SPA's own budget on what index.html can reach. */
function spaChunkBudget(limitKb: number): Plugin {
  return {
    name: "spa-chunk-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((c) => c.type === "chunk" && c.isEntry && c.name === "index");
      const seen = new Set<string>();
      const visit = (file: string) => {
        const chunk = bundle[file];
        if (seen.has(file) || chunk?.type !== "chunk") return;
        seen.add(file);
        const kb = chunk.code.length / 1000;
        if (kb > limitKb) this.warn(`SPA chunk ${file} is ${kb.toFixed(0)} kB (budget ${limitKb} kB)`);
        [...chunk.imports, ...chunk.dynamicImports].forEach(visit);
      };
      if (entry) visit(entry.fileName);
    },
  };
}

export default defineConfig({
  plugins: [react(), tailwindcss(), spaChunkBudget(700)],
  server: {
    proxy: {
      // a stack's downloads (not /stacks/{id} itself: that is a page of the SPA)
      "^/stacks/[^/]+/(export\\.json|export\\.zip|history\\.jsonl)$": { target: backend, changeOrigin: true },
      "/graphql": {
        target: backend,
        ws: true,
        changeOrigin: true,
        // A browser opening /graphql gets GraphiQL from this server, as the backend serves the built one.
        bypass: (req) =>
          !req.headers.upgrade && req.headers.accept?.includes("text/html") ? "/graphiql.html" : undefined,
        // The backend refuses cross-origin WebSocket handshakes: present the proxy as same-origin.
        configure: (proxy) => {
          proxy.on("proxyReqWs", (proxyReq) => proxyReq.setHeader("origin", backend));
        },
      },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
    chunkSizeWarningLimit: 3000, // the SPA's own budget is spaChunkBudget's
    rolldownOptions: {
      // GraphiQL is a page of its own, served at GET /graphql: the SPA never loads Monaco.
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        graphiql: fileURLToPath(new URL("graphiql.html", import.meta.url)),
      },
      // GraphiQL's modules carry React Compiler's "use no memo", which a bundle need not keep.
      checks: { moduleLevelDirective: false },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}", "embed/**/*.test.ts"],
    setupFiles: ["src/test/setup.ts"],
    css: false,
    // a bound on a hung test, not a speed goal: jsdom on a busy 2-core machine is slow
    testTimeout: 30_000,
    reporters: ["default", "./src/test/summaryReporter.ts"],
  },
});
