/**
 * Test-only npm dependencies of the aws layer tests, with inline specifiers so
 * they stay out of the import map (and out of the published package).
 *
 * @module
 */
export * as batchSdk from "npm:@aws-sdk/client-batch@3.1138.0";
export * as ecrSdk from "npm:@aws-sdk/client-ecr@3.1169.0";
export * as iamSdk from "npm:@aws-sdk/client-iam@3.1169.0";
export * as ec2Sdk from "npm:@aws-sdk/client-ec2@3.1169.0";
export * as s3Sdk from "npm:@aws-sdk/client-s3@3.1175.0";
export * as stsSdk from "npm:@aws-sdk/client-sts@3.1174.0";
export * as logsSdk from "npm:@aws-sdk/client-cloudwatch-logs@3.1169.0";
export * as cfnSdk from "npm:@aws-sdk/client-cloudformation@3.1169.0";
export * as ssoSdk from "npm:@aws-sdk/client-sso@3.1164.0";
export { HttpResponse } from "npm:@smithy/protocol-http@5.6.2";
export { HttpRequest } from "npm:@smithy/protocol-http@5.6.2";
export * as sigv4Suite from "npm:@aws-sdk/signature-v4@3.310.0/dist-cjs/suite.fixture.js";
export { SignatureV4 } from "npm:@smithy/signature-v4@5.7.5";
export { Sha256Js } from "npm:@smithy/core@3.41.1/checksum";
export { loadSharedConfigFiles as smithyLoadSharedConfigFiles } from "npm:@smithy/core@3.41.1/config";
export { XMLParser } from "npm:fast-xml-parser@^5.2.5";
export { fromSSO } from "npm:@aws-sdk/credential-provider-sso@3.973.30";
export { fromTokenFile } from "npm:@aws-sdk/credential-provider-web-identity@3.972.92";
