// Run by tests/support/docker_available_test.ts in a child `deno test`.
import { dockerTest } from "../docker_available.ts";

dockerTest("needs docker", () => {});
