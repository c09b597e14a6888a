import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import {
  type Entity,
  parseEntityRef,
  RELATION_HAS_MEMBER,
  RELATION_OWNED_BY,
  RELATION_PARENT_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError, ServiceUnavailableError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  imUserIdAnnotation,
  isCatalogRef,
  oneLine,
  CATALOG_ANNOTATIONS,
  TEXT_LIMITS,
} from '@im-approval/plugin-im-approval-common';
import { TtlCache } from '../providers/api/TtlCache';

/** How long a GitHub login → catalog User answer is kept: the catalog itself refreshes in minutes. */
const LOGIN_TTL_MS = 60_000;
/** Groups inside groups followed this deep; deeper ones are left out and said so. */
const MAX_GROUP_DEPTH = 10;

/** One person to ask: who they are in the IM (id, e-mail or mobile), and their catalog User if any. */
export interface Candidate {
  im: string;
  ref?: string;
  /** The group that brought them in, when one did. */
  group?: string;
}

/** A catalog User as an approval sees them. */
export interface CatalogPerson {
  ref: string;
  name: string;
  /** Who they are in the IM, or why the catalog cannot say. */
  im: { user: string } | { missing: string };
}

/** Lower-case, with the namespace written out: how refs are compared and stored. */
export function normalizeRef(ref: string, kind: 'user' | 'group'): string {
  return stringifyEntityRef(
    parseEntityRef(ref, { defaultKind: kind, defaultNamespace: 'default' }),
  ).toLocaleLowerCase('en-US');
}

function imUserOf(entity: Entity, provider: string): CatalogPerson['im'] {
  const annotations = entity.metadata.annotations ?? {};
  const idAnnotation = imUserIdAnnotation(provider);
  const email = (entity.spec as { profile?: { email?: unknown } } | undefined)
    ?.profile?.email;
  const user =
    annotations[idAnnotation] ||
    (typeof email === 'string' && email) ||
    annotations[CATALOG_ANNOTATIONS.mobile];
  if (user) return { user };
  return {
    missing: `has no ${idAnnotation} annotation, no spec.profile.email and no ${CATALOG_ANNOTATIONS.mobile} annotation`,
  };
}

/** How many characters of a catalog display name are kept: it goes into IM titles and notifications. */
const NAME_LIMIT = 100;

/** The catalog's display name, as one line: it is text a person wrote, shown in IMs and logs. */
function displayName(entity: Entity): string {
  const name = (entity.spec as { profile?: { displayName?: unknown } })?.profile
    ?.displayName;
  const line = typeof name === 'string' ? oneLine(name, NAME_LIMIT).trim() : '';
  return line || entity.metadata.name;
}

/** The entity's relations of a type (to entities of a kind, when given), as lower-case refs. */
function relatedRefs(entity: Entity, type: string, kind?: string): string[] {
  return (entity.relations ?? [])
    .filter(
      relation =>
        relation.type === type &&
        (!kind ||
          parseEntityRef(relation.targetRef).kind.toLocaleLowerCase('en-US') ===
            kind),
    )
    .map(relation => relation.targetRef.toLocaleLowerCase('en-US'));
}

/**
 * Approvers and requesters from the Backstage catalog: `user:` and `group:` refs (nested groups
 * followed) turned into who each person is in the approval's IM, and the catalog User behind a
 * workflow's GitHub actor. Read with the plugin's own credentials, at request time.
 */
