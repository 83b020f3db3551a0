// Writes schema/dialect.schema.json from the built zod schema (run by `npm run build`).
import { writeFileSync } from 'node:fs';
import { dialectJsonSchema } from '../dist/dialect/json-schema.js';

const target = new URL('../schema/dialect.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(dialectJsonSchema(), null, 2)}\n`);
