import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, ServiceUnavailableError } from '@backstage/errors';
import {
  describeRequester,
  type ApprovalContext,
  type Requester,
  type Template,
  type TemplateStage,
} from '@im-approval/plugin-im-approval-common';
import type { Caller } from '../auth/CallerResolver';
import { bareMobile, contactKind } from '../providers/api/UserIdResolver';
import {
  type Candidate,
  type CatalogPeople,
  type CatalogPerson,
  normalizeRef,
} from './CatalogPeople';

/** After the catalog failed to answer, requesters are not looked up for this long (each try would fail too). */
const CATALOG_RETRY_MS = 60_000;

/** Who an approval asks and who asked it, decided once when it is opened. */
export interface ApprovalPeopleResult {
  approvers: string[];
  approverRefs: string[];
  requester: Requester;
  /** The IM contacts told who cannot decide: the template's cc, catalog refs expanded. */
  cc: string[];
  /** The IM contacts it is escalated to: the template's escalateTo, catalog refs expanded, the requester taken off. */
  escalateTo: string[];
  /** What the creation event says about them: people left out of groups, the requester removed. */
  notes: string[];
}

/** Whether two ways of writing a person in an IM are the same person: e-mails ignore case, mobiles their spelling. */
function sameImUser(a: string, b: string): boolean {
  const kind = contactKind(a);
  if (kind !== contactKind(b)) return false;
  if (kind === 'email') return a.toLowerCase() === b.toLowerCase();
  if (kind === 'mobile') return bareMobile(a) === bareMobile(b);
  return a === b;
}

/** What finding one list of people for a request knows: whom to take off, where to note what. */
interface Asking {
  template: Template;
  provider: string;
  requester: Requester;
  notes: string[];
  findUsers: (people: string[]) => Promise<Array<string | undefined>>;
}

/** Whether a candidate approver is the person who asked. */
function asks(requester: Requester, candidate: Candidate): boolean {
  return (
    (requester.entityRef !== undefined &&
      candidate.ref === requester.entityRef) ||
    (requester.imUser !== undefined &&
      sameImUser(candidate.im, requester.imUser))
  );
}

/**
 * Turns a template's approvers and the caller into the people of one approval: catalog refs
 * expanded, the requester identified (a verified GitHub actor through `github.com/user-login`, or
 * the Backstage user), and the requester taken off the approvers unless the template allows
 * self-approval.
 */
export class ApprovalPeople {
  private catalogDownUntil = 0;

  constructor(
    private readonly catalog: CatalogPeople,
    private readonly logger: LoggerService,
  ) {}

  async resolve(request: {
    template: Template;
    provider: string;
    approvers: string[];
    /** Where the approvers came from, for the 400 a bad one gets: `body.approvers` or the template. */
    field: string;
    caller: Caller;
    context: ApprovalContext;
    /** The IM's user lookup: catalog people it does not know are left out before anything is opened. */
    findUsers: (people: string[]) => Promise<Array<string | undefined>>;
  }): Promise<ApprovalPeopleResult> {
    const { approvers, field, ...rest } = request;
    return this.resolveStages({
      ...rest,
      stages: [{ approvers, rule: 'all', field }],
    });
  }

