import type { AuditorService } from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import type { Request } from 'express';
import type { Caller } from '../auth/CallerResolver';

export type Audited = <T>(
  caller: Caller,
  req: Request,
  event: {
    eventId: string;
    severityLevel?: 'low' | 'medium' | 'high';
    meta: JsonObject;
  },
  change: () => Promise<T>,
) => Promise<T>;

/** Audits a change; the auditor reads Backstage callers from the request, workflows are named in meta. */
export function createAudited(auditor: AuditorService): Audited {
  return async (caller, req, event, change) => {
    const audit = await auditor.createEvent({
      ...event,
      request: caller.kind === 'github' ? undefined : req,
      meta: { ...event.meta, caller: caller.id },
    });
    try {
      const result = await change();
      await audit.success();
      return result;
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  };
}
