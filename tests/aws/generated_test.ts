/**
 * The checked-in `*.generated.json` files (wire metadata, paginators, shape hints) are what `scripts/gen_aws.ts`
 * makes from the official service models today.
 */
import assert from "node:assert/strict";
import { generatedFiles } from "../../scripts/gen_aws.ts";

Deno.test("the generated service data is current (else run `deno task gen:aws`)", async () => {
  const files = generatedFiles();
  assert.deepEqual(Object.keys(files).sort(), [
    "src/aws/services/batch.generated.json",
    "src/aws/services/cloudformation.generated.json",
    "src/aws/services/ec2.generated.json",
    "src/aws/services/ecr.generated.json",
    "src/aws/services/iam.generated.json",
    "src/aws/services/logs.generated.json",
    "src/aws/services/sso.generated.json",
    "src/aws/services/sso_oidc.generated.json",
    "src/aws/services/sts.generated.json",
  ]);
  for (const [path, text] of Object.entries(files)) {
    const checkedIn = await Deno.readTextFile(new URL(`../../${path}`, import.meta.url));
    assert.equal(checkedIn, text, `${path} is stale: run deno task gen:aws`);
  }
});
