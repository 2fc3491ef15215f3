// Builds the console into ../src/deconflict/console_dist/ (gitignored, shipped in the wheel):
// our TypeScript bundled by esbuild (which strips types; `npm run typecheck` checks them), the
// page, its style sheet, and Natural Earth's countries at 1:50m from the `world-atlas` package.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "deconflict", "console_dist");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outfile: join(out, "console.js"),
  logLevel: "error",
});
copyFileSync(join(here, "static", "index.html"), join(out, "index.html"));
copyFileSync(join(here, "static", "console.css"), join(out, "console.css"));
copyFileSync(join(here, "node_modules", "world-atlas", "countries-50m.json"), join(out, "countries-50m.json"));
writeFileSync(join(out, "BUILT"), "built by console/build.mjs from console/; do not edit\n");
