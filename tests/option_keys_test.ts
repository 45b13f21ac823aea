// Validate, then mutate: a misspelt option key of a public call that creates,
// changes or deletes something is refused, naming the option meant, before
// its first mutating request, docker command or config file write (a misspelt
// key that was ignored made the default bucket, deleted a Pars or a repository
// it was meant to keep, or pruned records on what was meant as a dry run).
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  clobberOriginal,
  CloudknotInputError,
  DockerImage,
  DockerRepo,
  getEcrRepo,
  getProfile,
  getRegion,
  getS3Params,
  listProfiles,
  Pars,
  setEcrRepo,
  setProfile,
  setRegion,
  setS3Params,
} from "../mod.ts";
import {
  deleteGarbage,
  findGarbage,
  findGarbageInRegions,
  findLocalGarbage,
  prune,
  resolveS3Params,
  sessionFromSettings,
} from "../src/resources/mod.ts";
import { StateFile } from "../src/state/mod.ts";
import { Docker } from "../src/docker/mod.ts";
import { withEmulator } from "./resources/helpers.ts";
import { rejects } from "./support/rejects.ts";

/** A call that must be refused, the message it must say, and the option that message names. */
type Case = [behaviour: string, call: () => Promise<unknown>, message: string, field: string];

Deno.test("a misspelt option key is refused before anything is created, changed or deleted", async (t) => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    const pars = await Pars.create({ name: "kept", session, state });
    const repo = await DockerRepo.create({ name: "kept-repo", session, state });
    // Any docker call fails with DockerNotInstalledError instead of the refusal.
    const docker = new Docker({ binary: join(dir, "no-docker"), logger: () => {} });
    const image = await DockerImage.create({
      func: function square(x: number) {
        return x * x;
      },
      state,
      docker,
      cloudknotDir: join(dir, "ck"),
    });
    // A record prune drops: its Pars' roles and VPC are gone.
    await state.update((doc) => {
      doc.set(
        "pars dead",
        new Map([
          ["region", "us-east-1"],
          ["profile", "default"],
          ["job-role", "arn:aws:iam::123456789012:role/dead-job-role"],
          ["vpc", "vpc-0000000000000dead"],
        ]),
      );
    });
    const before = await Deno.readTextFile(state.path);
    const env = () => undefined;
    const cases: Case[] = [
      [
        "setS3Params refuses a misspelt key before it makes a bucket",
        () => setS3Params({ bukcet: "my-bucket" } as never, { session, state }),
        'setS3Params() has no option "bukcet": did you mean "bucket"?',
        "bukcet",
      ],
      [
        "setS3Params refuses a manageExisting that is not a boolean before it takes a bucket over",
        () =>
          setS3Params({ bucket: "my-bucket", manageExisting: "no" as never }, { session, state }),
        'manageExisting must be true or false, not the string "no"',
        "manageExisting",
      ],
      [
        "setS3Params refuses a misspelt settings option before it makes a bucket",
        () => setS3Params({ bucket: "my-bucket" }, { session, state, homedir: dir } as never),
        `setS3Params()'s options has no option "homedir": did you mean "homeDir"?`,
        "homedir",
      ],
      [
        "setRegion refuses a misspelt key before it writes the config file",
        () => setRegion("eu-west-1", { session, state, evn: env } as never),
        'setRegion() has no option "evn": did you mean "env"?',
        "evn",
      ],
      [
        "setProfile refuses a misspelt key before it writes the config file",
        () => setProfile("from-env", { state, homedir: dir } as never),
        'setProfile() has no option "homedir": did you mean "homeDir"?',
        "homedir",
      ],
      [
        "setEcrRepo refuses a misspelt key before it writes the config file",
        () => setEcrRepo("lab-images", { state, Env: env } as never),
        'setEcrRepo() has no option "Env": did you mean "env"?',
        "Env",
      ],
      [
        "pars.clobber refuses a misspelt force before it deletes the Pars",
        () => pars.clobber({ forse: true } as never),
        'pars.clobber() has no option "forse": did you mean "force"?',
        "forse",
      ],
      [
        "pars.clobber refuses a force that is not a boolean before it deletes the Pars",
        () => pars.clobber({ force: "no" as never }),
        'force must be true or false, not the string "no"',
        "force",
      ],
      [
        "Pars.clobber refuses a misspelt key before it deletes the Pars",
        () => Pars.clobber({ name: "kept", session, state, timeoutMS: 10 } as never),
        'Pars.clobber() has no option "timeoutMS": did you mean "timeoutMs"?',
        "timeoutMS",
      ],
      [
        "Pars.remake refuses a misspelt key before it makes anything again",
        () => Pars.remake({ name: "kept", session, state, wran: () => {} } as never),
        'Pars.remake() has no option "wran": did you mean "warn"?',
        "wran",
      ],
      [
        "Pars.find refuses a misspelt key",
        () => Pars.find({ name: "kept", session, sate: state } as never),
        'Pars.find() has no option "sate": did you mean "state"?',
        "sate",
      ],
      [
        "repo.clobber refuses a misspelt key before it deletes the repository",
        () => repo.clobber({ evn: env } as never),
        'repo.clobber() has no option "evn": did you mean "env"?',
        "evn",
      ],
      [
        "DockerRepo.defaultName refuses a misspelt key",
        () => DockerRepo.defaultName({ state, evn: env } as never),
        'DockerRepo.defaultName() has no option "evn": did you mean "env"?',
        "evn",
      ],
      [
        "image.build refuses a misspelt key before any docker command",
        () => image.build({ tags: "v1", nocache: true } as never),
        'image.build() has no option "nocache": did you mean "noCache"?',
        "nocache",
      ],
      [
        "image.push refuses a misspelt key before any docker command",
        () => image.push({ repo, sginal: undefined } as never),
        'image.push() has no option "sginal": did you mean "signal"?',
        "sginal",
      ],
      [
        "image.clobber refuses a misspelt ownBuildOnly before it removes anything",
        () => image.clobber({ ownbuildonly: true } as never),
        'image.clobber() has no option "ownbuildonly": did you mean "ownBuildOnly"?',
        "ownbuildonly",
      ],
      [
        "image.clobber refuses an ownBuildOnly that is not a boolean before it removes anything",
        () => image.clobber({ ownBuildOnly: "yes" as never }),
        'ownBuildOnly must be true or false, not the string "yes"',
        "ownBuildOnly",
      ],
      [
        "prune refuses a misspelt dryRun before it drops a record",
        () => prune({ session, state, dryrun: true } as never),
        'prune() has no option "dryrun": did you mean "dryRun"?',
        "dryrun",
      ],
      [
        "prune refuses a dryRun that is not a boolean before it drops a record",
        () => prune({ session, state, dryRun: 0 as never }),
        "dryRun must be true or false, not the number 0",
        "dryRun",
      ],
      [
        "clobberOriginal refuses a misspelt key before it deletes a stack",
        () => clobberOriginal("knot", "py-knot", { session, state, pasr: true } as never),
        'clobberOriginal() has no option "pasr": did you mean "pars"?',
        "pasr",
      ],
      [
        "deleteGarbage refuses a misspelt key before it deletes anything",
        () =>
          deleteGarbage([{ kind: "repository", id: "kept-repo", reason: "a test" }], {
            session,
            state,
            onDelte: () => {},
          } as never),
        'deleteGarbage() has no option "onDelte": did you mean "onDelete"?',
        "onDelte",
      ],
      [
        "findGarbage refuses a misspelt key",
        () => findGarbage({ session, state, untaged: true } as never),
        'findGarbage() has no option "untaged": did you mean "untagged"?',
        "untaged",
      ],
      [
        "findGarbageInRegions refuses a misspelt key",
        () => findGarbageInRegions({ session, state, untaged: true } as never),
        'findGarbageInRegions() has no option "untaged": did you mean "untagged"?',
        "untaged",
      ],
      [
        "findLocalGarbage refuses a misspelt key",
        () => findLocalGarbage({ state, localdir: dir } as never),
        'findLocalGarbage() has no option "localdir": did you mean "localDir"?',
        "localdir",
      ],
    ];
    for (const [behaviour, call, message, field] of cases) {
      await t.step(behaviour, async () => {
        emu.requests.clear();
        const e = await rejects(call(), CloudknotInputError);
        assert.equal(e.message, message);
        assert.equal(e.field, field);
        assert.deepEqual(
          emu.mutatingRequests().map((r) => `${r.service} ${r.operation}`),
          [],
        );
        assert.equal(await Deno.readTextFile(state.path), before, "the config file is unchanged");
      });
    }
    // What each call was meant to keep is there.
    assert.equal((await Pars.find({ name: "kept", session, state })) instanceof Pars, true);
    const { repositories } = await session.ecr.describeRepositories({
      repositoryNames: ["kept-repo"],
    });
    assert.equal(repositories?.length, 1);
    assert.ok(await state.section("docker-image square"));
    await Deno.stat(image.buildPath);
    await image.clobber();
  });
});

