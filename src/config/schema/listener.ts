import { Type, type Static } from '@sinclair/typebox';
import { duration, name, secret, size } from './common.ts';

const headerName = (description: string) => Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', maxLength: 128, description });

export const TlsCertificateSchema = Type.Object(
  {
    name: Type.Optional(name({ description: 'Certificate name (for defaultCertificate, metrics and the admin API); default "cert-<index>"' })),
    cert: secret({ description: 'PEM certificate chain: the leaf first, then intermediates' }),
    key: secret({ description: 'PEM private key of the leaf certificate' }),
    serverNames: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
        minItems: 1,
        description: 'SNI names served with this certificate: exact ("api.example.com") or one-label wildcard ("*.example.com"); default: the certificate\'s DNS subject alternative names',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TlsCertificateConfig = Static<typeof TlsCertificateSchema>;

export const ClientAuthSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('required'), Type.Literal('optional')], {
      description: 'required: the handshake fails without a valid client certificate; optional: connections without one (or with an unverifiable one) are accepted with no client identity',
    }),
    ca: secret({ description: 'PEM bundle of the CA certificates client certificates must chain to (replaces the system roots)' }),
    crl: Type.Optional(secret({ description: 'PEM certificate revocation list(s) issued by those CAs; revoked client certificates are refused' })),
    forwardHeaders: Type.Optional(
      Type.Object(
        {
          subject: Type.Optional(headerName('Header carrying the verified client certificate subject DN, e.g. "x-client-cert-subject"')),
          fingerprint: Type.Optional(headerName('Header carrying its SHA-256 fingerprint (hex, colon separated), e.g. "x-client-cert-fingerprint"')),
          sans: Type.Optional(headerName('Header carrying its subject alternative names ("DNS:a, URI:b, email:c, IP:d"), e.g. "x-client-cert-sans"')),
          serial: Type.Optional(headerName('Header carrying its serial number (hex), e.g. "x-client-cert-serial"')),
          cert: Type.Optional(headerName('Header carrying the URL-encoded PEM leaf certificate (as nginx $ssl_client_escaped_cert), e.g. "x-forwarded-client-cert"')),
        },
        {
          additionalProperties: false,
          description: 'Headers sent upstream with the verified client identity. These names are always removed from client requests on this listener, so a client cannot spoof them',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ClientAuthConfig = Static<typeof ClientAuthSchema>;

export const TlsSchema = Type.Object(
  {
    certificates: Type.Array(TlsCertificateSchema, { minItems: 1, description: 'Certificates, chosen per connection by the SNI name' }),
    defaultCertificate: Type.Optional(name({ description: 'Certificate served when no serverName matches (or the client sends no SNI); default: the first' })),
    minVersion: Type.Optional(
      Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2', description: 'Lowest TLS version accepted' }),
    ),
    ciphers: Type.Optional(Type.String({ minLength: 1, description: 'OpenSSL cipher list for TLSv1.2 (default: Node\'s default list)' })),
    handshakeTimeout: Type.Optional(duration({ default: '10s', description: 'Time a client has to complete the TLS handshake' })),
    clientAuth: Type.Optional(ClientAuthSchema),
  },
  { additionalProperties: false },
);
export type TlsConfig = Static<typeof TlsSchema>;

export const Http2ListenerSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'Accept HTTP/2: ALPN "h2" on https listeners, prior-knowledge h2c beside HTTP/1.1 on http listeners' }),
    ),
    maxConcurrentStreams: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2147483647, default: 100, description: 'Streams (requests) one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)' }),
    ),
    initialWindowSize: Type.Optional(
      Type.Integer({ minimum: 1024, maximum: 2147483647, default: 65535, description: 'Bytes of request body a client may send on one stream before the gateway reads it (SETTINGS_INITIAL_WINDOW_SIZE)' }),
    ),
    maxHeaderListSize: Type.Optional(size({ description: 'Largest request header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE); default: limits.maxHeaderSize' })),
    idleTimeout: Type.Optional(duration({ default: '1m', description: 'An HTTP/2 connection with no open stream for this long is closed with GOAWAY; 0 = never' })),
  },
  { additionalProperties: false },
);
export type Http2ListenerConfig = Static<typeof Http2ListenerSchema>;

export const ListenerSchema = Type.Object(
  {
    name: name({ description: 'Unique listener name (used in metrics and logs)' }),
    host: Type.Optional(Type.String({ default: '0.0.0.0', description: 'Address to bind' })),
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port (0 = ephemeral)' }),
    protocol: Type.Optional(
      Type.Union([Type.Literal('http'), Type.Literal('https')], { default: 'http', description: 'Listener protocol; "https" needs `tls`' }),
    ),
    tls: Type.Optional(TlsSchema),
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
    http2: Type.Optional(Http2ListenerSchema),
    trustForwardedFrom: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Peer addresses whose X-Forwarded-* headers are trusted and extended; others are replaced',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListenerConfig = Static<typeof ListenerSchema>;
