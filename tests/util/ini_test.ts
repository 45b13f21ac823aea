/**
 * The INI module against two independent oracles: the AWS SDK's own shared
 * config loader (`@smithy/core/config` `loadSharedConfigFiles`) for the
 * "aws" dialect, and Python's `configparser` (run with python3) for the
 * "configparser" dialect, both reading and writing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { smithyLoadSharedConfigFiles as smithyLoad } from "../aws/deps.ts";
import {
  type IniDocument,
  IniSyntaxError,
  parseIni,
  stringifyIni,
  updateIni,
} from "../../src/util/ini.ts";
import { loadSharedConfigFiles } from "../../src/aws/core/profile.ts";

const CONFIG = `# a comment
[default]
region = eu-west-1 ; trailing comment
output=json
[profile dev]
region = us-east-2
s3 =
  addressing_style = path
  max_concurrent_requests = 20
endpoint_url = http://127.0.0.1:9000
role_arn = arn:aws:iam::1:role/r#not-a-comment
[profile my.dotted.name]
region = ap-south-1
[profile "quoted"]
region = sa-east-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
[services local]
s3 =
  endpoint_url = http://localhost:4566
batch =
  endpoint_url = http://localhost:4567
[not-a-profile]
region = xx
[profile default]
cli_pager =
[profile spaced]
  key with spaces = value with = sign
  indented text without an equals sign
colon: read by the AWS CLI, skipped by the SDK
`;

const CREDENTIALS = `[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret/with+chars==
[dev]
aws_access_key_id=AKIDDEV
aws_secret_access_key=devsecret
aws_session_token = tok;en
[profile odd]
aws_access_key_id = X
`;

function toObject(doc: Map<string, Map<string, string>>): Record<string, Record<string, string>> {
  return Object.fromEntries([...doc].map(([k, v]) => [k, Object.fromEntries(v)]));
}

Deno.test("aws dialect: the shared files read exactly as the AWS SDK reads them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const configPath = join(dir, "config");
    const credentialsPath = join(dir, "credentials");
    await Deno.writeTextFile(configPath, CONFIG);
    await Deno.writeTextFile(credentialsPath, CREDENTIALS.replaceAll("\n", "\r\n"));
    const sdk = await smithyLoad({
      filepath: credentialsPath,
      configFilepath: configPath,
      ignoreCache: true,
    });
    const ours = await loadSharedConfigFiles({
      env: (n) =>
        ({ AWS_CONFIG_FILE: configPath, AWS_SHARED_CREDENTIALS_FILE: credentialsPath })[n],
      readTextFile: (p) => Deno.readTextFile(p),
    });
    const configFile = {
      ...toObject(ours.configProfiles),
      ...Object.fromEntries(
        [...ours.ssoSessions].map(([k, v]) => [`sso-session.${k}`, Object.fromEntries(v)]),
      ),
      ...Object.fromEntries(
        [...ours.services].map(([k, v]) => [`services.${k}`, Object.fromEntries(v)]),
      ),
    };
    assert.deepEqual(configFile, JSON.parse(JSON.stringify(sdk.configFile)));
    assert.deepEqual(
      toObject(ours.credentialProfiles),
      JSON.parse(JSON.stringify(sdk.credentialsFile)),
    );
    // The dotted name stays whole and sub-sections come back as dotted keys.
    assert.equal(ours.configProfiles.get("my.dotted.name")?.get("region"), "ap-south-1");
    assert.equal(ours.configProfiles.get("dev")?.get("s3.addressing_style"), "path");
    assert.equal(
      ours.configProfiles.get("dev")?.get("role_arn"),
      "arn:aws:iam::1:role/r#not-a-comment",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aws dialect: __proto__ section names are rejected", () => {
  assert.throws(() => parseIni("[__proto__]\na = b\n"), IniSyntaxError);
  assert.throws(() => parseIni("[profile __proto__]\na = b\n"), IniSyntaxError);
});

Deno.test("aws dialect: a line the AWS CLI cannot parse is an error naming the file and line", async () => {
  const cases: [string, number, RegExp][] = [
    ["[default]\nregion = eu-west-1\njusttext\n", 3, /is not "key = value"/],
    ["[default]\n=novalue\n", 2, /is not "key = value"/],
    ["# hi\nregion = eu-west-1\n[default]\n", 2, /comes before any \[section\] header/],
    ["[default]\n[profile dev\nregion = x\n", 2, /does not end with "\]"/],
  ];
  for (const [text, line, message] of cases) {
    let e: unknown;
    try {
      parseIni(text, { fileName: "/home/me/.aws/config" });
    } catch (error) {
      e = error;
    }
    assert.ok(e instanceof IniSyntaxError, `${text}: ${e}`);
    assert.equal(e.line, line, text);
    assert.match(e.message, new RegExp(`^Line ${line} of /home/me/\\.aws/config `));
    assert.match(e.message, message);
    // The AWS CLI (botocore) refuses each of these files too.
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "config"), text);
      const cli = await new Deno.Command("aws", {
        args: ["configure", "get", "region"],
        env: { AWS_CONFIG_FILE: join(dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "c") },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.match(new TextDecoder().decode(cli.stderr), /ConfigParseError|Unable to parse/, text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  assert.throws(
    () => parseIni("[default]\nregion = x\n[profile __proto__]\n", { fileName: "config" }),
    (e) => e instanceof IniSyntaxError && e.line === 3 && /^Line 3 of config /.test(e.message),
  );
  // Comments, blank lines, indented continuations and a byte-order mark are fine.
  const ok = parseIni("\uFEFF# c\n\n[default]\n; c\nregion = x # c\n  more\n");
  assert.equal(ok.get("default")?.get("region"), "x");
});

async function python(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

const PY_READ = `
import configparser, json, sys
c = configparser.ConfigParser()
with open(sys.argv[1]) as f:
    c.read_file(f)
print(json.dumps([[s, [[k, v] for k, v in c.items(s, raw=True) if k not in c.defaults()]] for s in c.sections()]))
`;

const PY_WRITE = `
import configparser, json, sys
c = configparser.ConfigParser()
c.read_dict(json.loads(sys.argv[2]))
with open(sys.argv[1], "w") as f:
    c.write(f)
`;

function pairs(doc: IniDocument): [string, [string, string][]][] {
  return [...doc].filter(([name]) => name !== "DEFAULT").map((
    [name, entries],
  ) => [name, [...entries]]);
}

/** A document shaped like the cloudknot config file, with awkward values. */
const SAMPLE: IniDocument = new Map([
  [
    "aws",
    new Map([["configured", "True"], ["profile", "default"], ["region", "eu-west-1"], [
      "s3-bucket",
      "cloudknot-me-1",
    ]]),
  ],
  [
    "pars my.pars",
    new Map([
      ["stack-id", "arn:aws:cloudformation:eu-west-1:1:stack/x/y"],
      ["subnets", "subnet-1 subnet-2"],
      ["policies", "AmazonS3FullAccess"],
      ["empty", ""],
      ["url", "http://127.0.0.1:5055/path?x=1"],
    ]),
  ],
  [
    "knot squares",
    new Map([
      ["multi-line", "first line\nsecond: with colon\n  third = with equals"],
      ["unicode", "naïve ☃"],
      ["job-ids", "a b c"],
      ["blank-inside", "a\n\nb"],
    ]),
  ],
  ["docker-image x", new Map([["images", "[{'name': 'x', 'tag': 'latest'}]"]])],
]);

