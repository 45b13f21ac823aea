/**
 * The config file's section names: each kind is written by one function and
 * read back by `parseSection`, with the names the Python original uses.
 */
import assert from "node:assert/strict";
import {
  AWS_SECTION,
  jobsSection,
  parseSection,
  recordName,
  recordSection,
  reposSection,
} from "../../src/state/sections.ts";

Deno.test("parseSection reads back every section cloudknot writes", () => {
  assert.deepEqual(parseSection(AWS_SECTION), { kind: "aws" });
  for (const kind of ["knot", "pars", "docker-image"] as const) {
    assert.deepEqual(parseSection(recordSection(kind, "a name")), { kind, name: "a name" });
  }
  assert.deepEqual(parseSection(reposSection("lab", "eu-west-1")), {
    kind: "docker-repos",
    profile: "lab",
    region: "eu-west-1",
  });
  assert.deepEqual(parseSection(jobsSection("default", "us-east-1")), {
    kind: "batch-jobs",
    profile: "default",
    region: "us-east-1",
  });
});

Deno.test("parseSection and recordName leave sections of other kinds alone", () => {
  assert.equal(parseSection("knot"), undefined);
  assert.equal(parseSection("knots squares"), undefined);
  assert.equal(parseSection("profile lab"), undefined);
  assert.equal(recordName("pars", "knot squares"), undefined);
  assert.equal(recordName("knot", recordSection("knot", "squares")), "squares");
});
