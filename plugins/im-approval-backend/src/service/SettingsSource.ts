import type {
  Integration,
  Template,
} from '@im-approval/plugin-im-approval-common';

/** Where the approval flow finds integrations and templates (app-config and the database). */
export interface SettingsSource {
  template(name: string): Promise<Template | undefined>;
  integration(id: string): Promise<Integration | undefined>;
}
