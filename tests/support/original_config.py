"""The Python cloudknot's writes to its config file, replayed.

Each step below is the original's own code path for that write (nrdg/cloudknot
at commit 1984355, MIT licence): `get_config_file` and `add_resource` of
`cloudknot/config.py`, `set_profile`, `set_region`, `set_s3_params` and
`set_ecr_repo` of `cloudknot/aws/base_classes.py`, the `[pars]` and `[knot]`
writes of `cloudknot/cloudknot.py`, the `[docker-image]` writes of
`cloudknot/dockerimage.py`, `DockerRepo` (`aws/ecr.py`) and `BatchJob`
(`aws/batch.py`): a `configparser.ConfigParser` reads the whole file, sets the
values, and writes the whole file back. Only the AWS calls are left out; the
values they returned come in the plan.

Usage: CLOUDKNOT_CONFIG_FILE=<path> python3 original_config.py '<plan JSON>'
where the plan is a list of steps, each `{"op": ..., ...}`.
"""

import configparser
import json
import os
import sys


def get_config_file():
    config_file = os.path.abspath(os.environ["CLOUDKNOT_CONFIG_FILE"])
    if not os.path.isfile(config_file):
        os.makedirs(os.path.dirname(config_file), exist_ok=True)
        with open(config_file, "w") as f:
            f.write("# cloudknot configuration file")
    return config_file


def write(change):
    config_file = get_config_file()
    config = configparser.ConfigParser()
    config.read(config_file)
    change(config)
    with open(config_file, "w") as f:
        config.write(f)


def add_resource(section, option, value):
    def change(config):
        if section not in config.sections():
            config.add_section(section)
        config.set(section=section, option=option, value=value)

    write(change)


def set_aws(values):
    def change(config):
        if not config.has_section("aws"):
            config.add_section("aws")
        for key, value in values:
            config.set("aws", key, value)

    write(change)


def new_section(section, values):
    def change(config):
        config.add_section(section)
        for key, value in values:
            config.set(section, key, value)

    write(change)


def run(step):
    op = step["op"]
    if op == "configure":
        # commands/configure.py, after its prompts
        add_resource("aws", "configured", "True")
    elif op == "set_profile":
        set_aws([("profile", step["profile"])])
    elif op == "set_region":
        set_aws([("region", step["region"])])
    elif op == "set_ecr_repo":
        set_aws([("ecr-repo", step["repo"])])
    elif op == "set_s3_params":
        # one write: bucket, policy, and str(sse), so None is "None"
        set_aws(
            [
                ("s3-bucket", step["bucket"]),
                ("s3-bucket-policy", step["policy"]),
                ("s3-sse", str(step.get("sse"))),
            ]
        )
    elif op == "pars":
        new_section(
            "pars " + step["name"],
            [
                ("stack-id", step["stack_id"]),
                ("region", step["region"]),
                ("profile", step["profile"]),
                ("batch-service-role", step["batch_service_role"]),
                ("ecs-instance-role", step["ecs_instance_role"]),
                ("spot-fleet-role", step["spot_fleet_role"]),
                ("ecs-instance-profile", step["ecs_instance_profile"]),
                ("vpc", step["vpc"]),
                ("subnets", ",".join(step["subnets"])),
                ("security-group", step["security_group"]),
            ],
        )
    elif op == "docker_repo":
        add_resource(
            " ".join(["docker-repos", step["profile"], step["region"]]),
            step["name"],
            step["uri"],
        )
    elif op == "docker_image":
        section = "docker-image " + step["name"]
        for key, value in [
            ("profile", step["profile"]),
            ("region", step["region"]),
            ("function-hash", str(hash(step["name"]))),
            ("build-path", step["build_path"]),
            ("script-path", step["build_path"] + "/" + step["name"] + ".py"),
            ("docker-path", step["build_path"] + "/Dockerfile"),
            ("req-path", step["build_path"] + "/requirements.txt"),
            ("base-image", "python:3"),
            ("github-imports", ""),
            ("ignore-installed", str(False)),
            ("username", "cloudknot-user"),
            ("images", ""),
            ("repo-uri", ""),
            ("clobber-script", str(True)),
        ]:
            add_resource(section, key, value)
        add_resource(section, "images", "cloudknot/" + step["name"] + ":" + step["knot"])
        if step.get("repo_uri"):
            add_resource(section, "repo-uri", step["repo_uri"])
    elif op == "knot":
        new_section(
            "knot " + step["name"],
            [
                ("region", step["region"]),
                ("profile", step["profile"]),
                ("stack-id", step["stack_id"]),
                ("pars", step["pars"]),
                ("docker-image", step["docker_image"]),
                ("docker-repo", step.get("docker_repo") or "None"),
                ("job-definition", step["job_definition"]),
                ("compute-environment", step["compute_environment"]),
                ("job-queue", step["job_queue"]),
                ("job_ids", ""),
            ],
        )
    elif op == "batch_job":
        add_resource(
            " ".join(["batch-jobs", step["profile"], step["region"]]),
            step["job_id"],
            step["job_name"],
        )
    elif op == "knot_job_ids":
        def change(config):
            config.set("knot " + step["knot"], "job_ids", " ".join(step["job_ids"]))

        write(change)
    else:
        raise SystemExit("unknown step " + op)


if __name__ == "__main__":
    for s in json.loads(sys.argv[1]):
        run(s)
