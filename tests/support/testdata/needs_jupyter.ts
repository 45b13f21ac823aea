// Run by tests/support/jupyter_available_test.ts in a child `deno test`.
import { jupyterTest } from "../jupyter_available.ts";

jupyterTest("needs jupyter", () => {});
