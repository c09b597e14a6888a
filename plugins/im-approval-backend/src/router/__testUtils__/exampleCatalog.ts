import { mockCredentials } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import request from 'supertest';

const EXAMPLES = resolve(__dirname, '../../../../../examples');

/** The real catalog backend, reading the example organisation and components from `examples/`. */
export const exampleCatalog = {
  plugin: catalogPlugin,
  config: {
    catalog: {
      rules: [{ allow: ['User', 'Group', 'Component'] }],
      locations: ['org.yaml', 'components.yaml'].map(file => ({
        type: 'file',
        target: resolve(EXAMPLES, file),
      })),
    },
  },

  /** Waits until the catalog has processed them: the nested groups' members and the components' owners. */
  async read(server: Server) {
    const relationsOf = async (ref: string) => {
      const response = await request(server)
        .get(`/api/catalog/entities/by-name/${ref}`)
        .set('Authorization', mockCredentials.service.header());
      return ((response.body.relations ?? []) as Array<{ type: string }>).map(
        r => r.type,
      );
    };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [parent, child, component] = await Promise.all([
        relationsOf('group/default/release-managers'),
        relationsOf('group/default/sre'),
        relationsOf('component/default/api'),
      ]);
      if (
        parent.includes('parentOf') &&
        child.includes('hasMember') &&
        component.includes('ownedBy')
      )
        return;
      if (Date.now() > deadline)
        throw new Error('the catalog did not process examples/ in 30 s');
      await new Promise(r => setTimeout(r, 250));
    }
  },
};