  /**
   * The same for each stage of a template: the requester is found once, and taken off every
   * stage (a stage left with nobody is a 400 naming it). `stages` holds each stage's people.
   */
  async resolveStages(request: {
    template: Template;
    provider: string;
    stages: Array<TemplateStage & { field: string }>;
    /** Who is told and cannot decide, like a stage's people; none by default. */
    cc?: { people: string[]; field: string };
    /** Who it is escalated to, like a stage's people, but none left is no error; none by default. */
    escalateTo?: { people: string[]; field: string };
    caller: Caller;
    context: ApprovalContext;
    findUsers: (people: string[]) => Promise<Array<string | undefined>>;
  }): Promise<ApprovalPeopleResult & { stages: string[][] }> {
    const { template, provider } = request;
    const cc = request.cc ?? { people: [], field: 'cc' };
    const escalation = request.escalateTo ?? {
      people: [],
      field: 'escalateTo',
    };
    const catalogued = (list: { people: string[]; field: string }) =>
      list.people.length > 0
        ? this.catalog.approvers(list.people, provider, list.field)
        : { candidates: [], notes: [] };
    const [requester, told, escalated, ...asked] = await Promise.all([
      this.requester(request.caller, request.context, provider),
      catalogued(cc),
      catalogued(escalation),
      ...request.stages.map(stage =>
        this.catalog.approvers(stage.approvers, provider, stage.field),
      ),
    ]);
    const notes: string[] = [];
    const stages: Candidate[][] = [];
    for (const [i, stage] of request.stages.entries()) {
      stages.push(
        await this.askedIn(stage.field, asked[i], {
          template,
          provider,
          requester,
          notes,
          findUsers: request.findUsers,
        }),
      );
    }
    const escalateTo = await this.escalatedTo(escalation.field, escalated, {
      template,
      provider,
      requester,
      notes,
      findUsers: request.findUsers,
    });
    // Nobody decides by being told, so the requester may be among them.
    const ccNotes = [...told.notes];
    const toldInIm = await this.knownToIm(told.candidates, request.findUsers, {
      provider,
      field: cc.field,
      notes: ccNotes,
    });
    const everyone = stages.flat();
    return {
      approvers: [...new Set(everyone.map(candidate => candidate.im))],
      approverRefs: [
        ...new Set(everyone.flatMap(candidate => candidate.ref ?? [])),
      ],
      stages: stages.map(candidates => [
        ...new Set(candidates.map(candidate => candidate.im)),
      ]),
      requester,
      cc: [...new Set(toldInIm.map(candidate => candidate.im))],
      escalateTo: [...new Set(escalateTo.map(candidate => candidate.im))],
      notes: [...new Set([...notes, ...ccNotes.map(note => `CC: ${note}`)])],
    };
  }

  /** One stage's people: catalog refs expanded, those the IM does not know left out, the requester taken off. */
  private async askedIn(
    field: string,
    resolved: { candidates: Candidate[]; notes: string[] },
    where: Asking,
  ): Promise<Candidate[]> {
    const { template, provider, requester, notes } = where;
    notes.push(...resolved.notes);
    const candidates = await this.knownToIm(
      resolved.candidates,
      where.findUsers,
      { provider, field, notes },
    );
    const isRequester = (candidate: Candidate) => asks(requester, candidate);
    if (!candidates.some(isRequester)) return candidates;
    let asked = candidates;
    if (template.allowSelfApproval) {
      requester.mayApprove = true;
      requester.note = `may approve their own request: template "${template.name}" allows self-approval`;
    } else {
      asked = candidates.filter(candidate => !isRequester(candidate));
      if (asked.length === 0) {
        throw new InputError(
          `${field}: the only approver is the requester, ${describeRequester(requester)}, who cannot approve their own request; add other approvers, or set allowSelfApproval: true on template "${template.name}"`,
        );
      }
      requester.note =
        'removed from the approvers: nobody approves their own request';
    }
    notes.push(`requester ${describeRequester(requester)} ${requester.note}`);
    return asked;
  }

  /**
   * Who a request is escalated to, found like a stage's people; the requester is taken off unless
   * the template allows self-approval, and nobody left only means the request is not escalated.
   */
  private async escalatedTo(
    field: string,
    resolved: { candidates: Candidate[]; notes: string[] },
    where: Asking,
  ): Promise<Candidate[]> {
    if (resolved.candidates.length === 0) return [];
    const escalationNotes = [...resolved.notes];
    const candidates = await this.knownToIm(
      resolved.candidates,
      where.findUsers,
      { provider: where.provider, field, notes: escalationNotes },
    );
    const { requester } = where;
    const others = where.template.allowSelfApproval
      ? candidates
      : candidates.filter(candidate => !asks(requester, candidate));
    if (others.length === 0)
      escalationNotes.push(
        `it is not escalated: escalateTo names only the requester, ${describeRequester(requester)}`,
      );
    where.notes.push(...escalationNotes.map(note => `Escalation: ${note}`));
    return others;
  }

