import { ImApiError } from '@im-approval/plugin-im-approval-node';
import { TtlCache } from './TtlCache';

const USER_TTL_MS = 10 * 60_000;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const MOBILE = /^\+?\d[\d -]{5,}$/;

export type ContactKind = 'email' | 'mobile';

/**
 * A mobile as DingTalk and WeCom look members up: a mainland number as its bare 11 digits (no
 * `+86` or `0086`), spaces, dashes, dots and brackets removed; other countries keep `+<code>…`.
 * Written any other way, the IMs find nobody.
 */
export function bareMobile(mobile: string): string {
  const compact = mobile.replace(/[\s\-().]/g, '');
  const mainland = /^(?:\+86|0086|86)?(1\d{10})$/.exec(compact);
  return mainland ? mainland[1] : compact;
}

/** How people are written in templates: an email, a mobile, or else already the IM's user id. */
export function contactKind(person: string): ContactKind | undefined {
  if (EMAIL.test(person)) return 'email';
  if (MOBILE.test(person)) return 'mobile';
  return undefined;
}

export interface UserLookup {
  /** Looks up emails and mobiles; returns the ids found, keyed by the email or mobile as given. */
  (
    contacts: Array<{ kind: ContactKind; value: string }>,
  ): Promise<Map<string, string>>;
}

/** A lookup for IMs that find one person per call; a person the IM does not find is left out. */
export function oneByOne(
  find: (contact: {
    kind: ContactKind;
    value: string;
  }) => Promise<string | undefined>,
): UserLookup {
  return async contacts => {
    const found = new Map<string, string>();
    for (const contact of contacts) {
      try {
        const id = await find(contact);
        if (id) found.set(contact.value, id);
      } catch (error) {
        if (!(error instanceof ImApiError && error.kind === 'not_found'))
          throw error;
      }
    }
    return found;
  };
}

/**
 * Resolves approvers and initiators written as emails or mobiles to IM user ids, through the IM's
 * lookup, cached per app. Misses are cached too: IMs throttle (WeCom blocks) apps that keep
 * looking up people who are not there.
 */
export class UserIdResolver {
  private readonly ids = new TtlCache<string | null>(USER_TTL_MS);

  constructor(
    private readonly lookup: UserLookup,
    /** What to say when someone is not found, e.g. "No DingTalk user with …"; gets the kind and value. */
    private readonly notFound: (kind: ContactKind, value: string) => string,
  ) {}

  /** Each person's IM user id, or undefined for an email or mobile the IM does not know. */
  async find(people: string[]): Promise<Array<string | undefined>> {
    const wanted = [...new Set(people)].flatMap(value => {
      const kind = contactKind(value);
      return kind && this.ids.get(value) === undefined ? [{ kind, value }] : [];
    });
    const found = wanted.length > 0 ? await this.lookup(wanted) : new Map();
    for (const { value } of wanted)
      this.ids.set(value, found.get(value) ?? null);
    return people.map(person =>
      contactKind(person)
        ? (found.get(person) ?? this.ids.get(person) ?? undefined)
        : person,
    );
  }

  async resolve(people: string[]): Promise<string[]> {
    const ids = await this.find(people);
    return people.map((person, i) => {
      const id = ids[i];
      if (id) return id;
      throw new ImApiError(
        'not_found',
        this.notFound(contactKind(person)!, person),
      );
    });
  }
}
