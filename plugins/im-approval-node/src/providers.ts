import type {
  ConnectionMode,
  FormValue,
  Integration,
} from '@im-approval/plugin-im-approval-common';
import type { LoggerService } from '@backstage/backend-plugin-api';

/** @public */
export interface ImFormField {
  id: string;
  name: string;
  type: string;
  required: boolean;
}

/**
 * One approver node of an instance, in order: its people and whether all or any one must approve.
 *
 * @public
 */
export interface ImStage {
  /** The stage's name for approvers ("Team lead"), where the IM shows one. */
  name?: string;
  /** IM user ids, emails or mobiles, as configured. */
  approvers: string[];
  rule: 'all' | 'any';
}

/**
 * How far one stage has come, as the IM tells it.
 *
 * @public
 */
export interface ImStageProgress {
  /** waiting: not reached yet; pending: its approvers are asked now. */
  status: 'waiting' | 'pending' | 'approved' | 'rejected';
  /** Who approved in it so far. */
  approvedBy: ImPerson[];
  /** IM user ids of its approvers with a task still open. */
  waitingOn: string[];
}

/**
 * A form the backend creates in the IM for a template: its fields (by label, in order; each a
 * text field) and one approver node per stage, whose approvers each request chooses.
 *
 * @public
 */
export interface ImFormSpec {
  /** The form's name in the IM. */
  name: string;
  description?: string;
  /** The fields' labels, in order; requests fill them by label. */
  fields: string[];
  stages: Array<Pick<ImStage, 'name' | 'rule'>>;
}

/** @public */
export interface ImSavedForm {
  /** Feishu approval_code, DingTalk processCode, WeCom template_id: the same when updated. */
  formId: string;
  /** Where an administrator sees the form in the IM's console, where there is such a link. */
  url?: string;
}

/** @public */
export interface ImInstanceRequest {
  /** Also the IM's idempotency key: creating twice with it never opens a second instance. */
  approvalId: string;
  form: string;
  title: string;
  /** Rendered values; `field` is the IM field's id or its name. */
  fields: FormValue[];
  /** The approver nodes, in order; at least one. */
  stages: ImStage[];
  /**
   * A short line approvers must see even where the IM cuts the title ("2 of 3 must approve"); the
   * title says it too. WeCom gives it a summary line of its own.
   */
  note?: string;
  /** Overrides the integration's initiator. */
  initiator?: string;
  /**
   * What approvers must see whatever the template maps (who asked, repository, ref, commit,
   * environment, run, what changes), in order. Each IM shows it where its form allows: a form
   * field labelled "Context" when the form has one (every form the backend makes does), and
   * WeCom's summary lines.
   */
  context?: ImContextLine[];
  /** A test approval (sample values, no real run): the title already starts with "[Test] "; IMs with a summary say it there too. */
  test?: boolean;
  /** IM user ids told of the request, who can see it but not decide (抄送), in the IM's own way. */
  cc?: string[];
}

/**
 * One line of what approvers are told about a request: "Repository: acme/shop".
 *
 * @public
 */
export interface ImContextLine {
  /** What the line tells, for IMs that must pick a few lines where space is short (WeCom's summary). */
  kind:
    | 'requester'
    | 'repository'
    | 'ref'
    | 'commit'
    | 'environment'
    | 'run'
    | 'changes';
  label: string;
  /** Plain text from outside: never markup. */
  value: string;
  /** An http(s) link the value stands for (the run, the compare view), where the IM can link. */
  url?: string;
}

/** @public */
export interface ImInstanceRef {
  instanceId: string;
  url?: string;
  /**
   * The label the IM form shows approvers for each field the request filled (Feishu widget `name`,
   * DingTalk component `label`, WeCom control `title`), by the field as the request names it; fields
   * the IM gives no label are left out. Text from the IM: the backend keeps it to one storable line.
   * Absent when the provider does not tell.
   */
  labels?: ReadonlyMap<string, string>;
  /**
   * What the instance was opened without, one sentence each, for the approval's timeline: a CC the
   * IM refused after the instance was made (the instance stands; nobody decides by being told).
   */
  notes?: string[];
}

/**
 * A person as an IM knows them; the same shape for every IM.
 *
 * @public
 */
