import {
  ImApiError,
  type ImErrorKind,
} from '@im-approval/plugin-im-approval-node';

export interface ImApiErrorHints {
  /** What to check when the app credentials are refused, e.g. "check the AppKey and AppSecret". */
  credentials: string;
  /** What to do when the app lacks a permission. */
  permission: string;
  /** What to check when a user, form or instance is not found. */
  notFound?: string;
}

/**
 * Turns one IM app's error codes into `ImApiError`s whose message says what failed, the IM's own
 * code and text, and what a person can do about it. Each IM's client decides the kind of a code.
 */
export class ImApiErrors {
  constructor(
    private readonly im: string,
    /** How the app is named in messages, e.g. "app dingxxx". */
    private readonly app: string,
    private readonly hints: ImApiErrorHints,
  ) {}

  of(
    kind: ImErrorKind,
    operation: string,
    code: number | string | undefined,
    text: string,
  ): ImApiError {
    const detail = code === undefined ? `(${text})` : `(code ${code}: ${text})`;
    switch (kind) {
      case 'credentials':
        return new ImApiError(
          kind,
          `Invalid ${this.im} app credentials for ${this.app} ${detail}; ${this.hints.credentials}`,
          code,
        );
      case 'rate_limited':
        return new ImApiError(
          kind,
          `${this.im} rate limit reached while trying to ${operation} ${detail}; retrying later`,
          code,
        );
      case 'permission':
        return new ImApiError(
          kind,
          `The ${this.im} ${this.app} may not ${operation} ${detail}; ${this.hints.permission}`,
          code,
        );
      case 'not_found':
        return new ImApiError(
          kind,
          `${this.im} could not ${operation}: not found ${detail}${this.hints.notFound ? `; ${this.hints.notFound}` : ''}`,
          code,
        );
      case 'unavailable':
        return new ImApiError(
          kind,
          `${this.im} failed to ${operation} ${detail}; retrying later`,
          code,
        );
      case 'invalid_request':
        return new ImApiError(
          kind,
          `${this.im} refused to ${operation} ${detail}`,
          code,
        );
      default: {
        // Every kind is handled above; the compiler checks that none is missing.
        const unhandled: never = kind;
        return new ImApiError(
          unhandled,
          `${this.im} failed to ${operation} ${detail}`,
          code,
        );
      }
    }
  }

  /**
   * The IM refused, once more, a token it had just issued for the app: a fault on its side (the
   * token endpoint accepted the app's credentials a moment ago), tried again later.
   */
  tokenRefusedAgain(
    operation: string,
    code: number | string,
    text: string,
  ): ImApiError {
    return new ImApiError(
      'unavailable',
      `${this.im} refused the access token it had just issued when asked to ${operation} (code ${code}: ${text}); retrying later`,
      code,
    );
  }

  /** An answer whose shape is not what the IM documents. */
  unexpectedShape(
    operation: string,
    issue: { path: PropertyKey[]; message: string } | undefined,
  ): ImApiError {
    const where = issue?.path.length
      ? ` at ${issue.path.map(String).join('.')}`
      : '';
    return new ImApiError(
      'unavailable',
      `${this.im} answered with an unexpected shape when asked to ${operation} (${issue?.message ?? 'no detail'}${where}); retrying later`,
    );
  }
}
