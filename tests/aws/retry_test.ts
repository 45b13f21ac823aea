/**
 * The retry policy against real loopback servers: throttling retried (also
 * for non-idempotent calls), 5xx retried only when idempotent, an unknown
 * outcome reported instead of re-sending, clock-skew correction, a bounded
 * budget, and capped backoff. Delays go through an injected sleep, so the
 * tests do not wait.
 */
import assert from "node:assert/strict";
import { AwsError, AwsSession, type AwsSessionOptions } from "../../src/aws/mod.ts";
import { verifySigV4, withServer } from "./loopback.ts";
import { rejects } from "../support/rejects.ts";

const awsRejects = (p: Promise<unknown>) => rejects(p, AwsError);

const SECRET = "retrysecret";

async function session(url: string, extra: AwsSessionOptions = {}) {
  const delays: number[] = [];
  const s = await AwsSession.create({
    region: "eu-west-1",
    endpoint: url,
    credentials: { accessKeyId: "AKIDRETRY", secretAccessKey: SECRET },
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    ...extra,
  });
  return { session: s, delays };
}

/** A server answering from a script of responses, checking every signature. */
function scripted(responses: (() => Response)[]) {
  const seen: { target: string | null; path: string; date: string; valid: boolean }[] = [];
  const handler = async (req: Request) => {
    const body = await req.text();
    const check = await verifySigV4(req, body, SECRET);
    seen.push({
      target: req.headers.get("x-amz-target"),
      path: new URL(req.url).pathname,
      date: req.headers.get("x-amz-date")!,
      valid: check.valid,
    });
    const next = responses[Math.min(seen.length - 1, responses.length - 1)]!;
    return next();
  };
  return { seen, handler };
}

const iamThrottle = () =>
  new Response(
    `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>t</RequestId></ErrorResponse>`,
    { status: 400, headers: { "content-type": "text/xml" } },
  );
const getRoleOk = () =>
  new Response(
    `<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName><Arn>arn:r</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><Path>/</Path><RoleId>R</RoleId></Role></GetRoleResult></GetRoleResponse>`,
    { headers: { "content-type": "text/xml" } },
  );
const batchError = (status: number, type: string) => () =>
  new Response(JSON.stringify({ message: `${type} happened` }), {
    status,
    headers: { "x-amzn-errortype": type, "x-amzn-requestid": "rid-" + status },
  });
const submitOk = () => Response.json({ jobName: "j", jobId: "id-1", jobArn: "arn:j" });
const describeOk = () => Response.json({ jobs: [] });

Deno.test("IAM's HTTP-400 Throttling is retried, with capped full-jitter delays", async () => {
  const { seen, handler } = scripted([iamThrottle, iamThrottle, getRoleOk]);
  await withServer(handler, async (url) => {
    const { session: s, delays } = await session(url);
    const { Role } = await s.iam.getRole({ RoleName: "r" });
    assert.equal(Role.RoleName, "r");
    assert.equal(delays.length, 2);
    assert.ok(delays[0]! >= 0 && delays[0]! < 100, `first delay ${delays[0]}`);
    assert.ok(delays[1]! >= 0 && delays[1]! < 200, `second delay ${delays[1]}`);
  });
  assert.equal(seen.length, 3);
  assert.ok(seen.every((r) => r.valid), "every attempt carries a valid signature");
});

Deno.test("throttling is retried even for a non-idempotent call (the request was refused)", async () => {
  const { seen, handler } = scripted([
    batchError(400, "TooManyRequestsException"),
    batchError(429, "Whatever"),
    submitOk,
  ]);
  await withServer(handler, async (url) => {
    const { session: s } = await session(url);
    const out = await s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" });
    assert.equal(out.jobId, "id-1");
  });
  assert.equal(seen.length, 3);
});

Deno.test("5xx is retried for an idempotent call", async () => {
  const { seen, handler } = scripted([
    batchError(500, "ServerException"),
    batchError(503, "ServiceUnavailable"),
    describeOk,
  ]);
  await withServer(handler, async (url) => {
    const { session: s } = await session(url);
    assert.deepEqual(await s.batch.describeJobs({ jobs: ["a"] }), { jobs: [] });
  });
  assert.equal(seen.length, 3);
});