export interface ImPerson {
  /** The IM's user id: Feishu open_id, DingTalk userId, WeCom userid. */
  id: string;
  /** Their display name in the IM; the id itself when the IM will not tell the name. */
  name: string;
}

/**
 * A hand-over made in the IM: an approver transferred their task, or added approvers to it.
 *
 * @public
 */
export interface ImHandover {
  kind: 'transferred' | 'added';
  /** Who handed over or added; absent when the IM does not say. */
  from?: ImPerson;
  to: ImPerson[];
  at?: Date;
  comment?: string;
}

/** @public */
export type ImInstanceState =
  | {
      status: 'pending';
      /** Per stage, in the request's order, where the IM tells (and the request had several). */
      stages?: ImStageProgress[];
      /** Hand-overs made in the IM, oldest first; absent where the IM does not tell. */
      handovers?: ImHandover[];
    }
  | {
      status: 'approved' | 'rejected' | 'canceled' | 'deleted';
      stages?: ImStageProgress[];
      handovers?: ImHandover[];
      /** The person who decided. */
      decidedBy?: ImPerson;
      comment?: string;
      decidedAt?: Date;
    };

/**
 * A callback as received: GET for URL checks (WeCom), POST for events.
 *
 * @public
 */
export interface ImCallbackRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | undefined>;
  rawBody: Buffer;
}

/**
 * An instance the IM says changed, with the IM's id of that event (for dedup).
 *
 * @public
 */
export interface ImEvent {
  eventId: string;
  instanceId: string;
}

/** @public */
export interface ImCallbackResult {
  /** What the IM expects as the answer, sent only after the events are applied. */
  reply: { status: number; contentType: string; body: string };
  events: ImEvent[];
}

/**
 * Applies events from a held connection; resolves once they are stored, and only then is the IM acknowledged.
 *
 * @public
 */
export type ImEventHandler = (events: ImEvent[]) => Promise<void>;

/**
 * A connection the backend holds to the IM; it reconnects by itself until closed.
 *
 * @public
 */
export interface ImConnection {
  close(): Promise<void>;
}

/**
 * What a held connection tells of itself as it goes up and down, for the IM apps page.
 * Reasons are shown to people: no secrets in them.
 *
 * @public
 */
export interface ImConnectionObserver {
  /** The connection is up, for the first time or again. */
  connected(): void;
  /** The connection is down and reopening by itself. */
  reconnecting(reason: string): void;
  /** The connection gave up reopening by itself; its holder closes and reopens it later. */
  failed(reason: string): void;
}

/**
 * An approval as its card in a group chat shows it; the card is posted when the approval is
 * requested and updated in place for everyone as it changes. All text is plain text from outside.
 *
 * @public
 */
export interface ImCard {
  approvalId: string;
  title: string;
  test: boolean;
  context: ImContextLine[];
  /** The form as filled, by the label approvers see. */
  fields: Array<{ label: string; value: string }>;
  state:
    'pending' | 'approved' | 'rejected' | 'canceled' | 'expired' | 'failed';
  /** Pending: the names of those it waits on now. */
  waitingOn: string[];
  /** Ended: one sentence of by whom, when and how ("Approved by Alice Chen from this card at 10:02 UTC"). */
  outcome?: string;
  comment?: string;
  /** The IM's own request; WeCom's card links to it instead of deciding. */
  instanceUrl?: string;
  /** The approval's page in Backstage, when the backend knows its base URL. */
  approvalUrl?: string;
}

/**
 * Approve or Reject clicked on a card: verified as the IM signs card callbacks.
 *
 * @public
 */
export interface ImCardClick {
  /** The IM's id of this click (for dedup); one click delivered twice has the same id. */
  eventId: string;
  approvalId: string;
  action: 'approve' | 'reject';
  /** The IM user id of who clicked. */
  userId: string;
  /** The group chat the card is in, where the IM tells. */
  chatId?: string;
  comment?: string;
}

/**
 * What the clicker is told (only they see it), and the card as it now is for IMs that replace
 * the card through the callback's answer.
 *
 * @public
 */
