/**
 * Tests that need something outside the project (Docker, Jupyter): under
 * `CI=true` they fail when it is missing; elsewhere they are ignored, with the
 * reason printed once.
 *
 * @module
 */

/** Whether a requirement is met, and why not. */
export interface RequirementStatus {
  /** It is met. */
  ok: boolean;
  /** Why not, when not. */
  reason?: string;
}

/** Registers a test that needs the requirement. */
export type RequirementTest = (
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
  options?: Omit<Deno.TestDefinition, "name" | "fn">,
) => void;

/**
 * Makes the test registrar of one requirement.
 *
 * @example Usage
 * ```ts ignore
 * const dockerTest = requirementTest("Docker", { ok: false, reason: "no engine" });
 * dockerTest("builds an image", async () => {});
 * ```
 */
export function requirementTest(
  what: string,
  status: RequirementStatus,
  options: { env?: (name: string) => string | undefined } = {},
): RequirementTest {
  const inCI = (options.env ?? ((name) => Deno.env.get(name)))("CI") === "true";
  let warned = false;
  return (name, fn, testOptions = {}) => {
    if (status.ok) {
      Deno.test({ ...testOptions, name, fn });
    } else if (inCI) {
      Deno.test({
        ...testOptions,
        name,
        fn() {
          throw new Error(`${what} is required under CI=true: ${status.reason}`);
        },
      });
    } else {
      if (!warned) {
        warned = true;
        console.warn(`Skipping the tests that need ${what}: ${status.reason}`);
      }
      Deno.test({ ...testOptions, name, ignore: true, fn });
    }
  };
}
