/**
 * The checked-in `*.generated.ts` files (wire metadata, paginators, shape hints) are what `scripts/gen_aws.ts`
 * makes from the official service models today.
 */
import assert from "node:assert/strict";
import { generatedFiles } from "../../scripts/gen_aws.ts";

Deno.test("the generated service data is current (else run `deno task gen:aws`)", async () => {
  const files = generatedFiles();
  assert.deepEqual(Object.keys(files).sort(), [
    "src/aws/services/batch.generated.ts",
    "src/aws/services/cloudformation.generated.ts",
    "src/aws/services/ec2.generated.ts",
    "src/aws/services/ecr.generated.ts",
    "src/aws/services/iam.generated.ts",
    "src/aws/services/logs.generated.ts",
    "src/aws/services/sso.generated.ts",
    "src/aws/services/sso_oidc.generated.ts",
    "src/aws/services/sts.generated.ts",
  ]);
  for (const [path, text] of Object.entries(files)) {
    const checkedIn = await Deno.readTextFile(new URL(`../../${path}`, import.meta.url));
    assert.equal(checkedIn, text, `${path} is stale: run deno task gen:aws`);
  }
});
