// findGarbageInRegions over an account of several regions: one emulator per
// region (an emulator answers for one region), a fetch that sends each
// request to the emulator of the region it is signed for, signed again with
// that emulator's key (one account's key in every region). IAM, which is
// global, is looked at once, in the session's region.
import assert from "node:assert/strict";
import { AwsSession } from "../../src/aws/mod.ts";
import {
  configOwner,
  deleteGarbage,
  findGarbageInRegions,
  OWNER_TAG_KEY,
} from "../../src/resources/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { signRequest } from "../../src/aws/core/request.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";

const REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "eu-west-1",
  "eu-central-1",
  "ap-northeast-1",
  "ap-southeast-2",
];

/** Sends each request to its region's emulator, signed with that emulator's key. */
function regionRouter(emus: Map<string, Emulator>): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(
      req.headers.get("authorization") ?? "",
    );
    if (!scope) throw new Error(`unsigned request to ${req.url}`);
    const [, region, service] = scope;
    const emu = emus.get(region!);
    if (!emu) throw new Error(`no emulator for region ${region}`);
    const url = new URL(req.url);
    const target = new URL(`${url.pathname}${url.search}`, emu.endpoint);
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : null;
    const headers = new Headers(req.headers);
    for (const h of ["authorization", "x-amz-date", "x-amz-security-token", "host"]) {
      headers.delete(h);
    }
    if (service !== "s3") headers.delete("x-amz-content-sha256");
    const signed = await signRequest({
      method: req.method,
      url: target,
      headers,
      body,
      credentials: emu.credentials,
      service: service!,
      region: region!,
      datetime: new Date().toISOString().replace(/[:-]|\.\d{3}/g, ""),
    });
    return await fetch(signed.url, { method: req.method, headers: signed.headers, body });
  }) as typeof fetch;
}

Deno.test("findGarbageInRegions looks in every enabled region, IAM once, and deleteGarbage works in each", async () => {
  const emus = new Map<string, Emulator>();
  const dir = await Deno.makeTempDir();
  try {
    for (const region of REGIONS) emus.set(region, await startEmulator({ region }));
    const home = emus.get("us-east-1")!;
    const session = await AwsSession.create({
      region: "us-east-1",
      endpoint: home.endpoint,
      credentials: { ...home.credentials },
      fetch: regionRouter(emus),
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const state = new StateFile({ path: `${dir}/cloudknot` });
    await state.setMany("aws", { region: "us-east-1", "s3-bucket": "lab-bucket" });
    await session.s3.createBucket({ Bucket: "lab-bucket" });
    // Left over: a Pars's role (IAM, global) and, in Ireland, its security group, made with
    // this config file (its owner tag).
    const tags = [
      { Key: "ManagedBy", Value: "cloudknot" },
      { Key: "cloudknot:pars", Value: "gone" },
      { Key: OWNER_TAG_KEY, Value: await configOwner(state) },
    ];
    await session.iam.createRole({
      RoleName: "gone-job-role",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      Tags: tags,
    });
    const ireland = await session.inRegion("eu-west-1");
    const irish = emus.get("eu-west-1")!;
    const { GroupId } = await ireland.ec2.createSecurityGroup({
      GroupName: "gone-sg",
      Description: "left over",
      VpcId: irish.ec2.defaultVpcId,
      TagSpecifications: [{ ResourceType: "security-group", Tags: tags }],
    });

    const found = await findGarbageInRegions({ session, state });
    assert.deepEqual(found.map((r) => r.region), [
      "us-east-1",
      ...REGIONS.filter((r) => r !== "us-east-1").sort(),
    ]);
    const byRegion = Object.fromEntries(
      found.map((r) => [r.region, r.items.map((g) => `${g.kind} ${g.id}`)]),
    );
    assert.deepEqual(byRegion["us-east-1"], ["role gone-job-role"]);
    assert.deepEqual(byRegion["eu-west-1"], [`security-group ${GroupId}`]);
    for (const region of REGIONS.filter((r) => r !== "us-east-1" && r !== "eu-west-1")) {
      assert.deepEqual(byRegion[region], [], region);
      assert.ok(
        emus.get(region)!.count("ec2", "DescribeSecurityGroups") > 0,
        `${region} was looked at`,
      );
    }
    assert.ok(found.every((r) => r.skipped.length === 0));
    // IAM is asked once, from the home region's pass.
    assert.equal(home.count("iam", "ListRoles"), 1);

    for (const r of found) await deleteGarbage(r.items, { session: r.session, state });
    assert.ok(!irish.ec2.securityGroups.has(GroupId!));
    assert.ok(!home.iam.roles.has("gone-job-role"));
  } finally {
    for (const emu of emus.values()) await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
});