export interface ImCardAnswer {
  toast: { kind: 'success' | 'info' | 'error'; text: string };
  card?: ImCard;
}

/**
 * A card callback as verified: the click (absent for the IM's own handshakes, such as URL
 * checks), and the answer the IM expects for a given outcome. Never an answer that makes the IM
 * retry: a refused click is answered as the IM expects, with the toast saying why.
 *
 * @public
 */
export interface ImCardCallback {
  click?: ImCardClick;
  reply(answer?: ImCardAnswer): {
    status: number;
    contentType: string;
    body: string;
  };
}

/**
 * Decides on a card click, after it is verified: the backend records the decision (or refuses
 * the click) before the answer goes back to the IM.
 *
 * @public
 */
export type ImCardClickHandler = (click: ImCardClick) => Promise<ImCardAnswer>;

/** @public */
export interface ImRevokeResult {
  revoked: boolean;
  message?: string;
}

/**
 * One IM app: every call an approval needs. Errors are `ImApiError`s.
 *
 * @public
 */
export interface ImClient {
  verifyCredentials(): Promise<void>;
  describeForm(formId: string): Promise<ImFormField[]>;
  createInstance(request: ImInstanceRequest): Promise<ImInstanceRef>;
  /**
   * Looks for the instance an earlier `createInstance` of this request may have opened although
   * its answer never arrived (a timeout, a 5xx after the IM created it, a crash before the instance
   * was recorded). Called before creating again, so a retry never opens a second instance.
   * `since` is when the first attempt could have started at the earliest. Answers every instance
   * that could be it, oldest first; the caller takes the first that no other approval holds.
   *
   * What each IM guarantees:
   * - Feishu: no need; the request's `uuid` (the approval id) makes a second create fail (60012).
   * - DingTalk: no idempotency key. The instances of the form created by the initiator since
   *   `since` are listed (`POST /v1.0/workflow/processes/instanceIds/query`, times in ms) and read;
   *   those whose form values and initiator are this request's are answered (the form names the
   *   run; two approvals of one run with the same values are told apart by which is taken).
   * - WeCom: no idempotency key. The requests of the template made by the creator since `since`
   *   are listed (`POST /cgi-bin/oa/getapprovalinfo`, times in seconds) and read; those whose
   *   `apply_data` and creator are this request's are answered.
   * Empty when none is found: the create may then be tried again. Absent for IMs whose create is
   * idempotent by itself.
   */
  findCreated?(
    request: ImInstanceRequest,
    since: Date,
  ): Promise<ImInstanceRef[]>;
  /**
   * Whether a template fits its IM form (node types, how many approvers a node takes…), without
   * creating anything: throws an `invalid_request` `ImApiError` saying why. Called when a template is
   * saved; createInstance checks the same. Absent where the IM has nothing to check ahead.
   */
  checkTemplate?(
    template: Pick<ImInstanceRequest, 'form' | 'stages'>,
  ): Promise<unknown>;
  /**
   * Creates the form in the IM (no `formId`), or updates the form it made before in place, keeping
   * its id. A missing permission is a `permission` `ImApiError` naming it and where to grant it.
   */
  saveForm?(spec: ImFormSpec, formId?: string): Promise<ImSavedForm>;
  /**
   * How the IM's form differs from the spec it was made from (someone edited it in the console):
   * one sentence per difference, naming the field or node; empty when it matches.
   */
  formDrift?(spec: ImFormSpec, formId: string): Promise<string[]>;
  readInstance(instanceId: string): Promise<ImInstanceState>;
  /**
   * Who these people (IM ids, emails or mobiles, as templates write them) are in the IM: each one's
   * user id, or undefined for an email or mobile the IM does not know. Cached like approvers are.
   */
  findUsers(people: string[]): Promise<Array<string | undefined>>;
  /**
   * Withdraws a pending instance. `reason` is shown to its approvers where the IM shows one
   * (DingTalk's terminate remark); otherwise the IM's own "withdrawn" is all they see.
   */
  cancelInstance(instanceId: string, reason?: string): Promise<ImRevokeResult>;
  /** Verifies and decrypts; throws `ImCallbackRejectedError` for anything forged, tampered or stale. */
  handleCallback(request: ImCallbackRequest): Promise<ImCallbackResult>;
  /**
   * Posts an approval's card to a group chat: a card that decides (Approve, Reject, a comment
   * where the IM has a field) where `ImProvider.cards` is `decide`, one that links to the IM's
   * request where it is `link`. Answers the card's id for updates (Feishu message_id, DingTalk
   * outTrackId, WeCom response_code).
   */
  postCard?(chatId: string, card: ImCard): Promise<string>;
  /** Replaces a posted card in place, for everyone in the chat. */
  updateCard?(cardId: string, card: ImCard): Promise<void>;
  /**
   * Verifies a card callback posted to the backend over HTTP (Feishu card request URL, DingTalk
   * card callback); throws `ImCallbackRejectedError` for anything forged, tampered or stale.
   */
  handleCardCallback?(request: ImCallbackRequest): Promise<ImCardCallback>;
  /**
   * Approves or rejects the approver's own task of the instance, as them (Feishu's task approve
   * and reject, DingTalk's execute task), so the IM's view agrees with a decision made on a card.
   */
  decideTask?(
    instanceId: string,
    approverId: string,
    action: 'approve' | 'reject',
    comment?: string,
  ): Promise<void>;
  /** Adds approvers to a pending instance's current node, where the IM allows (Feishu's add sign). */
  addApprovers?(
    instanceId: string,
    approverIds: string[],
    comment?: string,
  ): Promise<void>;
  /**
   * Who these IM users are, by their display names, as the IM tells the app; best effort: the id
   * stands for a name the IM will not tell (outside the app's scope, the IM busy).
   */
  namesOf?(userIds: string[]): Promise<ImPerson[]>;
  /**
   * A reminder in the group chat where the request's card is, mentioning each of these IM users
   * (Feishu's `at`), so those it waits on are told where the request is seen. Absent where an app
   * cannot mention people in a group.
   */
  remindInChat?(chatId: string, userIds: string[], text: string): Promise<void>;
  /** A direct message from the app to each of these IM users (reminders, escalations): text and a link. */
  sendMessage?(userIds: string[], text: string, url?: string): Promise<void>;
  /**
   * Opens the IM's long connection (modes `long-connection` and `stream`), for a backend the IM
   * cannot call. Events are acknowledged to the IM only after `onEvents` resolves; a rejection
   * leaves them unacknowledged, so the IM delivers them again. The observer hears of every change
   * of the connection's state.
   */
  connect?(
    onEvents: ImEventHandler,
    observer: ImConnectionObserver,
    /** Card clicks that come over the connection (Feishu card actions, DingTalk's card callback topic). */
    onCardClick?: ImCardClickHandler,
  ): Promise<ImConnection>;
}