Deno.test("5xx on a non-idempotent call is OutcomeUnknown and is not re-sent", async () => {
  const { seen, handler } = scripted([batchError(500, "ServerException"), submitOk]);
  await withServer(handler, async (url) => {
    const { session: s } = await session(url);
    const e = await awsRejects(
      s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" }),
    );
    assert.equal(e.code, "OutcomeUnknown");
    assert.equal(e.retryable, false);
    assert.equal(e.operation, "SubmitJob");
    assert.match(
      e.message,
      /^Batch\.SubmitJob: OutcomeUnknown: The request may or may not have taken effect .*check the resource's state before retrying$/,
    );
    assert.ok(e.cause instanceof AwsError);
    assert.equal(e.cause.code, "ServerException");
    assert.equal(e.cause.status, 500);
    assert.equal(e.cause.requestId, "rid-500");
  });
  assert.equal(seen.length, 1);
});

Deno.test("408 is retried", async () => {
  const { seen, handler } = scripted([batchError(408, "RequestTimeoutException"), submitOk]);
  await withServer(handler, async (url) => {
    const { session: s } = await session(url);
    assert.equal(
      (await s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" })).jobId,
      "id-1",
    );
  });
  assert.equal(seen.length, 2);
});

Deno.test("the retry budget is bounded and the last error says it was retryable", async () => {
  const { seen, handler } = scripted([batchError(503, "ServiceUnavailable")]);
  await withServer(handler, async (url) => {
    const { session: s, delays } = await session(url);
    const e = await awsRejects(s.batch.describeJobs({ jobs: ["a"] }));
    assert.equal(e.code, "ServiceUnavailable");
    assert.equal(e.status, 503);
    assert.equal(e.retryable, true);
    assert.equal(delays.length, 3);
    assert.ok(delays.every((d) => d < 250), `delays are capped: ${delays}`);
  });
  assert.equal(seen.length, 4);
});

Deno.test("throttling answers have a budget of their own, beyond maxAttempts, and it is bounded", async () => {
  // maxAttempts is 4: five throttled answers in a row still end in success.
  const five = scripted([
    ...Array.from({ length: 5 }, () => batchError(429, "TooManyRequestsException")),
    submitOk,
  ]);
  await withServer(five.handler, async (url) => {
    const { session: s } = await session(url);
    const out = await s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" });
    assert.equal(out.jobId, "id-1");
  });
  assert.equal(five.seen.length, 6);
  // The budget ends: two throttled retries, then the throttling error.
  const always = scripted([batchError(429, "TooManyRequestsException")]);
  await withServer(always.handler, async (url) => {
    const { session: s } = await session(url, {
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2, maxThrottledRetries: 2 },
    });
    const e = await rejects(s.batch.describeJobs({ jobs: ["a"] }));
    assert.equal(e.code, "TooManyRequestsException");
    assert.equal(e.retryable, true);
  });
  assert.equal(always.seen.length, 3);
  // Other failures still count against maxAttempts, throttled ones aside.
  const mixed = scripted([
    batchError(429, "TooManyRequestsException"),
    batchError(503, "ServiceUnavailable"),
    batchError(429, "TooManyRequestsException"),
    batchError(503, "ServiceUnavailable"),
    batchError(503, "ServiceUnavailable"),
    batchError(503, "ServiceUnavailable"),
    describeOk,
  ]);
  await withServer(mixed.handler, async (url) => {
    const { session: s } = await session(url);
    const e = await rejects(s.batch.describeJobs({ jobs: ["a"] }));
    assert.equal(e.code, "ServiceUnavailable");
  });
  assert.equal(mixed.seen.length, 6);
});

Deno.test("client errors are not retried", async () => {
  const { seen, handler } = scripted([batchError(400, "ClientException")]);
  await withServer(handler, async (url) => {
    const { session: s } = await session(url);
    const e = await awsRejects(s.batch.describeJobs({ jobs: ["a"] }));
    assert.equal(e.code, "ClientException");
    assert.equal(e.retryable, false);
    assert.equal(
      e.message,
      "Batch.DescribeJobs: ClientException: ClientException happened (request id rid-400)",
    );
  });
  assert.equal(seen.length, 1);
});

