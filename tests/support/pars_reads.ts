// How often a Pars' roles, instance profile and security group were read, from
// the emulator's request log: a Pars create judges their owners and what to
// adopt from one read of each.
import type { Emulator } from "../emulator/mod.ts";

/**
 * How many times each role, the instance profile and the security group of
 * Pars `name` were read since the log was cleared, as `operation name: count`.
 */
export function parsReads(emu: Emulator, name: string): Record<string, number> {
  const reads: Record<string, number> = {};
  const count = (key: string) => reads[key] = (reads[key] ?? 0) + 1;
  for (const r of emu.requests.filter({ service: "iam", operation: "GetRole" })) {
    if (String(r.params.RoleName).startsWith(`${name}-`)) count(`GetRole ${r.params.RoleName}`);
  }
  for (const r of emu.requests.filter({ service: "iam", operation: "GetInstanceProfile" })) {
    if (r.params.InstanceProfileName === `${name}-ecs-instance-role`) count("GetInstanceProfile");
  }
  for (const _ of emu.requests.filter({ service: "ec2", operation: "DescribeSecurityGroups" })) {
    count("DescribeSecurityGroups");
  }
  return reads;
}
