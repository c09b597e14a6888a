import express, { Router } from 'express';
import { z } from 'zod';
import { DecisionError } from './flow/approvalFlow';
import { describeIssues } from './validation';

// The approver inbox: one server-rendered page where a person does what an approver does in the
// Feishu, DingTalk or WeCom app, for the requests of every IM the sandbox serves. Titles, form
// values and comments come from outside, so every piece of text goes through escapeHtml.

/** One request as the inbox shows it, whatever its IM. */
export interface InboxCard {
  /** The IM's id for it: instance code, processInstanceId, sp_no. */
  id: string;
  title: string;
  /** The approval definition, form or template it was made from. */
  formName: string;
  requester: string;
  createdAt: string;
  pending: boolean;
  /** What its badge says (PENDING, APPROVED, REJECTED, …). */
  status: string;
  endedAt: string | null;
  fields: Array<{ name: string; value: string }>;
  /** `node` says which step and how it settles ("Approvers · any one"). */
  approvers: Array<{ name: string; status: string; node: string }>;
  /** Who may decide now: approvers with a pending task. */
  deciders: Array<{ id: string; name: string }>;
  lastDecision?: { name: string; comment: string | null };
}

/** An IM's requests for the inbox, and its approvers' decisions through the IM's own flow. */
export interface InboxSource {
  im: 'feishu' | 'dingtalk' | 'wecom';
  label: string;
  /** The form field naming who decides ("openId" on Feishu, "userId" elsewhere). */
  deciderField: string;
  cards(): InboxCard[];
  /** Throws DecisionError when the request is unknown or cannot be decided by `decider`. */
  decide(
    id: string,
    decision: 'approve' | 'reject',
    decider: string | undefined,
    comment: string | undefined,
  ): void;
}

/** A group chat as the inbox shows it: its people, and its messages with cards as they now are. */
export interface InboxChat {
  chatId: string;
  name: string;
  members: Array<{ id: string; name: string }>;
  messages: Array<{
    messageId: string;
    /** Each line of the card as people read it. */
    lines: string[];
    /** Buttons that call back, and whether they take a comment with them. */
    buttons: Array<{ text: string; withComment: boolean }>;
  }>;
}

/** Group chats with cards, and a member's click, answered with what they alone are shown. */
export interface InboxChats {
  chats(): InboxChat[];
  click(
    chatId: string,
    messageId: string,
    click: { openId: string; button: string; input?: Record<string, string> },
  ): Promise<{ toast?: { type: string; content: string }; error?: string }>;
}

/** Several IMs' group chats as one: a click goes to the IM whose chat it is. */
export function allChats(list: InboxChats[]): InboxChats {
  return {
    chats: () => list.flatMap(chats => chats.chats()),
    click: (chatId, messageId, click) => {
      const owner = list.find(chats =>
        chats.chats().some(chat => chat.chatId === chatId),
      );
      if (!owner) throw new DecisionError(404, `chat ${chatId} not found`);
      return owner.click(chatId, messageId, click);
    },
  };
}

const RECENT_LIMIT = 10;

const STYLE = `
  :root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2329; background: #f5f6f7; }
  body { margin: 0; }
  header.page { background: #fff; border-bottom: 1px solid #dee0e3; padding: 1rem 2rem; }
  header.page h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
  header.page p { margin: 0; color: #646a73; }
  main { max-width: 60rem; margin: 0 auto; padding: 1rem 2rem 3rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 .75rem; }
  .count { background: #3370ff; color: #fff; border-radius: 1rem; padding: 0 .5rem; font-size: .85rem; }
  .empty { color: #8f959e; }
  .error { background: #fde2e2; border: 1px solid #f54a45; border-radius: .5rem; padding: .75rem 1rem; }
  .toast { background: #e1eaff; border: 1px solid #3370ff; border-radius: .5rem; padding: .75rem 1rem; }
  ul.lines { list-style: none; padding: 0; margin: .5rem 0; white-space: pre-wrap; word-break: break-word; }
  .card { background: #fff; border: 1px solid #dee0e3; border-radius: .75rem; padding: 1rem 1.25rem; margin-bottom: 1rem; }
  .card:target { outline: 2px solid #3370ff; }
  .card header { display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
  .card h3 { margin: 0; font-size: 1.05rem; }
  .meta { color: #646a73; font-size: .85rem; margin: .25rem 0 .75rem; }
  dl.form { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 .75rem; }
  dl.form dt { color: #646a73; }
  dl.form dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
  ul.approvers { list-style: none; padding: 0; margin: 0 0 .75rem; display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; }
  ul.approvers small { color: #8f959e; }
  form { display: grid; gap: .5rem; border-top: 1px solid #eff0f1; padding-top: .75rem; }
  label { display: grid; gap: .25rem; font-size: .85rem; color: #646a73; }
  textarea, select { font: inherit; padding: .4rem; border: 1px solid #d0d3d6; border-radius: .4rem; }
  .actions { display: flex; gap: .5rem; }
  button { font: inherit; border: 0; border-radius: .4rem; padding: .45rem 1.1rem; cursor: pointer; color: #fff; }
  button.approve { background: #34c724; }
  button.reject { background: #f54a45; }
  .badge { font-size: .75rem; font-weight: 600; border-radius: .3rem; padding: .1rem .45rem; background: #eff0f1; color: #646a73; }
  .badge.pending { background: #e1eaff; color: #245bdb; }
  .badge.approved { background: #d9f5d6; color: #237b19; }
  .badge.rejected { background: #fde2e2; color: #d83931; }
  .badge.canceled, .badge.done, .badge.waiting { background: #eff0f1; color: #646a73; }
  .im { font-size: .75rem; font-weight: 600; color: #646a73; border: 1px solid #d0d3d6; border-radius: .3rem; padding: .05rem .35rem; margin-right: .25rem; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #dee0e3; border-radius: .75rem; overflow: hidden; }
  th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid #eff0f1; font-size: .9rem; }
  th { color: #646a73; font-weight: 500; }
`;

