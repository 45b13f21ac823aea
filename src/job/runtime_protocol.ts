/**
 * The runtime protocol: the number of the contract between a cloudknot
 * client and the job runtime it builds into an image (`runtime.js` and
 * `worker.js`, `runtime_bundle.ts`). An image keeps the runtime of the
 * cloudknot version that built it, while the client that submits its jobs may
 * be a later one: the client refuses to submit to an image whose runtime
 * protocol differs from its own, and a knot created again with its function
 * is rebuilt with the client's runtime.
 *
 * Where an image says its protocol: the `org.cloudknot.runtime` label of the
 * image (`image/build_context.ts`), and the `cloudknot:runtime` tag of each
 * AWS Batch job definition revision that runs it (`targets/aws/aws_knot.ts`).
 * An image or revision without it was built before runtime protocols, and
 * counts as another protocol.
 *
 * @module
 */

/**
 * This version's runtime protocol. Bump it on any change that a runtime of
 * the previous number could not handle: the job's arguments (`job_args.ts`),
 * the environment a job reads (`main.ts`: `CLOUDKNOT_*`), the run's layout in
 * the store (`payload.ts`, `record.ts`, `record_segment.ts`), or the codec's
 * format (`codec/`). A change an older runtime still reads right (a new
 * optional variable it ignores harmlessly) keeps it. A test compares these
 * names and versions with `runtime_protocol_surface.json`, the snapshot taken
 * at this number, and fails until the snapshot is updated
 * (`deno task protocol:snapshot`; docs/development.md).
 *
 * @example Usage
 * ```ts
 * import { RUNTIME_PROTOCOL } from "@cloudknot/cloudknot/job";
 *
 * console.log(RUNTIME_PROTOCOL); // 1
 * ```
 */
export const RUNTIME_PROTOCOL = 1;

/**
 * The image label that names the runtime protocol of the runtime an image
 * holds.
 *
 * @example Usage
 * ```ts
 * import { RUNTIME_PROTOCOL_LABEL } from "@cloudknot/cloudknot/job";
 *
 * console.log(RUNTIME_PROTOCOL_LABEL); // "org.cloudknot.runtime"
 * ```
 */
export const RUNTIME_PROTOCOL_LABEL = "org.cloudknot.runtime";

/**
 * The tag of an AWS Batch job definition revision that names the runtime
 * protocol of the image it runs.
 *
 * @example Usage
 * ```ts
 * import { RUNTIME_PROTOCOL_TAG } from "@cloudknot/cloudknot/job";
 *
 * console.log(RUNTIME_PROTOCOL_TAG); // "cloudknot:runtime"
 * ```
 */
export const RUNTIME_PROTOCOL_TAG = "cloudknot:runtime";

/**
 * The runtime protocol a label or tag value names, or `undefined` when there
 * is none (an image built before runtime protocols) or it is not a number.
 *
 * @example Usage
 * ```ts
 * import { readRuntimeProtocol } from "@cloudknot/cloudknot/job";
 *
 * console.log(readRuntimeProtocol("1"), readRuntimeProtocol(undefined)); // 1 undefined
 * ```
 *
 * @param value The label's or tag's value.
 * @returns The protocol.
 */
export function readRuntimeProtocol(value: string | undefined): number | undefined {
  return value !== undefined && /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : undefined;
}

/**
 * An image's runtime protocol in words, for messages: `runtime protocol N`,
 * or that it was built before runtime protocols.
 *
 * @example Usage
 * ```ts
 * import { runtimeProtocolWords } from "@cloudknot/cloudknot/job";
 *
 * console.log(runtimeProtocolWords(undefined)); // "a runtime from before runtime protocols"
 * ```
 *
 * @param protocol The protocol, or `undefined` for none.
 * @returns The words.
 */
export function runtimeProtocolWords(protocol: number | undefined): string {
  return protocol === undefined
    ? "a runtime from before runtime protocols"
    : `runtime protocol ${protocol}`;
}

/**
 * What an image of another runtime protocol runs, for messages: `the job
 * runtime of another cloudknot version (<its protocol>; this version's is
 * <this one>)`.
 *
 * @example Usage
 * ```ts
 * import { otherRuntimeWords } from "@cloudknot/cloudknot/job";
 *
 * console.log(otherRuntimeWords(undefined));
 * // "the job runtime of another cloudknot version (a runtime from before runtime protocols; this version's is runtime protocol 1)"
 * ```
 *
 * @param protocol The image's protocol, or `undefined` for none.
 * @returns The words.
 */
export function otherRuntimeWords(protocol: number | undefined): string {
  return `the job runtime of another cloudknot version (${runtimeProtocolWords(protocol)}; ` +
    `this version's is ${runtimeProtocolWords(RUNTIME_PROTOCOL)})`;
}