Deno.test("configparser dialect: files we write read back identically in Python", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "cloudknot");
    await Deno.writeTextFile(path, stringifyIni(SAMPLE));
    const fromPython = JSON.parse(await python(PY_READ, path));
    const expected = pairs(SAMPLE).map((
      [s, kv],
    ) => [s, kv.map(([k, v]) => [k, v.replace(/^[ \t]+/gm, "")])]);
    assert.deepEqual(fromPython, expected);
    // and we read our own file back unchanged (leading blanks of continuation lines are not kept, as in Python)
    assert.deepEqual(
      pairs(parseIni(await Deno.readTextFile(path), { mode: "configparser" })),
      expected,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configparser dialect: files Python writes read identically here, and we write the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "cloudknot");
    const data: Record<string, Record<string, string>> = {};
    for (const [name, entries] of SAMPLE) data[name] = Object.fromEntries(entries);
    data["knot squares"]!["multi-line"] = "first line\nsecond: with colon\nthird = with equals";
    await python(PY_WRITE, path, JSON.stringify(data));
    const text = await Deno.readTextFile(path);
    const ours = parseIni(text, { mode: "configparser" });
    assert.deepEqual(pairs(ours), JSON.parse(await python(PY_READ, path)));
    assert.equal(stringifyIni(ours), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configparser dialect: hand-written files read as Python reads them", async () => {
  const text = [
    "# full-line comment",
    "; another",
    "[aws]",
    "Region: us-west-2",
    "PROFILE = Dev",
    "  # comment inside section",
    "[knot k]",
    "value = one",
    "  two",
    "",
    "  three",
    "    # not kept: a comment line inside a value",
    "other=x=y",
    "colon:a:b",
    "  [indented section]",
    "k = v",
    "[DEFAULT]",
    "shared = 1",
    "[last]",
    "trailing = spaces   ",
    "",
    "",
  ].join("\n");
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "f");
    await Deno.writeTextFile(path, text);
    const ours = parseIni(text, { mode: "configparser" });
    assert.deepEqual(pairs(ours), JSON.parse(await python(PY_READ, path)));
    assert.equal(ours.get("aws")?.get("region"), "us-west-2");
    assert.equal(ours.get("knot k")?.get("value"), "one\ntwo\n\nthree");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configparser dialect: round trip keeps section and key order", () => {
  const text = stringifyIni(SAMPLE);
  assert.ok(text.startsWith("[aws]\nconfigured = True\n"));
  assert.ok(
    text.includes("multi-line = first line\n\tsecond: with colon\n\t  third = with equals\n"),
  );
  assert.ok(text.endsWith("\n\n"));
  const again = parseIni(text, { mode: "configparser" });
  assert.deepEqual([...again.keys()], [...SAMPLE.keys()]);
  assert.deepEqual([...again.get("pars my.pars")!.keys()], [...SAMPLE.get("pars my.pars")!.keys()]);
  assert.equal(stringifyIni(again), text.replace("\t  third", "\tthird"));
});

