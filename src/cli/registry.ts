/**
 * The command line's commands. Adding a command is its declaration under
 * `src/cli/commands/`, what it does under `src/cli/actions/` (which the
 * declaration's `run` loads with `import()`), and one line here. Listing
 * the declarations loads none of the actions, so `--help` or a usage error
 * loads no target and no AWS client.
 *
 * @module
 */
import type { Command } from "./common/command.ts";
import { cancel } from "./commands/cancel.ts";
import { configure } from "./commands/configure.ts";
import { gc } from "./commands/gc.ts";
import { imageBuild } from "./commands/image_build.ts";
import { imageClobber } from "./commands/image_clobber.ts";
import { imageList } from "./commands/image_list.ts";
import { imagePush } from "./commands/image_push.ts";
import { jobs } from "./commands/jobs.ts";
import { knotClobber } from "./commands/knot_clobber.ts";
import { knotCreate } from "./commands/knot_create.ts";
import { knotList } from "./commands/knot_list.ts";
import { knotShow } from "./commands/knot_show.ts";
import { logs } from "./commands/logs.ts";
import { map } from "./commands/map.ts";
import { parsClobber } from "./commands/pars_clobber.ts";
import { parsCreate } from "./commands/pars_create.ts";
import { parsList } from "./commands/pars_list.ts";
import { repoClobber } from "./commands/repo_clobber.ts";
import { repoList } from "./commands/repo_list.ts";
import { results } from "./commands/results.ts";
import { cost } from "./commands/cost.ts";
import { report } from "./commands/report.ts";
import { retry } from "./commands/retry.ts";

/** Every command, in the order the help lists them. */
export const COMMANDS: Command[] = [
  map,
  results,
  retry,
  cancel,
  cost,
  report,
  jobs,
  logs,
  knotCreate,
  knotList,
  knotShow,
  knotClobber,
  configure,
  parsCreate,
  parsList,
  parsClobber,
  imageBuild,
  imagePush,
  imageList,
  imageClobber,
  repoList,
  repoClobber,
  gc,
];

/** What each group of commands is for. */
export const GROUPS: Record<string, string> = {
  knot: "Create, list, show and clobber knots: a function and the place its items run.",
  pars: "Make, list and clobber Pars: the IAM roles and network knots run with on AWS.",
  image: "Build, push, list and clobber Docker images of a function, for AWS Batch.",
  repo: "List and clobber the ECR repositories images are pushed to.",
};
