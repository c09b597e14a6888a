import type {
  Integration,
  Template,
} from '@im-approval/plugin-im-approval-common';

/** Where the approval flow finds integrations and templates (app-config and the database). */
export interface SettingsSource {
  template(name: string): Promise<Template | undefined>;
  integration(id: string): Promise<Integration | undefined>;
  /** The IM form id to open an approval of the template with (a form the backend makes is made or checked first). */
  formOf(template: Template): Promise<string>;
}
