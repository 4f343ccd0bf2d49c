import { Type, type Static } from '@sinclair/typebox';
import { headerNameSchema } from '../../header-transform.ts';

export const RequestIdSchema = Type.Object(
  {
    header: Type.Optional(headerNameSchema({ default: 'x-request-id', description: 'Header that carries the request id, both ways' })),
    trustIncoming: Type.Optional(
      Type.Boolean({
        default: true,
        description: "Adopt the client's id when it is 1-200 characters of [A-Za-z0-9._:-]; otherwise a new one is generated",
      }),
    ),
    echo: Type.Optional(Type.Boolean({ default: true, description: 'Send the id back to the client in the same header' })),
  },
  { additionalProperties: false },
);
export type RequestIdConfig = Static<typeof RequestIdSchema>;
