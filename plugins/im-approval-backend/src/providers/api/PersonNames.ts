import {
  ImApiError,
  type ImPerson,
} from '@im-approval/plugin-im-approval-node';
import { TtlCache } from './TtlCache';

const PERSON_TTL_MS = 10 * 60_000;

/**
 * A decider as people know them: their display name beside their IM id. Best effort: a decision is
 * never held up because a contact cannot be read (outside the app's scope, a missing permission,
 * the IM busy); the id then stands in for the name, and only transient failures are tried again later.
 */
export class PersonNames {
  private readonly names = new TtlCache<string>(PERSON_TTL_MS);

  constructor(
    private readonly readName: (userId: string) => Promise<string | undefined>,
  ) {}

  async person(userId: string): Promise<ImPerson> {
    try {
      const name = await this.names.getOrLoad(
        userId,
        async () => (await this.readName(userId))?.trim() || userId,
      );
      return { id: userId, name };
    } catch (error) {
      if (!(error instanceof ImApiError && error.transient))
        this.names.set(userId, userId);
      return { id: userId, name: userId };
    }
  }
}
