import { TEMPLATE_VARIABLES } from '@im-approval/plugin-im-approval-common';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';

/** The `${…}` variables a title or field text may use, and what each becomes. */
export function VariablesHelp() {
  const rows: Array<[string, string]> = [
    ...Object.entries(TEMPLATE_VARIABLES).map(
      ([name, meaning]): [string, string] => [`\${${name}}`, meaning],
    ),
    [
      '${vars.NAME}',
      'a variable the workflow step passes (variables: NAME=value)',
    ],
  ];
  return (
    <>
      <Typography variant="subtitle2">Variables</Typography>
      <Typography variant="body2" color="textSecondary">
        A variable the run does not provide is an error when the approval is
        opened, never an empty field.
      </Typography>
      <Table size="small" aria-label="Variables">
        <TableBody>
          {rows.map(([name, meaning]) => (
            <TableRow key={name}>
              <TableCell>
                <code>{name}</code>
              </TableCell>
              <TableCell>{meaning}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </>
  );
}