/** @public */
export interface ImProviderDeps {
  logger: LoggerService;
  /** Callbacks signed further than this from now are rejected as stale. */
  callbackMaxAgeSeconds: number;
  /** Whether calls to the IM keep to its documented rate limits (`imApproval.imRateLimits`). */
  keepToRateLimits: boolean;
}

/** @public */
export interface ImProvider<I extends Integration = Integration> {
  id: I['provider'];
  /** Modes this provider supports; `long-connection` and `stream` need `ImClient.connect`. */
  connectionModes: readonly ConnectionMode[];
  /**
   * The most instance reads per minute the reconciler may spend on one integration, below the
   * IM's rate limit with room left for creating instances. Absent: no limit beyond the batch size.
   */
  reconcileReadsPerMinute?: number;
  /** The most of those reads in any one second (IMs limit a second as well as a minute). Absent: no such limit. */
  reconcileReadsPerSecond?: number;
  /**
   * What a group chat card can do: `decide` (Approve and Reject on the card, applied to the IM
   * instance through `decideTask`), `link` (it links to the IM's request: the IM cannot act on a
   * task for the approver). Absent: no cards.
   */
  cards?: 'decide' | 'link';
  /**
   * What an integration still lacks for cards, as a sentence naming the setting (DingTalk's card
   * template, its Stream connection); undefined when it has all. Absent: nothing beyond `cards`.
   */
  cardsNeed?(integration: I): string | undefined;
  createClient(integration: I, deps: ImProviderDeps): ImClient;
}
