import assert from "node:assert/strict";
import { dockerTest } from "../support/docker_available.ts";
import { type DockerRunner, OOM_REASON, startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig, setupBatch, sh } from "./test_helpers.ts";
import { buildTestImage } from "./test_image.ts";
import { forEachLine } from "./runner.ts";
import { endsWithin } from "../support/ends_within.ts";
import { endChild } from "../support/processes.ts";

/**
 * Lets the container of the job `jobId` (made by the emulator labelled `label`) run out of
 * memory only once Docker runs it, and end only once Docker has seen the kill: the job waits
 * for `/started`, then for `/recorded`, which this writes into it with `docker exec`.
 *
 * Left to timing, Docker missed the kill under load. Docker 20.10 on cgroup v1 hears of an OOM
 * kill from containerd's shim, which watches the container's cgroup only once it has started
 * the container's first process (containerd 1.6, `runtime/v2/runc/task/service.go`, `Start`):
 * a kill before that, in the container's first milliseconds, is never reported, and Docker's
 * events showed the container's `start` and `die` and no `oom`. And Docker 20.10 and 23 set
 * `OOMKilled` at the exit from the OOM events that came before it
 * (`libcontainerd/remote/client.go`), so a kill heard of after the exit is not marked either.
 * ECS reads Docker's `OOMKilled` as it is; a cloudknot job's worker runs out of memory only
 * after the job's runtime has loaded, long after the cgroup is watched.
 *
 * `docker exec` runs only in a container Docker has marked running, which it does once the
 * shim's start (and with it the watch) is done; Docker's `oom` event comes once the kill is
 * counted for the exit.
 *
 * @param label The emulator's container label value.
 * @param jobId The job whose container to drive.
 */