  /**
   * Catalog people the IM does not know are left out of their group (a group left with nobody, or a
   * user named alone, is a 400). Raw entries stay as written: the IM says what it thinks of them.
   * When the IM cannot be asked now, everyone stays and opening the instance says the rest.
   */
  private async knownToIm(
    candidates: Candidate[],
    findUsers: (people: string[]) => Promise<Array<string | undefined>>,
    where: { provider: string; field: string; notes: string[] },
  ): Promise<Candidate[]> {
    const fromCatalog = candidates.filter(candidate => candidate.ref);
    if (fromCatalog.length === 0) return candidates;
    let ids: Array<string | undefined>;
    try {
      ids = await findUsers(fromCatalog.map(candidate => candidate.im));
    } catch (error) {
      this.logger.warn(
        `Catalog approvers were not looked up in ${where.provider} ahead: ${(error as Error).message}`,
      );
      return candidates;
    }
    const unknown = new Set(fromCatalog.filter((_, i) => !ids[i]));
    if (unknown.size === 0) return candidates;
    const missing = (candidate: Candidate) =>
      `${candidate.ref} (${candidate.im}) is not a ${where.provider} user`;
    for (const candidate of unknown) {
      if (!candidate.group)
        throw new InputError(`${where.field}: ${missing(candidate)}`);
    }
    const groups = new Set([...unknown].map(candidate => candidate.group!));
    for (const group of groups) {
      const left = [...unknown].filter(candidate => candidate.group === group);
      if (!candidates.some(c => c.group === group && !unknown.has(c)))
        throw new InputError(
          `${where.field}: nobody in ${group} is a ${where.provider} user: ${left.map(missing).join('; ')}`,
        );
      where.notes.push(`left out of ${group}: ${left.map(missing).join('; ')}`);
    }
    return candidates.filter(candidate => !unknown.has(candidate));
  }

  private async requester(
    caller: Caller,
    context: ApprovalContext,
    provider: string,
  ): Promise<Requester> {
    if (caller.kind === 'user') {
      const ref = normalizeRef(caller.id, 'user');
      const known: Requester = {
        name: caller.id,
        identifiedBy: 'backstage-user',
        entityRef: ref,
      };
      const found = await this.lookUp(() =>
        this.catalog.people([ref], provider).then(([person]) => person ?? null),
      );
      if ('failure' in found) return { ...known, note: found.failure };
      return found.person
        ? this.asRequester(found.person, known)
        : { ...known, note: 'not in the catalog' };
    }
    const login = context.actor;
    if (!context.verified || !login) {
      return {
        name: login ?? caller.id,
        identifiedBy: 'unidentified',
        note: login
          ? 'the run context is self-reported, so its actor is not taken as the requester'
          : 'the run context names no actor',
      };
    }
    const known: Requester = {
      name: login,
      identifiedBy: 'github-actor',
      githubLogin: login,
    };
    const found = await this.lookUp(() =>
      this.catalog.userForLogin(login, provider),
    );
    if ('failure' in found) return { ...known, note: found.failure };
    return found.person
      ? this.asRequester(found.person, known)
      : {
          ...known,
          note: 'no catalog User has this GitHub login (annotation github.com/user-login)',
        };
  }

  private asRequester(person: CatalogPerson, known: Requester): Requester {
    return {
      ...known,
      name: person.name,
      entityRef: person.ref,
      ...('user' in person.im ? { imUser: person.im.user } : {}),
    };
  }

  /**
   * A catalog read for the requester; when the catalog cannot answer, the approval is still opened
   * (the requester then stays unknown, and says why) rather than every pipeline stopping with it.
   */
  private async lookUp(
    read: () => Promise<CatalogPerson | null>,
  ): Promise<{ person: CatalogPerson | null } | { failure: string }> {
    if (Date.now() < this.catalogDownUntil)
      return { failure: 'the catalog could not be read a moment ago' };
    try {
      return { person: await read() };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      this.catalogDownUntil = Date.now() + CATALOG_RETRY_MS;
      this.logger.warn(
        `Requesters are not identified for ${CATALOG_RETRY_MS / 1000} s: ${error.message}`,
      );
      return { failure: error.message };
    }
  }
}
