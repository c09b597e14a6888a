import type { TableColumn } from '@backstage/core-components';
import type { SettingsSourceKind } from '@im-approval/plugin-im-approval-common';
import Chip from '@material-ui/core/Chip';

/** The table column saying where an IM app or template is defined: app-config (changed only there) or here. */
export function sourceColumn<
  T extends { source: SettingsSourceKind },
>(): TableColumn<T> {
  return {
    title: 'Source',
    field: 'source',
    render: row => <SourceChip source={row.source} />,
  };
}

/** Where an IM app, template or gate is defined: app-config (changed only there) or here. */
export function SourceChip(props: { source: SettingsSourceKind }) {
  return (
    <Chip
      size="small"
      label={
        props.source === 'config' ? 'app-config (read-only)' : 'managed here'
      }
    />
  );
}
