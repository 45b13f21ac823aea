/**
 * Emulated STS: GetCallerIdentity and AssumeRole.
 *
 * @module
 */
import type { CredentialStore } from "../credentials.ts";
import { ServiceError } from "../errors.ts";
import type { CallContext, ModeledService, OperationHandler } from "../service.ts";
import type { IamService } from "./iam.ts";

/**
 * The STS of one emulator; AssumeRole issues temporary credentials that the
 * signature check accepts.
 *
 * @example Usage
 * ```ts ignore
 * new StsService(credentialStore, iam);
 * ```
 */
export class StsService implements ModeledService {
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;

  /**
   * Makes STS.
   *
   * @param store The credential store to issue into.
   * @param iam IAM, to check that roles exist.
   */
  constructor(store: CredentialStore, iam: IamService) {
    this.operations = {
      GetCallerIdentity: (_p, ctx: CallContext) => ({
        UserId: ctx.principal.userId,
        Account: ctx.principal.account,
        Arn: ctx.principal.arn,
      }),
      AssumeRole: (p, ctx: CallContext) => {
        const role = iam.findRole(p.RoleArn);
        if (!role) {
          throw new ServiceError(
            "AccessDenied",
            `User: ${ctx.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${p.RoleArn}`,
            403,
          );
        }
        if (!/^[\w+=,.@-]{2,64}$/.test(p.RoleSessionName)) {
          throw new ServiceError(
            "ValidationError",
            `1 validation error detected: Value '${p.RoleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
            400,
          );
        }
        const duration = p.DurationSeconds ?? 3600;
        if (duration < 900 || duration > role.MaxSessionDuration) {
          throw new ServiceError(
            "ValidationError",
            `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
            400,
          );
        }
        const creds = store.issueForRole(role.Arn, p.RoleSessionName, duration);
        return {
          Credentials: {
            AccessKeyId: creds.accessKeyId,
            SecretAccessKey: creds.secretAccessKey,
            SessionToken: creds.sessionToken,
            Expiration: creds.expiration,
          },
          AssumedRoleUser: { AssumedRoleId: creds.principal.userId, Arn: creds.principal.arn },
        };
      },
    };
  }
}
