import { Type, type Static } from '@sinclair/typebox';
import { headerOpsProperties } from '../../header-transform.ts';

export const ResponseHeadersSchema = Type.Object(
  {
    ...headerOpsProperties(),
    applyToErrors: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'Also send the set/add headers on responses the gateway makes itself (errors, plugin answers); ' +
          'their values are then rendered when the request arrives',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Header changes on the response sent to the client, applied in order rename → remove → set → add',
  },
);
export type ResponseHeadersConfig = Static<typeof ResponseHeadersSchema>;
