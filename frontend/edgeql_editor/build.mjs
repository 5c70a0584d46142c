// Builds the editor bundle: `node build.mjs [outfile]` (default dist/editor.js).
// Deterministic for a given lockfile: scripts/test.sh rebuilds and compares byte for byte.
import {build} from "esbuild";

const outfile = process.argv[2] || "dist/editor.js";
await build({
  entryPoints: ["src/index.js"],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  outfile,
  logLevel: "warning",
});
