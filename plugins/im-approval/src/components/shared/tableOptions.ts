import type { TableProps } from '@backstage/core-components';

/**
 * Options for the plugin's tables: rows in the order the backend gives, columns fixed. Column
 * dragging and sort labels would put buttons inside header buttons, which screen readers cannot
 * operate (axe's nested-interactive rule).
 */
export const TABLE_OPTIONS = {
  draggable: false,
  sorting: false,
  padding: 'dense',
} as const satisfies TableProps<object>['options'];
