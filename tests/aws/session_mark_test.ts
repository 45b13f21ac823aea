import assert from "node:assert/strict";
import { AwsSession, isAwsSession } from "../../src/aws/mod.ts";

Deno.test("isAwsSession tells a session from an object shaped like one, as instanceof would", async () => {
  const session = await AwsSession.create({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
  });
  assert.equal(isAwsSession(session), true);
  assert.equal(isAwsSession(await session.inRegion("us-east-1")), true);
  assert.equal(isAwsSession({ region: session.region, profile: session.profile }), false);
  assert.equal(isAwsSession(Object.create(AwsSession.prototype)), true);
  for (const value of [undefined, null, "session", 5]) assert.equal(isAwsSession(value), false);
});
