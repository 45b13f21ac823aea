// repo list counts a repository's images from the one listing it reads of
// them: the repositories the config file uses are listed once (DescribeImages,
// which its tag counts read too), and a repository only their tag names
// (ManagedBy=cloudknot) once with ListImages.
import assert from "node:assert/strict";
import { sessionFor } from "../support/aws_session.ts";
import { pushImage } from "../support/ecr_images.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cli } from "./helpers.ts";

Deno.test("repo list lists each repository's images once to count them and to find what gc would delete", async () => {
  await withAwsHome(async (home) => {
    assert.equal((await cli(home, ["configure", "--region", "us-east-1"])).code, 0);
    const session = await sessionFor(home.emu);
    await session.ecr.createRepository({ repositoryName: "cloudknot" });
    await session.ecr.createRepository({
      repositoryName: "tagged",
      tags: [{ Key: "ManagedBy", Value: "cloudknot" }],
    });
    await pushImage(home.emu, "cloudknot", ["squares"], "squares");
    // Two tags of one image: one image.
    await pushImage(home.emu, "cloudknot", ["cubes", "cubes-1"], "cubes");
    await pushImage(home.emu, "tagged", ["halves"], "halves");
    home.emu.requests.clear();

    const list = await cli(home, ["repo", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).map((row: { name: string; images: number }) => [
        row.name,
        row.images,
      ]),
      [["cloudknot", 2], ["tagged", 1]],
    );
    const listings = home.emu.requests.entries
      .filter(({ operation }) => operation === "ListImages" || operation === "DescribeImages")
      .map(({ operation, params }) => `${operation} ${params.repositoryName}`)
      .sort();
    assert.deepEqual(listings, ["DescribeImages cloudknot", "ListImages tagged"]);
  }, { registry: true });
});
