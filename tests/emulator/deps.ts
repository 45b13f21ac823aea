/**
 * Test-only npm dependencies of the AWS emulator, with inline version pins.
 *
 * @module
 */
import "./quiet_v2.ts";

export { SignatureV4 } from "npm:@smithy/signature-v4@5.7.5";
export { Sha256 } from "npm:@aws-crypto/sha256-js@5.2.0";

import AWSv2 from "npm:aws-sdk@2.1693.0/lib/core.js";
export { AWSv2 };
export { default as bcrypt } from "npm:bcryptjs@3.0.3";
export { XMLParser } from "npm:fast-xml-parser@^5.2.5";

import batchModel from "npm:aws-sdk@2.1693.0/apis/batch-2016-08-10.min.json" with { type: "json" };
import ecrModel from "npm:aws-sdk@2.1693.0/apis/ecr-2015-09-21.min.json" with { type: "json" };
import iamModel from "npm:aws-sdk@2.1693.0/apis/iam-2010-05-08.min.json" with { type: "json" };
import stsModel from "npm:aws-sdk@2.1693.0/apis/sts-2011-06-15.min.json" with { type: "json" };
import s3Model from "npm:aws-sdk@2.1693.0/apis/s3-2006-03-01.min.json" with { type: "json" };
import ec2Model from "npm:aws-sdk@2.1693.0/apis/ec2-2016-11-15.min.json" with { type: "json" };
import logsModel from "npm:aws-sdk@2.1693.0/apis/logs-2014-03-28.min.json" with { type: "json" };
import cloudformationModel from "npm:aws-sdk@2.1693.0/apis/cloudformation-2010-05-15.min.json" with {
  type: "json",
};
import ssoModel from "npm:aws-sdk@2.1693.0/apis/sso-2019-06-10.min.json" with { type: "json" };
import ssoOidcModel from "npm:aws-sdk@2.1693.0/apis/sso-oidc-2019-06-10.min.json" with {
  type: "json",
};

/** The raw v2 `min.json` models, by the emulator's service name. */
export const RAW_MODELS: Record<string, unknown> = {
  batch: batchModel,
  ecr: ecrModel,
  iam: iamModel,
  sts: stsModel,
  s3: s3Model,
  ec2: ec2Model,
  logs: logsModel,
  cloudformation: cloudformationModel,
  sso: ssoModel,
  ssooidc: ssoOidcModel,
};
