import { Type, type Static } from '@sinclair/typebox';
import { duration, name, size } from './common.ts';

export const ListenerSchema = Type.Object(
  {
    name: name({ description: 'Unique listener name (used in metrics and logs)' }),
    host: Type.Optional(Type.String({ default: '0.0.0.0', description: 'Address to bind' })),
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port (0 = ephemeral)' }),
    protocol: Type.Optional(Type.Union([Type.Literal('http')], { default: 'http', description: 'Listener protocol' })),
    timeouts: Type.Optional(
      Type.Object(
        {
          headers: Type.Optional(duration({ default: '20s', description: 'Time a client has to send the complete request head (slowloris cut-off)' })),
          request: Type.Optional(duration({ default: '5m', description: 'Time a client has to send the whole request, body included; 0 = no limit' })),
          keepAlive: Type.Optional(duration({ default: '5s', description: 'How long an idle client keep-alive connection stays open' })),
        },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          maxHeaderSize: Type.Optional(size({ default: '16kb', description: 'Largest request head accepted (431 beyond)' })),
          maxBodySize: Type.Optional(size({ default: '10mb', description: 'Largest request body accepted (413 beyond); routes may lower or raise it' })),
        },
        { additionalProperties: false },
      ),
    ),
    trustForwardedFrom: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Peer addresses whose X-Forwarded-* headers are trusted and extended; others are replaced',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListenerConfig = Static<typeof ListenerSchema>;