// A settings getter reads the config file and the shared AWS files its options
// name; a misspelt key read other files (another HOME's) and gave an answer the
// caller then acted on, so it is refused before anything is read.
Deno.test("a misspelt option key of a settings getter is refused before anything is read", async (t) => {
  const read: string[] = [];
  const env = (name: string) => {
    read.push(name);
    return undefined;
  };
  const readTextFile = (path: string) => {
    read.push(path);
    return Promise.resolve(undefined);
  };
  const state = new StateFile({ path: "/nowhere/.aws/cloudknot" });
  const cases: Case[] = [
    [
      "getRegion refuses a misspelt key",
      () => getRegion({ state, env, readTextFile, homedir: "/elsewhere" } as never),
      'getRegion() has no option "homedir": did you mean "homeDir"?',
      "homedir",
    ],
    [
      "getProfile refuses a misspelt key",
      () => getProfile({ state, env, readTextfile: readTextFile, homeDir: "/nowhere" } as never),
      'getProfile() has no option "readTextfile": did you mean "readTextFile"?',
      "readTextfile",
    ],
    [
      "listProfiles refuses a misspelt key",
      () => listProfiles({ env, readTextFile, home_dir: "/elsewhere" } as never),
      'listProfiles() has no option "home_dir": did you mean "homeDir"?',
      "home_dir",
    ],
    [
      "getS3Params refuses a misspelt key",
      () => getS3Params({ stat: state, env, homeDir: "/nowhere" } as never),
      'getS3Params() has no option "stat": did you mean "state"?',
      "stat",
    ],
    [
      "getEcrRepo refuses a misspelt key",
      () => getEcrRepo({ state, Env: env } as never),
      'getEcrRepo() has no option "Env": did you mean "env"?',
      "Env",
    ],
    [
      "resolveS3Params refuses a misspelt key",
      () => resolveS3Params({ state, env, readTextFile, homeDir: "/nowhere", sesion: {} } as never),
      'resolveS3Params() has no option "sesion": did you mean "session"?',
      "sesion",
    ],
    [
      "sessionFromSettings refuses a misspelt key",
      () =>
        sessionFromSettings(
          { state, env, readTextFile, recorderd: { region: "eu-west-1" } } as never,
        ),
      'sessionFromSettings() has no option "recorderd": did you mean "recorded"?',
      "recorderd",
    ],
  ];
  for (const [behaviour, call, message, field] of cases) {
    await t.step(behaviour, async () => {
      read.length = 0;
      const e = await rejects(call(), CloudknotInputError);
      assert.equal(e.message, message);
      assert.equal(e.field, field);
      assert.deepEqual(read, [], "nothing was read");
    });
  }
});
