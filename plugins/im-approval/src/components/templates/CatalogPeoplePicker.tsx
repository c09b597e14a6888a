import { useApiHolder } from '@backstage/core-plugin-api';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import TextField from '@material-ui/core/TextField';
import Autocomplete from '@material-ui/lab/Autocomplete';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';

interface Option {
  ref: string;
  label: string;
}

function optionOf(entity: Entity): Option {
  const ref = stringifyEntityRef(entity);
  const profile = (entity.spec as { profile?: { displayName?: string } })
    ?.profile;
  const name = profile?.displayName ?? entity.metadata.title;
  return {
    ref,
    label: name ? `${name} (${ref})` : ref,
  };
}

/**
 * Picks a catalog user or group to add to a template's approvers or CC. Absent in an app without the
 * catalog: approvers are then typed.
 */
export function CatalogPeoplePicker(props: {
  /** Unique on the page: a template with stages has one picker per stage. */
  id?: string;
  disabled?: boolean;
  /** Where the pick goes and what a picked group means there; by default, the approvers. */
  label?: string;
  groupHelp?: string;
  onPick: (ref: string) => void;
}) {
  const catalogApi = useApiHolder().get(catalogApiRef);
  const [open, setOpen] = useState(false);
  const {
    value: options = [],
    loading,
    error,
  } = useAsync(async () => {
    if (!catalogApi || !open) return [];
    const { items } = await catalogApi.getEntities({
      filter: { kind: ['User', 'Group'] },
      fields: [
        'kind',
        'metadata.name',
        'metadata.namespace',
        'metadata.title',
        'spec.profile.displayName',
      ],
    });
    return items.map(optionOf).sort((a, b) => a.ref.localeCompare(b.ref));
  }, [catalogApi, open]);
  if (!catalogApi) return null;
  return (
    <Autocomplete<Option>
      id={props.id ?? 'template-approvers-catalog'}
      options={options}
      loading={loading}
      disabled={props.disabled}
      open={open}
      onOpen={() => setOpen(true)}
      onClose={() => setOpen(false)}
      getOptionLabel={option => option.label}
      value={null}
      onChange={(_event, option) => option && props.onPick(option.ref)}
      renderInput={params => (
        <TextField
          {...params}
          margin="dense"
          label={props.label ?? 'Add a user or group from the catalog'}
          error={Boolean(error)}
          helperText={
            error
              ? `The catalog could not be read: ${error.message}`
              : (props.groupHelp ??
                'A group asks its members, and those of the groups inside it, when a request is opened.')
          }
        />
      )}
    />
  );
}
