import { ImApiError } from '@im-approval/plugin-im-approval-node';
import { TtlCache } from './TtlCache';

const PERSON_TTL_MS = 10 * 60_000;

/**
 * How a decider is shown: their email, else their name, else the IM user id. Best effort: a
 * decision is never held up because a contact cannot be read (outside the app's scope, a missing
 * permission, the IM busy); only transient failures are tried again later.
 */
export class PersonLabels {
  private readonly labels = new TtlCache<string>(PERSON_TTL_MS);

  constructor(private readonly read: (userId: string) => Promise<{ email?: string; name?: string }>) {}

  async label(userId: string): Promise<string> {
    try {
      return await this.labels.getOrLoad(userId, async () => {
        const person = await this.read(userId);
        return person.email || person.name || userId;
      });
    } catch (error) {
      if (!(error instanceof ImApiError && error.transient)) this.labels.set(userId, userId);
      return userId;
    }
  }
}
