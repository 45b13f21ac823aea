// The lock of a docker knot's folder (src/store/knot_lock.ts): a process that
// must wait for another that hangs holding it is told which process it is,
// doing what, since when, and how to end it, and goes on once it is ended;
// two processes removing a gone knot's leftovers at once take turns, where
// the second used to give up and leave what it had to remove.
import assert from "node:assert/strict";
import { join } from "node:path";
import { holdingKnot, type KnotLockHolder, whileKnotGone } from "../../src/store/knot_lock.ts";
import { knotBusyNotice } from "../../src/store/knot_lock.ts";

const lockModule = new URL("../../src/store/knot_lock.ts", import.meta.url).href;

Deno.test("a process waiting for a docker knot's lock that a hung process holds is told its pid, what it does and since when, and goes on once that process is killed", async () => {
  const root = join(await Deno.makeTempDir({ prefix: "cloudknot-knot-lock-" }), "hung");
  // A process that takes the knot's lock as a build does and never ends.
  const hung = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { holdingKnot } from ${JSON.stringify(lockModule)};
       await holdingKnot(${JSON.stringify(root)}, async () => {
         console.log("held");
         await new Promise(() => setInterval(() => {}, 60_000));
       }, { make: true, doing: "builds its image", onWait: () => {} });`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = hung.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    while (!said.includes("held")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the holding process ended early: ${said}`);
      said += value;
    }
    const notices: string[] = [];
    const holders: (KnotLockHolder | undefined)[] = [];
    let ran = false;
    const waiting = holdingKnot(root, () => Promise.resolve(void (ran = true)), {
      make: true,
      doing: "creates it",
      onWait: (holder) => {
        holders.push(holder);
        notices.push(knotBusyNotice("hung", root, "creates it with its own function", holder));
        // The waiter is waiting now: the hung holder is ended, as the notice says to.
        hung.kill("SIGKILL");
      },
    });
    await waiting;
    assert.equal(ran, true);
    assert.equal(holders.length, 1);
    assert.equal(holders[0]?.pid, hung.pid);
    assert.equal(holders[0]?.doing, "builds its image");
    assert.match(
      notices[0]!,
      new RegExp(
        `docker knot hung \\(in .*: process ${hung.pid} builds its image, since \\d{4}-\\d\\d-\\d\\dT.*\\); ` +
          `waiting for it to finish, then this one creates it with its own function\\. ` +
          `If it hangs \\(a docker build that never ends\\), end it: kill ${hung.pid}; this one then ` +
          `goes on \\(a knot it left half-made is made again here, or removed by the knot's ` +
          `clobber: knot\\.clobber\\(\\), or cloudknot knot clobber hung\\)`,
      ),
    );
    await reader.cancel();
  } finally {
    try {
      hung.kill("SIGKILL");
    } catch { /* ended already */ }
    await hung.status;
  }
});

Deno.test("a waiter that looks at the lock's file between its holder's lock and the holder's words is told who holds it all the same", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-knot-lock-" });
  // A holder caught between its lock and its write of who it is: the file is locked and empty.
  const held = await Deno.open(join(root, "knot.lock"), { read: true, write: true, create: true });
  await held.lock(true);
  const words = { pid: 4242, doing: "builds its image", since: Date.now() };
  // It writes its words a moment later, after the waiter's first look at the empty file.
  const writes = setTimeout(
    () => Deno.writeTextFileSync(join(root, "knot.lock"), JSON.stringify(words)),
    20,
  );
  const holders: (KnotLockHolder | undefined)[] = [];
  let ran = false;
  const waiting = holdingKnot(root, () => Promise.resolve(void (ran = true)), {
    make: true,
    onWait: (holder) => {
      holders.push(holder);
      held.close(); // the holder ends once the waiter waits
    },
  });
  try {
    await waiting;
  } finally {
    clearTimeout(writes);
  }
  assert.equal(ran, true);
  assert.deepEqual(holders, [words]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("two removers of a gone docker knot's leftovers at once take turns: the second waits for the first, then removes its own", async () => {
  const root = join(await Deno.makeTempDir({ prefix: "cloudknot-knot-lock-" }), "gone");
  const held = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const order: string[] = [];
  const first = whileKnotGone(root, async () => {
    order.push("first");
    held.resolve();
    await release.promise;
    order.push("first done");
  });
  await held.promise;
  const second = whileKnotGone(root, () => Promise.resolve(void order.push("second")));
  // The second waits for the first while it holds the folder: it has not run.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(order, ["first"]);
  release.resolve();
  assert.equal(await first, true);
  assert.equal(await second, true);
  assert.deepEqual(order, ["first", "first done", "second"]);
  assert.equal(await Deno.stat(root).then(() => true, () => false), false, "no folder is left");
});

Deno.test("a remover of a gone docker knot's leftovers leaves alone a knot being created there, whose create holds the lock", async () => {
  const root = join(await Deno.makeTempDir({ prefix: "cloudknot-knot-lock-" }), "made");
  const held = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const creating = holdingKnot(root, async () => {
    held.resolve();
    await release.promise;
  }, { make: true, doing: "creates it", onWait: () => {} });
  await held.promise;
  let ran = false;
  assert.equal(await whileKnotGone(root, () => Promise.resolve(void (ran = true))), false);
  assert.equal(ran, false);
  release.resolve();
  await creating;
  assert.ok(await Deno.stat(join(root, "knot.lock")).then(() => true, () => false));
});
