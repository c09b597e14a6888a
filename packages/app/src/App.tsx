import { createApp } from '@backstage/frontend-defaults';

// The IM approval UI plugin is added to `features` once it exists.
export default createApp({ features: [] });
