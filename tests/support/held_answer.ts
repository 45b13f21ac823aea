/**
 * Holds the emulator's answer to a call's request until the test lets it go,
 * once that request was sent: the call is then known to be in the middle,
 * between what it did before that request and what it does after, for as
 * long as the test's own steps take, however loaded the machine is.
 *
 * @module
 */
import type { Emulator } from "../emulator/mod.ts";

/** How long a call may take to send the request before the test fails (a docker build may come first). */
const SEND_DEADLINE_MS = 120_000;

/** A call whose answer {@linkcode holdAnswer} holds. */
export interface HeldAnswer<T> {
  /**
   * Lets the held answer go (again and again does nothing more), and gives
   * the call's outcome. Call it in a `finally` too, or the call never ends.
   */
  answer(): Promise<T>;
}

/**
 * Starts `call` with the answer to its first request of `operation` held
 * (a `latency` fault with `until`), and waits until that request was sent.
 * When the call ends without sending it, or has not sent it after 120 s,
 * the answer is let go and this throws, saying so.
 *
 * @example Usage
 * ```ts ignore
 * const held = await holdAnswer(emu, { service: "iam", operation: "CreateRole" }, () => make());
 * try {
 *   // the call waits for IAM's answer to CreateRole meanwhile
 * } finally {
 *   await held.answer();
 * }
 * ```
 *
 * @param emu The emulator.
 * @param request The service and operation of the request whose answer is held.
 * @param call What sends it.
 * @returns The call, held.
 */
export async function holdAnswer<T>(
  emu: Emulator,
  request: { service: string; operation: string },
  call: () => Promise<T>,
): Promise<HeldAnswer<T>> {
  const held = Promise.withResolvers<void>();
  const fault = emu.faults.add({ ...request, kind: "latency", until: held.promise, times: 1 });
  const outcome = call();
  // Ended: what it gave or threw, or nothing while it runs.
  let ended: { value: T } | { error: unknown } | undefined;
  outcome.then((value) => ended = { value }, (error) => ended = { error });
  const answer = () => {
    held.resolve();
    return outcome;
  };
  const what = `${request.service} ${request.operation}`;
  const deadline = Date.now() + SEND_DEADLINE_MS;
  while (emu.faults.list().find((f) => f.id === fault)?.hits !== 1) {
    if (ended !== undefined) {
      held.resolve();
      throw new Error(
        `the call ended before it sent ${what}: ${
          "error" in ended ? `it threw ${ended.error}` : `it gave ${JSON.stringify(ended.value)}`
        }`,
      );
    }
    if (Date.now() > deadline) {
      await answer().catch(() => {});
      throw new Error(`the call sent no ${what} after ${SEND_DEADLINE_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { answer };
}
