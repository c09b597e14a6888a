import type { Gate } from '@im-approval/plugin-im-approval-common';
import { allowed } from '../templates/checkPolicy';

/** The first gate, in configuration order, that covers the repository's environment. */
export function matchGate(
  gates: Gate[],
  repository: string,
  environment: string,
): Gate | undefined {
  return gates.find(
    gate =>
      allowed(gate.environments, environment) &&
      allowed(gate.repositories, repository),
  );
}