async function driveOomJob(label: string, jobId: string): Promise<void> {
  const exec = (id: string, script: string) => sh("docker", ["exec", id, "/bin/sh", "-c", script]);
  const pause = () => new Promise((r) => setTimeout(r, 100));
  const stop = new AbortController();
  let events: Deno.ChildProcess | undefined;
  let reading: Promise<void> | undefined;
  const drive = async () => {
    let id: string | undefined;
    while (id === undefined && !stop.signal.aborted) {
      const running = (await sh("docker", [
        "ps",
        "--quiet",
        "--no-trunc",
        "--filter",
        `label=cloudknot-emulator=${label}`,
        "--filter",
        "status=running",
      ])).stdout.split("\n").filter(Boolean);
      for (const candidate of running) {
        const env = await sh("docker", [
          "inspect",
          "--format",
          "{{range .Config.Env}}{{println .}}{{end}}",
          candidate,
        ]).then((o) => o.stdout.split("\n"), (): string[] => []);
        if (env.includes(`AWS_BATCH_JOB_ID=${jobId}`)) id = candidate;
      }
      if (id === undefined) await pause();
    }
    if (id === undefined) return;
    events = new Deno.Command("docker", {
      args: ["events", "--filter", `container=${id}`, "--format", "{{.Action}}"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let watched = false;
    let oom!: () => void;
    let unheard!: (e: Error) => void;
    const killed = new Promise<void>((r, j) => [oom, unheard] = [r, j]);
    killed.catch(() => {}); // awaited below, once the watch is live
    // `docker events` ending first (dockerd restarted) fails the test at once, not at its limit.
    const gone = new Error("docker events ended before Docker reported the container's OOM kill");
    reading = forEachLine(events.stdout, (line) => {
      if (line.startsWith("exec_start: /bin/sh -c : watched")) watched = true;
      if (line === "oom") oom();
    }).then(() => unheard(gone));
    // The watch is live once it has shown one of these no-op execs.
    for (let n = 1; !watched && !stop.signal.aborted; n++) {
      await Promise.race([exec(id, `: watched ${n}`), killed]);
      await pause();
    }
    await exec(id, ": > /started");
    await killed;
    await exec(id, ": > /recorded");
  };
  try {
    await endsWithin(
      drive(),
      120_000,
      "the oom job's container running, killed for its memory and seen so by Docker",
    );
  } finally {
    stop.abort();
    // `docker events` may have ended by itself (dockerd restarted): the drive's error is kept.
    if (events !== undefined) await endChild(events);
    await reading?.catch(() => {});
  }
}

dockerTest(
  "docker: an image pushed through emulated ECR runs as a real container; logs, exit codes, OOM and timeouts",
  async () => {
    const localTag = `ckemu-test:${crypto.randomUUID().slice(0, 8)}`;
    await buildTestImage(localTag);
    const emu = await startEmulator({
      runner: "docker",
      ceValidDelayMs: 20,
      tickMs: 10,
      minTimeoutSeconds: 1,
    });
    const dockerConfig = await Deno.makeTempDir({ prefix: "ckemu-test-docker-" });
    const ecr = new sdk.ecr.ECRClient(sdkConfig(emu));
    const batch = new sdk.batch.BatchClient(sdkConfig(emu));
    const logs = new sdk.logs.CloudWatchLogsClient(sdkConfig(emu));
    const iam = new sdk.iam.IAMClient(sdkConfig(emu));
    const label = (emu.runner as DockerRunner).label;
    try {
      // Push the way a client does: GetAuthorizationToken, docker login, tag, push.
      const auth = (await ecr.send(new sdk.ecr.GetAuthorizationTokenCommand({})))
        .authorizationData![0]!;
      assert.ok(auth.expiresAt instanceof Date && auth.expiresAt.getTime() > Date.now());
      const [user, password] = atob(auth.authorizationToken!).split(":");
      const env = { DOCKER_CONFIG: dockerConfig };
      await sh(
        "docker",
        ["login", "--username", user!, "--password-stdin", auth.proxyEndpoint!],
        env,
        password,
      );
      // As on ECR, pushing to a repository that was never created fails.
      const host = auth.proxyEndpoint!.replace(/^http:\/\//, "");
      await sh("docker", ["tag", localTag, `${host}/not-created:v1`], env);
      const refused = await sh("docker", ["push", `${host}/not-created:v1`], env)
        .then(() => "pushed", (e) => String(e));
      assert.match(refused, /name unknown|does not exist/);
      await sh("docker", ["rmi", `${host}/not-created:v1`], env);
      const repo = await ecr.send(
        new sdk.ecr.CreateRepositoryCommand({ repositoryName: "ck-test" }),
      );
      const uri = repo.repository!.repositoryUri!;
      assert.equal(uri, `${host}/ck-test`);
      for (const t of ["v1", "v2"]) {
        await sh("docker", ["tag", localTag, `${uri}:${t}`], env);
        await sh("docker", ["push", `${uri}:${t}`], env);
      }
      let images = await ecr.send(new sdk.ecr.DescribeImagesCommand({ repositoryName: "ck-test" }));
      assert.equal(images.imageDetails!.length, 1);
      assert.deepEqual(images.imageDetails![0]!.imageTags!.sort(), ["v1", "v2"]);
      assert.ok(images.imageDetails![0]!.imageSizeInBytes! > 0);
      assert.ok(images.imageDetails![0]!.imagePushedAt instanceof Date);
      // ECR removes only the tag; the image stays while another tag points to it.
      const del = await ecr.send(
        new sdk.ecr.BatchDeleteImageCommand({
          repositoryName: "ck-test",
          imageIds: [{ imageTag: "v2" }, { imageTag: "nope" }],
        }),
      );
      assert.deepEqual(del.imageIds!.map((i) => i.imageTag), ["v2"]);
      assert.equal(del.failures![0]!.failureCode, "ImageNotFound");
      images = await ecr.send(new sdk.ecr.DescribeImagesCommand({ repositoryName: "ck-test" }));
      assert.deepEqual(images.imageDetails!.map((i) => i.imageTags), [["v1"]]);
      const listed = await ecr.send(new sdk.ecr.ListImagesCommand({ repositoryName: "ck-test" }));
      assert.deepEqual(listed.imageIds!.map((i) => i.imageTag), ["v1"]);

      const role = await iam.send(
        new sdk.iam.CreateRoleCommand({
          RoleName: "job-role",
          AssumeRolePolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{
              Effect: "Allow",
              Principal: { Service: "ecs-tasks.amazonaws.com" },
              Action: "sts:AssumeRole",
            }],
          }),
        }),
      );
      const s = await setupBatch(emu, {
        image: `${uri}:v1`,
        jobRoleArn: role.Role!.Arn,
        memory: 64,
        command: ["/bin/sh", "-c", "echo hello from a container; env; exit 3"],
      });
      const job = await batch.send(
        new sdk.batch.SubmitJobCommand({
          jobName: "real",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
        }),
      );
      const oom = await batch.send(
        new sdk.batch.SubmitJobCommand({
          jobName: "oom",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          containerOverrides: {
            // A child the kernel kills for the container's memory, as a cloudknot job's worker
            // is: its parent lives on, then exits with the child's 137. It grows only once the
            // test says Docker runs it, and ends only once Docker has seen the kill
            // (driveOomJob).
            command: [
              "/bin/sh",
              "-c",
              "until [ -e /started ]; do sleep 0.1; done; " +
              '/bin/sh -c "x=aaaaaaaaaaaaaaaa; while true; do x=\\$x\\$x; done"; s=$?; ' +
              "until [ -e /recorded ]; do sleep 0.1; done; exit $s",
            ],
            resourceRequirements: [{ type: "MEMORY", value: "16" }],
          },
        }),
      );
      const slow = await batch.send(
        new sdk.batch.SubmitJobCommand({
          jobName: "slow",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          timeout: { attemptDurationSeconds: 1 },
          containerOverrides: { command: ["/bin/sleep", "60"] },
        }),
      );
      const missing = await batch.send(
        new sdk.batch.SubmitJobCommand({
          jobName: "missing",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          containerOverrides: { command: ["/bin/sh", "-c", "true"] },
        }),
      );
      // The last job points at a tag nobody pushed.
      emu.batch.jobs.get(missing.jobId!)!.container.image = `${uri}:not-pushed`;
      await Promise.all([emu.waitForJobs(180_000), driveOomJob(label, oom.jobId!)]);
      const [j, o, t, m] = (await batch.send(
        new sdk.batch.DescribeJobsCommand({
          jobs: [job.jobId!, oom.jobId!, slow.jobId!, missing.jobId!],
        }),
      )).jobs!;

      assert.equal(j!.status, "FAILED");
      assert.equal(j!.container!.exitCode, 3);
      const ev = await logs.send(
        new sdk.logs.GetLogEventsCommand({
          logGroupName: "/aws/batch/job",
          logStreamName: j!.container!.logStreamName!,
          startFromHead: true,
        }),
      );
      const lines = ev.events!.map((e) => e.message!);
      assert.equal(lines[0], "hello from a container");
      assert.ok(lines.includes(`AWS_BATCH_JOB_ID=${job.jobId}`));
      assert.ok(lines.includes("AWS_BATCH_JOB_ATTEMPT=1"));
      assert.ok(lines.includes(`AWS_ENDPOINT_URL=${emu.endpoint}`));
      assert.ok(lines.includes("AWS_EC2_METADATA_DISABLED=true"));
      assert.ok(
        lines.some((l) => l.startsWith(`AWS_CONTAINER_CREDENTIALS_FULL_URI=${emu.endpoint}/`)),
      );
      assert.ok(
        !lines.some((l) =>
          l.startsWith("AWS_ACCESS_KEY_ID=") || l.startsWith("AWS_SECRET_ACCESS_KEY=")
        ),
      );
      const token = lines.find((l) => l.startsWith("AWS_CONTAINER_AUTHORIZATION_TOKEN="))!.split(
        "=",
      )[1]!;
      const creds = await (await fetch(`${emu.endpoint}/_emulator/container-credentials`, {
        headers: { authorization: token },
      })).json();
      const asJob = new sdk.sts.STSClient(sdkConfig(emu, {
        credentials: {
          accessKeyId: creds.AccessKeyId,
          secretAccessKey: creds.SecretAccessKey,
          sessionToken: creds.Token,
        },
      }));
      try {
        assert.match(
          (await asJob.send(new sdk.sts.GetCallerIdentityCommand({}))).Arn!,
          /:assumed-role\/job-role\//,
        );
      } finally {
        asJob.destroy();
      }

      assert.equal(o!.status, "FAILED");
      assert.equal(o!.container!.exitCode, 137);
      assert.equal(o!.container!.reason, OOM_REASON);
      assert.equal(t!.status, "FAILED");
      assert.equal(t!.statusReason, "Job attempt duration exceeded timeout");
      assert.equal(m!.status, "FAILED");
      assert.match(m!.attempts![0]!.container!.reason!, /^CannotPullContainerError/);
      assert.equal(m!.attempts![0]!.container!.exitCode, undefined);

      const notEmpty = await rejects(
        ecr.send(new sdk.ecr.DeleteRepositoryCommand({ repositoryName: "ck-test" })),
      );
      assert.equal(notEmpty.name, "RepositoryNotEmptyException");
      await ecr.send(
        new sdk.ecr.DeleteRepositoryCommand({ repositoryName: "ck-test", force: true }),
      );
    } finally {
      ecr.destroy();
      batch.destroy();
      logs.destroy();
      iam.destroy();
      await emu.close();
      await Deno.remove(dockerConfig, { recursive: true });
      await sh("docker", ["rmi", "--force", localTag]).catch(() => {});
    }
    const left = await sh("docker", ["ps", "-aq", "--filter", `label=cloudknot-emulator=${label}`]);
    assert.equal(left.stdout.trim(), "");
  },
);

dockerTest(
  "docker: closing the emulator (its jobs in containers or in processes) removes a knot image tagged for its registry with every tag it has, and only the registry's tags of any other image",
  async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const plain = await buildTestImage(`ckemu-plain:${id}`);
    const knot = `cloudknot/ckemu-knot-${id}:ckemu-knot-${id}`;
    const context = await Deno.makeTempDir({ prefix: "ckemu-knot-image-" });
    const inspect = async (
      ref: string,
    ) => (await sh("docker", ["image", "inspect", "--format", "{{.Id}}", ref]).then(
      () => true,
      () => false,
    ));
    try {
      // A knot image as DockerImage builds one: labelled with its name.
      await Deno.writeTextFile(
        `${context}/Dockerfile`,
        `FROM ${plain}\nLABEL org.cloudknot.image="ckemu-knot-${id}"\n`,
      );
      for (const options of [{ runner: "docker" as const }, { registry: true }]) {
        const what = JSON.stringify(options);
        await sh("docker", ["build", "--quiet", "--tag", knot, context]);
        const emu = await startEmulator(options);
        const host = emu.registry!.host;
        try {
          await sh("docker", ["tag", knot, `${host}/cloudknot:ckemu-knot-${id}`]);
          await sh("docker", ["tag", plain, `${host}/other:${id}`]);
        } finally {
          await emu.close();
        }
        assert.equal(
          await inspect(knot),
          false,
          `${what}: the knot image and its own tag are gone`,
        );
        assert.equal(await inspect(`${host}/cloudknot:ckemu-knot-${id}`), false, what);
        assert.equal(await inspect(plain), true, `${what}: another image keeps its own tag`);
        assert.equal(await inspect(`${host}/other:${id}`), false, `${what}: not the registry's`);
      }
    } finally {
      await sh("docker", ["rmi", "--force", knot]).catch(() => {});
      await sh("docker", ["rmi", "--force", plain]).catch(() => {});
      await Deno.remove(context, { recursive: true });
    }
  },
);
