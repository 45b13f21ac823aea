/**
 * Region, profile and endpoint resolution, and S3 addressing, with a fake
 * environment and in-memory files.
 */
import assert from "node:assert/strict";
import { AwsConfigError, AwsSession, type AwsSessionOptions } from "../../src/aws/mod.ts";
import { recordingFetch } from "./sdk_helper.ts";
import { rejects } from "../support/rejects.ts";

function files(config = "", credentials = ""): (path: string) => Promise<string | undefined> {
  return (path) =>
    Promise.resolve(
      path.endsWith("/.aws/config")
        ? config
        : path.endsWith("/.aws/credentials")
        ? credentials
        : undefined,
    );
}

function create(
  env: Record<string, string>,
  extra: AwsSessionOptions = {},
  config = "",
  credentials = "",
) {
  return AwsSession.create({
    env: (n) => ({ HOME: "/home/me", ...env })[n],
    readTextFile: files(config, credentials),
    credentials: { accessKeyId: "AKID", secretAccessKey: "s" },
    ...extra,
  });
}

Deno.test("region: explicit, AWS_REGION, AWS_DEFAULT_REGION, profile, fallback, in that order", async () => {
  const config = "[default]\nregion = from-profile-1\n";
  const all = { AWS_REGION: "from-env-1", AWS_DEFAULT_REGION: "from-default-1" };
  assert.equal(
    (await create(all, { region: "explicit-1", fallbackRegion: "fb-1" }, config)).region,
    "explicit-1",
  );
  assert.equal((await create(all, { fallbackRegion: "fb-1" }, config)).region, "from-env-1");
  assert.equal(
    (await create({ AWS_DEFAULT_REGION: "from-default-1" }, { fallbackRegion: "fb-1" }, config))
      .region,
    "from-default-1",
  );
  assert.equal((await create({}, { fallbackRegion: "fb-1" }, config)).region, "from-profile-1");
  assert.equal((await create({}, { fallbackRegion: "fb-1" })).region, "fb-1");
});

Deno.test("a missing region says how to set one", async () => {
  const e = await rejects(create({}));
  assert.ok(e instanceof AwsConfigError);
  assert.equal(e.setting, "region");
  assert.match(
    e.message,
    /^No AWS region is set; pass a region, set AWS_REGION, or add "region = us-east-1"/,
  );
  assert.match(e.message, /aws configure set region/);
});

Deno.test("a malformed region is an error naming its source", async () => {
  const e = await rejects(create({ AWS_REGION: "eu west 1" }));
  assert.match(e.message, /The AWS region "eu west 1" from AWS_REGION is not a region name/);
});

Deno.test("profile: explicit, then AWS_PROFILE, then default", async () => {
  const config =
    "[default]\nregion = r-default\n[profile a]\nregion = r-a\n[profile b]\nregion = r-b\n";
  assert.equal((await create({ AWS_PROFILE: "b" }, { profile: "a" }, config)).region, "r-a");
  assert.equal((await create({ AWS_PROFILE: "b" }, {}, config)).profile, "b");
  assert.equal((await create({}, {}, config)).profile, "default");
  const e = await rejects(create({}, { profile: "zzz" }, config));
  assert.match(
    e.message,
    /AWS profile "zzz" was asked for but is not in \/home\/me\/\.aws\/config or \/home\/me\/\.aws\/credentials/,
  );
});

Deno.test("standard endpoints: IAM global for us-east-1, ECR api host signed as ecr, STS regional", async () => {
  const s = await create({}, { region: "eu-west-1" });
  const cases: [string, string, string, string][] = [
    ["batch", "batch.eu-west-1.amazonaws.com", "batch", "eu-west-1"],
    ["ecr", "api.ecr.eu-west-1.amazonaws.com", "ecr", "eu-west-1"],
    ["iam", "iam.amazonaws.com", "iam", "us-east-1"],
    ["ec2", "ec2.eu-west-1.amazonaws.com", "ec2", "eu-west-1"],
    ["s3", "s3.eu-west-1.amazonaws.com", "s3", "eu-west-1"],
    ["sts", "sts.eu-west-1.amazonaws.com", "sts", "eu-west-1"],
    ["logs", "logs.eu-west-1.amazonaws.com", "logs", "eu-west-1"],
  ];
  for (const [id, host, name, region] of cases) {
    const e = s.endpointFor(id as "batch");
    assert.deepEqual([e.url.host, e.signingName, e.signingRegion, e.custom], [
      host,
      name,
      region,
      false,
    ], id);
  }
  const cn = await create({}, { region: "cn-north-1" });
  assert.equal(cn.endpointFor("batch").url.host, "batch.cn-north-1.amazonaws.com.cn");
  assert.equal(cn.endpointFor("iam").url.host, "iam.cn-north-1.amazonaws.com.cn");
});

