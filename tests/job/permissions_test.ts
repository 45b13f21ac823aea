import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import {
  explainPermissionError,
  permissionFlags,
  validatePermissions,
} from "../../src/job/permissions.ts";

Deno.test("permissions become deno flags with the runtime's own needs granted narrowly", () => {
  assert.deepEqual(validatePermissions(undefined), { net: true });
  assert.deepEqual(
    permissionFlags(validatePermissions({ read: ["/data"], env: true, net: false }), {
      read: ["/app/function.js"],
      env: ["AWS_BATCH_JOB_ID"],
    }),
    ["--no-prompt", "--allow-read=/data,/app/function.js", "--allow-env"],
  );
  assert.deepEqual(permissionFlags({}, {}), ["--no-prompt"]);
  assert.throws(
    () => permissionFlags({}, { read: ["/a,b/function.js"] }),
    (e) => e instanceof CloudknotInputError && /holds a comma/.test(e.message),
  );
});

Deno.test("a permission error says which option grants it; other errors are left alone", () => {
  const denied = new Deno.errors.NotCapable(
    'Requires env access to "HOME", run again with the --allow-env flag',
  );
  const explained = explainPermissionError(denied) as Error;
  assert.ok(explained instanceof Deno.errors.NotCapable);
  assert.match(explained.message, /^Requires env access to "HOME": the knot's permissions/);
  assert.match(explained.message, /permissions: \{ env: \["HOME"\] \}/);
  assert.match(explained.message, /--allow env=HOME/);
  const other = new TypeError("x");
  assert.equal(explainPermissionError(other), other);
});