export class CatalogPeople {
  private readonly byLogin = new TtlCache<CatalogPerson | null>(LOGIN_TTL_MS);

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private readonly logger: LoggerService,
  ) {}

  /**
   * The template's approvers with catalog refs expanded, in order and each person once. `field`
   * names where they came from in the 400 a ref that asks nobody gets.
   */
  async approvers(
    entries: string[],
    provider: string,
    field: string,
  ): Promise<{ candidates: Candidate[]; notes: string[] }> {
    if (!entries.some(isCatalogRef))
      return { candidates: entries.map(im => ({ im })), notes: [] };
    const candidates: Candidate[] = [];
    const notes: string[] = [];
    const seen = new Set<string>();
    const add = (candidate: Candidate) => {
      const key = candidate.ref ?? candidate.im;
      if (seen.has(key)) return;
      seen.add(key);
      candidates.push(candidate);
    };
    for (const entry of entries) {
      if (!isCatalogRef(entry)) {
        add({ im: entry });
        continue;
      }
      const ref = normalizeRef(entry, 'user');
      if (ref.startsWith('user:')) {
        const [person] = await this.people([ref], provider);
        if (!person)
          throw new InputError(`${field}: ${ref} is not in the catalog`);
        if ('missing' in person.im)
          throw new InputError(
            `${field}: ${ref} cannot be asked in ${provider}: ${person.name} ${person.im.missing}`,
          );
        add({ im: person.im.user, ref });
        continue;
      }
      const members = await this.membersOf(ref, field, notes);
      const people = await this.people(members, provider);
      const reachable = people.filter(
        (person): person is CatalogPerson & { im: { user: string } } =>
          Boolean(person && 'user' in person.im),
      );
      const unreachable = people.flatMap((person, i) => {
        if (!person) return [`${members[i]} is not in the catalog`];
        return 'missing' in person.im
          ? [`${person.ref} ${person.im.missing}`]
          : [];
      });
      if (reachable.length === 0) {
        throw new InputError(
          members.length === 0
            ? `${field}: ${ref} has no members`
            : `${field}: nobody in ${ref} can be asked in ${provider}: ${unreachable.join('; ')}`,
        );
      }
      if (unreachable.length > 0)
        notes.push(`left out of ${ref}: ${unreachable.join('; ')}`);
      reachable.forEach(person =>
        add({ im: person.im.user, ref: person.ref, group: ref }),
      );
    }
    if (candidates.length > TEXT_LIMITS.listItems) {
      throw new InputError(
        `${field}: the refs name ${candidates.length} people; an approval asks at most ${TEXT_LIMITS.listItems}`,
      );
    }
    return { candidates, notes };
  }

  /** The catalog User whose `github.com/user-login` is this login; null when there is none. */
  async userForLogin(
    login: string,
    provider: string,
  ): Promise<CatalogPerson | null> {
    return this.byLogin.getOrLoad(`${provider}\u0001${login}`, async () => {
      const { items } = await this.read(async credentials =>
        this.catalog.getEntities(
          {
            filter: {
              kind: 'user',
              [`metadata.annotations.${CATALOG_ANNOTATIONS.githubLogin}`]:
                login,
            },
          },
          { credentials },
        ),
      );
      if (items.length > 1)
        this.logger.warn(
          `${items.length} catalog Users have ${CATALOG_ANNOTATIONS.githubLogin}: ${login}; none is taken as the requester`,
        );
      return items.length === 1 ? this.person(items[0], provider) : null;
    });
  }

  /** The owners (lower-case refs) of the components whose `github.com/project-slug` is this repository. */
  async ownersOfRepository(repository: string): Promise<string[]> {
    const { items } = await this.read(credentials =>
      this.catalog.getEntities(
        {
          filter: {
            kind: 'component',
            [`metadata.annotations.${CATALOG_ANNOTATIONS.projectSlug}`]:
              repository,
          },
        },
        { credentials },
      ),
    );
    return [
      ...new Set(
        items.flatMap(entity => relatedRefs(entity, RELATION_OWNED_BY)),
      ),
    ];
  }

  /** Catalog Users by ref, in order; undefined for a ref the catalog does not hold. */
  async people(
    refs: string[],
    provider: string,
  ): Promise<Array<CatalogPerson | undefined>> {
    if (refs.length === 0) return [];
    const { items } = await this.read(credentials =>
      this.catalog.getEntitiesByRefs({ entityRefs: refs }, { credentials }),
    );
    return items.map(entity => entity && this.person(entity, provider));
  }

  private person(entity: Entity, provider: string): CatalogPerson {
    return {
      ref: stringifyEntityRef(entity).toLocaleLowerCase('en-US'),
      name: displayName(entity),
      im: imUserOf(entity, provider),
    };
  }

  /** The Users of a group and of the groups inside it, each once. */
  private async membersOf(
    group: string,
    field: string,
    notes: string[],
  ): Promise<string[]> {
    const members = new Set<string>();
    const visited = new Set<string>([group]);
    let level = [group];
    for (let depth = 0; level.length > 0; depth++) {
      if (depth === MAX_GROUP_DEPTH) {
        notes.push(
          `groups nested deeper than ${MAX_GROUP_DEPTH} in ${group} were not followed: ${level.join(', ')}`,
        );
        break;
      }
      const entityRefs = level;
      const { items } = await this.read(credentials =>
        this.catalog.getEntitiesByRefs({ entityRefs }, { credentials }),
      );
      if (depth === 0 && !items[0])
        throw new InputError(`${field}: ${group} is not in the catalog`);
      const next: string[] = [];
      for (const entity of items) {
        if (!entity) continue;
        relatedRefs(entity, RELATION_HAS_MEMBER, 'user').forEach(ref =>
          members.add(ref),
        );
        for (const child of relatedRefs(entity, RELATION_PARENT_OF, 'group')) {
          if (!visited.has(child)) {
            visited.add(child);
            next.push(child);
          }
        }
      }
      if (members.size > TEXT_LIMITS.listItems) {
        throw new InputError(
          `${field}: ${group} has more than ${TEXT_LIMITS.listItems} members (with the groups inside it); an approval asks at most ${TEXT_LIMITS.listItems}`,
        );
      }
      level = next;
    }
    return [...members];
  }

  private async read<T>(
    call: (
      credentials: Awaited<ReturnType<AuthService['getOwnServiceCredentials']>>,
    ) => Promise<T>,
  ): Promise<T> {
    try {
      return await call(await this.auth.getOwnServiceCredentials());
    } catch (error) {
      throw new ServiceUnavailableError(
        `The catalog could not be read (catalog refs among approvers, and requesters, need the catalog backend in this Backstage): ${(error as Error).message}`,
      );
    }
  }
}
