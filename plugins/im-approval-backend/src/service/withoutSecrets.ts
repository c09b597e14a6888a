import {
  secretFieldsOf,
  type Integration,
} from '@im-approval/plugin-im-approval-common';

/** An IM's error may echo what it was sent; the page, the log and an answer must not show a secret. */
export function withoutSecrets(
  integration: Integration,
  message: string,
): string {
  const values = integration as unknown as Record<string, unknown>;
  return secretFieldsOf(integration.provider).reduce((text, field) => {
    const secret = values[field];
    return typeof secret === 'string' && secret.length > 0
      ? text.replaceAll(secret, '***')
      : text;
  }, message);
}
