/**
 * The access keys the emulator accepts: one long-term key pair, and the
 * temporary credentials it issues itself (AssumeRole, the container credential
 * endpoint).
 *
 * @module
 */

/** Who signed a request. */
export interface Principal {
  /** The caller's ARN (an IAM user or an assumed role session). */
  arn: string;
  /** The unique id (`AIDA…` for users, `AROA…:session` for roles). */
  userId: string;
  /** The account id. */
  account: string;
  /** `user` or `assumed-role`. */
  kind: "user" | "assumed-role";
  /** For assumed roles: the role name. */
  roleName?: string;
}

/** One key pair the emulator knows. */
export interface KnownCredentials {
  /** The access key id. */
  accessKeyId: string;
  /** The secret. */
  secretAccessKey: string;
  /** The session token of temporary credentials. */
  sessionToken?: string;
  /** When temporary credentials expire. */
  expiration?: Date;
  /** Who they belong to. */
  principal: Principal;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Random upper-case base32 text, like AWS ids.
 *
 * @example Usage
 * ```ts ignore
 * randomId(16);
 * ```
 */
export function randomId(n: number, alphabet = ALNUM): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Random lower-case hex.
 *
 * @example Usage
 * ```ts ignore
 * randomHex(17);
 * ```
 */
export function randomHex(n: number): string {
  return randomId(n, "0123456789abcdef");
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(30));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "x").slice(0, 40);
}

/**
 * The credential store of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * const store = new CredentialStore("123456789012");
 * store.lookup(store.root.accessKeyId);
 * ```
 */
export class CredentialStore {
  /** The long-term key pair of the emulator's IAM user. */
  readonly root: KnownCredentials;
  #all = new Map<string, KnownCredentials>();
  #account: string;

  /**
   * Makes a store with a fresh long-term key pair.
   *
   * @param account The account id.
   */
  constructor(account: string) {
    this.#account = account;
    this.root = {
      accessKeyId: `AKIA${randomId(16)}`,
      secretAccessKey: randomSecret(),
      principal: {
        arn: `arn:aws:iam::${account}:user/emulator`,
        userId: `AIDA${randomId(17)}`,
        account,
        kind: "user",
      },
    };
    this.#all.set(this.root.accessKeyId, this.root);
  }

  /**
   * Looks up a key pair by access key id.
   *
   * @param accessKeyId The access key id.
   */
  lookup(accessKeyId: string): KnownCredentials | undefined {
    return this.#all.get(accessKeyId);
  }

  /**
   * Ends temporary credentials now, as the end of their duration does: STS
   * session credentials are refused after their expiration ("Temporary
   * security credentials in IAM", IAM User Guide: "After temporary
   * credentials expire, any calls that you make with those credentials will
   * fail"), with the protocol's expired-token error (`server.ts`).
   *
   * @param accessKeyId The access key id of temporary credentials it issued.
   * @returns Whether it issued them.
   */
  expire(accessKeyId: string): boolean {
    const creds = this.#all.get(accessKeyId);
    if (creds?.sessionToken === undefined) return false;
    creds.expiration = new Date(Date.now() - 1000);
    return true;
  }

  /**
   * Issues temporary credentials for a role session.
   *
   * @param roleArn The role's ARN.
   * @param sessionName The session name.
   * @param durationSeconds How long they stay valid.
   */
  issueForRole(roleArn: string, sessionName: string, durationSeconds = 3600): KnownCredentials {
    const roleName = roleArn.split("/").pop() ?? "role";
    const roleId = `AROA${randomId(17)}`;
    const creds: KnownCredentials = {
      accessKeyId: `ASIA${randomId(16)}`,
      secretAccessKey: randomSecret(),
      sessionToken: `EMU${randomSecret()}${randomSecret()}${randomSecret()}`,
      expiration: new Date(Date.now() + durationSeconds * 1000),
      principal: {
        arn: `arn:aws:sts::${this.#account}:assumed-role/${roleName}/${sessionName}`,
        userId: `${roleId}:${sessionName}`,
        account: this.#account,
        kind: "assumed-role",
        roleName,
      },
    };
    this.#all.set(creds.accessKeyId, creds);
    return creds;
  }
}
