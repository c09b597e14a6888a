import type { Integration, Template } from '@im-approval/plugin-im-approval-common';

/** Where integrations and templates come from: app-config today, the database as well later. */
export interface SettingsSource {
  template(name: string): Promise<Template | undefined>;
  integration(id: string): Promise<Integration | undefined>;
}

export class StaticSettingsSource implements SettingsSource {
  private readonly templates: Map<string, Template>;
  private readonly integrations: Map<string, Integration>;

  constructor(settings: { templates: Template[]; integrations: Integration[] }) {
    this.templates = new Map(settings.templates.map(t => [t.name, t]));
    this.integrations = new Map(settings.integrations.map(i => [i.id, i]));
  }

  async template(name: string) {
    return this.templates.get(name);
  }

  async integration(id: string) {
    return this.integrations.get(id);
  }
}
