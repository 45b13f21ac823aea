/**
 * ensureBucket against the emulator: creation (with a location constraint
 * outside us-east-1), public access block, encryption, TLS-only policy,
 * lifecycle and tags as the emulator's S3 stores them; idempotence; buckets
 * cloudknot did not make; names taken by another account; bad input.
 */
import assert from "node:assert/strict";
import {
  BucketTakenError,
  CloudknotInputError,
  RegionMismatchError,
  setS3Params,
} from "../../mod.ts";
import {
  bucketPolicy,
  defaultBucketName,
  ensureBucket,
  lifecycleRules,
} from "../../src/resources/mod.ts";
import type { Emulator } from "../emulator/mod.ts";
import { rejects, sessionFor, withEmulator } from "./helpers.ts";
import { endLagWhen, LONG_LAG_MS, showBuckets } from "../support/lag_ends.ts";

function config(emu: Emulator, bucket: string) {
  const b = emu.s3.buckets.get(bucket);
  assert.ok(b, `bucket ${bucket} exists`);
  return b;
}

function xmlValues(xml: string | undefined, tag: string): string[] {
  return [...(xml ?? "").matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]!);
}

Deno.test("ensureBucket creates the bucket with every safeguard", async () => {
  await withEmulator(async ({ emu, session }) => {
    const result = await ensureBucket(session, { bucket: "lab-data", tags: { team: "imaging" } });
    assert.deepEqual(result, { bucket: "lab-data", created: true, configured: true });
    const b = config(emu, "lab-data");
    for (
      const flag of [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
      ]
    ) {
      assert.deepEqual(xmlValues(b.config.publicAccessBlock, flag), ["true"], flag);
    }
    assert.deepEqual(xmlValues(b.config.encryption, "SSEAlgorithm"), ["AES256"]);
    const policy = JSON.parse(b.config.policy!);
    assert.deepEqual(policy.Statement, [{
      Sid: "CloudknotDenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: ["arn:aws:s3:::lab-data", "arn:aws:s3:::lab-data/*"],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }]);
    assert.deepEqual(xmlValues(b.config.lifecycle, "Prefix"), ["cloudknot/"]);
    assert.deepEqual(xmlValues(b.config.lifecycle, "Days"), ["30"]);
    assert.deepEqual(xmlValues(b.config.lifecycle, "DaysAfterInitiation"), ["1"]);
    assert.deepEqual(xmlValues(b.config.lifecycle, "Status"), ["Enabled"]);
    assert.deepEqual(b.tags, {
      team: "imaging",
      ManagedBy: "cloudknot",
      Project: "cloudknot",
      Owner: "arn:aws:iam::123456789012:user/emulator",
    });

    // Again: nothing is created, the same configuration is applied without error.
    const snapshot = structuredClone({ config: b.config, tags: b.tags });
    emu.requests.clear();
    const again = await ensureBucket(session, { bucket: "lab-data", tags: { team: "imaging" } });
    assert.deepEqual(again, { bucket: "lab-data", created: false, configured: true });
    assert.equal(emu.count("s3", "CreateBucket"), 0);
    assert.deepEqual({ config: b.config, tags: b.tags }, snapshot);
  });
});

Deno.test("ensureBucket outside us-east-1 sends a location constraint", async () => {
  await withEmulator(async ({ emu, session }) => {
    const name = defaultBucketName(emu.accountId, emu.region);
    assert.equal(name, "cloudknot-123456789012-eu-west-1");
    await ensureBucket(session, { bucket: name });
    assert.equal(config(emu, name).region, "eu-west-1");
    // Creating it again would be BucketAlreadyOwnedByYou here; it is looked at first instead.
    const again = await ensureBucket(session, { bucket: name });
    assert.equal(again.created, false);
  }, { region: "eu-west-1" });
});

Deno.test("ensureBucket waits until a new bucket outside us-east-1 is visible before configuring it", async () => {
  await withEmulator(async ({ emu, session }) => {
    const s3Log = () =>
      emu.requests.filter({ service: "s3" }).map((e) => `${e.operation} ${e.status}`);
    // The bucket shows only once the client has met it missing after making it, however long
    // its steps take on a loaded machine (a timed 300 ms could pass before its first look).
    using hidden = endLagWhen(() => {
      const log = s3Log();
      const made = log.indexOf("CreateBucket 200");
      return made >= 0 && log.slice(made).includes("HeadBucket 404");
    }, () => showBuckets(emu));
    const made = await ensureBucket(session, { bucket: "slow-data" });
    assert.ok(hidden.ended);
    assert.deepEqual(made, { bucket: "slow-data", created: true, configured: true });
    // HeadBucket, CreateBucket, HeadBucket until it answers, then the tags and configuration.
    const s3 = s3Log();
    assert.deepEqual(s3.slice(0, 2), ["HeadBucket 404", "CreateBucket 200"]);
    const firstPut = s3.findIndex((op) => op.startsWith("PutBucketTagging"));
    assert.equal(s3[firstPut - 1], "HeadBucket 200");
    assert.ok(s3.slice(2, firstPut).includes("HeadBucket 404"), s3.join(", "));
    assert.ok(s3.slice(firstPut).every((op) => / 20\d$/.test(op)), s3.join(", "));
  }, { region: "eu-west-1", bucketVisibilityMs: LONG_LAG_MS });
});

Deno.test("ensureBucket: aws:kms, a chosen expiry, and never", async () => {
  await withEmulator(async ({ emu, session }) => {
    await ensureBucket(session, { bucket: "kms-data", sse: "aws:kms", expireAfterDays: 7 });
    const b = config(emu, "kms-data");
    assert.deepEqual(xmlValues(b.config.encryption, "SSEAlgorithm"), ["aws:kms"]);
    assert.deepEqual(xmlValues(b.config.encryption, "BucketKeyEnabled"), ["true"]);
    assert.deepEqual(xmlValues(b.config.lifecycle, "Days"), ["7"]);

    await ensureBucket(session, { bucket: "kms-data", expireAfterDays: "never" });
    assert.deepEqual(xmlValues(b.config.lifecycle, "Days"), []);
    assert.deepEqual(xmlValues(b.config.lifecycle, "DaysAfterInitiation"), ["1"]);
    assert.deepEqual(xmlValues(b.config.encryption, "SSEAlgorithm"), ["AES256"]);
    assert.deepEqual(lifecycleRules("never")[0]?.Expiration, undefined);
    assert.match(bucketPolicy("x", "aws-cn"), /arn:aws-cn:s3:::x\/\*/);
  });
});

Deno.test("ensureBucket leaves a bucket cloudknot did not make alone, unless asked", async () => {
  await withEmulator(async ({ emu, session }) => {
    await session.s3.createBucket({ Bucket: "theirs" });
    emu.requests.clear();
    const left = await ensureBucket(session, { bucket: "theirs" });
    assert.deepEqual(left, { bucket: "theirs", created: false, configured: false });
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.deepEqual(config(emu, "theirs").config, {});

    const taken = await ensureBucket(session, { bucket: "theirs", manageExisting: true });
    assert.equal(taken.configured, true);
    assert.ok(config(emu, "theirs").config.policy);
    assert.equal(config(emu, "theirs").tags?.ManagedBy, "cloudknot");
    // From now on it is cloudknot's: configured without being asked.
    assert.equal((await ensureBucket(session, { bucket: "theirs" })).configured, true);
  });
});

Deno.test("ensureBucket refuses bad options before any AWS call", async () => {
  await withEmulator(async ({ emu, session }) => {
    const bad: [Record<string, unknown>, string][] = [
      [{ bucket: "Upper" }, "bucket"],
      [{ bucket: "ab" }, "bucket"],
      [{ bucket: "a..b" }, "bucket"],
      [{ bucket: "192.168.1.1" }, "bucket"],
      [{ bucket: "xn--abc" }, "bucket"],
      [{ bucket: "ok-name", expireAfterDays: 0 }, "expireAfterDays"],
      [{ bucket: "ok-name", expireAfterDays: -3 }, "expireAfterDays"],
      [{ bucket: "ok-name", expireAfterDays: 1.5 }, "expireAfterDays"],
      [{ bucket: "ok-name", sse: "aws:kms:dsse" }, "sse"],
      [{ bucket: "ok-name", tags: { "aws:x": "1" } }, "tags"],
      [{ bucket: "ok-name", tags: { Owner: "me" } }, "tags"],
    ];
    for (const [options, field] of bad) {
      const e = await rejects(
        ensureBucket(session, options as unknown as Parameters<typeof ensureBucket>[1]),
      );
      assert.ok(e instanceof CloudknotInputError, e.message);
      assert.equal(e.field, field, JSON.stringify(options));
      assert.match(e.message, /^[A-Z].*[^.]$/);
    }
    assert.deepEqual(emu.requests.entries, []);
  });
});

Deno.test("a refused expireAfterDays is named as given: NaN is not called null", async () => {
  await withEmulator(async ({ session }) => {
    for (
      const [days, said] of [[NaN, "the number NaN"], [Infinity, "the number Infinity"]] as const
    ) {
      const e = await rejects(ensureBucket(session, { bucket: "ok-name", expireAfterDays: days }));
      assert.ok(e.message.endsWith(`got ${said}`), e.message);
    }
  });
});

/** A session whose requests for one bucket get canned answers (another account's bucket). */
async function sessionWithForeignBucket(
  emu: Emulator,
  bucket: string,
  answers: { head: () => Response; put?: () => Response },
) {
  return await sessionFor(emu, {
    fetch: (input, init) => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname.replace(/\/$/, "") === `/${bucket}`) {
        if (req.method === "HEAD") return Promise.resolve(answers.head());
        if (req.method === "PUT" && answers.put) return Promise.resolve(answers.put());
      }
      return fetch(req);
    },
  });
}

