/**
 * Declarative pagination: token chains, IAM's IsTruncated flag, S3's
 * continuation tokens, and the stop on a repeated token (CloudWatch Logs
 * GetLogEvents returns the same nextForwardToken at the end of a stream).
 */
import assert from "node:assert/strict";
import { paginate } from "../../src/aws/core/paginate.ts";
import { BATCH_SERVICE } from "../../src/aws/services/batch.ts";
import { LOGS_SERVICE } from "../../src/aws/services/logs.ts";
import { recordingFetch, testSession } from "./sdk_helper.ts";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

Deno.test("paginate: follows tokens, stops on a missing, empty or repeated token", async () => {
  const pages: Record<string, { items: number[]; next?: string }> = {
    "": { items: [1, 2], next: "a" },
    a: { items: [3], next: "b" },
    b: { items: [], next: "c" },
    c: { items: [4], next: "a" }, // loops back: must stop
  };
  const asked: string[] = [];
  const call = (input: { token?: string }) => {
    asked.push(input.token ?? "");
    return Promise.resolve(pages[input.token ?? ""]!);
  };
  const items = await collect(
    paginate(call, {}, { inputToken: "token", outputToken: "next", items: "items" }),
  );
  assert.deepEqual(items, [1, 2, 3, 4]);
  assert.deepEqual(asked, ["", "a", "b", "c"]);
  const empty = await collect(
    paginate(() => Promise.resolve({ items: [9], next: "" }), {}, {
      inputToken: "t",
      outputToken: "next",
      items: "items",
    }),
  );
  assert.deepEqual(empty, [9]);
  // A starting token counts as seen.
  const fromStart = await collect(
    paginate((i: { t?: string }) => Promise.resolve({ items: [i.t], next: "s" }), { t: "s" }, {
      inputToken: "t",
      outputToken: "next",
      items: "items",
    }),
  );
  assert.deepEqual(fromStart, ["s"]);
});

Deno.test("paginate: a false moreResults flag ends the listing even with a token", async () => {
  let calls = 0;
  const items = await collect(paginate(
    () => Promise.resolve({ Roles: [++calls], IsTruncated: calls < 2, Marker: `m${calls}` }),
    {},
    { inputToken: "Marker", outputToken: "Marker", items: "Roles", moreResults: "IsTruncated" },
  ));
  assert.deepEqual(items, [1, 2]);
});

Deno.test("logs.getLogEventsAll stops when nextForwardToken repeats", async () => {
  const tokens: (string | undefined)[] = [];
  const { fetch } = recordingFetch((r) => {
    const body = JSON.parse(r.body);
    tokens.push(body.nextToken);
    const pages: Record<string, unknown> = {
      undefined: {
        events: [{ message: "a" }, { message: "b" }],
        nextForwardToken: "f/1",
        nextBackwardToken: "b/0",
      },
      "f/1": { events: [{ message: "c" }], nextForwardToken: "f/2", nextBackwardToken: "b/1" },
      "f/2": { events: [], nextForwardToken: "f/2", nextBackwardToken: "b/2" },
    };
    return Response.json(pages[String(body.nextToken)]);
  });
  const s = await testSession(fetch);
  const events = await collect(
    s.logs.getLogEventsAll({
      logGroupName: "/aws/batch/job",
      logStreamName: "s",
      startFromHead: true,
    }),
  );
  assert.deepEqual(events.map((e) => e.message), ["a", "b", "c"]);
  assert.deepEqual(tokens, [undefined, "f/1", "f/2"]);
  assert.equal(LOGS_SERVICE.paginators.GetLogEvents.outputToken, "nextForwardToken");
});

Deno.test("batch.listJobsAll follows nextToken until it is absent", async () => {
  const { fetch, requests } = recordingFetch((r) => {
    const { nextToken } = JSON.parse(r.body);
    return Response.json(
      nextToken === undefined
        ? { jobSummaryList: [{ jobId: "1", jobName: "a" }], nextToken: "n1" }
        : { jobSummaryList: [{ jobId: "2", jobName: "b" }] },
    );
  });
  const s = await testSession(fetch);
  const jobs = await collect(s.batch.listJobsAll({ jobQueue: "q", jobStatus: "SUCCEEDED" }));
  assert.deepEqual(jobs.map((j) => j.jobId), ["1", "2"]);
  assert.deepEqual(requests.map((r) => JSON.parse(r.body)), [
    { jobQueue: "q", jobStatus: "SUCCEEDED" },
    { jobQueue: "q", jobStatus: "SUCCEEDED", nextToken: "n1" },
  ]);
  assert.equal(BATCH_SERVICE.paginators.ListJobs.items, "jobSummaryList");
});

Deno.test("iam.listRolesAll pages with Marker while IsTruncated", async () => {
  const { fetch, requests } = recordingFetch((r) => {
    const marker = new URLSearchParams(r.body).get("Marker");
    const more = marker === null;
    return new Response(
      `<ListRolesResponse><ListRolesResult><IsTruncated>${more}</IsTruncated>${
        more ? "<Marker>m1</Marker>" : "<Marker>ignored</Marker>"
      }<Roles><member><RoleName>${
        more ? "a" : "b"
      }</RoleName></member></Roles></ListRolesResult></ListRolesResponse>`,
    );
  });
  const s = await testSession(fetch);
  const roles = await collect(s.iam.listRolesAll({ PathPrefix: "/ck/" }));
  assert.deepEqual(roles.map((r) => r.RoleName), ["a", "b"]);
  assert.equal(requests.length, 2);
  assert.equal(new URLSearchParams(requests[1]!.body).get("Marker"), "m1");
});

Deno.test("s3.listObjectsV2All follows NextContinuationToken while IsTruncated", async () => {
  const { fetch, requests } = recordingFetch((r) => {
    const token = r.url.searchParams.get("continuation-token");
    const body = token === null
      ? `<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents><NextContinuationToken>t 1/+</NextContinuationToken></ListBucketResult>`
      : `<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>b</Key><Size>2</Size></Contents></ListBucketResult>`;
    return new Response(body);
  });
  const s = await testSession(fetch);
  const objects = await collect(s.s3.listObjectsV2All({ Bucket: "bkt", Prefix: "p/" }));
  assert.deepEqual(objects.map((o) => [o.Key, o.Size]), [["a", 1], ["b", 2]]);
  assert.equal(requests[1]!.url.searchParams.get("continuation-token"), "t 1/+");
  assert.equal(requests[1]!.url.searchParams.get("prefix"), "p/");
});
