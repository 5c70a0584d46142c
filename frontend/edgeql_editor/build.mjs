// Builds the editor bundle: `node build.mjs [outdir]` (default dist) writes
// <outdir>/editor.<hash>.js, <hash> being the first 16 hex digits of the bundle's sha256, and
// removes any other editor.*.js there: a new bundle gets a new URL, so browsers and proxies
// may cache the file for good (st_comps.py finds the one file; deploy/nginx.conf marks it
// immutable). Deterministic for a given lockfile: scripts/check_editor_bundle.sh rebuilds and
// compares name and bytes.
import {createHash} from "node:crypto";
import {mkdirSync, readdirSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {build} from "esbuild";

const outdir = process.argv[2] || "dist";
const result = await build({
  entryPoints: ["src/index.js"],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  loader: {".css": "text"},
  write: false,
  outfile: "editor.js",
  logLevel: "warning",
});
const code = result.outputFiles[0].contents;
const name = `editor.${createHash("sha256").update(code).digest("hex").slice(0, 16)}.js`;
mkdirSync(outdir, {recursive: true});
for (const old of readdirSync(outdir)) {
  if (/^editor(\.[0-9a-f]+)?\.js$/.test(old) && old !== name) rmSync(join(outdir, old));
}
writeFileSync(join(outdir, name), code);
console.log(`${outdir}/${name} (${code.length} bytes)`);
