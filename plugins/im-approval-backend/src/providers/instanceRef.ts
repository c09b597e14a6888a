import type { Integration } from '@im-approval/plugin-im-approval-common';
import type { ImInstanceRef } from '@im-approval/plugin-im-approval-node';

/** A created instance, with the link people open when the integration has an `instanceUrl`. */
export function instanceRef(
  integration: Pick<Integration, 'instanceUrl'>,
  instanceId: string,
): ImInstanceRef {
  return {
    instanceId,
    url: integration.instanceUrl?.replace(
      '{instanceId}',
      encodeURIComponent(instanceId),
    ),
  };
}