Deno.test("endpoint overrides: option per service, option for all, env per service, env for all, services section, profile", async () => {
  const config = [
    "[default]",
    "region = eu-west-1",
    "services = local",
    "endpoint_url = http://127.0.0.1:7000",
    "[services local]",
    "cloudwatch_logs =",
    "  endpoint_url = http://127.0.0.1:7001",
    "",
  ].join("\n");
  const env = {
    AWS_ENDPOINT_URL_BATCH: "http://127.0.0.1:7002",
    AWS_ENDPOINT_URL: "http://127.0.0.1:7003/base/",
  };
  const s = await create(
    env,
    { endpoints: { ecr: "http://127.0.0.1:7004" }, endpoint: undefined },
    config,
  );
  assert.equal(s.endpointFor("ecr").url.href, "http://127.0.0.1:7004/");
  assert.equal(s.endpointFor("batch").url.href, "http://127.0.0.1:7002/");
  assert.equal(s.endpointFor("iam").url.href, "http://127.0.0.1:7003/base");
  assert.equal(s.endpointFor("iam").signingRegion, "us-east-1");
  assert.equal(s.endpointFor("ecr").signingName, "ecr");
  const noEnv = await create({}, {}, config);
  assert.equal(noEnv.endpointFor("logs").url.href, "http://127.0.0.1:7001/");
  assert.equal(noEnv.endpointFor("ec2").url.href, "http://127.0.0.1:7000/");
  const all = await create(env, { endpoint: "http://127.0.0.1:7005" }, config);
  assert.equal(all.endpointFor("batch").url.href, "http://127.0.0.1:7005/");
  const ignored = await create({ ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }, {}, config);
  assert.equal(ignored.endpointFor("batch").url.host, "batch.eu-west-1.amazonaws.com");
  assert.equal(ignored.endpointFor("logs").url.host, "logs.eu-west-1.amazonaws.com");
});

Deno.test("an endpoint override that is not a URL is an error naming where it came from", async () => {
  let e = await rejects(create({ AWS_ENDPOINT_URL_S3: "localhost:9000" }, { region: "eu-west-1" }));
  assert.ok(e instanceof AwsConfigError);
  assert.match(
    e.message,
    /The S3 endpoint "localhost:9000" from AWS_ENDPOINT_URL_S3 is not an http or https URL/,
  );
  e = await rejects(create({}, { region: "eu-west-1", endpoint: "not a url" }));
  assert.match(
    e.message,
    /The Batch endpoint "not a url" from the endpoint option is not a URL; use a full URL/,
  );
  e = await rejects(create({}, { region: "eu-west-1", endpoints: { nope: "http://x" } as never }));
  assert.match(e.message, /unknown service "nope"/);
});

async function s3Urls(extra: AwsSessionOptions, config = "", bucket = "my-bucket") {
  const { fetch, requests } = recordingFetch();
  const s = await create({}, { region: "eu-west-1", fetch, ...extra }, config);
  await s.s3.putObject({ Bucket: bucket, Key: "k/a b", Body: "x" });
  return requests[0]!.url.href;
}

Deno.test("S3 addressing: virtual host by default, path style for IPs, localhost, dotted buckets, or when asked", async () => {
  assert.equal(await s3Urls({}), "https://my-bucket.s3.eu-west-1.amazonaws.com/k/a%20b");
  assert.equal(
    await s3Urls({}, "", "my.bucket"),
    "https://s3.eu-west-1.amazonaws.com/my.bucket/k/a%20b",
  );
  assert.equal(
    await s3Urls({ s3ForcePathStyle: true }),
    "https://s3.eu-west-1.amazonaws.com/my-bucket/k/a%20b",
  );
  assert.equal(
    await s3Urls({ endpoint: "http://127.0.0.1:9000" }),
    "http://127.0.0.1:9000/my-bucket/k/a%20b",
  );
  assert.equal(
    await s3Urls({ endpoint: "http://localhost:9000" }),
    "http://localhost:9000/my-bucket/k/a%20b",
  );
  assert.equal(
    await s3Urls({ endpoint: "https://minio.example" }),
    "https://my-bucket.minio.example/k/a%20b",
  );
  assert.equal(
    await s3Urls({}, "[default]\ns3 =\n  addressing_style = path\n"),
    "https://s3.eu-west-1.amazonaws.com/my-bucket/k/a%20b",
  );
});

Deno.test("requests are always signed with an explicit service and region, also on loopback", async () => {
  const { fetch, requests } = recordingFetch((r) =>
    new Response(
      r.url.pathname === "/" && r.method === "POST" && r.headers.get("x-amz-target") === null
        ? "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
        : "{}",
      { status: 200 },
    )
  );
  const s = await create({}, { region: "eu-west-1", endpoint: "http://127.0.0.1:4566", fetch });
  await s.iam.getRole({ RoleName: "r" }).catch(() => {});
  await s.batch.describeJobs({ jobs: ["a"] });
  await s.ecr.describeRepositories();
  await s.s3.headBucket({ Bucket: "b" });
  const scopes = requests.map((r) =>
    /Credential=AKID\/\d{8}\/([^/]*)\/([^/]*)\//.exec(r.headers.get("authorization")!)!.slice(1)
      .join(" ")
  );
  assert.deepEqual(scopes, ["us-east-1 iam", "eu-west-1 batch", "eu-west-1 ecr", "eu-west-1 s3"]);
});
