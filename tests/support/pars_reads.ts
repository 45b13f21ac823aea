// How often a Pars' roles, instance profile and security group were read, from
// the emulator's request log: a Pars create judges their owners and what to
// adopt from one read of each.
import type { Emulator } from "../emulator/mod.ts";

/** The values of the filters of that name in an EC2 request's parameters. */
function filterValues(params: Record<string, unknown>, name: string): unknown[] {
  const filters = (params.Filters ?? []) as { Name?: string; Values?: unknown[] }[];
  return filters.filter((f) => f.Name === name).flatMap((f) => f.Values ?? []);
}

/**
 * How many times each role, the instance profile, the security group and the
 * VPC of Pars `name` were read since the log was cleared, as
 * `operation name: count`. A `DescribeSecurityGroups` counts when it asks for
 * the Pars' group (`<name>-sg`) by name, or by the id of a group of that name
 * the emulator holds; a `DescribeVpcs` when it asks for the VPCs tagged with
 * the Pars' name (`tag:cloudknot:pars`), or by the id of a VPC so tagged that
 * the emulator holds. A read by the id of one deleted since, of others, or of
 * every one, is not counted.
 *
 * With `until`, only the reads before the first request of that operation after the Pars' first
 * read count: a knot's
 * create reads its Pars' instance profile and spot fleet role again when its new compute
 * environment goes `INVALID` for IAM's lag (as on AWS, and then only when it settled soon enough
 * after the roles were made, which depends on the machine's speed).
 */
export function parsReads(
  emu: Emulator,
  name: string,
  { until }: { until?: string } = {},
): Record<string, number> {
  const reads: Record<string, number> = {};
  const first =
    emu.requests.entries.find((r) =>
      r.service === "iam" && String(r.params.RoleName ?? r.params.InstanceProfileName)
        .startsWith(`${name}-`)
    )?.seq ?? 0;
  const end = until === undefined
    ? Infinity
    : emu.requests.entries.find((r) => r.seq > first && r.operation === until)?.seq ?? Infinity;
  const filter = (q: { service: string; operation: string }) =>
    emu.requests.filter(q).filter((r) => r.seq < end);
  const count = (key: string) => reads[key] = (reads[key] ?? 0) + 1;
  for (const r of filter({ service: "iam", operation: "GetRole" })) {
    if (String(r.params.RoleName).startsWith(`${name}-`)) count(`GetRole ${r.params.RoleName}`);
  }
  for (const r of filter({ service: "iam", operation: "GetInstanceProfile" })) {
    if (r.params.InstanceProfileName === `${name}-ecs-instance-role`) count("GetInstanceProfile");
  }
  const group = `${name}-sg`;
  const ids = new Set(
    [...emu.ec2.securityGroups.values()].filter((g) => g.GroupName === group).map((g) => g.GroupId),
  );
  for (const r of filter({ service: "ec2", operation: "DescribeSecurityGroups" })) {
    const names = [
      ...(r.params.GroupNames as unknown[] ?? []),
      ...filterValues(r.params, "group-name"),
    ];
    const byId = [...(r.params.GroupIds as unknown[] ?? []), ...filterValues(r.params, "group-id")];
    if (names.includes(group) || byId.some((id) => ids.has(id))) count("DescribeSecurityGroups");
  }
  const vpcs = new Set(
    [...emu.ec2.vpcs.values()]
      .filter((v) => v.Tags.some((t) => t.Key === "cloudknot:pars" && t.Value === name))
      .map((v) => v.VpcId),
  );
  for (const r of filter({ service: "ec2", operation: "DescribeVpcs" })) {
    const byId = [...(r.params.VpcIds as unknown[] ?? []), ...filterValues(r.params, "vpc-id")];
    if (
      filterValues(r.params, "tag:cloudknot:pars").includes(name) ||
      byId.some((id) => vpcs.has(id))
    ) count("DescribeVpcs");
  }
  return reads;
}
