/**
 * The embedded stack's TLS certificate. Cosmos and ARM clients insist on HTTPS (ARM's bearer policy refuses plain
 * HTTP), and the certificate bundled with @vercel/cosmosdb-server expired in 2021, so the stack makes its own:
 * self-signed, valid for 127.0.0.1 and localhost, kept in the stack's data folder and trusted by clients through
 * NODE_EXTRA_CA_CERTS (or an explicit `ca`).
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import selfsigned from 'selfsigned';

export interface StackCertificate {
  cert: string;
  key: string;
  /** Path of the PEM certificate, for NODE_EXTRA_CA_CERTS. */
  certPath: string;
}

const VALID_DAYS = 825;

/** Loads the certificate from `dir`, or creates one there when missing or about to expire. */
export function ensureCertificate(dir: string): StackCertificate {
  const certPath = path.join(dir, 'stack-cert.pem');
  const keyPath = path.join(dir, 'stack-key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    const cert = fs.readFileSync(certPath, 'utf8');
    const expires = new Date(new X509Certificate(cert).validTo).getTime();
    if (expires - Date.now() > 7 * 24 * 3600_000) {
      return { cert, key: fs.readFileSync(keyPath, 'utf8'), certPath };
    }
  }
  const pems = selfsigned.generate([{ name: 'commonName', value: 'cosmos-runbook local stack' }], {
    days: VALID_DAYS,
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(keyPath, pems.private, { mode: 0o600 });
  fs.writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath };
}
