// The job's hand-written path helpers against node:path and node:url, whose
// behaviour they keep (on POSIX; on Windows they are node's own).
import assert from "node:assert/strict";
import * as nodePath from "node:path";
import * as nodeUrl from "node:url";
import { dirname, fileURLToPath, join, pathToFileURL, resolve } from "../../src/util/path.ts";

const paths = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///a",
  "a",
  "a/",
  "/a",
  "/a/",
  "/a//b",
  "/a/b/",
  "/a/b//",
  "a/b/c",
  "./a/./b/../c",
  "../../a",
  "/../a",
  "/a/../..",
  "a/..",
  "a/../",
  "/tmp/run/records/0000000001",
  "/tmp/a b/ü/%41/#x?y",
  "/tmp/back\\slash\tand\nnewline",
  "rel/with space",
];

Deno.test("join, dirname and resolve give what node:path gives", () => {
  for (const p of paths) {
    assert.equal(dirname(p), nodePath.dirname(p), `dirname(${JSON.stringify(p)})`);
    assert.equal(resolve(p), nodePath.resolve(p), `resolve(${JSON.stringify(p)})`);
    for (const q of paths) {
      assert.equal(join(p, q), nodePath.join(p, q), `join(${JSON.stringify([p, q])})`);
    }
  }
  assert.equal(join(), nodePath.join());
  assert.equal(
    join("/home/me", ".aws", "sso", "cache", "x.json"),
    "/home/me/.aws/sso/cache/x.json",
  );
});

Deno.test("pathToFileURL and fileURLToPath give what node:url gives, both ways", () => {
  for (const p of paths) {
    const url = pathToFileURL(p);
    assert.equal(url.href, nodeUrl.pathToFileURL(p).href, `pathToFileURL(${JSON.stringify(p)})`);
    assert.equal(fileURLToPath(url), nodeUrl.fileURLToPath(url));
    assert.equal(fileURLToPath(url.href), nodeUrl.fileURLToPath(url.href));
  }
});

Deno.test("fileURLToPath refuses what node:url refuses", () => {
  for (const url of ["s3://b/k", "file://host/a", "file:///a%2Fb", "file:///a%2fb", "http://x/"]) {
    assert.throws(() => nodeUrl.fileURLToPath(url), TypeError, url);
    assert.throws(() => fileURLToPath(url), TypeError, url);
  }
});