Deno.test("clock skew is corrected from the server's Date and the request re-signed", async () => {
  const dates: string[] = [];
  const handler = async (req: Request) => {
    const body = await req.text();
    assert.ok((await verifySigV4(req, body, SECRET)).valid);
    const amz = req.headers.get("x-amz-date")!;
    dates.push(amz);
    const sent = Date.parse(
      `${amz.slice(0, 4)}-${amz.slice(4, 6)}-${amz.slice(6, 8)}T${amz.slice(9, 11)}:${
        amz.slice(11, 13)
      }:${amz.slice(13, 15)}Z`,
    );
    if (Math.abs(sent - Date.now()) > 5 * 60 * 1000) {
      return new Response(
        `<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired</Message></Error></ErrorResponse>`,
        { status: 403, headers: { date: new Date().toUTCString() } },
      );
    }
    return getRoleOk();
  };
  await withServer(handler, async (url) => {
    const skewed = () => Date.now() - 60 * 60 * 1000; // an hour slow
    const { session: s, delays } = await session(url, { now: skewed });
    assert.equal((await s.iam.getRole({ RoleName: "r" })).Role.RoleName, "r");
    assert.deepEqual(delays, [], "a skew retry does not back off");
    // Later calls use the corrected clock straight away.
    await s.iam.getRole({ RoleName: "r" });
  });
  assert.equal(dates.length, 3);
  assert.notEqual(dates[0], dates[1]);
});

Deno.test("SignatureDoesNotMatch without a skewed Date is not retried", async () => {
  const { seen, handler } = scripted([
    () =>
      new Response(
        `<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error></ErrorResponse>`,
        {
          status: 403,
          headers: { date: new Date().toUTCString() },
        },
      ),
  ]);
  await withServer(handler, async (url) => {
    const { session: s } = await session(url);
    assert.equal(
      (await awsRejects(s.iam.getRole({ RoleName: "r" }))).code,
      "SignatureDoesNotMatch",
    );
  });
  assert.equal(seen.length, 1);
});

