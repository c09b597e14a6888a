import { InputError } from '@backstage/errors';
import {
  TEMPLATE_PLACEHOLDER,
  type ApprovalContext,
  type FormValue,
  type Template,
} from '@im-approval/plugin-im-approval-common';

export interface RenderedTemplate {
  title: string;
  form: FormValue[];
}

/** The `${…}` values a template can use: the run context, `runUrl`, and `vars.NAME` for the caller's variables. */
export function templateVariables(
  context: ApprovalContext,
  variables: Record<string, string>,
): Record<string, string | undefined> {
  const {
    verified: _verified,
    caller: _caller,
    serverUrl: _serverUrl,
    test: _test,
    ...run
  } = context;
  return {
    ...run,
    ...Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [`vars.${name}`, value]),
    ),
  };
}

/** Fills the `${…}` placeholders of `text`; throws a 400 naming what `where` uses and the request lacks. */
export function renderText(
  text: string,
  values: Record<string, string | undefined>,
  where: string,
): string {
  return text.replace(TEMPLATE_PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      const [field, hint] = name.startsWith('vars.')
        ? [
            `body.variables.${name.slice(5)}`,
            `add ${name.slice(5)} to the request's variables`,
          ]
        : [`body.context.${name}`, 'the run context does not have it'];
      throw new InputError(
        `${field}: ${where} uses \${${name}}, which this request does not provide (${hint})`,
      );
    }
    return value;
  });
}

export function renderTemplate(
  template: Template,
  values: Record<string, string | undefined>,
  requestedTitle?: string,
): RenderedTemplate {
  const where = `template "${template.name}"`;
  const title =
    requestedTitle ?? renderText(template.title, values, `${where} title`);
  return {
    title,
    form: Object.entries(template.fields).map(([field, text]) => ({
      field,
      value: renderText(
        text,
        { ...values, title },
        `${where} field "${field}"`,
      ),
    })),
  };
}