Deno.test("ensureBucket: a name another account owns is a BucketTakenError", async () => {
  await withEmulator(async ({ emu, state }) => {
    const forbidden = await sessionWithForeignBucket(emu, "popular", {
      head: () => new Response(null, { status: 403 }),
    });
    const e1 = await rejects(ensureBucket(forbidden, { bucket: "popular" }));
    assert.ok(e1 instanceof BucketTakenError);
    assert.equal(e1.bucket, "popular");
    assert.match(e1.message, /setS3Params/);

    const race = await sessionWithForeignBucket(emu, "popular", {
      head: () => new Response(null, { status: 404 }),
      put: () =>
        new Response(
          "<Error><Code>BucketAlreadyExists</Code><Message>The requested bucket name is not available.</Message></Error>",
          { status: 409, headers: { "content-type": "application/xml" } },
        ),
    });
    const e2 = await rejects(ensureBucket(race, { bucket: "popular" }));
    assert.ok(e2 instanceof BucketTakenError);
    assert.equal(emu.s3.buckets.size, 0);
    // setS3Params marks the bucket as being created before CreateBucket, and
    // drops the mark once it is another account's: nothing is left to finish.
    const e3 = await rejects(
      setS3Params({ bucket: "popular" }, { state, session: race, env: () => undefined }),
    );
    assert.ok(e3 instanceof BucketTakenError);
    assert.equal(await state.section("aws"), undefined);
  });
});

