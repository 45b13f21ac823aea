// A request that creates something is sent once, even when its answer is lost
// on a reused keep-alive connection: Deno's fetch would otherwise re-send it.
import assert from "node:assert/strict";
import { AwsError } from "../../src/aws/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";

Deno.test("a lost answer to a non-idempotent call is OutcomeUnknown and the call ran once", async () => {
  const emu = await startEmulator();
  try {
    const session = await sessionFor(emu);
    // Warm the connection pool with idempotent calls on the same host first.
    for (let i = 0; i < 3; i++) await session.ec2.describeVpcs({});
    emu.faults.add({ service: "ec2", operation: "CreateVpc", kind: "lost-response", times: 1 });
    const error = await session.ec2.createVpc({ CidrBlock: "10.9.0.0/16" }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof AwsError, String(error));
    assert.equal(error.code, "OutcomeUnknown");
    assert.equal(emu.count("ec2", "CreateVpc"), 1, "the emulator saw CreateVpc once");
    const vpcs = await session.ec2.describeVpcs({
      Filters: [{ Name: "cidr-block", Values: ["10.9.0.0/16"] }],
    });
    assert.equal(vpcs.Vpcs?.length, 1, "exactly one VPC was made");
  } finally {
    await emu.close();
  }
});
