import { Type, type Static } from '@sinclair/typebox';
import { headerOpsProperties } from '../../header-transform.ts';

export const RequestHeadersSchema = Type.Object(headerOpsProperties(), {
  additionalProperties: false,
  description: 'Header changes on the request sent upstream, applied in order rename → remove → set → add',
});
export type RequestHeadersConfig = Static<typeof RequestHeadersSchema>;
