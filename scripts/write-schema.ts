// Writes config.schema.json from the zod schema (src/config/schema.ts); a test keeps them equal.
import { writeFileSync } from 'node:fs';
import { jsonSchema } from '../src/config/schema.js';

writeFileSync(new URL('../config.schema.json', import.meta.url), `${JSON.stringify(jsonSchema(), null, 2)}\n`);
console.log('wrote config.schema.json');
