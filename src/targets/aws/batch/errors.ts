/**
 * {@linkcode BatchResourceError}, apart from the compute environments' code
 * so that a program can name it without loading the AWS clients.
 *
 * @module
 */
import { CannotCreateResourceError } from "../../../util/errors.ts";

/** A Batch resource reached a state it cannot be used in. */
export class BatchResourceError extends CannotCreateResourceError {}
