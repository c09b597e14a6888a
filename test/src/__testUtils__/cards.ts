import type { BackendProcess } from './backendProcess';
import { eventually } from './flow';
import type { ImSetup } from './ims';
import { STATIC_TOKEN, startStack } from './stack';

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

/** Waits until the backend's catalog has read `user:default/<name>` of the example organisation (it does so after start-up). */
export async function catalogUser(backend: BackendProcess, name: string) {
  await eventually(
    async () =>
      (
        await fetch(
          `${backend.url}/api/catalog/entities/by-name/user/default/${name}`,
          { headers: { authorization: `Bearer ${STATIC_TOKEN}` } },
        )
      ).ok,
    found => found,
    60_000,
  );
}