// Browsers send empty fields as "", which means "not given" here.
const blankToUndefined = (value: string | undefined) =>
  value === undefined || value.trim() === '' ? undefined : value;
const formField = z.string().optional().transform(blankToUndefined);

/** Where a request's card is on the page. */
const anchor = (im: string, id: string) => `instance-${im}-${id}`;

export function inbox(sources: InboxSource[], chats?: InboxChats): Router {
  const router = Router();

  router.get('/', (req, res) => {
    const cards = sources.flatMap(source =>
      source.cards().map(card => ({ source, card })),
    );
    const said = (key: string) =>
      typeof req.query[key] === 'string' ? req.query[key] : undefined;
    res
      .type('html')
      .send(
        renderPage(cards, said('error'), chats?.chats() ?? [], said('toast')),
      );
  });

  if (chats) {
    const clickFormSchema = z.object({
      openId: z.string().min(1),
      button: z.string().min(1),
      comment: formField,
    });
    router.post(
      '/inbox/chats/:chatId/:messageId/click',
      express.urlencoded({ extended: false }),
      async (req, res, next) => {
        const back = (key: 'error' | 'toast', text: string) =>
          res.redirect(303, `/?${key}=${encodeURIComponent(text)}#chats`);
        const form = clickFormSchema.safeParse(req.body ?? {});
        if (!form.success) {
          back('error', describeIssues(form.error));
          return;
        }
        try {
          const { openId, button, comment } = form.data;
          const answer = await chats.click(
            req.params.chatId,
            req.params.messageId,
            { openId, button, ...(comment && { input: { comment } }) },
          );
          if (answer.error) back('error', answer.error);
          else back('toast', answer.toast?.content ?? 'Clicked.');
        } catch (error) {
          if (error instanceof DecisionError) back('error', error.message);
          else next(error);
        }
      },
    );
  }

  for (const source of sources) {
    // The backend links people to a request; in the sandbox it lives on the inbox page.
    router.get(`/${source.im}/instances/:id`, (req, res) => {
      res.redirect(
        302,
        `/#${encodeURIComponent(anchor(source.im, req.params.id))}`,
      );
    });

    const decisionFormSchema = z.object({
      [source.deciderField]: formField,
      comment: formField,
    });
    for (const decision of ['approve', 'reject'] as const) {
      router.post(
        `/inbox/${source.im}/:id/${decision}`,
        express.urlencoded({ extended: false }),
        (req, res) => {
          const back = (error: string) =>
            res.redirect(303, `/?error=${encodeURIComponent(error)}`);
          const form = decisionFormSchema.safeParse(req.body ?? {});
          if (!form.success) {
            back(describeIssues(form.error));
            return;
          }
          try {
            source.decide(
              req.params.id,
              decision,
              form.data[source.deciderField],
              form.data.comment,
            );
            res.redirect(303, '/');
          } catch (error) {
            if (!(error instanceof DecisionError)) throw error;
            back(error.message);
          }
        },
      );
    }
  }
  return router;
}

type SourcedCard = { source: InboxSource; card: InboxCard };

