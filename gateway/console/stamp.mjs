// Writes dist/stamp.json: the sha256 of every source the build is made from (and the SDL its
// operations are typed against). tests/console/test_console_build.py recomputes it: a committed
// build older than its source fails the test. Also writes a .gz beside each asset (served as is).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const here = new URL(".", import.meta.url).pathname;
const SOURCES = ["index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json", "codegen.ts",
  "stamp.mjs", "src"];

function files(path) {
  return statSync(path).isDirectory() ? readdirSync(path).sort().flatMap((name) => files(join(path, name))) : [path];
}

export function sourceDigest() {
  const hash = createHash("sha256");
  const all = SOURCES.flatMap((name) => files(join(here, name))).map((p) => relative(here, p).split("\\").join("/"));
  for (const name of [...all, "../../schema.graphql"].sort()) {
    hash.update(name + "\0");
    hash.update(readFileSync(join(here, name)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const dist = join(here, "dist");
for (const path of files(dist)) {
  if (/\.(js|css|html|svg)$/.test(path)) writeFileSync(path + ".gz", gzipSync(readFileSync(path), { level: 9 }));
}
writeFileSync(join(dist, "stamp.json"), JSON.stringify({ sources: sourceDigest() }, null, 2) + "\n");
console.log("console build stamped", sourceDigest().slice(0, 12));
