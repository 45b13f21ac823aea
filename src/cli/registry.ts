/**
 * The command line's commands. Adding a command is one file under
 * `src/cli/commands/` and one line here.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { jobs } from "./commands/jobs.ts";
import { knotClobber } from "./commands/knot_clobber.ts";
import { knotCreate } from "./commands/knot_create.ts";
import { knotList } from "./commands/knot_list.ts";
import { knotShow } from "./commands/knot_show.ts";
import { logs } from "./commands/logs.ts";
import { map } from "./commands/map.ts";
import { results } from "./commands/results.ts";

/** Every command, in the order the help lists them. */
export const COMMANDS: Command[] = [
  map,
  results,
  jobs,
  logs,
  knotCreate,
  knotList,
  knotShow,
  knotClobber,
];

/** What each group of commands is for. */
export const GROUPS: Record<string, string> = {
  knot: "Create, list, show and clobber knots: a function and the place its items run.",
};
