import { z } from 'zod';

/**
 * An approver written as a catalog entity ref, `user:default/alice` or `group:default/release-managers`
 * (the namespace may be left out: `user:alice`); anything else in a template's approvers is an IM
 * user id, an e-mail or a mobile.
 *
 * @public
 */
export const CATALOG_REF = /^(user|group):(?:([^:/\s]+)\/)?([^:/\s]+)$/i;

/** @public */
export function isCatalogRef(approver: string): boolean {
  return CATALOG_REF.test(approver);
}

/**
 * The annotation on a catalog User that says who they are in an IM: `im-approval.io/feishu-user-id`
 * (an open_id), `im-approval.io/dingtalk-user-id` (a userId), `im-approval.io/wecom-user-id` (a
 * userid). Without it, the person is looked up in the IM by `spec.profile.email`, then by
 * {@link CATALOG_ANNOTATIONS}.mobile.
 *
 * @public
 */
export function imUserIdAnnotation(provider: string): string {
  return `im-approval.io/${provider}-user-id`;
}

/**
 * The other catalog annotations this plugin reads: on Users (mobile, GitHub login) and on
 * Components (their repository).
 *
 * @public
 */
export const CATALOG_ANNOTATIONS = {
  mobile: 'im-approval.io/mobile',
  /** Set by Backstage's GitHub org provider: how a workflow's actor is found in the catalog. */
  githubLogin: 'github.com/user-login',
  /** On a component: its GitHub repository (owner/name), whose approvals its pages list and its owners may decide. */
  projectSlug: 'github.com/project-slug',
} as const;

/**
 * How the requester was told apart: from the GitHub actor of a verified OIDC token (or the user a
 * deployment gate's webhook names), from the Backstage user who sent a test, or not at all (a
 * self-reported context, or nobody in the catalog with that login).
 *
 * @public
 */
export const requesterSourceSchema = z
  .enum(['github-actor', 'backstage-user', 'unidentified'])
  .meta({ id: 'RequesterSource' });

/** @public */
export const requesterSchema = z
  .object({
    /** As people know them: the catalog's display name, else the login or Backstage user. */
    name: z.string(),
    identifiedBy: requesterSourceSchema,
    /** The catalog User, when one matched. */
    entityRef: z.string().optional(),
    githubLogin: z.string().optional(),
    /** Who they are in the approval's IM (id, e-mail or mobile), when the catalog says. */
    imUser: z.string().optional(),
    /** The template lets them approve their own request (`allowSelfApproval`). */
    mayApprove: z.boolean().optional(),
    /** Why they are not known, or what was done about them (removed from the approvers). */
    note: z.string().optional(),
  })
  .meta({ id: 'Requester' });
/** @public */
export type Requester = z.infer<typeof requesterSchema>;

/**
 * The requester as one line: "Alice Chen (GitHub alice, user:default/alice)".
 *
 * @public
 */
export function describeRequester(requester: Requester): string {
  const { githubLogin, name } = requester;
  const known = [
    githubLogin && (githubLogin === name ? 'GitHub' : `GitHub ${githubLogin}`),
    requester.entityRef,
  ].filter(Boolean);
  return known.length > 0 ? `${name} (${known.join(', ')})` : name;
}

const IDENTIFIED_BY: Record<Requester['identifiedBy'], string> = {
  'github-actor': 'identified by the verified GitHub actor',
  'backstage-user': 'identified by their Backstage sign-in',
  unidentified: 'not identified',
};

/**
 * Who asked, how that is known, and what it meant for the approvers, as one sentence: "Alice Chen
 * (GitHub alice, user:default/alice); identified by the verified GitHub actor; removed from the approvers: …".
 *
 * @public
 */
export function explainRequester(requester: Requester): string {
  return [
    describeRequester(requester),
    IDENTIFIED_BY[requester.identifiedBy],
    requester.note,
  ]
    .filter(Boolean)
    .join('; ');
}
