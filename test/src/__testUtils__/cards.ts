import type { ImSetup } from './ims';
import { startStack } from './stack';

/** A stack on SQLite whose template `carded` of the setup's IM gets a card in `groupChat` for each request. */
export function startCardedStack(
  setup: ImSetup,
  groupChat: string,
  template: Record<string, unknown> = {},
) {
  return startStack({
    database: 'sqlite',
    ims: [setup],
    templates: [
      {
        ...setup.templateConfig,
        name: 'carded',
        integration: setup.integrationId,
        groupChat,
        ...template,
      },
    ],
  });
}
