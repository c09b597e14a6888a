import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { ImProvider } from './providers';

/** @public */
export interface ImApprovalProvidersExtensionPoint {
  addProvider(provider: ImProvider): void;
}

/**
 * Lets a backend module add an IM provider to the im-approval plugin.
 *
 * @public
 */
export const imApprovalProvidersExtensionPoint =
  createExtensionPoint<ImApprovalProvidersExtensionPoint>({
    id: 'im-approval.providers',
  });