/** Text from outside, inert in HTML (text and attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`);
}

function renderPage(
  cards: SourcedCard[],
  error: string | undefined,
  chats: InboxChat[],
  toast: string | undefined,
): string {
  const byCreation = (a: SourcedCard, b: SourcedCard) =>
    a.card.createdAt.localeCompare(b.card.createdAt);
  const pending = cards.filter(({ card }) => card.pending).sort(byCreation);
  const decided = cards
    .filter(({ card }) => !card.pending)
    .sort((a, b) => (b.card.endedAt ?? '').localeCompare(a.card.endedAt ?? ''))
    .slice(0, RECENT_LIMIT);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Approver inbox · IM sandbox</title>
<style>${STYLE}</style>
</head>
<body>
<header class="page">
  <h1>Approver inbox</h1>
  <p>Requests waiting in the sandbox's Feishu, DingTalk and WeCom tenants. Deciding here is what an approver does in the IM's app.
    <a href="/">Refresh</a></p>
</header>
<main>
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
${toast === undefined ? '' : `<p class="toast" role="status">${escapeHtml(toast)}</p>`}
<section>
  <h2>Pending <span class="count">${pending.length}</span></h2>
  ${pending.length === 0 ? '<p class="empty">Nothing is waiting for a decision.</p>' : pending.map(renderPending).join('\n')}
</section>
<section>
  <h2>Recently decided</h2>
  ${decided.length === 0 ? '<p class="empty">No decisions yet.</p>' : renderDecided(decided)}
</section>
${chats.length === 0 ? '' : `<section id="chats">\n  <h2>Group chats</h2>\n  ${chats.map(renderChat).join('\n')}\n</section>`}
</main>
</body>
</html>`;
}

function renderPending({ source, card }: SourcedCard): string {
  const action = `/inbox/${source.im}/${escapeHtml(encodeURIComponent(card.id))}`;
  const meta = [
    escapeHtml(card.formName),
    `requested by ${escapeHtml(card.requester)}`,
    formatTime(card.createdAt),
    `<code>${escapeHtml(card.id)}</code>`,
  ];
  const fields = card.fields.map(
    field =>
      `<dt>${escapeHtml(field.name)}</dt><dd>${escapeHtml(field.value)}</dd>`,
  );
  const approvers = card.approvers.map(
    approver =>
      `<li><span>${escapeHtml(approver.name)}</span> ${badge(approver.status)} <small>${escapeHtml(approver.node)}</small></li>`,
  );
  const deciders = card.deciders.map(
    decider =>
      `<option value="${escapeHtml(decider.id)}">${escapeHtml(decider.name)}</option>`,
  );
  return `<article class="card" id="${escapeHtml(anchor(source.im, card.id))}">
  <header><h3><span class="im">${escapeHtml(source.label)}</span> ${escapeHtml(card.title)}</h3>${badge(card.status)}</header>
  <p class="meta">${meta.join(' · ')}</p>
  <dl class="form">${fields.join('')}</dl>
  <ul class="approvers">${approvers.join('')}</ul>
  <form method="post" action="${action}/approve">
    <label>Decide as <select name="${escapeHtml(source.deciderField)}">${deciders.join('')}</select></label>
    <label>Comment <textarea name="comment" rows="2"></textarea></label>
    <div class="actions">
      <button type="submit" class="approve">Approve</button>
      <button type="submit" class="reject" formaction="${action}/reject">Reject</button>
    </div>
  </form>
</article>`;
}

/** A chat's cards, each button a form that clicks it as the member chosen (with a comment where it takes one). */
function renderChat(chat: InboxChat): string {
  const members = chat.members
    .map(
      member =>
        `<option value="${escapeHtml(member.id)}">${escapeHtml(member.name)}</option>`,
    )
    .join('');
  const messages = chat.messages.map(message => {
    const action = `/inbox/chats/${escapeHtml(encodeURIComponent(chat.chatId))}/${escapeHtml(encodeURIComponent(message.messageId))}/click`;
    const [title = '', ...lines] = message.lines;
    const buttons = message.buttons.map(
      button =>
        `<button type="submit" name="button" value="${escapeHtml(button.text)}" class="${/reject/i.test(button.text) ? 'reject' : 'approve'}">${escapeHtml(button.text)}</button>`,
    );
    const comment = message.buttons.some(button => button.withComment)
      ? '<label>Comment <textarea name="comment" rows="2"></textarea></label>'
      : '';
    return `<article class="card chat-card">
    <header><h3>${escapeHtml(title)}</h3></header>
    <ul class="lines">${lines.map(line => `<li>${escapeHtml(line)}</li>`).join('')}</ul>
    ${
      buttons.length === 0
        ? ''
        : `<form method="post" action="${action}">
      <label>Click as <select name="openId">${members}</select></label>
      ${comment}
      <div class="actions">${buttons.join('')}</div>
    </form>`
    }
  </article>`;
  });
  return `<h3>${escapeHtml(chat.name)} <code>${escapeHtml(chat.chatId)}</code></h3>
  ${messages.length === 0 ? '<p class="empty">No messages yet.</p>' : messages.join('\n')}`;
}

function renderDecided(cards: SourcedCard[]): string {
  const rows = cards.map(({ source, card }) => {
    const last = card.lastDecision;
    const comment = last?.comment ? `: “${escapeHtml(last.comment)}”` : '';
    const cells = [
      escapeHtml(card.title),
      escapeHtml(source.label),
      badge(card.status),
      last === undefined ? '' : `${escapeHtml(last.name)}${comment}`,
      card.endedAt === null ? '' : formatTime(card.endedAt),
    ];
    return `<tr id="${escapeHtml(anchor(source.im, card.id))}">${cells.map(cell => `<td>${cell}</td>`).join('')}</tr>`;
  });
  const head = ['Request', 'IM', 'Status', 'By', 'When']
    .map(title => `<th>${title}</th>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function badge(status: string): string {
  return `<span class="badge ${escapeHtml(status.toLowerCase())}">${escapeHtml(status)}</span>`;
}

function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
