// The protocol drift guard: a hash of every protocol/*.ts file (tests excluded) is recorded in
// protocol/README.md. `npm run protocol:hash` rewrites it after you have updated the method table.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const protocolDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'protocol');
export const readmePath = path.join(protocolDir, 'README.md');
const marker = /<!-- protocol-hash: ([0-9a-f]+) -->/;

export function protocolHash() {
  const files = readdirSync(protocolDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\n`).update(readFileSync(path.join(protocolDir, f), 'utf8').replace(/\r\n/g, '\n'));
  return h.digest('hex').slice(0, 16);
}

export function recordedHash() {
  return marker.exec(readFileSync(readmePath, 'utf8'))?.[1];
}

if (process.argv.includes('--write')) {
  const text = readFileSync(readmePath, 'utf8');
  const line = `<!-- protocol-hash: ${protocolHash()} -->`;
  writeFileSync(readmePath, marker.test(text) ? text.replace(marker, line) : `${text.trimEnd()}\n\n${line}\n`);
  console.log(line);
}
