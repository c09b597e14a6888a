import Dialog, { type DialogProps } from '@material-ui/core/Dialog';
import DialogTitle from '@material-ui/core/DialogTitle';
import { useId, type ReactNode } from 'react';

/**
 * A dialog named by its title: screen readers announce the title when it opens (MUI's Dialog
 * leaves the link between them to each caller).
 */
export function TitledDialog(
  props: Omit<DialogProps, 'open' | 'title' | 'aria-labelledby'> & {
    title: ReactNode;
  },
) {
  const { title, children, ...dialog } = props;
  const titleId = useId();
  return (
    <Dialog open {...dialog} aria-labelledby={titleId}>
      <DialogTitle id={titleId}>{title}</DialogTitle>
      {children}
    </Dialog>
  );
}
