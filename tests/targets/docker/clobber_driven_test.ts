// A docker knot clobbered while another process drives one of its runs, the
// driver starting a container just after the clobber listed the knot's
// containers: the driver removes that container (and the clobbered knot's
// image it ran), where it stayed, exited, with its labels, once the knot was
// gone. The driver is a real `deno` process whose docker client stops at the
// steps the test names (raced_driver.ts), so each order of the race is run,
// not hoped for. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { HeldClobber, made, RACED_DRIVER } from "./raced_driver.ts";

for (
  const [mode, when] of [
    ["gone", "before it looks at the run again"],
    ["waiting", "while it waits for the container"],
  ] as const
) {
  dockerTest(
    `a docker knot clobbered by another process just after its driver checked the run, whose container starts after the clobber listed the knot's, and whose directory goes ${when}, leaves no container and no image of the knot`,
    async () => {
      await withDockerKnots(
        `cloudknot-docker-raced-${mode}-`,
        async ({ dir, knotOptions, baseImage }) => {
          const gates = join(dir, "gates");
          await Deno.mkdir(gates);
          const root = join(dir, "raced");
          const quiet = knotOptions.docker;
          const driver = new Deno.Command(Deno.execPath(), {
            args: [
              "run",
              "-A",
              "--lock=tests/deno.lock",
              RACED_DRIVER,
              dir,
              baseImage,
              gates,
              mode,
            ],
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          let label: string | undefined;
          try {
            // Its driver has checked the run's cancel request, and is about to start the container.
            await made(join(gates, "starting"), driver);
            label = JSON.parse(await Deno.readTextFile(join(root, "knot.json"))).image
              .replace(/^cloudknot\//, "").replace(/:local$/, "");
            const knot = await Knot.create({
              ...knotOptions,
              name: "raced",
              docker: new HeldClobber(gates, driver),
            });
            await knot.clobber();
            await Deno.writeTextFile(join(gates, "clobbered"), "");
            const out = await driver.output();
            const said = new TextDecoder().decode(out.stdout) +
              new TextDecoder().decode(out.stderr);
            assert.equal(out.code, 0, said);
            // The item ends saying the knot was clobbered.
            assert.match(said, /^error .*its knot was clobbered/m);
            const { stdout: containers } = await quiet.command([
              "ps",
              "--all",
              "--format",
              "{{.Names}} {{.State}}",
              "--filter",
              `label=${CONTAINER_LABELS.knot}=${root}`,
            ]);
            assert.equal(containers.trim(), "", "no container of the knot is left");
            const { stdout: images } = await quiet.command([
              "images",
              "--quiet",
              "--filter",
              `label=org.cloudknot.image=${label}`,
            ]);
            assert.equal(images.trim(), "", "no image of the knot is left");
            assert.equal(await Deno.stat(root).then(() => true, () => false), false);
          } finally {
            try {
              driver.kill("SIGKILL");
            } catch { /* it has ended */ }
            await driver.status;
            const { stdout } = await quiet.command([
              "ps",
              "--all",
              "--quiet",
              "--filter",
              `label=${CONTAINER_LABELS.knot}=${root}`,
            ]);
            const left = stdout.split("\n").filter((id) => id !== "");
            await quiet.removeContainer(left, { force: true, missingOk: true });
            if (label !== undefined) {
              const { stdout } = await quiet.command([
                "images",
                "--quiet",
                "--no-trunc",
                "--filter",
                `label=org.cloudknot.image=${label}`,
              ]);
              const ids = stdout.split("\n").filter((id) => id !== "");
              await quiet.removeImage(ids, { force: true, missingOk: true }).catch(() => {});
            }
          }
        },
      );
    },
  );
}