/** A raw TCP server whose first `drops` connections are closed after the request arrives. */
async function withDroppingServer<T>(
  drops: number,
  ok: string,
  fn: (url: string, count: () => number) => Promise<T>,
): Promise<T> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const served = (async () => {
    for await (const conn of listener) {
      connections++;
      const buf = new Uint8Array(65536);
      await conn.read(buf).catch(() => null);
      if (connections <= drops) {
        conn.close();
        continue;
      }
      const body = new TextEncoder().encode(ok);
      await conn.write(
        new TextEncoder().encode(
          `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
        ),
      );
      await conn.write(body);
      conn.close();
    }
  })();
  try {
    return await fn(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`, () => connections);
  } finally {
    listener.close();
    await served.catch(() => {});
  }
}

Deno.test("a connection reset after sending is retried for an idempotent call", async () => {
  await withDroppingServer(1, JSON.stringify({ jobs: [] }), async (url, count) => {
    const { session: s } = await session(url);
    assert.deepEqual(await s.batch.describeJobs({ jobs: ["a"] }), { jobs: [] });
    assert.equal(count(), 2);
  });
});

Deno.test("a connection reset after sending a non-idempotent call is OutcomeUnknown", async () => {
  await withDroppingServer(1, JSON.stringify({ jobId: "x", jobName: "j" }), async (url, count) => {
    const { session: s } = await session(url);
    const e = await awsRejects(
      s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" }),
    );
    assert.equal(e.code, "OutcomeUnknown");
    assert.equal(e.retryable, false);
    assert.ok(e.cause instanceof Error);
    assert.equal(count(), 1);
  });
});

Deno.test("a refused connection (nothing was sent) is retried even for a non-idempotent call, within the budget", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  let attempts = 0;
  const counting = ((input: RequestInfo | URL, init?: RequestInit) => {
    attempts++;
    return fetch(input, init);
  }) as typeof fetch;
  const { session: s, delays } = await session(`http://127.0.0.1:${port}`, { fetch: counting });
  const e = await awsRejects(
    s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" }),
  );
  assert.equal(e.code, "NetworkError");
  assert.equal(e.retryable, true);
  assert.equal(attempts, 4);
  assert.equal(delays.length, 3);
  // It names the host it could not reach, whose name holds the endpoint's region on AWS.
  assert.match(
    e.message,
    new RegExp(
      `^Batch\\.SubmitJob: NetworkError: The request to 127\\.0\\.0\\.1:${port} failed before a ` +
        `response came back: .*; check the network and the region$`,
    ),
  );
});

Deno.test("an attempt that gets no answer in time: retried when idempotent, OutcomeUnknown otherwise", async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => release = r);
  let received = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received++;
    await req.text();
    await hang;
    return new Response("late");
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const { session: s } = await session(url, {
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, attemptTimeoutMs: 50 },
    });
    const idempotent = await awsRejects(s.batch.describeJobs({ jobs: ["a"] }));
    assert.equal(idempotent.code, "NetworkError");
    assert.equal((idempotent.cause as Error).name, "TimeoutError");
    assert.equal(received, 2);
    const once = await awsRejects(
      s.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" }),
    );
    assert.equal(once.code, "OutcomeUnknown");
    assert.equal(received, 3);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("operations that create things are marked non-idempotent, as data", async () => {
  const modules = await Promise.all(
    ["batch", "ecr", "iam", "ec2", "s3", "sts", "logs"].map((m) =>
      import(`../../src/aws/services/${m}.ts`)
    ),
  );
  const nonIdempotent: string[] = [];
  for (const mod of modules) {
    for (const [key, value] of Object.entries(mod)) {
      if (!key.endsWith("_SERVICE")) continue;
      const { operations } = value as {
        operations: Record<string, { name: string; idempotent: boolean }>;
      };
      for (const op of Object.values(operations)) {
        assert.equal(typeof op.idempotent, "boolean", op.name);
        if (!op.idempotent) nonIdempotent.push(`${key.split("_")[0]}.${op.name}`);
      }
    }
  }
  assert.deepEqual(nonIdempotent.sort(), [
    "BATCH.CreateComputeEnvironment",
    "BATCH.CreateJobQueue",
    "BATCH.RegisterJobDefinition",
    "BATCH.SubmitJob",
    "EC2.AssociateRouteTable",
    "EC2.CreateInternetGateway",
    "EC2.CreateSecurityGroup",
    "EC2.CreateSubnet",
    "EC2.CreateVpc",
    "ECR.CreateRepository",
    "IAM.AddRoleToInstanceProfile",
    "IAM.CreateInstanceProfile",
    "IAM.CreateRole",
    "S3.CreateBucket",
  ]);
});

Deno.test("a process that got its answers exits without waiting for their attempt timeouts", async () => {
  // The attempt timeout (an hour here) must stop holding the process once
  // the answer came: a CLI command or a job ends as soon as its work does.
  const root = new URL("../../", import.meta.url);
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/requests.ts`;
    await Deno.writeTextFile(
      script,
      `import { AwsSession } from ${JSON.stringify(new URL("src/aws/mod.ts", root).href)};
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () =>
  Response.json({ jobs: [] }));
const s = await AwsSession.create({
  region: "eu-west-1",
  endpoint: \`http://127.0.0.1:\${server.addr.port}\`,
  credentials: { accessKeyId: "AKIDEXIT", secretAccessKey: "secret" },
  env: () => undefined,
  readTextFile: () => Promise.resolve(undefined),
  retry: { attemptTimeoutMs: 3_600_000 },
});
await s.batch.describeJobs({ jobs: ["a"] });
await server.shutdown();
console.log("answered");
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        new URL("deno.json", root).pathname,
        "--lock",
        new URL("tests/deno.lock", root).pathname,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // A guard against hanging the suite for the hour, not a measure.
    let guard: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<"hung">((resolve) => {
      guard = setTimeout(() => resolve("hung"), 60_000);
    });
    const out = await Promise.race([child.output(), hung]);
    clearTimeout(guard);
    if (out === "hung") {
      child.kill("SIGKILL");
      await child.output();
      assert.fail("the process was still running a minute after its last answer");
    }
    assert.equal(new TextDecoder().decode(out.stderr).includes("error"), false);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "answered");
    assert.equal(out.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
