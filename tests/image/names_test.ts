// The name checks of DockerImage and DockerRepo, against Docker's and ECR's rules.
import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import {
  imageNameFrom,
  validateImageName,
  validateImageTag,
  validateImageTags,
  validateRepositoryName,
  validateResourceTags,
} from "../../src/image/mod.ts";

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e) => e instanceof CloudknotInputError && message.test(e.message));
}

Deno.test("image tags follow Docker's and ECR's rule, and latest is refused", () => {
  for (const tag of ["v1", "V1.2-rc_3", "_x", "9", "a".repeat(128)]) {
    assert.equal(validateImageTag(tag), tag);
  }
  refused(() => validateImageTag("latest"), /"latest" is refused/);
  for (const tag of ["", "-v1", ".v1", "a b", "v1:2", "v/1", "a".repeat(129), "ünï"]) {
    refused(() => validateImageTag(tag), /Invalid image tag/);
  }
  refused(() => validateImageTag(1), /must be a string/);
  assert.deepEqual(validateImageTags("v1"), ["v1"]);
  assert.deepEqual(validateImageTags(["v1", "v2", "v1"]), ["v1", "v2"]);
  refused(() => validateImageTags([]), /non-empty array/);
  refused(() => validateImageTags(undefined), /non-empty array/);
  refused(() => validateImageTags(["v1", "latest"]), /"latest" is refused/);
});

Deno.test("ECR repository names: 2 to 256 characters of ECR's pattern", () => {
  for (const name of ["ab", "cloudknot", "team/knots", "a.b_c-d/e1", "x".repeat(256)]) {
    assert.equal(validateRepositoryName(name), name);
  }
  for (
    const name of [
      "a",
      "Knots",
      "knots_",
      "-knots",
      "a//b",
      "a/",
      "/a",
      "a b",
      "a__b",
      "x".repeat(257),
    ]
  ) {
    refused(() => validateRepositoryName(name), /Invalid ECR repository name/);
  }
  refused(() => validateRepositoryName(""), /needs a name/);
});

Deno.test("image names: a lowercase path component, derived from the function's name", () => {
  for (const name of ["square", "square-root", "a.b", "a_b", "a__b", "a--b", "x1"]) {
    assert.equal(validateImageName(name), name);
  }
  refused(() => validateImageName("SquareRoot"), /Invalid image name "SquareRoot".*"square-root"/);
  for (const name of ["-a", "a-", "a/b", "a b", "a___b", "x".repeat(129)]) {
    refused(() => validateImageName(name), /Invalid image name/);
  }
  assert.equal(imageNameFrom("squareRoot"), "square-root");
  assert.equal(imageNameFrom("square_root"), "square-root");
  assert.equal(imageNameFrom("fitHTTPModel"), "fit-http-model");
  assert.equal(imageNameFrom("$run2"), "run2");
  assert.equal(imageNameFrom("__"), "");
});

Deno.test("resource tags follow ECR's limits", () => {
  assert.deepEqual(validateResourceTags({ Team: "imaging", "a:b/c=d+e-f@g h": "" }), [
    { Key: "Team", Value: "imaging" },
    { Key: "a:b/c=d+e-f@g h", Value: "" },
  ]);
  refused(() => validateResourceTags({ "aws:x": "y" }), /Invalid tag key "aws:x"/);
  refused(() => validateResourceTags({ "": "y" }), /Invalid tag key/);
  refused(() => validateResourceTags({ ["k".repeat(129)]: "y" }), /Invalid tag key/);
  refused(() => validateResourceTags({ k: "v".repeat(257) }), /Invalid value for tag "k"/);
  refused(() => validateResourceTags({ k: "a;b" }), /Invalid value for tag "k"/);
  refused(() => validateResourceTags({ k: 1 }), /Invalid value for tag "k"/);
  refused(() => validateResourceTags(["k"]), /object of keys and values/);
  refused(
    () =>
      validateResourceTags(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, ""]))),
    /^Too many tags \(51\): pass at most 50, as AWS allows 50 per resource$/,
  );
});
