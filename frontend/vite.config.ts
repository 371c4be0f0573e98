import { fileURLToPath, URL } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The console is served by the local stack (same origin as the API it proxies) or as
// static files behind a CDN; `npm run dev` proxies the API to a running `make run`.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: { sourcemap: false },
  server: {
    proxy: {
      "/customer": process.env.FLEET_API_URL ?? "http://127.0.0.1:8000",
      "/health": process.env.FLEET_API_URL ?? "http://127.0.0.1:8000",
    },
  },
});
