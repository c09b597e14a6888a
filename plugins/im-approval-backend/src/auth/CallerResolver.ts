import type {
  BackstageCredentials,
  BackstageUserPrincipal,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { AuthenticationError, NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  isResourcePermission,
  type BasicPermission,
  type ResourcePermission,
} from '@backstage/plugin-permission-common';
import type {
  Approval,
  RunContext,
} from '@im-approval/plugin-im-approval-common';
import type { Request } from 'express';
import type { GithubOidcVerifier } from './GithubOidcVerifier';

export type Caller =
  /** A workflow run proven by its GitHub OIDC token. */
  | { kind: 'github'; id: string; context: RunContext }
  /** A Backstage service or static external-access token; its run context is self-reported. */
  | { kind: 'service'; id: string }
  /** A person signed in to Backstage; what they may do is decided by the permission framework. */
  | {
      kind: 'user';
      id: string;
      credentials: BackstageCredentials<BackstageUserPrincipal>;
    };

export class CallerResolver {
  constructor(
    private readonly httpAuth: HttpAuthService,
    private readonly permissions: PermissionsService,
    private readonly oidc: GithubOidcVerifier | undefined,
  ) {}

  async resolve(request: Request): Promise<Caller> {
    const token = request
      .header('authorization')
      ?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (token && this.oidc?.claimsIssuer(token)) {
      const context = await this.oidc.verify(token);
      return { kind: 'github', id: `github:${context.repository}`, context };
    }
    const credentials = await this.httpAuth
      .credentials(request, { allow: ['user', 'service'] })
      .catch(error => {
        throw new AuthenticationError(
          `${(error as Error).message}. Send a GitHub Actions OIDC token or a Backstage token as "Authorization: Bearer <token>"`,
        );
      });
    if (credentials.principal.type === 'user') {
      return {
        kind: 'user',
        id: credentials.principal.userEntityRef,
        credentials:
          credentials as BackstageCredentials<BackstageUserPrincipal>,
      };
    }
    return { kind: 'service', id: credentials.principal.subject };
  }

  /**
   * For each permission, whether the caller has it: users ask the permission framework, services
   * are trusted, workflows have none. A resource permission counts when the policy allows it for
   * some approvals (a conditional decision): each approval is then checked when it is acted on.
   */
  async allowed(
    caller: Caller,
    permissions: Array<BasicPermission | ResourcePermission>,
  ): Promise<boolean[]> {
    if (caller.kind === 'service') return permissions.map(() => true);
    if (caller.kind === 'github') return permissions.map(() => false);
    const { credentials } = caller;
    return Promise.all(
      permissions.map(async permission => {
        if (!isResourcePermission(permission)) {
          const [decision] = await this.permissions.authorize(
            [{ permission }],
            { credentials },
          );
          return decision.result === AuthorizeResult.ALLOW;
        }
        const [decision] = await this.permissions.authorizeConditional(
          [{ permission }],
          { credentials },
        );
        return decision.result !== AuthorizeResult.DENY;
      }),
    );
  }

  /** Settings are for people with one of the permissions, and for services; never for workflows. */
  async authorizeAny(
    caller: Caller,
    permissions: BasicPermission[],
  ): Promise<void> {
    if (caller.kind === 'github')
      throw new NotAllowedError(
        'Workflows may not read or change im-approval settings',
      );
    await this.requireOne(caller, permissions);
  }

  /**
   * Users need the permission (for a resource permission, on this approval: the policy's conditions
   * are applied to it); services are trusted; a workflow may touch its own repository's approvals only.
   */
  async authorize(
    caller: Caller,
    permission: BasicPermission | ResourcePermission,
    approval?: Pick<Approval, 'id'> & Partial<Approval>,
  ): Promise<void> {
    if (caller.kind === 'user' && isResourcePermission(permission)) {
      if (!approval)
        throw new Error(`${permission.name} is checked on an approval`);
      const [decision] = await this.permissions.authorize(
        [{ permission, resourceRef: approval.id }],
        { credentials: caller.credentials },
      );
      if (decision.result !== AuthorizeResult.ALLOW)
        throw new NotAllowedError(
          `You need the ${permission.name} permission for approval ${approval.id}`,
        );
      return;
    }
    if (caller.kind !== 'github') {
      await this.requireOne(caller, [permission as BasicPermission]);
      return;
    }
    if (!approval)
      throw new NotAllowedError('Workflows may only read their own approvals');
    if (
      approval.context?.repository.toLowerCase() !==
      caller.context.repository.toLowerCase()
    ) {
      throw new NotAllowedError(
        `Approval ${approval.id} belongs to another repository`,
      );
    }
  }

  private async requireOne(
    caller: Caller,
    permissions: BasicPermission[],
  ): Promise<void> {
    if ((await this.allowed(caller, permissions)).some(Boolean)) return;
    throw new NotAllowedError(
      `You need the ${permissions.map(p => p.name).join(' or the ')} permission`,
    );
  }
}
