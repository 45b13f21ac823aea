/**
 * Silences the end-of-support notice that `aws-sdk` v2 prints on import. Must be
 * imported before the v2 SDK (see `deps.ts`).
 *
 * @module
 */
try {
  Deno.env.set("AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE", "1");
} catch {
  // Without env permission the notice is printed; harmless.
}