Deno.test("ensureBucket: a bucket in another region is a RegionMismatchError", async () => {
  await withEmulator(async ({ emu }) => {
    const session = await sessionWithForeignBucket(emu, "far-away", {
      head: () =>
        new Response(null, { status: 200, headers: { "x-amz-bucket-region": "ap-south-1" } }),
    });
    const e = await rejects(ensureBucket(session, { bucket: "far-away" }));
    assert.ok(e instanceof RegionMismatchError);
    assert.equal(e.resourceRegion, "ap-south-1");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("ensureBucket: a CreateBucket whose answer was lost counts as made", async () => {
  await withEmulator(async ({ emu }) => {
    emu.faults.add({ service: "s3", operation: "CreateBucket", kind: "lost-response", times: 1 });
    // No pooled connections: Deno's fetch re-sends a request whose reused connection closes.
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    const session = await sessionFor(emu, { fetch: (i, init) => fetch(i, { ...init, client }) });
    const result = await ensureBucket(session, { bucket: "lossy-data" }).finally(() =>
      client.close()
    );
    assert.equal(emu.requests.filter({ operation: "CreateBucket" }).length, 1);
    assert.deepEqual(result, { bucket: "lossy-data", created: true, configured: true });
    assert.ok(config(emu, "lossy-data").config.policy);
  });
});
