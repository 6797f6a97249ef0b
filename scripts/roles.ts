/** `npm run roles`: writes the custom role definitions (activities/arm/role-definitions.ts) to docs/roles/. */
import fs from 'node:fs';
import path from 'node:path';
import { roleFiles } from '../activities/arm/role-definitions';

const dir = path.resolve(__dirname, '..', 'docs', 'roles');
fs.mkdirSync(dir, { recursive: true });
for (const [name, content] of Object.entries(roleFiles())) {
  fs.writeFileSync(path.join(dir, name), content);
  process.stdout.write(`wrote docs/roles/${name}\n`);
}
