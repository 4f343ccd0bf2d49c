import { Type } from '@sinclair/typebox';
import { certificateInventory } from '../../server/certificate-inventory.ts';
import type { ControlPlane } from '../control-plane.ts';
import { defineAdminRoute, type AdminRoute } from '../http/types.ts';

const DAY_MS = 86_400_000;
const Names = Type.Array(Type.String());

const CertificateView = Type.Object({
  name: Type.String(),
  serverNames: Names,
  isDefault: Type.Boolean({ description: 'Served when no server name matches or the client sends no SNI' }),
  subject: Type.String(),
  issuer: Type.String(),
  sans: Type.Object({ dns: Names, uri: Names, email: Names, ip: Names }),
  serial: Type.String({ description: 'Upper-case hex' }),
  fingerprint256: Type.String({ description: 'SHA-256 of the DER certificate, colon-separated hex' }),
  notBefore: Type.String({ format: 'date-time' }),
  notAfter: Type.String({ format: 'date-time' }),
  daysRemaining: Type.Number({ description: 'Days until notAfter (negative once expired), two decimals' }),
});

const Response = Type.Object({
  listeners: Type.Array(Type.Object({ listener: Type.String(), certificates: Type.Array(CertificateView) })),
});

export function certificateAdminRoutes(plane: ControlPlane): AdminRoute[] {
  return [
    defineAdminRoute({
      method: 'GET',
      path: '/admin/certificates',
      role: 'viewer',
      summary: 'Certificates served by each https listener: names, subject, issuer, SANs, validity, days remaining, SHA-256 fingerprint (no key material)',
      tags: ['runtime'],
      response: Response,
      handler() {
        const now = Date.now();
        const byListener = new Map<string, unknown[]>();
        for (const c of certificateInventory(plane.current().config)) {
          const { listener, notBeforeSeconds: _b, notAfterSeconds, ...view } = c;
          const daysRemaining = Math.round(((notAfterSeconds * 1000 - now) / DAY_MS) * 100) / 100;
          let list = byListener.get(listener);
          if (list === undefined) byListener.set(listener, (list = []));
          list.push({ ...view, daysRemaining });
        }
        return { body: { listeners: [...byListener].map(([listener, certificates]) => ({ listener, certificates })) } };
      },
    }),
  ];
}
