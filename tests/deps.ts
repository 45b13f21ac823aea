/**
 * Test-only npm dependencies, pinned here rather than in deno.json so that
 * they never become dependencies of the published package.
 *
 * @module
 */
export { default as bcrypt } from "npm:bcryptjs@^3.0.3";