Deno.test("configparser dialect: bad input is a typed error naming the line", () => {
  const missing = assert.throws(
    () => parseIni("key = v\n[a]\n", { mode: "configparser", fileName: "f.ini" }),
    IniSyntaxError,
  );
  void missing;
  try {
    parseIni("[a]\nx = 1\nnot an option\n", { mode: "configparser", fileName: "f.ini" });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof IniSyntaxError);
    assert.equal(e.line, 3);
    assert.match(e.message, /^Line 3 of f\.ini/);
  }
  assert.throws(() => parseIni("[a]\n[a]\n", { mode: "configparser" }), /appears twice/);
  assert.throws(() => parseIni("[a]\nk = 1\nK = 2\n", { mode: "configparser" }), /appears twice/);
  assert.throws(() => stringifyIni(new Map([["a", new Map([["Bad", "v"]])]])), IniSyntaxError);
  assert.throws(() => stringifyIni(new Map([["a", new Map([["k=v", "v"]])]])), IniSyntaxError);
  assert.throws(() => stringifyIni(new Map([["a]b", new Map()]])), IniSyntaxError);
});

const COMMENTED = `# my notes on this file
; written by hand

[aws]
# the region I use
Region: eu-west-1
profile = dev   ; a trailing remark is part of the value in configparser

[knot a]
# this knot runs the nightly job
multi = one
  two
  # a comment inside the value
  three
after = x

# notes about knot b
[knot b]
k = v
`;

Deno.test("updateIni changes only what differs and keeps comments, blank lines and spelling", async () => {
  const doc = parseIni(COMMENTED, { mode: "configparser" });
  assert.equal(updateIni(COMMENTED, doc), COMMENTED);
  doc.get("aws")!.set("s3-bucket", "b");
  doc.get("knot a")!.set("multi", "uno\ndos");
  doc.get("knot a")!.delete("after");
  doc.delete("knot b");
  doc.set("pars p", new Map([["vpc", "vpc-1"]]));
  const text = updateIni(COMMENTED, doc, "f");
  assert.equal(
    text,
    `# my notes on this file
; written by hand

[aws]
# the region I use
Region: eu-west-1
profile = dev   ; a trailing remark is part of the value in configparser
s3-bucket = b

[knot a]
# this knot runs the nightly job
multi = uno
\tdos

# notes about knot b

[pars p]
vpc = vpc-1

`,
  );
  assert.deepEqual(pairs(parseIni(text, { mode: "configparser" })), pairs(doc));
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "f"), text);
    assert.deepEqual(JSON.parse(await python(PY_READ, join(dir, "f"))), pairs(doc));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Windows line endings stay, and an empty text gets the plain layout.
  const crlf = COMMENTED.replaceAll("\n", "\r\n");
  assert.ok(!/[^\r]\n/.test(updateIni(crlf, doc)));
  assert.equal(updateIni("", SAMPLE), stringifyIni(SAMPLE));
});

Deno.test("updateIni: whatever the edits, the text reads back as the document", () => {
  let seed = 12;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const words = ["a", "b", "c", "d", "multi\nline", "x = y", "", "  pad"];
  let text = COMMENTED;
  for (let round = 0; round < 300; round++) {
    const doc = parseIni(text, { mode: "configparser" });
    const names = [...doc.keys(), "s1", "s2", "s3"];
    const name = names[random(names.length)]!;
    const section = doc.get(name) ?? new Map<string, string>();
    const key = ["k1", "k2", "k3", "multi", "region", "after"][random(6)]!;
    switch (random(5)) {
      case 0:
        doc.delete(name);
        break;
      case 1:
        section.delete(key);
        doc.set(name, section);
        break;
      default:
        section.set(key, words[random(words.length)]!);
        doc.set(name, section);
    }
    const next = updateIni(text, doc);
    const back = parseIni(next, { mode: "configparser" });
    const trimmed = pairs(doc).map(([s, kv]) =>
      [s, kv.map(([k, v]) => [k, v.replace(/^[ \t]+/gm, "")])] as const
    );
    assert.deepEqual(pairs(back), trimmed, `round ${round}:\n${next}`);
    assert.ok(next.startsWith("# my notes on this file\n; written by hand\n"));
    text = next;
  }
});
