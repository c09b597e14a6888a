import { z } from 'zod';

/**
 * Where an integration or template is defined: app-config (read-only, GitOps) or the database (managed in the UI).
 *
 * @public
 */
export const settingsSourceSchema = z
  .enum(['config', 'database'])
  .meta({ id: 'SettingsSource' });
/** @public */
export type SettingsSourceKind = z.infer<typeof settingsSourceSchema>;
